"""Scenarios 1 and 2 against user_management: bcrypt-bound login and invite accept; plain authenticated requests."""
import json
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.support.nginx import find_nginx, start_nginx, stop_nginx
from tests.support.processes import free_port, wait_until

from .. import wrk
from ..harness import ADMIN_EMAIL, ADMIN_PASSWORD, log
from ..procstats import cores

INVITEE_PASSWORD = "Copper-Meadow-Falcon-31"


def measure_bcrypt(run):
    """Seconds of one verify at the configured cost, with the service's own code; median of samples."""
    from user_management.utils.passwords import hash_password, verify_password

    rounds = run.results["bcrypt_rounds"]
    stored = hash_password(ADMIN_PASSWORD, rounds)
    samples = []
    for _ in range(run.plan.bcrypt_samples):
        started = time.perf_counter()
        verify_password(ADMIN_PASSWORD, stored)
        samples.append(time.perf_counter() - started)
    seconds = statistics.median(samples)
    run.results["bcrypt"] = {"verify_seconds": seconds, "samples": samples, "cores": cores(),
                             "bound_per_second": cores() / seconds}
    log(f"bcrypt verify at cost {rounds}: {seconds * 1000:.0f} ms -> bound {cores() / seconds:.2f}/s")


def create_invites(run, stack, count):
    """Create `count` operator invites through the API; return their single-use tokens."""
    emails = [f"{run.run_id}-{i}@example.test" for i in range(count)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda email: stack.api("POST", "/api/invites/create", stack.admin_token,
                                              json={"email": email, "role": "operator"}), emails))
    tokens = wait_until(lambda: (found := stack.capture.invite_tokens()) and all(e in found for e in emails) and found)
    if not tokens:
        raise RuntimeError("invite emails did not all reach the capture stub")
    return [tokens[email] for email in emails]


def login_and_accept(run, stack):
    """Scenario 1: login and invite accept against the bcrypt bound."""
    measure_bcrypt(run)
    concurrency = 2 * cores()
    url, watch = stack.um.url, {"user_management": stack.um.worker}
    body = json.dumps({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    if run.profile:
        py_spy(run, stack, "login", f"{url}/api/auth/login", wrk.post_json_script(body), 1, concurrency)
    run.wrk("login", f"{url}/api/auth/login", wrk.post_json_script(body), 1, concurrency, run.plan.bcrypt_seconds,
            timeout=10, watch=watch)
    needed = int(run.results["bcrypt"]["bound_per_second"] * run.plan.bcrypt_seconds * 1.5) + 20
    tokens_file = run.logs / "invite-tokens.txt"
    tokens_file.write_text("\n".join(create_invites(run, stack, needed)) + "\n")
    template = json.dumps({"token": "TOKEN", "firstName": "Bench", "lastName": "Invitee",
                           "password": INVITEE_PASSWORD}).replace("TOKEN", "%s")
    run.wrk("invite_accept", url, wrk.token_post_script("/api/invites/accept", tokens_file, template), 1,
            concurrency, run.plan.bcrypt_seconds, timeout=10, watch=watch)
    run.results["invites_created"] = needed


def plain_requests(run, stack):
    """Scenario 2: profile and invite list against bare Flask, 50 connections; and wrk's own ceiling."""
    auth = wrk.get_script({"Authorization": f"Bearer {stack.admin_token}"})
    runs = [
        ("bare_flask", f"{stack.bare.url}/ping", wrk.get_script(), {"bare_flask": stack.bare.worker}),
        ("profile", f"{stack.um.url}/api/auth/profile", auth, {"user_management": stack.um.worker}),
        ("invites_list", f"{stack.um.url}/api/invites/list", auth, {"user_management": stack.um.worker}),
    ]
    for name, url, script, watch in runs:
        if run.plan.warmup_seconds:
            wrk.run(url, script, 2, 50, run.plan.warmup_seconds)
        if run.profile and name != "bare_flask":
            py_spy(run, stack, name, url, script, 2, 50)
        run.wrk(name, url, script, 2, 50, run.plan.http_seconds, watch=watch)
    trivial_nginx(run)


def trivial_nginx(run):
    """nginx answering a fixed JSON body: the trivial endpoint that shows wrk's own ceiling (skipped without nginx)."""
    if find_nginx() is None:
        log("nginx not installed (apt-get install -y nginx): no trivial-endpoint baseline")
        return
    port = free_port()
    prefix = run.logs / "nginx"
    prefix.mkdir(exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(f"""worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy; fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi; scgi_temp_path {prefix}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location / {{ default_type application/json; return 200 '{{"success":true,"message":"pong"}}'; }}
  }}
}}
""")
    nginx = start_nginx(conf)
    try:
        run.wrk("trivial_nginx", f"http://127.0.0.1:{port}/", "", 2, 50, run.plan.trivial_seconds)
    finally:
        stop_nginx(nginx)


def py_spy(run, stack, name, url, script, threads, connections):
    """--profile: record user_management under this load with py-spy (collapsed stacks and a flamegraph)."""
    spy = Path(sys.executable).parent / "py-spy"
    if not spy.exists():
        log("py-spy not installed (pip install -r bench/requirements.txt); skipping the profile")
        return
    seconds = max(5, run.plan.http_seconds)
    handle = wrk.start(url, script, threads, connections, seconds + 2, timeout=10)
    time.sleep(1)  # let wrk reach full load before sampling
    out = run.logs / f"profile-{name}"
    # --gil: only the thread holding the GIL, i.e. where the one interpreter's time goes.
    for fmt, suffix in (("raw", "txt"), ("flamegraph", "svg")):
        subprocess.run([str(spy), "record", "--pid", str(stack.um.worker), "--duration", str(seconds // 2), "--gil",
                        "--format", fmt, "--output", f"{out}.{suffix}", "--nonblocking"], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wrk.finish(handle)
    log(f"py-spy profile of {name} written to {out}.txt and .svg")
