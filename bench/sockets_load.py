"""Client process of scenario 3: Socket.IO clients that time every `notification` they receive.

    python -m bench.sockets_load --urls http://127.0.0.1:4001,http://127.0.0.1:4002 --tokens tokens.txt

Reads "<url-index> <token>" lines, connects one asyncio client per line
(WebSocket transport, `auth={"token": ...}`), prints {"event": "connected", ...}
as one JSON line; then, for each round, waits for "start" and "drain <expected>" on stdin,
collects until that many events arrived (or a timeout) and prints {"event": "results", ...};
any other line, or the end of stdin, disconnects the clients and exits.
Latency = receive time - the `sentAt` the emitter put in the payload (same host clock).

From "start" (the emits begin) to the end of the drain a timer task measures the process's own
event-loop lag (how late each `LAG_INTERVAL` sleep wakes up): a client process
that lags reports its own queueing, not the server's, so the scenario rejects a
run whose lag p99 is above its threshold. The scenario runs one such process as
the probe (a few clients that receive the single-user events) and several as the
load (the clients that receive the broadcasts).
"""
import argparse
import asyncio
import json
import sys
import time

import aiohttp
import socketio

LAG_INTERVAL = 0.002


def percentile(values, pct):
    """Nearest-rank percentile of `values` (0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, int(round(pct / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def summary(values):
    """Count, p50, p99 and max of `values` (ms)."""
    return {"count": len(values), "p50_ms": percentile(values, 50), "p99_ms": percentile(values, 99),
            "max_ms": max(values) if values else 0.0}


class WireClient:
    """A Socket.IO client reduced to what the load processes need, over one aiohttp WebSocket.

    Engine.IO 4 over the WebSocket transport: the server's OPEN packet, a Socket.IO CONNECT to "/" with
    the `auth` payload, then EVENT packets ("42[...]") handed to `on_event` and PINGs ("2") answered with
    PONGs ("3"). python-socketio's AsyncClient does more per message (a task each, several layers per
    packet); in an A/B run of 1,000 clients on 8 processes this one used about a third less CPU and the
    processes' loop lag p99 fell from 10.9 to 2.8 ms: the load processes keep up on the cores the servers use.
    The probe keeps python-socketio's client, so single-user latency is measured with the real library.
    """

    def __init__(self, session, on_event):
        self.session, self.on_event = session, on_event
        self.ws = self.reader = None

    async def connect(self, url, auth, transports=None, wait_timeout=20):
        """Open the WebSocket and join the default namespace; raise ConnectionError if refused."""
        ws_url = url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        self.ws = await self.session.ws_connect(ws_url, timeout=aiohttp.ClientWSTimeout(ws_receive=None,
                                                                                        ws_close=wait_timeout))
        opened = await self.ws.receive_str(timeout=wait_timeout)
        if not opened.startswith("0"):
            raise ConnectionError(f"no Engine.IO OPEN: {opened[:100]}")
        await self.ws.send_str("40" + json.dumps(auth))
        reply = await self.ws.receive_str(timeout=wait_timeout)
        while reply == "2":
            await self.ws.send_str("3")
            reply = await self.ws.receive_str(timeout=wait_timeout)
        if not reply.startswith("40"):
            raise ConnectionError(f"namespace refused: {reply[:200]}")
        self.reader = asyncio.create_task(self.read())

    async def read(self):
        """Hand every event's first argument to `on_event`; answer pings; stop when the socket closes."""
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            data = message.data
            if data == "2":
                await self.ws.send_str("3")
            elif data.startswith("42"):
                arguments = json.loads(data[2:])
                if arguments[0] == "notification" and len(arguments) > 1:
                    self.on_event(arguments[1])

    async def disconnect(self):
        """Leave the namespace and close the WebSocket."""
        if self.ws is not None and not self.ws.closed:
            await self.ws.send_str("41")
            await self.ws.close()
        if self.reader is not None:
            await self.reader


async def watch_lag(samples, stop):
    """Append how many ms each LAG_INTERVAL sleep overslept until `stop` is set."""
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(LAG_INTERVAL)
        samples.append(max(0.0, (time.perf_counter() - started - LAG_INTERVAL) * 1000))


async def main():
    """Connect, report, receive, report."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--urls", required=True)
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--parallel", type=int, default=50, help="connections opened at once")
    parser.add_argument("--drain-timeout", type=float, default=20)
    parser.add_argument("--raw", action="store_true", help="also report every latency (for the chart)")
    parser.add_argument("--wire", action="store_true",
                        help="speak the Engine.IO/Socket.IO protocol over aiohttp directly (WireClient)")
    args = parser.parse_args()
    urls = args.urls.split(",")
    entries = [line.split() for line in open(args.tokens) if line.strip()]
    latencies = {"single": [], "broadcast": []}
    # Per broadcast: [clients of this process that got it, latency of the last one].
    broadcasts = {}
    received = 0
    all_received = asyncio.Event()
    expected = [None]

    def on_notification(data):
        nonlocal received
        now = time.time()
        meta = data.get("data") or {}
        if "sentAt" in meta:
            latency = (now - meta["sentAt"]) * 1000
            kind = meta.get("kind", "single")
            latencies[kind].append(latency)
            if kind == "broadcast":
                seen = broadcasts.setdefault(meta["seq"], [0, 0.0])
                seen[0] += 1
                seen[1] = max(seen[1], latency)
        received += 1
        if expected[0] is not None and received >= expected[0]:
            all_received.set()

    clients, failures = [], []
    gate = asyncio.Semaphore(args.parallel)

    async def handler(data):
        on_notification(data)

    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) if args.wire else None

    async def connect(index, token):
        if args.wire:
            client = WireClient(session, on_notification)
        else:
            client = socketio.AsyncClient(reconnection=False)
            client.on("notification", handler)
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
    # Rounds: "start" (the emits begin), then "drain <expected>"; anything else (or EOF) ends the process.
    while (await loop.run_in_executor(None, sys.stdin.readline)).startswith("start"):
        for values in latencies.values():
            values.clear()
        broadcasts.clear()
        received, expected[0] = 0, None
        all_received.clear()
        lag, stop_lag = [], asyncio.Event()
        lag_task = asyncio.create_task(watch_lag(lag, stop_lag))
        line = await loop.run_in_executor(None, sys.stdin.readline)
        expected[0] = int(line.split()[1]) if line.startswith("drain") else 0
        if received >= expected[0]:
            all_received.set()
        try:
            await asyncio.wait_for(all_received.wait(), args.drain_timeout)
        except asyncio.TimeoutError:
            pass
        stop_lag.set()
        await lag_task
        result = {"event": "results", "clients": len(clients), "received": received, "expected": expected[0],
                  "lag": summary(lag), "broadcasts": {str(seq): seen for seq, seen in broadcasts.items()}}
        for kind, values in latencies.items():
            result[kind] = summary(values)
            if args.raw:
                result[kind]["raw_ms"] = [round(v, 3) for v in values]
        print(json.dumps(result), flush=True)
    await asyncio.gather(*(client.disconnect() for client in clients), return_exceptions=True)
    if session is not None:
        await session.close()


if __name__ == "__main__":
    asyncio.run(main())
