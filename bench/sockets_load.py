"""Load process of scenario 3: many Socket.IO clients that time every `notification` they receive.

    python -m bench.sockets_load --urls http://127.0.0.1:4001,http://127.0.0.1:4002 --tokens tokens.txt

Reads "<url-index> <token>" lines, connects one asyncio client per line
(WebSocket transport, `auth={"token": ...}`), prints {"event": "connected", ...}
as one JSON line, then waits for "drain <expected>" on stdin, collects until that
many events arrived (or a timeout), prints {"event": "results", ...} and exits.
Latency = receive time - the `sentAt` the emitter put in the payload (same host clock).
"""
import argparse
import asyncio
import json
import sys
import time

import socketio


def percentile(values, pct):
    """Nearest-rank percentile of `values` (0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, int(round(pct / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]


async def main():
    """Connect, report, receive, report."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--urls", required=True)
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--parallel", type=int, default=50, help="connections opened at once")
    parser.add_argument("--drain-timeout", type=float, default=20)
    args = parser.parse_args()
    urls = args.urls.split(",")
    entries = [line.split() for line in open(args.tokens) if line.strip()]
    latencies = {"single": [], "broadcast": []}
    received = 0
    all_received = asyncio.Event()
    expected = [None]

    def make_handler():
        async def on_notification(data):
            nonlocal received
            now = time.time()
            meta = data.get("data") or {}
            if "sentAt" in meta:
                latencies[meta.get("kind", "single")].append((now - meta["sentAt"]) * 1000)
            received += 1
            if expected[0] is not None and received >= expected[0]:
                all_received.set()

        return on_notification

    clients, failures = [], []
    gate = asyncio.Semaphore(args.parallel)

    async def connect(index, token):
        client = socketio.AsyncClient(reconnection=False)
        client.on("notification", make_handler())
        async with gate:
            try:
                await client.connect(urls[int(index)], auth={"token": token}, transports=["websocket"], wait_timeout=20)
                clients.append(client)
            except Exception as exc:  # noqa: BLE001 - report, never crash the run
                failures.append(type(exc).__name__ + ": " + str(exc)[:200])

    started = time.perf_counter()
    await asyncio.gather(*(connect(index, token) for index, token in entries))
    print(json.dumps({"event": "connected", "ok": len(clients), "failed": len(failures),
                      "failures": failures[:5], "seconds": time.perf_counter() - started}), flush=True)

    loop = asyncio.get_running_loop()
    line = await loop.run_in_executor(None, sys.stdin.readline)
    expected[0] = int(line.split()[1]) if line.startswith("drain") else 0
    if received >= expected[0]:
        all_received.set()
    try:
        await asyncio.wait_for(all_received.wait(), args.drain_timeout)
    except asyncio.TimeoutError:
        pass
    result = {"event": "results", "received": received, "expected": expected[0]}
    for kind, values in latencies.items():
        result[kind] = {"count": len(values), "p50_ms": percentile(values, 50), "p99_ms": percentile(values, 99),
                        "max_ms": max(values) if values else 0.0}
    print(json.dumps(result), flush=True)
    await asyncio.gather(*(client.disconnect() for client in clients), return_exceptions=True)


if __name__ == "__main__":
    asyncio.run(main())
