"""`python -m bench [--quick] [--profile]`: start the services under gunicorn, run the scenarios, write the results.

The full run writes bench/RESULTS.md; --quick (the CI smoke run) writes
bench/out/RESULTS-quick.md with the same table from shorter runs. Exit status is 0
unless something is broken (a service that does not start, a load generator that
fails, requests that error); a missed goal never fails the run. Nothing is
installed from here: bench/README.md says what the machine needs.
"""
import argparse
import json
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from tests.support.processes import PROJECT_ROOT
from tests.support.redis_store import delete_redis_keys

from . import report, wrk
from .harness import BENCH, OUT, REDIS_URL, NotificationsStack, Run, UserManagementStack, log
from .procstats import cores
from .scenarios import email, http, sockets


@dataclass
class Plan:
    """How long and how big each scenario runs."""

    bcrypt_samples: int
    bcrypt_seconds: int
    http_seconds: int
    warmup_seconds: int
    trivial_seconds: int
    clients: int
    singles: int
    broadcasts: int
    email_seconds: int
    email_tail_seconds: int
    smtp_raw_seconds: int


FULL = Plan(bcrypt_samples=10, bcrypt_seconds=20, http_seconds=20, warmup_seconds=2, trivial_seconds=8, clients=1000,
            singles=200, broadcasts=20, email_seconds=10, email_tail_seconds=20, smtp_raw_seconds=5)
QUICK = Plan(bcrypt_samples=3, bcrypt_seconds=4, http_seconds=3, warmup_seconds=1, trivial_seconds=2, clients=100,
             singles=20, broadcasts=3, email_seconds=3, email_tail_seconds=3, smtp_raw_seconds=2)


def run_all(run):
    """Every scenario, in order; the services are stopped and Redis cleaned whatever happens."""
    user_management = notifications = None
    try:
        log(f"run {run.run_id}: starting user_management and bare Flask")
        user_management = UserManagementStack(run)
        http.login_and_accept(run, user_management)
        http.plain_requests(run, user_management)
        run.results["data"] = {"users": 1 + run.results["wrk"]["invite_accept"]["ok"],
                               "invites": run.results["invites_created"]}
        user_management.stop()
        log("starting the SMTP sink and two notifications processes")
        notifications = NotificationsStack(run)
        sockets.fanout(run, notifications)
        email.email(run, notifications)
    finally:
        run.stop_all()
        if user_management is not None:
            user_management.capture.stop()
        if notifications is not None:
            notifications.jwks.stop()
        run.results["redis_keys_deleted"] = delete_redis_keys(run.run_id, REDIS_URL)
    (run.logs / "results.json").write_text(json.dumps(run.results, indent=2, default=str))
    return run.results


def preflight():
    """Fail clearly when wrk, aiohttp or Redis is missing (see bench/README.md for how to install them)."""
    if not wrk.available():
        raise SystemExit("wrk is required: apt-get install -y wrk (bench/README.md)")
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        raise SystemExit("aiohttp is required: pip install -r bench/requirements.txt") from None
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError:
        raise SystemExit(f"Redis is not reachable at {REDIS_URL}") from None


def main(argv=None):
    """Entry point of `python -m bench`."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run (CI); writes bench/out/RESULTS-quick.md")
    parser.add_argument("--profile", action="store_true", help="also record a py-spy profile of GET /api/auth/profile")
    parser.add_argument("--output", help="where to write the Markdown results")
    args = parser.parse_args(argv)
    preflight()
    started = time.monotonic()
    results = run_all(Run(QUICK if args.quick else FULL, args.quick, args.profile))
    results["wall_seconds"] = time.monotonic() - started
    results["command"] = "make bench-quick" if args.quick else "make bench"
    results["argv"] = " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])])
    output = Path(args.output) if args.output else (OUT / "RESULTS-quick.md" if args.quick else BENCH / "RESULTS.md")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(report.render(results, machine_info(), PROJECT_ROOT))
    log(f"done in {results['wall_seconds']:.0f}s; wrote {output.resolve().relative_to(PROJECT_ROOT)}")
    return 0


def machine_info():
    """Cores, memory, CPU model, Python, OS."""
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    total_kib = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    return {"cores": cores(), "memory_gib": total_kib / 1024 / 1024, "cpu": model,
            "python": platform.python_version(), "os": platform.platform(), "wrk": wrk_version()}


def wrk_version():
    """wrk's version line."""
    output = subprocess.run(["wrk", "-v"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    return output.splitlines()[0].split(" [")[0] if output else "wrk"
