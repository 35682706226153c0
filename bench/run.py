"""`python -m bench [--quick] [--profile]`: start the services under gunicorn, run the scenarios, write the results.

The full run writes bench/RESULTS.md; --quick (the CI smoke run) writes
bench/out/RESULTS-quick.md with the same table from shorter runs. Exit status is 0
unless something is broken (a service that does not start, a load generator that
fails, requests that error); a missed goal never fails the run. Nothing is
installed from here: bench/README.md says what the machine needs.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import redis

from tests.support.processes import PROJECT_ROOT
from tests.support.redis_store import delete_redis_keys

from . import chart, instructions, report, wrk
from .harness import BENCH, OUT, REDIS_URL, NotificationsStack, Run, UserManagementStack, log, raise_priority
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
    load_processes: int
    socket_rounds: int
    singles: int
    broadcasts: int
    email_seconds: int
    email_tail_seconds: int
    smtp_raw_seconds: int
    instruction_requests: int


FULL = Plan(bcrypt_samples=10, bcrypt_seconds=20, http_seconds=20, warmup_seconds=2, trivial_seconds=8, clients=1000,
            load_processes=8, socket_rounds=6, singles=200, broadcasts=20, email_seconds=10, email_tail_seconds=20,
            smtp_raw_seconds=5, instruction_requests=100)
QUICK = Plan(bcrypt_samples=3, bcrypt_seconds=4, http_seconds=3, warmup_seconds=1, trivial_seconds=2, clients=100,
             load_processes=2, socket_rounds=1, singles=20, broadcasts=3, email_seconds=3, email_tail_seconds=3,
             smtp_raw_seconds=2, instruction_requests=0)


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
        if run.plan.instruction_requests:
            log("instructions per request under callgrind (about two minutes)")
            run.results["instructions"] = instructions.measure(run, run.plan.instruction_requests)
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


def write_report(results, machine, output):
    """The chart beside `output`, then `output` itself."""
    chart_path = output.parent / ("latency.png" if output.name == "RESULTS.md" else f"latency-{output.stem}.png")
    chart.draw(results, chart_path)
    results["chart"] = chart_path.name
    output.write_text(report.render(results, machine, PROJECT_ROOT))
    log(f"wrote {output} and {chart_path.name}")


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
    parser.add_argument("--render", metavar="RESULTS_JSON",
                        help="only write the results (and chart) again from a finished run's results-final.json")
    args = parser.parse_args(argv)
    if args.render:
        results = json.loads(Path(args.render).read_text())
    else:
        preflight()
        niceness = raise_priority()
        started = time.monotonic()
        results = run_all(Run(QUICK if args.quick else FULL, args.quick, args.profile))
        results["wall_seconds"] = time.monotonic() - started
        results["command"] = "make bench-quick" if args.quick else "make bench"
        results["argv"] = " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])])
        results.update(finished=datetime.now(timezone.utc).isoformat(), load_average_end=os.getloadavg(),
                       commit=report.commit_label(PROJECT_ROOT), machine=machine_info(), niceness=niceness)
        (OUT / results["run_id"] / "results-final.json").write_text(json.dumps(results, indent=2, default=str))
    quick = results["quick"]
    output = Path(args.output) if args.output else (OUT / "RESULTS-quick.md" if quick else BENCH / "RESULTS.md")
    output.parent.mkdir(parents=True, exist_ok=True)
    write_report(results, results["machine"], output)
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
