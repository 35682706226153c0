"""Fixtures for end-to-end tests that run the notifications service as a real process.

    def test_x(notifications_server, smtp_server):
        smtp_server.start()
        url, process = notifications_server()           # gunicorn -k eventlet, waits for /health
        ...
        stop_process(process)                           # e.g. to test the outbox while it is down
        url, process = notifications_server(port=port)  # and bring it back on the same port

Helpers for test bodies live in `support.processes` (start_notifications,
stop_process, read_log, connect_socket, wait_until, SmtpServer, free_port).
Keys and channel derive from the suite's `redis_prefix` fixture, so
tests/conftest.py's cleanup (`*<prefix>*`) removes them and a user_management
app built by `app_factory` (SOCKETIO_CHANNEL=f"{redis_prefix}-socketio") shares
the Socket.IO channel.
"""
import pytest

from notifications.config import DEV_ACCESS_SECRET, DEV_SERVICE_TOKEN
from support.processes import SmtpServer, start_notifications, stop_process

REDIS_URL = "redis://127.0.0.1:6379/0"
FRONTEND_ORIGIN = "http://localhost:5173"


@pytest.fixture
def smtp_server():
    """A real SMTP server on a reserved free port; call .start() (and .stop() to simulate an outage)."""
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def notifications_env(redis_prefix, smtp_server):
    """Environment of a notifications process for this test: own key prefix, shared channel."""
    return {
        "APP_ENV": "development",
        "REDIS_URL": REDIS_URL,
        "REDIS_KEY_PREFIX": f"{redis_prefix}-notif",
        "SOCKETIO_CHANNEL": f"{redis_prefix}-socketio",
        "JWT_ACCESS_SECRET": DEV_ACCESS_SECRET,
        "NOTIFICATIONS_SERVICE_TOKEN": DEV_SERVICE_TOKEN,
        "CORS_ORIGIN": FRONTEND_ORIGIN,
        "MAIL_BACKEND": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_server.port),
        "SMTP_FROM": "no-reply@example.com",
        "EMAIL_POLL_SECONDS": "0.2",
        "EMAIL_RETRY_BASE_SECONDS": "0.2",
        "EMAIL_RETRY_MAX_SECONDS": "1",
    }


@pytest.fixture
def notifications_server(notifications_env):
    """Start notifications processes: `start(worker_class="eventlet", port=None, **env) -> (url, process)`.

    Every process started is stopped at teardown.
    """
    processes = []

    def start(worker_class="eventlet", port=None, **env):
        settings = {**notifications_env, **{key: str(value) for key, value in env.items()}}
        if port is not None:
            settings["PORT"] = str(port)
        url, process = start_notifications(settings, worker_class=worker_class)
        processes.append(process)
        return url, process

    yield start
    for process in processes:
        stop_process(process)
