"""Fixtures for end-to-end tests that run the notifications service as a real process.

    def test_x(notifications_server, smtp_server):
        smtp_server.start()
        url, process = notifications_server()           # gunicorn -k eventlet, waits for /health
        ...
        stop_process(process)                           # e.g. to test the outbox while it is down
        url, process = notifications_server(port=port)  # and bring it back on the same port

    def test_y(notifications_server, user_management_server, smtp_server):
        smtp_server.start()
        notifications_url, _ = notifications_server()
        url, process = user_management_server(notifications_url)  # gunicorn gthread, mongomock,
        ...                                                        # bootstrap super admin (e2e.helpers)

Helpers for test bodies live in `support.processes` (start_notifications,
stop_process, read_log, connect_socket, wait_until, SmtpServer, free_port) and
in `e2e.helpers` (the HTTP API, received e-mails, socket events, JSON logs).
Keys and channel derive from the suite's `redis_prefix` fixture, so
tests/conftest.py's cleanup (`*<prefix>*`) removes them and a user_management
app built by `app_factory` (SOCKETIO_CHANNEL=f"{redis_prefix}-socketio") shares
the Socket.IO channel.
"""
import pytest

from e2e.helpers import ADMIN_EMAIL, ADMIN_PASSWORD, FRONTEND_URL
from notifications.config import DEV_SERVICE_TOKEN
from support.jwks import keyset_file
from support.processes import (SmtpServer, connect_socket, free_port, start_notifications, start_user_management,
                               stop_process)

REDIS_URL = "redis://127.0.0.1:6379/0"
FRONTEND_ORIGIN = "http://localhost:5173"


def stop_all(processes):
    """Stop processes concurrently: SIGTERM to all first, so their graceful shutdowns overlap."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        stop_process(process)


@pytest.fixture
def smtp_server():
    """A real SMTP server on a reserved free port; call .start() (and .stop() to simulate an outage)."""
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def user_management_port():
    """The port this test's user_management listens on (known up front: notifications fetches its JWKS)."""
    return free_port()


@pytest.fixture
def notifications_env(redis_prefix, smtp_server, user_management_port):
    """Environment of a notifications process for this test: own key prefix, shared channel, um's public keys."""
    return {
        "APP_ENV": "development",
        "REDIS_URL": REDIS_URL,
        "REDIS_KEY_PREFIX": f"{redis_prefix}-notif",
        "SHARED_KEY_PREFIX": redis_prefix,
        "SOCKETIO_CHANNEL": f"{redis_prefix}-socketio",
        "JWKS_URL": f"http://127.0.0.1:{user_management_port}/.well-known/jwks.json",
        "JWT_ISSUER": FRONTEND_URL,
        "JWT_AUDIENCE": FRONTEND_URL,
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
    stop_all(processes)


@pytest.fixture
def user_management_env(redis_prefix, user_management_port, tmp_path):
    """Environment of a user_management process for this test: in-memory MongoDB, own key prefix, shared channel.

    A bootstrap super admin (ADMIN_EMAIL / ADMIN_PASSWORD) is created at start-up and the outbox is
    swept every 0.3 s. NOTIFICATIONS_URL is given to `user_management_server`.
    """
    return {
        "APP_ENV": "development",
        # Unset, so the development default (mongomock, inside the one worker) is used.
        "MONGODB_URI": "",
        "REDIS_URL": REDIS_URL,
        "REDIS_KEY_PREFIX": f"{redis_prefix}-um",
        "SHARED_KEY_PREFIX": redis_prefix,
        "SOCKETIO_CHANNEL": f"{redis_prefix}-socketio",
        "PORT": str(user_management_port),
        "JWT_SIGNING_KEYS": str(keyset_file(tmp_path)),
        "NOTIFICATIONS_SERVICE_TOKEN": DEV_SERVICE_TOKEN,
        "FRONTEND_URL": FRONTEND_URL,
        "CORS_ORIGIN": FRONTEND_ORIGIN,
        "OUTBOX_POLL_INTERVAL": "0.3",
        "BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL,
        "BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }


@pytest.fixture
def user_management_server(user_management_env):
    """Start user_management processes: `start(notifications_url, port=None, **env) -> (url, process)`.

    One gunicorn gthread worker (the in-memory database lives in it); every process started is
    stopped at teardown.
    """
    processes = []

    def start(notifications_url, port=None, **env):
        settings = {**user_management_env, "NOTIFICATIONS_URL": notifications_url,
                    **{key: str(value) for key, value in env.items()}}
        if port is not None:
            settings["PORT"] = str(port)
        url, process = start_user_management(settings)
        processes.append(process)
        return url, process

    yield start
    stop_all(processes)


@pytest.fixture
def socket_clients():
    """Connect real python-socketio clients: `connect(url, token) -> client` (events in `client.received`).

    Every client is disconnected at teardown.
    """
    clients = []

    def connect(url, token):
        client = connect_socket(url, token)
        clients.append(client)
        return client

    yield connect
    for client in clients:
        try:
            client.disconnect()
        except Exception:  # already gone with its server; nothing to clean up
            pass
