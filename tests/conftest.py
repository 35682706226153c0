"""Fixtures shared by the whole suite (helpers live in tests/support).

Each test gets its own database (mongomock by default; a real MongoDB when
MONGODB_URI is set) and its own Redis key prefix on the real Redis, both removed
afterwards, so test runs can share one Redis and never touch real data.

The process fixtures (end-to-end and browser tests) start real services:

    def test_x(smtp_server, notifications_server, user_management_server, socket_clients):
        smtp_server.start()
        notifications_url, _ = notifications_server()           # gunicorn -k eventlet, waits for /health
        url, process = user_management_server(notifications_url)  # gunicorn gthread, mongomock, bootstrap admin
        client = socket_clients(notifications_url, token)         # events in client.received

Their keys and Socket.IO channel derive from `redis_prefix`, so its clean-up
(`*<prefix>*`) removes them, and an app built by `app_factory` shares the channel.
"""
import uuid
from types import SimpleNamespace

import mongoengine
import pytest

from notifications.config import DEV_SERVICE_TOKEN
import support.api as support_api
from support.api import ADMIN_EMAIL, ADMIN_PASSWORD, FRONTEND_ORIGIN, FRONTEND_URL
from support.factory import Factory, test_database_uri
from support.jwks import keyset_file
from support.processes import free_port, start_notifications, start_together, start_user_management, stop_all
from support.redis_store import REDIS_URL, delete_redis_keys
from support.smtp import SmtpServer
from support.sockets import connect_socket
from user_management import create_app
from user_management.config import TestingConfig
from user_management.models import EmailOutbox



@pytest.fixture
def redis_prefix():
    """A Redis key prefix no other test run uses; its keys are deleted afterwards."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    yield prefix
    delete_redis_keys(prefix)


@pytest.fixture
def atomic_writes(monkeypatch):
    """Make each mongomock write one atomic step, as a real MongoDB does per document.

    mongomock takes no lock: two threads running `find_one_and_update` on one document can both
    match it, which a real server never allows. Race tests use this so they test our code, not that.
    """
    import threading

    from mongomock.collection import Collection

    lock = threading.RLock()
    for name in ("_update", "_find_and_modify", "_insert", "_delete"):
        original = getattr(Collection, name)

        def locked(self, *args, __original=original, **kwargs):
            with lock:
                return __original(self, *args, **kwargs)

        monkeypatch.setattr(Collection, name, locked)


@pytest.fixture
def app_factory(redis_prefix):
    """Build user_management apps on this test's database and Redis prefix."""
    db_name = f"test_um_{uuid.uuid4().hex[:12]}"
    built = []

    def build(**overrides):
        settings = dict(
            MONGODB_URI=test_database_uri(db_name),
            REDIS_URL=REDIS_URL,
            REDIS_KEY_PREFIX=redis_prefix,
            SHARED_KEY_PREFIX=redis_prefix,
            SOCKETIO_CHANNEL=f"{redis_prefix}-socketio",
        )
        settings.update(overrides)
        app = create_app(TestingConfig, **settings)
        built.append(app)
        return app

    yield build
    if built:
        mongoengine.get_db().client.drop_database(db_name)
    mongoengine.disconnect()


@pytest.fixture
def app(app_factory):
    """The user_management app under test (tests/notifications overrides it with the notifications app)."""
    app = app_factory()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    """HTTP test client of `app`."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """Flask CLI runner of `app`."""
    return app.test_cli_runner()


@pytest.fixture
def factory(app):
    """Test-data factory bound to the app."""
    return Factory(app)


@pytest.fixture
def outbox():
    """Read what the notifications client was asked to send."""

    def emails(template=None, to=None):
        query = EmailOutbox.objects.order_by("created_at")
        if template:
            query = query.filter(template=template)
        if to:
            query = query.filter(to=to)
        return list(query)

    return emails


# --- real processes ------------------------------------------------------------------------------


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
    return support_api.notifications_env(redis_prefix, smtp_server.port, user_management_port, REDIS_URL,
                                         DEV_SERVICE_TOKEN)


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
def processes():
    """Processes a test starts (append them); all are stopped at teardown."""
    started = []
    yield started
    stop_all(started)


@pytest.fixture
def notifications_server(notifications_env, processes):
    """Start notifications processes: `start(worker_class="eventlet", port=None, **env) -> (url, process)`."""

    def start(worker_class="eventlet", port=None, **env):
        settings = {**notifications_env, **{key: str(value) for key, value in env.items()}}
        if port is not None:
            settings["PORT"] = str(port)
        url, process = start_notifications(settings, worker_class=worker_class)
        processes.append(process)
        return url, process

    return start


@pytest.fixture
def user_management_server(user_management_env, processes):
    """Start user_management processes: `start(notifications_url, port=None, **env) -> (url, process)`.

    One gunicorn gthread worker (the in-memory database lives in it).
    """

    def start(notifications_url, port=None, **env):
        settings = {**user_management_env, "NOTIFICATIONS_URL": notifications_url,
                    **{key: str(value) for key, value in env.items()}}
        if port is not None:
            settings["PORT"] = str(port)
        url, process = start_user_management(settings)
        processes.append(process)
        return url, process

    return start


@pytest.fixture
def service_stack(notifications_server, user_management_server):
    """Start notifications processes and a user_management process handing its e-mail to the first, all at once.

    `start(notifications=1, notifications_ports=None, notifications_env=None, **user_management_env)` returns a
    namespace: `url` and `user_management` (its process, on `user_management_port`), `notifications`
    [(url, process), ...].
    """

    def start(notifications=1, notifications_ports=None, notifications_env=None, **env):
        ports = notifications_ports or [free_port() for _ in range(notifications)]
        starters = [lambda port=p: notifications_server(port=port, **(notifications_env or {})) for p in ports]
        starters.append(lambda: user_management_server(f"http://127.0.0.1:{ports[0]}", **env))
        *started, (url, process) = start_together(*starters)
        return SimpleNamespace(url=url, user_management=process, notifications=started)

    return start


@pytest.fixture
def socket_clients():
    """Connect real python-socketio clients: `connect(url, token, **options) -> client`; all disconnected after."""
    clients = []

    def connect(url, token=None, **options):
        client = connect_socket(url, token, **options)  # a refused client is disconnected already
        clients.append(client)
        return client

    yield connect
    for client in clients:
        try:
            client.disconnect()
        except Exception:  # already gone with its server; nothing to clean up
            pass
