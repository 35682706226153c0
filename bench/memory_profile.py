"""Where an idle Socket.IO client's memory goes: tracemalloc in one notifications worker, before and after N clients.

    python -m bench.memory_profile [--clients 500]

Starts one notifications process (gunicorn, eventlet) whose worker runs tracemalloc and writes a
snapshot on SIGUSR2, connects a 20-client warm-up, snapshots, connects `--clients` more (one
`bench.sockets_load` process, 50 handshakes at a time), snapshots again, and prints the growth per
client by source file. tracemalloc's own bookkeeping inflates VmRSS here, so the RSS figure of record
is the bench's (bench/RESULTS.md); this tool says what the Python-visible part is made of.
"""
import argparse
import os
import signal
import subprocess
import sys
import time
import tracemalloc
from datetime import timedelta

from tests.support.jwks import JwksServer
from tests.support.processes import PROJECT_ROOT, wait_until
from tests.support.redis_store import delete_redis_keys

from .harness import REDIS_URL, Run
from .run import QUICK
from .scenarios.sockets import mint_tokens

GUNICORN_HOOK = """
exec(open({conf!r}).read())


def post_worker_init(worker):
    import gc, signal, tracemalloc
    tracemalloc.start(1)
    taken = []

    def snapshot(signum, frame):
        gc.collect()
        taken.append(1)
        tracemalloc.take_snapshot().dump({out!r} + f"-{{len(taken)}}.bin")

    signal.signal(signal.SIGUSR2, snapshot)
"""


def snapshot(service, path):
    """Ask the worker for a snapshot; wait until it is written."""
    os.kill(service.worker, signal.SIGUSR2)
    if not wait_until(lambda: path.exists() and path.stat().st_size > 0, timeout=60):
        raise RuntimeError(f"no snapshot at {path}")
    time.sleep(1)  # the dump is written in one go; let it finish
    return tracemalloc.Snapshot.load(str(path))


def main(argv=None):
    """Run the measurement and print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.memory_profile")
    parser.add_argument("--clients", type=int, default=500)
    args = parser.parse_args(argv)
    run = Run(QUICK, True, False)
    conf = run.logs / "gunicorn-tracemalloc.py"
    prefix = run.logs / "snapshot"
    conf.write_text(GUNICORN_HOOK.format(conf=str(PROJECT_ROOT / "notifications" / "gunicorn.conf.py"),
                                         out=str(prefix)))
    jwks = JwksServer(token_lifetime=timedelta(minutes=30)).start()
    try:
        service = run.gunicorn("notifications_traced", str(conf), "wsgi:notifications_app",
                               REDIS_KEY_PREFIX=f"{run.run_id}-notif", MAIL_BACKEND="console", JWKS_URL=jwks.url)
        client = [sys.executable, "-m", "bench.sockets_load", "--urls", service.url, "--tokens"]

        def tokens(name, count):
            path = run.logs / name
            path.write_text("".join(f"0 {token}\n" for _sub, token in
                                    mint_tokens(jwks.keyset.signing_key, count, run.run_id)))
            return str(path)

        subprocess.run([*client, tokens("warm.txt", 20)], input="start\ndrain 0\n", capture_output=True,
                       text=True, cwd=PROJECT_ROOT, timeout=120, check=True)
        before = snapshot(service, prefix.with_name("snapshot-1.bin"))
        clients = subprocess.Popen([*client, tokens("clients.txt", args.clients)], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT)
        clients.stdout.readline()  # "connected"
        time.sleep(2)
        after = snapshot(service, prefix.with_name("snapshot-2.bin"))
        clients.stdin.close()
        clients.wait(60)
    finally:
        run.stop_all()
        jwks.stop()
        delete_redis_keys(run.run_id, REDIS_URL)
    stats = after.compare_to(before, "filename")
    total = sum(stat.size_diff for stat in stats) / 1024 / args.clients
    print(f"Python-visible growth per idle client: {total:.1f} KiB ({args.clients} clients)\n")
    print("| KiB per client | blocks per client | file |\n|---|---|---|")
    for stat in stats[:15]:
        name = stat.traceback[0].filename.split("site-packages/")[-1]
        print(f"| {stat.size_diff / 1024 / args.clients:.2f} | {stat.count_diff / args.clients:.1f} | `{name}` |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
