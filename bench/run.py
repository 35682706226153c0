"""`python -m bench [--quick] [--profile]`: start the services under gunicorn, run the scenarios, write the results.

The full run writes bench/RESULTS.md; --quick (the CI smoke run) writes
bench/out/RESULTS-quick.md with the same table from shorter runs. Exit status is 0
unless something is broken (a service that does not start, a load generator that
fails, requests that error); a missed goal never fails the run.
"""
import argparse
import json
import os
import platform
import queue
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jwt as pyjwt
import redis
import requests

from . import report, wrk
from .email_capture import EmailCapture

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
BIN = Path(sys.executable).parent
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
ADMIN_EMAIL = "bench-admin@example.test"
ADMIN_PASSWORD = "Bench-Quartz-Lantern-Orbit-9"
INVITEE_PASSWORD = "Copper-Meadow-Falcon-31"


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


def log(message):
    """Progress on stderr."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def cores():
    """CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def free_port():
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid):
    """Direct child pids of `pid` (gunicorn's workers)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def rss_kib(pid):
    """VmRSS of `pid` in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    """User + system CPU seconds `pid` has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy():
    """(busy, total) jiffies of the whole machine, for utilisation over an interval."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class Services:
    """Every process the bench starts, stopped (by pid, process group by group) at exit."""

    def __init__(self, logs):
        self.logs = logs
        self.procs = []

    def start(self, name, cmd, env=None, **kwargs):
        """Start `cmd` in its own session, output to logs/<name>.log."""
        log_file = open(self.logs / f"{name}.log", "w")
        kwargs.setdefault("stdout", log_file)
        kwargs.setdefault("stderr", subprocess.STDOUT)
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True, **kwargs)
        proc.bench_name = name
        self.procs.append(proc)
        return proc

    def stop(self, proc, timeout=15):
        """SIGTERM the process group `proc` leads, then SIGKILL it if it lingers."""
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
            except ProcessLookupError:
                pass
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self):
        """Stop everything still running, newest first."""
        for proc in reversed(list(self.procs)):
            self.stop(proc)

    def check_alive(self, proc):
        """Raise when `proc` has died, with the tail of its log."""
        if proc.poll() is not None:
            tail = (self.logs / f"{proc.bench_name}.log").read_text()[-3000:]
            raise RuntimeError(f"{proc.bench_name} exited with {proc.returncode}:\n{tail}")


def wait_http(url, proc, services, timeout=60):
    """Poll `url` until it answers 2xx."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        services.check_alive(proc)
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up within {timeout}s")


def wait_port(port, proc, services, timeout=30):
    """Poll until something listens on 127.0.0.1:`port`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        services.check_alive(proc)
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"port {port} did not open within {timeout}s")


class CpuWatch:
    """CPU used by some pids and by the whole machine over an interval."""

    def __init__(self, pids):
        self.pids = {name: pid for name, pid in pids.items() if pid}
        self.start_cpu = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.start_machine = machine_busy()
        self.started = time.monotonic()

    def stop(self):
        """{name: cores used} plus "machine": the share of all cores busy."""
        elapsed = time.monotonic() - self.started
        used = {name: (cpu_seconds(pid) - self.start_cpu[name]) / elapsed for name, pid in self.pids.items()}
        busy, total = machine_busy()
        used["machine"] = (busy - self.start_machine[0]) / max(1, total - self.start_machine[1])
        return used


class Bench:
    """One run: its ids, its processes and its results."""

    def __init__(self, plan, quick, profile):
        self.plan = plan
        self.quick = quick
        self.profile = profile
        self.run_id = f"bench-{uuid.uuid4().hex[:10]}"
        self.channel = f"{self.run_id}-socketio"
        self.logs = OUT / self.run_id
        self.logs.mkdir(parents=True, exist_ok=True)
        self.services = Services(self.logs)
        self.results = {"run_id": self.run_id, "quick": quick, "started": datetime.now(timezone.utc).isoformat()}
        self.capture = None

    # ---------------------------------------------------------------- services

    def base_env(self, **extra):
        """The environment of a service process: development config, this run's Redis prefix and channel."""
        env = {k: v for k, v in os.environ.items() if k not in {"MONGODB_URI", "FLASK_APP"}}
        env.update(APP_ENV="development", REDIS_URL=REDIS_URL, SOCKETIO_CHANNEL=self.channel, PYTHONUNBUFFERED="1",
                   SHARED_KEY_PREFIX=self.run_id)
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def gunicorn(self, name, conf, target, port, **env):
        """Start gunicorn with a service's own config file, bound to 127.0.0.1:`port`."""
        cmd = [str(BIN / "gunicorn"), "-c", conf, "--bind", f"127.0.0.1:{port}", target]
        return self.services.start(name, cmd, env=self.base_env(PORT=port, **env))

    def worker_pid(self, master):
        """The single worker of a gunicorn master."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pids = children(master.pid)
            if pids:
                return pids[0]
            time.sleep(0.1)
        raise RuntimeError(f"{master.bench_name}: no worker process")

    def start_user_management(self):
        """user_management and the bare-Flask baseline, both under user_management/gunicorn.conf.py."""
        self.capture = EmailCapture().start()
        self.um_port, self.bare_port = free_port(), free_port()
        # mongomock lives inside one process: one worker; the config's own thread count (GUNICORN_THREADS, default 4).
        gunicorn_env = dict(GUNICORN_WORKERS=1)
        self.um = self.gunicorn(
            "user_management", "user_management/gunicorn.conf.py", "wsgi:user_management_app", self.um_port,
            REDIS_KEY_PREFIX=self.run_id, RATELIMIT_ENABLED="false", NOTIFICATIONS_URL=self.capture.url,
            BOOTSTRAP_ADMIN_EMAIL=ADMIN_EMAIL, BOOTSTRAP_ADMIN_PASSWORD=ADMIN_PASSWORD, **gunicorn_env)
        self.bare = self.gunicorn("bare_flask", "user_management/gunicorn.conf.py", "bench.bare_app:app",
                                  self.bare_port, **gunicorn_env)
        self.um_url, self.bare_url = f"http://127.0.0.1:{self.um_port}", f"http://127.0.0.1:{self.bare_port}"
        wait_http(f"{self.um_url}/health", self.um, self.services)
        wait_http(f"{self.bare_url}/ping", self.bare, self.services)
        self.um_worker, self.bare_worker = self.worker_pid(self.um), self.worker_pid(self.bare)
        from user_management.config import config_for

        self.results["bcrypt_rounds"] = config_for("development").BCRYPT_ROUNDS
        self.results["gunicorn_threads"] = int(os.environ.get("GUNICORN_THREADS") or 4)

    def start_trivial(self):
        """nginx answering a fixed JSON body: the trivial endpoint that shows wrk's own ceiling."""
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.path.exists(nginx):
            log("nginx missing: installing it (as .ci/run does)")
            subprocess.run("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx",
                           shell=True, check=False, stdout=subprocess.DEVNULL)
        if not os.path.exists(nginx):
            return None
        self.trivial_port = free_port()
        prefix = self.logs / "nginx"
        prefix.mkdir(exist_ok=True)
        conf = prefix / "nginx.conf"
        conf.write_text(f"""daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy; fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi; scgi_temp_path {prefix}/scgi;
  server {{
    listen 127.0.0.1:{self.trivial_port};
    location / {{ default_type application/json; return 200 '{{"success":true,"message":"pong"}}'; }}
  }}
}}
""")
        proc = self.services.start("nginx", [nginx, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf)])
        wait_port(self.trivial_port, proc, self.services)
        return proc

    # ---------------------------------------------------------------- helpers

    def api(self, method, path, token=None, **kwargs):
        """One call to user_management; raises on an error status."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = requests.request(method, f"{self.um_url}{path}", headers=headers, timeout=30, **kwargs)
        if not response.ok:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json()

    def login(self, email, password):
        """An access token."""
        return self.api("POST", "/api/auth/login", json={"email": email, "password": password})["accessToken"]

    def create_invites(self, token, count):
        """Create `count` operator invites through the API; return their single-use tokens."""
        emails = [f"{self.run_id}-{i}@example.test" for i in range(count)]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda email: self.api("POST", "/api/invites/create", token,
                                                 json={"email": email, "role": "operator"}), emails))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            tokens = self.capture.invite_tokens()
            if all(email in tokens for email in emails):
                return [tokens[email] for email in emails]
            time.sleep(0.1)
        raise RuntimeError("invite emails did not all reach the capture stub")

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

    # ---------------------------------------------------------------- scenario 1

    def measure_bcrypt(self):
        """Seconds of one verify at the configured cost, with the service's own code; median of samples."""
        from user_management.utils.passwords import hash_password, verify_password

        rounds = self.results["bcrypt_rounds"]
        stored = hash_password(ADMIN_PASSWORD, rounds)
        samples = []
        for _ in range(self.plan.bcrypt_samples):
            started = time.perf_counter()
            verify_password(ADMIN_PASSWORD, stored)
            samples.append(time.perf_counter() - started)
        seconds = statistics.median(samples)
        self.results["bcrypt"] = {"verify_seconds": seconds, "samples": samples, "cores": cores(),
                                  "bound_per_second": cores() / seconds}
        log(f"bcrypt verify at cost {rounds}: {seconds * 1000:.0f} ms -> bound {cores() / seconds:.2f}/s")

    def scenario_login(self):
        """Scenario 1: login and invite accept against the bcrypt bound."""
        self.measure_bcrypt()
        concurrency = 2 * cores()
        body = json.dumps({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        if self.profile:
            self.py_spy("login", f"{self.um_url}/api/auth/login", wrk.post_json_script(body), 1, concurrency)
        self.wrk("login", f"{self.um_url}/api/auth/login", wrk.post_json_script(body), 1, concurrency,
                 self.plan.bcrypt_seconds, timeout=10, watch={"user_management": self.um_worker})
        needed = int(self.results["bcrypt"]["bound_per_second"] * self.plan.bcrypt_seconds * 1.5) + 20
        tokens = self.create_invites(self.admin_token, needed)
        tokens_file = self.logs / "invite-tokens.txt"
        tokens_file.write_text("\n".join(tokens) + "\n")
        template = json.dumps({"token": "TOKEN", "firstName": "Bench", "lastName": "Invitee",
                               "password": INVITEE_PASSWORD}).replace("TOKEN", "%s")
        self.wrk("invite_accept", self.um_url, wrk.token_post_script("/api/invites/accept", tokens_file, template), 1,
                 concurrency, self.plan.bcrypt_seconds, timeout=10, watch={"user_management": self.um_worker})
        self.results["invites_created"] = needed

    # ---------------------------------------------------------------- scenario 2

    def scenario_requests(self):
        """Scenario 2: profile and invite list against bare Flask, 50 connections; and wrk's own ceiling."""
        auth = wrk.get_script({"Authorization": f"Bearer {self.admin_token}"})
        runs = [
            ("bare_flask", f"{self.bare_url}/ping", wrk.get_script(), {"bare_flask": self.bare_worker}),
            ("profile", f"{self.um_url}/api/auth/profile", auth, {"user_management": self.um_worker}),
            ("invites_list", f"{self.um_url}/api/invites/list", auth, {"user_management": self.um_worker}),
        ]
        for name, url, script, watch in runs:
            if self.plan.warmup_seconds:
                wrk.run(url, script, 2, 50, self.plan.warmup_seconds)
            if self.profile and name != "bare_flask":
                self.py_spy(name, url, script, 2, 50)
            self.wrk(name, url, script, 2, 50, self.plan.http_seconds, watch=watch)
        nginx = self.start_trivial()
        if nginx is not None:
            self.wrk("trivial_nginx", f"http://127.0.0.1:{self.trivial_port}/", "", 2, 50, self.plan.trivial_seconds)
            self.services.stop(nginx)

    def py_spy(self, name, url, script, threads, connections):
        """--profile: record user_management under this load with py-spy (collapsed stacks and a flamegraph)."""
        spy = str(BIN / "py-spy")
        if not os.path.exists(spy):
            log("py-spy not installed (pip install -r bench/requirements.txt); skipping the profile")
            return
        seconds = max(5, self.plan.http_seconds)
        handle = wrk.start(url, script, threads, connections, seconds + 2, timeout=10)
        time.sleep(1)
        out = self.logs / f"profile-{name}"
        # --gil: only the thread holding the GIL, i.e. where the one interpreter's time goes.
        for fmt, suffix in (("raw", "txt"), ("flamegraph", "svg")):
            subprocess.run([spy, "record", "--pid", str(self.um_worker), "--duration", str(seconds // 2), "--gil",
                            "--format", fmt, "--output", f"{out}.{suffix}", "--nonblocking"], check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wrk.finish(handle)
        log(f"py-spy profile of {name} written to {out}.txt and .svg")

    # ---------------------------------------------------------------- scenarios 3 and 4

    def start_jwks(self):
        """Serve a signing key's public half as user_management does (which is stopped by now); return the URL."""
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from user_management.utils.signing_keys import KeySet, new_key

        self.keyset = KeySet([new_key()])
        body = json.dumps(self.keyset.jwks(timedelta(minutes=30))).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.jwks_server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.jwks_server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.jwks_server.server_port}/.well-known/jwks.json"

    def start_notifications(self):
        """The SMTP sink and two notifications processes, each `gunicorn -c notifications/gunicorn.conf.py`."""
        jwks_url = self.start_jwks()
        self.smtp_port = free_port()
        self.sink_stats = self.logs / "smtp-sink.json"
        self.sink = self.services.start("smtp_sink", [sys.executable, "-m", "bench.smtp_sink", "--port",
                                                      str(self.smtp_port), "--stats", str(self.sink_stats)])
        wait_port(self.smtp_port, self.sink, self.services)
        self.notif = []
        for index in range(2):
            port = free_port()
            proc = self.gunicorn(f"notifications_{index + 1}", "notifications/gunicorn.conf.py",
                                 "wsgi:notifications_app", port, REDIS_KEY_PREFIX=f"{self.run_id}-notif",
                                 SMTP_HOST="127.0.0.1", SMTP_PORT=self.smtp_port, MAIL_BACKEND="smtp",
                                 JWKS_URL=jwks_url)
            self.notif.append({"proc": proc, "port": port, "url": f"http://127.0.0.1:{port}"})
        for entry in self.notif:
            wait_http(f"{entry['url']}/health", entry["proc"], self.services)
            entry["worker"] = self.worker_pid(entry["proc"])

    def mint_tokens(self, count):
        """Access tokens as user_management issues them (same kind of key, claims and type) for `count` users.

        Each user also gets the revocation record user_management writes at login, or no socket would open.
        """
        from servicekit import revocation

        key = self.keyset.signing_key
        now = datetime.now(timezone.utc)
        orgs = [uuid.uuid4().hex[:24] for _ in range(10)]
        users = []
        for i in range(count):
            sub = uuid.uuid4().hex[:24]
            claims = {"sub": sub, "type": "access", "fresh": False, "jti": uuid.uuid4().hex, "iat": now, "nbf": now,
                      "exp": now + timedelta(minutes=30), "role": "client_user", "org": orgs[i % len(orgs)], "tv": 0}
            users.append((sub, pyjwt.encode(claims, key.private_key, algorithm=key.alg, headers={"kid": key.kid})))
        client = redis.Redis.from_url(REDIS_URL)
        for sub, _token in users:
            revocation.write(client, self.run_id, sub, revocation.UserState(0, True, True), 3600)
        client.close()
        return users

    def sink_count(self):
        """Messages the SMTP sink has accepted so far."""
        try:
            return json.loads(self.sink_stats.read_text())
        except (OSError, ValueError):
            return {"count": 0, "bytes": 0}

    def scenario_fanout(self):
        """Scenario 3: clients across both notifications processes, emits from user_management's socket client."""
        plan = self.plan
        users = self.mint_tokens(plan.clients)
        tokens_file = self.logs / "socket-tokens.txt"
        tokens_file.write_text("".join(f"{i % 2} {token}\n" for i, (_sub, token) in enumerate(users)))
        warm_file = self.logs / "socket-warm.txt"
        warm_file.write_text("".join(f"{i % 2} {token}\n" for i, (_sub, token) in enumerate(self.mint_tokens(10))))
        urls = ",".join(entry["url"] for entry in self.notif)
        # One short connect/disconnect round first, so the baseline RSS includes code paths loaded on first use.
        warm = subprocess.run([sys.executable, "-m", "bench.sockets_load", "--urls", urls, "--tokens", str(warm_file)],
                              input="drain 0\n", capture_output=True, text=True, cwd=ROOT, timeout=60)
        if warm.returncode != 0:
            raise RuntimeError(f"socket warm-up failed: {warm.stderr[-2000:]}")
        time.sleep(1)
        before = {entry["worker"]: rss_kib(entry["worker"]) for entry in self.notif}
        loader = self.services.start("sockets_load", [sys.executable, "-m", "bench.sockets_load", "--urls", urls,
                                                      "--tokens", str(tokens_file)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in loader.stdout], daemon=True).start()
        connected = json.loads(lines.get(timeout=180))
        log(f"sockets: {connected['ok']} connected ({connected['failed']} failed) in {connected['seconds']:.1f}s")
        if connected["failed"]:
            raise RuntimeError(f"socket clients failed to connect: {connected['failures']}")
        time.sleep(3)
        after = {entry["worker"]: rss_kib(entry["worker"]) for entry in self.notif}
        per_process = plan.clients / len(self.notif)
        memory = [{"process": f"notifications_{i + 1}", "rss_before_kib": before[e["worker"]],
                   "rss_after_kib": after[e["worker"]],
                   "per_client_kib": (after[e["worker"]] - before[e["worker"]]) / per_process}
                  for i, e in enumerate(self.notif)]

        from flask import Flask
        from user_management.utils import socket_client

        emitter_app = Flask("bench_emitter")
        emitter_app.config.update(REDIS_URL=REDIS_URL, SOCKETIO_CHANNEL=self.channel)
        cpu = CpuWatch({f"notifications_{i + 1}": e["worker"] for i, e in enumerate(self.notif)} | {"load": loader.pid})
        with emitter_app.app_context():
            socket_client.notify_user("nobody", "warmup", "warm the emitter's Redis connection")
            broadcast_every = max(1, plan.singles // max(1, plan.broadcasts))
            sent_broadcasts = 0
            for i in range(plan.singles):
                sub = users[(i * 7919) % len(users)][0]
                socket_client.notify_user(sub, "bench", "single-user notification",
                                          {"sentAt": time.time(), "kind": "single", "seq": i})
                if i % broadcast_every == 0 and sent_broadcasts < plan.broadcasts:
                    payload = {"type": "bench", "message": "broadcast", "timestamp": "",
                               "data": {"sentAt": time.time(), "kind": "broadcast", "seq": sent_broadcasts}}
                    # Every bench client is a client_user, so this room reaches all of them.
                    socket_client._emit("notification", payload, "role:client_user")
                    sent_broadcasts += 1
                time.sleep(0.02)
            while sent_broadcasts < plan.broadcasts:
                payload = {"type": "bench", "message": "broadcast", "timestamp": "",
                           "data": {"sentAt": time.time(), "kind": "broadcast", "seq": sent_broadcasts}}
                socket_client._emit("notification", payload, "role:client_user")
                sent_broadcasts += 1
                time.sleep(0.2)
        expected = plan.singles + plan.broadcasts * plan.clients
        loader.stdin.write(f"drain {expected}\n")
        loader.stdin.flush()
        results = json.loads(lines.get(timeout=120))
        usage = cpu.stop()
        try:
            loader.wait(30)
        except subprocess.TimeoutExpired:
            pass
        self.services.stop(loader)
        self.results["fanout"] = {"clients": plan.clients, "processes": len(self.notif), "singles": plan.singles,
                                  "broadcasts": plan.broadcasts, "connect_seconds": connected["seconds"],
                                  "memory": memory, "latency": results, "cpu": usage,
                                  "redis_baseline": self.redis_pubsub_baseline()}
        log(f"fan-out: received {results['received']}/{expected}; single p50 {results['single']['p50_ms']:.1f} "
            f"p99 {results['single']['p99_ms']:.1f} ms; broadcast p50 {results['broadcast']['p50_ms']:.1f} "
            f"p99 {results['broadcast']['p99_ms']:.1f} ms; memory {[round(m['per_client_kib'], 1) for m in memory]} KiB")

    def redis_pubsub_baseline(self, count=200):
        """Baseline of scenario 3: publish-to-receive latency of bare Redis pub/sub, the queue the emits ride on."""
        client = redis.Redis.from_url(REDIS_URL)
        channel = f"{self.run_id}-pubsub-baseline"
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

    def scenario_email(self):
        """Scenario 4: queue rate of POST /api/email/send and delivery rate, against the sink's raw rate."""
        plan = self.plan
        raw = subprocess.run([sys.executable, "-m", "bench.smtp_blast", "--port", str(self.smtp_port), "--threads",
                              str(len(self.notif)), "--seconds", str(plan.smtp_raw_seconds)],
                             capture_output=True, text=True, cwd=ROOT, timeout=120, check=True)
        baseline = json.loads(raw.stdout.strip().splitlines()[-1])
        log(f"smtp sink raw rate: {baseline['rate']:.0f} msg/s ({len(self.notif)} smtplib clients)")
        body = json.dumps({"to": "invitee@example.test", "template": "invite",
                           "context": {"link": "http://localhost:3000/accept-invite?token=" + secrets.token_urlsafe(32),
                                       "inviterName": "Bench Admin", "role": "operator",
                                       "expiresAt": "2030-01-01T00:00:00Z"}})
        from notifications.config import config_for as notif_config

        script = wrk.post_json_script(body, {"X-Service-Token": notif_config("development").NOTIFICATIONS_SERVICE_TOKEN})
        start_count = self.sink_count()["count"]
        cpu = CpuWatch({f"notifications_{i + 1}": e["worker"] for i, e in enumerate(self.notif)} | {"sink": self.sink.pid})
        samples = [(time.monotonic(), start_count)]
        handles = [wrk.start(f"{e['url']}/api/email/send", script, 1, 25, plan.email_seconds) for e in self.notif]
        queued_runs = [wrk.finish(handle) for handle in handles]
        queued = sum(run["ok"] for run in queued_runs)
        queue_seconds = max(run["seconds"] for run in queued_runs)
        samples.append((time.monotonic(), self.sink_count()["count"]))
        deadline = time.monotonic() + plan.email_tail_seconds
        while time.monotonic() < deadline and samples[-1][1] - start_count < queued:
            time.sleep(0.25)
            samples.append((time.monotonic(), self.sink_count()["count"]))
        usage = cpu.stop()
        delivered = samples[-1][1] - start_count
        # Rate over the time deliveries were happening: from the first sample to the last one that grew.
        last_growth = max(t for t, c in samples if c == samples[-1][1])
        delivery_seconds = max(1e-6, last_growth - samples[0][0])
        sink = self.sink_count()
        self.results["email"] = {
            "baseline": baseline, "queued": queued, "queue_seconds": queue_seconds, "queue_rate": queued / queue_seconds,
            "queue_p50_ms": statistics.mean(r["p50_ms"] for r in queued_runs),
            "queue_p99_ms": max(r["p99_ms"] for r in queued_runs),
            "queue_errors": sum(r["errors"] for r in queued_runs), "delivered": delivered,
            "delivery_seconds": delivery_seconds, "delivery_rate": delivered / delivery_seconds,
            "backlog_left": queued - delivered, "cpu": usage, "wrk_cpu": [r["cpu_share"] for r in queued_runs],
            "avg_message_bytes": sink["bytes"] / sink["count"] if sink.get("count") else 0,
        }
        log(f"email: queued {queued} at {queued / queue_seconds:.0f}/s, delivered {delivered} at "
            f"{delivered / delivery_seconds:.0f}/s, backlog {queued - delivered}")

    # ---------------------------------------------------------------- run

    def cleanup_redis(self):
        """Delete every Redis key of this run."""
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"*{self.run_id}*", count=1000))
        if keys:
            client.delete(*keys)
        self.results["redis_keys_deleted"] = len(keys)
        client.close()

    def run(self):
        """Every scenario, in order; the services are stopped and Redis cleaned whatever happens."""
        try:
            log(f"run {self.run_id}: starting user_management and bare Flask")
            self.start_user_management()
            self.admin_token = self.login(ADMIN_EMAIL, ADMIN_PASSWORD)
            self.scenario_login()
            self.scenario_requests()
            self.results["data"] = {"users": 1 + self.results["wrk"]["invite_accept"]["ok"],
                                    "invites": self.results["invites_created"]}
            self.services.stop(self.um)
            self.services.stop(self.bare)
            self.capture.stop()
            log("starting the SMTP sink and two notifications processes")
            self.start_notifications()
            self.scenario_fanout()
            self.scenario_email()
        finally:
            self.services.stop_all()
            if self.capture is not None:
                self.capture.stop()
            if getattr(self, "jwks_server", None) is not None:
                self.jwks_server.shutdown()
            self.cleanup_redis()
        (self.logs / "results.json").write_text(json.dumps(self.results, indent=2, default=str))
        return self.results


def preflight():
    """Install wrk when missing (Debian), as .ci/run does for nginx; fail clearly without Redis."""
    if not wrk.available():
        log("wrk missing: apt-get install -y wrk")
        subprocess.run("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk",
                       shell=True, check=False, stdout=subprocess.DEVNULL)
    if not wrk.available():
        raise SystemExit("wrk is required: apt-get install -y wrk")
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
    sys.path.insert(0, str(ROOT))
    started = time.monotonic()
    bench = Bench(QUICK if args.quick else FULL, args.quick, args.profile)
    results = bench.run()
    results["wall_seconds"] = time.monotonic() - started
    results["command"] = "make bench-quick" if args.quick else "make bench"
    results["argv"] = " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])])
    output = Path(args.output) if args.output else (OUT / "RESULTS-quick.md" if args.quick else BENCH / "RESULTS.md")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(report.render(results, machine_info(), ROOT))
    log(f"done in {results['wall_seconds']:.0f}s; wrote {output.relative_to(ROOT)}")
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
