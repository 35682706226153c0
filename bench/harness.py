"""What every scenario shares: the run's ids, its processes, wrk with CPU accounting, and the two service stacks.

Processes come from tests/support (gunicorn on a free port, SMTP server, nginx),
the same helpers the end-to-end tests use; each writes its log to bench/out/<run>/.
"""
import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests

from tests.support.jwks import JwksServer
from tests.support.processes import PROJECT_ROOT, free_port, spawn, start_gunicorn, stop_all, wait_for_port

from . import wrk
from .email_capture import EmailCapture
from .procstats import CpuWatch, worker_pid

BENCH = PROJECT_ROOT / "bench"
OUT = BENCH / "out"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
# The rate limiter runs as deployed (every request counted in Redis), with budgets no load test reaches,
# so it does its whole work per request and never answers 429.
UNREACHED_BUDGET = "100000000 per 15 minutes"
LIMITER_ENV = {"RATELIMIT_ENABLED": "true", "RATELIMIT_API": UNREACHED_BUDGET, "RATELIMIT_USER": UNREACHED_BUDGET}
ADMIN_EMAIL = "bench-admin@example.test"
ADMIN_PASSWORD = "Bench-Quartz-Lantern-Orbit-9"


# The bench's scheduling priority (nice value), inherited by every process it starts: ahead of other work
# on a shared machine, so that work disturbs the services, the load generators and the clients alike, less.
NICENESS = -10


def raise_priority():
    """Best effort (root only): run this process, and so its children, at NICENESS; return the nice value in force."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, NICENESS)
    except OSError:
        pass
    return os.getpriority(os.PRIO_PROCESS, 0)


def log(message):
    """Progress on stderr."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Service:
    """One gunicorn service: its URL, master process and single worker's pid."""

    url: str
    process: subprocess.Popen
    worker: int


class Run:
    """One bench run: its ids, plan, processes and results."""

    def __init__(self, plan, quick, profile):
        self.plan = plan
        self.quick = quick
        self.profile = profile
        self.run_id = f"bench-{uuid.uuid4().hex[:10]}"
        self.channel = f"{self.run_id}-socketio"
        self.logs = OUT / self.run_id
        self.logs.mkdir(parents=True, exist_ok=True)
        self.processes = []
        self.results = {"run_id": self.run_id, "quick": quick, "started": datetime.now(timezone.utc).isoformat()}

    def env(self, **extra):
        """The environment of a process: development config, this run's Redis and channel, no MONGODB_URI."""
        env = {k: v for k, v in os.environ.items() if k not in {"MONGODB_URI", "FLASK_APP"}}
        env.update(APP_ENV="development", REDIS_URL=REDIS_URL, SOCKETIO_CHANNEL=self.channel,
                   SHARED_KEY_PREFIX=self.run_id)
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def gunicorn(self, name, conf, target, health_path="/health", **env):
        """Start gunicorn with a service's own config file on a free port; wait for `health_path`."""
        url, process = start_gunicorn(target, self.env(PORT=free_port(), **env), config=conf, name=name,
                                      health_path=health_path, timeout=60, log_path=self.logs / f"{name}.log")
        self.processes.append(process)
        return Service(url, process, worker_pid(process))

    def start(self, name, command, port=None, **popen):
        """Start a helper process (logging to logs/<name>.log unless `popen` redirects stdout)."""
        if "stdout" in popen:
            process = subprocess.Popen(command, cwd=PROJECT_ROOT, **popen)
            process.name = name
        else:
            _url, process = spawn(command, self.env(), name, health_path=None, log_path=self.logs / f"{name}.log")
        self.processes.append(process)
        if port is not None:
            wait_for_port(port, process, timeout=30)
        return process

    def stop(self, *processes):
        """Stop these processes (gunicorn masters stop their workers)."""
        stop_all(processes)
        self.processes = [p for p in self.processes if p not in processes]

    def stop_all(self):
        """Stop every process still running."""
        self.stop(*self.processes)

    def wrk(self, name, url, script, threads, connections, seconds, timeout=5, watch=None):
        """Run wrk with CPU accounting of the watched pids; store and return the result."""
        cpu = CpuWatch(watch or {})
        result = wrk.run(url, script, threads, connections, seconds, timeout)
        result["cpu"] = cpu.stop()
        result["cpu"]["wrk"] = result["cpu_share"]
        self.results.setdefault("wrk", {})[name] = result
        log(f"{name}: {result['rate']:.1f} req/s, p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
            f"errors {result['errors']}, cpu {json.dumps({k: round(v, 2) for k, v in result['cpu'].items()})}")
        return result


class UserManagementStack:
    """user_management and the bare-Flask baseline under user_management/gunicorn.conf.py, e-mails captured."""

    def __init__(self, run):
        self.run = run
        self.capture = EmailCapture().start()
        # mongomock lives inside one process: one worker; the config's own thread count (GUNICORN_THREADS, default 4).
        self.um = run.gunicorn("user_management", "user_management/gunicorn.conf.py", "wsgi:user_management_app",
                               GUNICORN_WORKERS=1, NOTIFICATIONS_URL=self.capture.url, **self.settings(run))
        self.bare = run.gunicorn("bare_flask", "user_management/gunicorn.conf.py", "bench.bare_app:app",
                                 health_path="/ping", GUNICORN_WORKERS=1)
        from user_management.config import config_for

        run.results["bcrypt_rounds"] = config_for("development").BCRYPT_ROUNDS
        run.results["gunicorn_threads"] = int(os.environ.get("GUNICORN_THREADS") or 4)
        self.admin_token = self.login(ADMIN_EMAIL, ADMIN_PASSWORD)

    @staticmethod
    def settings(run):
        """user_management's settings in this run (also those of the instruction-count driver)."""
        return {"REDIS_KEY_PREFIX": run.run_id, "BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL,
                "BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD, **LIMITER_ENV}

    def api(self, method, path, token=None, **kwargs):
        """One call to user_management; raises on an error status."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = requests.request(method, f"{self.um.url}{path}", headers=headers, timeout=30, **kwargs)
        if not response.ok:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json()

    def login(self, email, password):
        """An access token."""
        return self.api("POST", "/api/auth/login", json={"email": email, "password": password})["accessToken"]

    def stop(self):
        """Stop both servers and the e-mail capture."""
        self.run.stop(self.um.process, self.bare.process)
        self.capture.stop()


class NotificationsStack:
    """The SMTP sink and two notifications processes, each `gunicorn -c notifications/gunicorn.conf.py`.

    user_management is stopped by now, so `jwks` serves a signing key's public half as it does; the
    bench's access tokens are signed with `jwks.keyset.signing_key`.
    """

    def __init__(self, run, count=2):
        self.jwks = JwksServer(token_lifetime=timedelta(minutes=30)).start()
        self.smtp_port = free_port()
        self.sink_stats = run.logs / "smtp-sink.json"
        self.sink = run.start("smtp_sink", [sys.executable, "-m", "bench.smtp_sink", "--port", str(self.smtp_port),
                                            "--stats", str(self.sink_stats)], port=self.smtp_port)
        self.services = [
            run.gunicorn(f"notifications_{index + 1}", "notifications/gunicorn.conf.py", "wsgi:notifications_app",
                         REDIS_KEY_PREFIX=f"{run.run_id}-notif", SMTP_HOST="127.0.0.1", SMTP_PORT=self.smtp_port,
                         MAIL_BACKEND="smtp", JWKS_URL=self.jwks.url)
            for index in range(count)
        ]

    def workers(self):
        """{notifications_N: worker pid} for CPU accounting."""
        return {f"notifications_{i + 1}": service.worker for i, service in enumerate(self.services)}

    def sink_count(self):
        """Messages the SMTP sink has accepted so far."""
        try:
            return json.loads(Path(self.sink_stats).read_text())
        except (OSError, ValueError):
            return {"count": 0, "bytes": 0}

