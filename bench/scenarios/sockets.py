"""Scenario 3: notifications fan-out to many Socket.IO clients across two processes, emitted the way
user_management emits; the baseline is bare Redis pub/sub, the queue the emits ride on."""
import json
import queue
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import jwt
import redis

from servicekit import revocation
from tests.support.processes import PROJECT_ROOT

from ..harness import REDIS_URL, log
from ..procstats import CpuWatch, rss_kib


def mint_tokens(key, count, prefix):
    """Access tokens as user_management issues them (same kind of key, claims and type) for `count` users.

    Each user also gets the revocation record user_management writes at login (under SHARED_KEY_PREFIX
    `prefix`), or notifications would open no socket for it.
    """
    now = datetime.now(timezone.utc)
    orgs = [uuid.uuid4().hex[:24] for _ in range(10)]
    users = []
    for i in range(count):
        sub = uuid.uuid4().hex[:24]
        claims = {"sub": sub, "type": "access", "fresh": False, "jti": uuid.uuid4().hex, "iat": now, "nbf": now,
                  "exp": now + timedelta(minutes=30), "role": "client_user", "org": orgs[i % len(orgs)], "tv": 0}
        users.append((sub, jwt.encode(claims, key.private_key, algorithm=key.alg, headers={"kid": key.kid})))
    client = redis.Redis.from_url(REDIS_URL)
    for sub, _token in users:
        revocation.write(client, prefix, sub, revocation.UserState(0, True, True), 3600)
    client.close()
    return users


def tokens_file(path, users):
    """Write "<process index> <token>" lines, alternating between the two processes."""
    path.write_text("".join(f"{i % 2} {token}\n" for i, (_sub, token) in enumerate(users)))
    return path


def memory(stack, before, after, clients):
    """RSS per process before and after the clients connected, and per client."""
    per_process = clients / len(stack.services)
    return [{"process": f"notifications_{i + 1}", "rss_before_kib": before[s.worker], "rss_after_kib": after[s.worker],
             "per_client_kib": (after[s.worker] - before[s.worker]) / per_process}
            for i, s in enumerate(stack.services)]


def emit_all(run, users):
    """Single-user notifications through user_management's socket client, with broadcasts to every client mixed in."""
    from flask import Flask

    from user_management.utils import socket_client

    plan = run.plan
    emitter_app = Flask("bench_emitter")
    emitter_app.config.update(REDIS_URL=REDIS_URL, SOCKETIO_CHANNEL=run.channel)

    def broadcast(seq):
        payload = {"type": "bench", "message": "broadcast", "timestamp": "",
                   "data": {"sentAt": time.time(), "kind": "broadcast", "seq": seq}}
        # Every bench client is a client_user, so this room reaches all of them.
        socket_client._emit("notification", payload, "role:client_user")

    with emitter_app.app_context():
        socket_client.notify_user("nobody", "warmup", "warm the emitter's Redis connection")
        broadcast_every = max(1, plan.singles // max(1, plan.broadcasts))
        sent_broadcasts = 0
        for i in range(plan.singles):
            sub = users[(i * 7919) % len(users)][0]
            socket_client.notify_user(sub, "bench", "single-user notification",
                                      {"sentAt": time.time(), "kind": "single", "seq": i})
            if i % broadcast_every == 0 and sent_broadcasts < plan.broadcasts:
                broadcast(sent_broadcasts)
                sent_broadcasts += 1
            time.sleep(0.02)
        while sent_broadcasts < plan.broadcasts:
            broadcast(sent_broadcasts)
            sent_broadcasts += 1
            time.sleep(0.2)


def fanout(run, stack):
    """Scenario 3: clients across both notifications processes, emits from user_management's socket client."""
    plan, key = run.plan, stack.jwks.keyset.signing_key
    users = mint_tokens(key, plan.clients, run.run_id)
    clients_file = tokens_file(run.logs / "socket-tokens.txt", users)
    urls = ",".join(service.url for service in stack.services)
    load = [sys.executable, "-m", "bench.sockets_load", "--urls", urls, "--tokens"]
    # One short connect/disconnect round first, so the baseline RSS includes code paths loaded on first use.
    warm = subprocess.run([*load, str(tokens_file(run.logs / "socket-warm.txt", mint_tokens(key, 10, run.run_id)))],
                          input="drain 0\n", capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60)
    if warm.returncode != 0:
        raise RuntimeError(f"socket warm-up failed: {warm.stderr[-2000:]}")
    time.sleep(1)  # let the processes settle back to idle before the baseline RSS
    before = {service.worker: rss_kib(service.worker) for service in stack.services}
    loader = run.start("sockets_load", [*load, str(clients_file)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                       text=True)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in loader.stdout], daemon=True).start()
    connected = json.loads(lines.get(timeout=180))
    log(f"sockets: {connected['ok']} connected ({connected['failed']} failed) in {connected['seconds']:.1f}s")
    if connected["failed"]:
        raise RuntimeError(f"socket clients failed to connect: {connected['failures']}")
    time.sleep(3)  # RSS after the connections' buffers settled
    after = {service.worker: rss_kib(service.worker) for service in stack.services}

    cpu = CpuWatch(stack.workers() | {"load": loader.pid})
    emit_all(run, users)
    expected = plan.singles + plan.broadcasts * plan.clients
    loader.stdin.write(f"drain {expected}\n")
    loader.stdin.flush()
    results = json.loads(lines.get(timeout=120))
    usage = cpu.stop()
    try:
        loader.wait(30)
    except subprocess.TimeoutExpired:
        pass
    run.stop(loader)
    mem = memory(stack, before, after, plan.clients)
    run.results["fanout"] = {"clients": plan.clients, "processes": len(stack.services), "singles": plan.singles,
                             "broadcasts": plan.broadcasts, "connect_seconds": connected["seconds"],
                             "memory": mem, "latency": results, "cpu": usage,
                             "redis_baseline": redis_pubsub_baseline(run)}
    log(f"fan-out: received {results['received']}/{expected}; single p50 {results['single']['p50_ms']:.1f} "
        f"p99 {results['single']['p99_ms']:.1f} ms; broadcast p50 {results['broadcast']['p50_ms']:.1f} "
        f"p99 {results['broadcast']['p99_ms']:.1f} ms; memory {[round(m['per_client_kib'], 1) for m in mem]} KiB")


def redis_pubsub_baseline(run, count=200):
    """Baseline of scenario 3: publish-to-receive latency of bare Redis pub/sub."""
    client = redis.Redis.from_url(REDIS_URL)
    channel = f"{run.run_id}-pubsub-baseline"
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel)
    pubsub.get_message(timeout=1)
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        client.publish(channel, b"x" * 200)
        message = pubsub.get_message(timeout=2)
        while message is None:
            message = pubsub.get_message(timeout=2)
        latencies.append((time.perf_counter() - started) * 1000)
        time.sleep(0.002)
    pubsub.close()
    client.close()
    latencies.sort()
    return {"p50_ms": latencies[len(latencies) // 2], "p99_ms": latencies[int(len(latencies) * 0.99) - 1]}
