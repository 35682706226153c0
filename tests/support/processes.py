"""Real service processes (gunicorn or serve.py) for the tests and the benchmarks, and their logs.

Shared by tests/notifications, tests/e2e, tests/web, tests/deploy and bench/.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def free_port():
    """Return a TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout=10, interval=0.05):
    """Poll `predicate` until it returns something true or `timeout` passes; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def port_open(port, host="127.0.0.1"):
    """Return True when something accepts TCP connections on host:port."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_for_port(port, process=None, timeout=60):
    """Wait until something listens on 127.0.0.1:`port`; raise RuntimeError on timeout or when the process exits."""
    deadline = time.monotonic() + timeout
    while not port_open(port):
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}:\n{read_log(process)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s:\n{read_log(process)}")
        time.sleep(0.05)


def wait_for_health(url, process=None, timeout=60, path="/health"):
    """Poll GET {url}{path} until it answers 200; raise RuntimeError on timeout or when the process exits."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{read_log(process)}")
        try:
            with urllib.request.urlopen(f"{url}{path}", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last = exc
        time.sleep(0.1)
    raise RuntimeError(f"server at {url} not healthy after {timeout}s ({last}):\n{read_log(process)}")


def service_env(env=None):
    """The current environment plus `env`, with PORT (default: a free one) and unbuffered output."""
    env = {**os.environ, **(env or {})}
    # Set by any in-process `flask` command run earlier; it would stop the notifications sender starting.
    env.pop("FLASK_RUN_FROM_CLI", None)
    env.setdefault("PORT", str(free_port()))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_gunicorn(app_spec, env=None, config=None, options=(), name="gunicorn", health_path="/health",
                   timeout=30, log_path=None):
    """Start `gunicorn app_spec` on 127.0.0.1:PORT and wait until `health_path` answers 200; return (url, process).

    `config` is a gunicorn config file (-c); the -b given here wins over its bind.
    `options` are more gunicorn arguments (-k, -w, --threads ...). Output goes to
    `log_path` (default: a temporary file removed by `stop_process`); `read_log(process)` reads it.
    """
    env = service_env(env)
    command = [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{env['PORT']}", "--graceful-timeout", "5",
               # gunicorn 25 otherwise opens one shared control socket in ~/.gunicorn
               "--no-control-socket", *options]
    if config:
        command += ["-c", config]
    return spawn([*command, app_spec], env, name, timeout, health_path, log_path)


def start_notifications(env=None, worker_class="eventlet", app_spec="notifications:create_app()", serve=False,
                        gunicorn_config=None, timeout=60):
    """Start a notifications server process and wait for /health; return (url, process).

    `env` is added to the current environment; PORT picks the port (default: a
    free one) and SOCKETIO_ASYNC_MODE defaults to `worker_class`. With
    `serve=True` the process is `python -m notifications.serve` instead of
    gunicorn (with `gunicorn_config`, e.g. "notifications/gunicorn.conf.py", as
    its -c). Stop the process with `stop_process`.
    """
    env = {"SOCKETIO_ASYNC_MODE": worker_class, **(env or {})}
    if serve:
        return spawn([sys.executable, "-m", "notifications.serve"], service_env(env), "notifications", timeout)
    return start_gunicorn(app_spec, env, config=gunicorn_config, options=("-k", worker_class, "-w", "1"),
                          name="notifications", timeout=timeout)


def start_user_management(env=None, threads=8, timeout=30):
    """Start user_management under gunicorn (one gthread worker, as mongomock needs) and wait for /health.

    Returns (url, process). `env` is added to the current environment; PORT
    picks the port (default: a free one).
    """
    return start_gunicorn("wsgi:user_management_app", env, name="user-management", timeout=timeout,
                          options=("-k", "gthread", "-w", "1", "--threads", str(threads)))


def start_together(*starters):
    """Call each starter (a function that starts a process and returns its result) at once; return the results.

    Processes starting side by side overlap their imports and health checks, which
    on a busy machine also gets them a larger share of the cores. Every starter
    runs to its end before the first error, if any, is raised, so each started
    process has been handed to whoever stops it.
    """
    with ThreadPoolExecutor(len(starters)) as pool:
        futures = [pool.submit(start) for start in starters]
    return [future.result() for future in futures]


def spawn(command, env, name, timeout=60, health_path="/health", log_path=None):
    """Run `command` in the project root with its output in a log file; wait for `health_path` on env's PORT.

    With `health_path=None` it returns at once. Returns (url, process).
    """
    if log_path is None:
        log = tempfile.NamedTemporaryFile(prefix=f"{name}-", suffix=".log", delete=False)
        owned = True
    else:
        log = open(log_path, "wb")
        owned = False
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    process.log_path = log.name
    process.owns_log = owned
    process.name = name
    log.close()
    url = f"http://127.0.0.1:{env['PORT']}" if "PORT" in env else None
    if health_path is not None:
        try:
            wait_for_health(url, process, timeout, health_path)
        except RuntimeError:
            stop_process(process)
            raise
    return url, process


def read_log(process):
    """Return what the process has written so far."""
    path = getattr(process, "log_path", None)
    return Path(path).read_text(errors="replace") if path and Path(path).exists() else ""


def stop_process(process, timeout=10):
    """Stop the process with SIGTERM (SIGKILL after `timeout`) and remove its temporary log."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
    path = getattr(process, "log_path", None)
    if path and getattr(process, "owns_log", True):
        Path(path).unlink(missing_ok=True)


def stop_all(processes):
    """Stop processes concurrently: SIGTERM to all first, so their graceful shutdowns overlap."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        stop_process(process)


def json_log_lines(process):
    """Every complete log line that starts with "{", parsed; a line that is not valid JSON fails the test."""
    lines = read_log(process).split("\n")[:-1]  # the last piece may be a line still being written
    parsed = []
    for line in lines:
        if line.startswith("{"):
            try:
                parsed.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise AssertionError(f"log line is not JSON ({exc}): {line!r}") from None
    return parsed


def access_lines(process, path=None, request_id=None, **match):
    """JSON access-log lines (servicekit's), optionally for one route pattern, request id or other field values."""
    match.update({key: value for key, value in (("path", path), ("request_id", request_id)) if value is not None})
    return [
        line for line in json_log_lines(process)
        if line.get("logger") == "access" and all(line.get(key) == value for key, value in match.items())
    ]
