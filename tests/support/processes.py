"""Helpers for tests that run the service as a real process (gunicorn or serve.py).

Shared by tests/notifications, tests/e2e and tests/deploy.
"""
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def free_port():
    """Return a TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_health(url, process=None, timeout=20):
    """Poll GET {url}/health until it answers 200; raise RuntimeError on timeout or exit."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{read_log(process)}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last = exc
        time.sleep(0.1)
    raise RuntimeError(f"server at {url} not healthy after {timeout}s ({last}):\n{read_log(process)}")


def start_notifications(env=None, worker_class="eventlet", app_spec="notifications:create_app()", serve=False,
                        gunicorn_config=None, timeout=20):
    """Start a notifications server process and wait for /health; return (url, process).

    `env` is added to the current environment; PORT picks the port (default: a
    free one) and SOCKETIO_ASYNC_MODE defaults to `worker_class`. With
    `serve=True` the process is `python -m notifications.serve` instead of
    gunicorn (with `gunicorn_config`, e.g. "notifications/gunicorn.conf.py", as
    its -c; the -b given here wins over the file's bind). Output goes to a temporary file (`read_log(process)`); stop the
    process with `stop_process`.
    """
    env = {**os.environ, **(env or {})}
    # Set by any in-process `flask` command run earlier; it would stop the sender starting.
    env.pop("FLASK_RUN_FROM_CLI", None)
    env.setdefault("PORT", str(free_port()))
    env.setdefault("SOCKETIO_ASYNC_MODE", worker_class)
    env["PYTHONUNBUFFERED"] = "1"
    port = env["PORT"]
    if serve:
        command = [sys.executable, "-m", "notifications.serve"]
    else:
        command = [
            sys.executable, "-m", "gunicorn",
            "-k", worker_class, "-w", "1",
            "-b", f"127.0.0.1:{port}",
            "--graceful-timeout", "5",
            # gunicorn 25 otherwise opens one shared control socket in ~/.gunicorn
            "--no-control-socket",
        ]
        if gunicorn_config:
            command += ["-c", gunicorn_config]
        command.append(app_spec)
    return _spawn(command, env, "notifications", timeout)


def start_user_management(env=None, threads=8, timeout=30):
    """Start user_management under gunicorn (one gthread worker, as mongomock needs) and wait for /health.

    Returns (url, process). `env` is added to the current environment; PORT
    picks the port (default: a free one).
    """
    env = {**os.environ, **(env or {})}
    env.pop("FLASK_RUN_FROM_CLI", None)
    env.setdefault("PORT", str(free_port()))
    env["PYTHONUNBUFFERED"] = "1"
    port = env["PORT"]
    command = [
        sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", "1", "--threads", str(threads),
        "-b", f"127.0.0.1:{port}", "--graceful-timeout", "5", "--no-control-socket",
        "wsgi:user_management_app",
    ]
    return _spawn(command, env, "user-management", timeout)


def _spawn(command, env, name, timeout):
    """Run `command` with its output in a temporary log file; wait for /health on env's PORT."""
    log = tempfile.NamedTemporaryFile(prefix=f"{name}-", suffix=".log", delete=False)
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    process.log_path = log.name
    log.close()
    url = f"http://127.0.0.1:{env['PORT']}"
    try:
        wait_for_health(url, process, timeout)
    except RuntimeError:
        stop_process(process)
        raise
    return url, process


def read_log(process):
    """Return what the process has written so far."""
    path = getattr(process, "log_path", None)
    return Path(path).read_text(errors="replace") if path and Path(path).exists() else ""


def stop_process(process, timeout=10):
    """Stop the process with SIGTERM (SIGKILL after `timeout`) and remove its log."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
    path = getattr(process, "log_path", None)
    if path:
        Path(path).unlink(missing_ok=True)


def wait_until(predicate, timeout=10, interval=0.05):
    """Poll `predicate` until it returns something true or `timeout` passes; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


class RecordingSmtpHandler:
    """aiosmtpd handler keeping every received message; refuses recipients @refused.example."""

    def __init__(self):
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        """Accept recipients, except the permanently refused domain."""
        if address.endswith("@refused.example"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        """Store the parsed message."""
        import email
        import email.policy

        raw = envelope.original_content or envelope.content
        self.messages.append(email.message_from_bytes(raw, policy=email.policy.default))
        return "250 Message accepted for delivery"


class SmtpServer:
    """A real SMTP server (aiosmtpd) on a fixed free port, which a test can start and stop."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.handler = RecordingSmtpHandler()
        self.controller = None

    @property
    def messages(self):
        """Messages received so far (email.message.EmailMessage)."""
        return self.handler.messages

    def start(self):
        """Start listening; return self."""
        from aiosmtpd.controller import Controller  # a dev requirement only

        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        """Stop listening (messages are kept)."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def wait_for(self, count, timeout=10):
        """Wait until `count` messages arrived; return all messages."""
        wait_until(lambda: len(self.messages) >= count, timeout)
        return self.messages


def connect_socket(url, token=None, origin="http://localhost:5173", transports=None,
                   events=("notification", "inviteStatusUpdate", "sessionEnded", "error", "connect_error")):
    """Connect a python-socketio client with `auth: {token}`; events land in `client.received`.

    Raises socketio.exceptions.ConnectionError when refused (the reason is then
    in `client.received` as a `connect_error`, see `last_client`).
    """
    import socketio

    # websocket-client sends its own Origin header, so it is set there (requests sends none).
    client = socketio.Client(reconnection=False, websocket_extra_options={"origin": origin})
    client.received = []
    for event in events:
        client.on(event, lambda data, event=event: client.received.append((event, data)))
    connect_socket.last_client = client
    client.connect(url, auth={"token": token} if token is not None else None, transports=transports, wait_timeout=5)
    return client
