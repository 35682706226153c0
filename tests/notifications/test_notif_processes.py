"""Real server processes on the real Redis: gunicorn (eventlet and gevent) and serve.py.

Two notifications processes share the Socket.IO message queue: events emitted by
a write-only emitter (what user_management does) and by process B reach a client
connected to process A.
"""
import time
import uuid
from unittest.mock import ANY

import pytest
import requests
import socketio.exceptions
from flask_socketio import SocketIO

from notifications.config import DEV_SERVICE_TOKEN
from support.authz import announce, grant
from support.jwks import mint
from support.processes import read_log, start_notifications, start_together, stop_process, wait_until
from support.redis_store import REDIS_URL, delete_redis_keys, wait_for_idle_email_queue, wait_for_subscribers
from support.smtp import SmtpServer, messages, wait_for_message
from support.sockets import settle, wait_for_event

pytestmark = pytest.mark.timeout(60)

ORIGIN = "http://localhost:5173"
SERVICE = {"X-Service-Token": DEV_SERVICE_TOKEN}


class Cluster:
    """Two notifications processes (A and B) on one Redis prefix and channel."""

    def __init__(self, worker_class, prefix, smtp_port, jwks_url):
        self.worker_class = worker_class
        self.prefix = prefix
        self.channel = f"{prefix}:socketio"
        self.env = {
            "APP_ENV": "development",
            "REDIS_URL": REDIS_URL,
            "REDIS_KEY_PREFIX": prefix,
            "SHARED_KEY_PREFIX": prefix,
            "SOCKETIO_CHANNEL": self.channel,
            "SOCKETIO_ASYNC_MODE": worker_class,
            "CORS_ORIGIN": ORIGIN,
            "MAIL_BACKEND": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp_port),
            "SMTP_FROM": "no-reply@example.com",
            "EMAIL_POLL_SECONDS": "0.2",
            "JWKS_URL": jwks_url,
        }
        self.processes = []
        self.a, self.b = start_together(self.start, self.start)

    def start(self, **kwargs):
        """Start one more process; return its URL."""
        url, process = start_notifications(self.env, worker_class=self.worker_class, **kwargs)
        self.processes.append(process)
        return url

    def logs(self):
        """Everything the processes printed, for failure messages."""
        return "\n".join(read_log(process) for process in self.processes)

    def stop(self):
        """Stop every process."""
        for process in self.processes:
            stop_process(process)


@pytest.fixture(scope="module")
def smtp():
    """A listening SMTP server the module's processes send to."""
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module", params=["eventlet", "gevent"])
def cluster(request, smtp, jwks_server):
    """Processes A and B under one worker class; their Redis keys are removed afterwards."""
    prefix = f"test-{uuid.uuid4().hex}"
    cluster = Cluster(request.param, prefix, smtp.port, jwks_server.url)
    yield cluster
    cluster.stop()
    delete_redis_keys(prefix)


@pytest.fixture
def token(cluster, jwks_server):
    """Mint an access token signed with the served key and write its user's record under the cluster's prefix."""

    def make(**claims):
        claims.setdefault("tv", 0)
        minted = mint(jwks_server.keyset.signing_key, **claims)
        grant(cluster.prefix, claims.get("sub", "user-1"), claims["tv"])
        return minted

    return make


@pytest.fixture
def connect(socket_clients):
    """Connect a client with `token` (None: no auth) and this module's origin."""

    def make(url, token=None, origin=ORIGIN, **options):
        return socket_clients(url, token, origin=origin, **options)

    return make


def test_refused_without_token(cluster, connect):
    """No auth: the connection is refused."""
    with pytest.raises(socketio.exceptions.ConnectionError):
        connect(cluster.a)


def test_refused_with_expired_token(cluster, connect, token):
    """An expired access token: refused, and the reason is given."""
    with pytest.raises(socketio.exceptions.ConnectionError) as refused:
        connect(cluster.a, token(expires_in=-5))
    assert refused.value.client.received == [
        ("connect_error", {"message": "Token expired", "data": {"reason": "token_expired"}})]


def test_refused_from_unlisted_origin(cluster, connect, token):
    """Browsers on origins outside CORS_ORIGIN cannot connect."""
    with pytest.raises(socketio.exceptions.ConnectionError):
        connect(cluster.a, token(), origin="https://evil.example", transports=["websocket"])


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_a_client_outside_a_browser_connects_without_listing_its_origin(cluster, token, transport):
    """python-socketio's websocket transport sends the server's own URL as Origin; it was refused unless that
    URL was added to CORS_ORIGIN. A valid token is still required (refused below without one)."""
    client = socketio.Client(reconnection=False)
    try:
        client.connect(cluster.a, auth={"token": token()}, transports=[transport], wait_timeout=5)
        assert client.connected
    finally:
        client.disconnect()
    with pytest.raises(socketio.exceptions.ConnectionError):
        socketio.Client(reconnection=False).connect(cluster.a, transports=[transport], wait_timeout=5)


def ended(client, reason, timeout):
    """Wait until the server ended `client` with `reason`; return the seconds it took."""
    started = time.monotonic()
    wait_until(lambda: not client.connected, timeout=timeout)
    took = time.monotonic() - started
    assert ("sessionEnded", {"reason": reason, "message": ANY}) in client.received and not client.connected, \
        client.received
    return took


def test_a_socket_is_ended_within_2_s_of_its_revocation(cluster, connect, token):
    """user_management announces a newer token version (logout-all): the socket gets sessionEnded and goes."""
    user = f"u-{uuid.uuid4().hex[:6]}"
    client = connect(cluster.a, token(sub=user, tv=0), transports=["websocket"])
    other = connect(cluster.a, token(sub="someone-else", tv=0), transports=["websocket"])
    grant(cluster.prefix, user, tv=1)
    announce(cluster.prefix, user)
    assert ended(client, "token_revoked", timeout=5) < 2
    assert other.connected


def test_a_socket_is_ended_when_its_token_expires(cluster, connect, token):
    """Sockets stayed connected 25 s past their token's expiry and kept receiving events."""
    client = connect(cluster.a, token(sub="short-lived", expires_in=2), transports=["websocket"])
    assert client.connected
    ended(client, "token_expired", timeout=6)


def test_register(cluster, connect, token):
    """register for another user gets an `error` event; for oneself an acknowledgement."""
    client = connect(cluster.a, token(sub="u-reg"), transports=["websocket"])
    assert client.transport() == "websocket"
    assert client.call("register", {"userId": "someone-else"}, timeout=5) == {"success": False}
    assert wait_for_event(client, "error") == {"message": "You can only register for your own user id"}
    assert client.call("register", {"userId": "u-reg"}, timeout=5) == {"success": True, "userId": "u-reg"}
    assert len(client.received) == 1, client.received


def test_events_cross_processes(cluster, connect, token):
    """A client on A gets events from a write-only emitter (user_management) and from process B."""
    user = f"u-{uuid.uuid4().hex[:8]}"
    on_a = connect(cluster.a, token(sub=user, role="super_admin", org=None), transports=["websocket"])
    on_b = connect(cluster.b, token(sub="admin-b", role="super_admin", org=None))
    # What user_management does; threading because that process is not monkey-patched.
    emitter = SocketIO(message_queue=REDIS_URL, channel=cluster.channel, async_mode="threading")
    wait_for_subscribers(cluster.channel, 2)

    update = {"inviteId": "i1", "email": "x@example.com", "role": "client_user", "status": "accepted",
              "organization": "o1", "timestamp": "2030-01-01T00:00:00Z"}
    emitter.emit("inviteStatusUpdate", update, to="role:super_admin", namespace="/")
    settle(cluster.channel, on_a, on_b)
    assert on_a.received == [("inviteStatusUpdate", update)] and on_b.received == [("inviteStatusUpdate", update)]

    on_a.received.clear()
    on_b.received.clear()
    response = requests.post(f"{cluster.b}/api/notify", headers=SERVICE, timeout=5,
                             json={"userId": user, "type": "inviteAccepted", "message": "Bob joined", "data": {"id": 1}})
    assert response.status_code == 202
    settle(cluster.channel, on_a, on_b)
    ((event, payload),) = on_a.received
    assert event == "notification"
    assert payload["type"] == "inviteAccepted" and payload["message"] == "Bob joined" and payload["data"] == {"id": 1}
    assert on_b.received == [], "only the user's room gets it"


def test_email_sent_once_by_the_processes(cluster, smtp):
    """Queued on A, sent by whichever process's sender takes it, exactly once."""
    to = f"{uuid.uuid4().hex[:8]}@example.com"
    body = {"to": to, "template": "invite", "context": {"link": "https://app.example.com/invite/t1"}}
    headers = {**SERVICE, "Idempotency-Key": f"outbox-{uuid.uuid4().hex}"}
    assert requests.post(f"{cluster.a}/api/email/send", json=body, headers=headers, timeout=5).status_code == 202
    duplicate = requests.post(f"{cluster.b}/api/email/send", json=body, headers=headers, timeout=5).json()
    assert duplicate["duplicate"] is True

    wait_for_message(smtp, to)
    wait_for_idle_email_queue(cluster.prefix)
    assert len(messages(smtp, to)) == 1, cluster.logs()


def test_serve_entry_point(cluster, connect, token):
    """`python -m notifications.serve` patches before anything else and serves websockets."""
    url = cluster.start(serve=True)
    client = connect(url, token(), transports=["websocket"])
    assert client.transport() == "websocket"
    log = cluster.logs()
    assert "not greened" not in log and "MonkeyPatchWarning" not in log, log


def test_shipped_gunicorn_config(cluster):
    """The container's gunicorn.conf.py boots the app under this worker class and exits cleanly on SIGTERM."""
    url, process = start_notifications(cluster.env, worker_class=cluster.worker_class,
                                       gunicorn_config="notifications/gunicorn.conf.py")
    try:
        assert requests.get(f"{url}/health", timeout=5).json()["success"] is True
        process.terminate()
        assert process.wait(20) == 0, read_log(process)
    finally:
        stop_process(process)
