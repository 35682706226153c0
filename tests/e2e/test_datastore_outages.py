"""Redis stopped and started again, MongoDB absent at start-up: no 500s, nothing lost, everything resumes.

Redis here is a redis-server of the test's own on a free port (never the shared one),
stopped and started like a container restart. It runs with the append-only file on,
as docker-compose.yml runs Redis, so the email queue survives the restart; what is
sent while Redis is down waits in user_management's MongoDB outbox.
"""
import os
import subprocess
import sys
import time

import pytest
import redis
import requests
import socketio.exceptions

from support.api import SUBJECT_INVITE, Api
from support.smtp import wait_for_message
from support.sockets import connect_socket, wait_for_event
from notifications.config import DEV_SERVICE_TOKEN
from support.processes import PROJECT_ROOT, access_lines, free_port, read_log, stop_process, wait_until

pytestmark = pytest.mark.timeout(240)



class RedisServer:
    """A redis-server on a free port with its own data directory; stop() and start() keep the data (AOF)."""

    def __init__(self, directory):
        self.port = free_port()
        self.directory = directory
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        """Start (or restart) the server and wait until it answers PING."""
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
             "--appendfsync", "always", "--dir", str(self.directory), "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        assert wait_until(lambda: self._pings(client), timeout=10), "redis-server did not start"
        client.close()

    def stop(self):
        """Stop the server (SIGTERM, as `docker compose stop` does)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    @staticmethod
    def _pings(client):
        try:
            return client.ping()
        except redis.RedisError:
            return False


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path)
    yield server
    server.stop()


def subscribers(url, channel):
    client = redis.Redis.from_url(url)
    try:
        return dict(client.pubsub_numsub(channel)).get(channel.encode(), 0)
    finally:
        client.close()


def log_lines(process, logger, text):
    return [line for line in read_log(process).splitlines() if logger in line and text in line]


def test_redis_outage_loses_no_email_and_answers_no_500(own_redis, smtp_server, notifications_server,
                                                         user_management_server, socket_clients, redis_prefix):
    own_redis.start()
    channel = f"{redis_prefix}-socketio"
    # SMTP stays down until the end, so the first email waits in Redis across the outage.
    notifications_url, notifications = notifications_server(REDIS_URL=own_redis.url, EMAIL_MAX_ATTEMPTS=1000)
    url, user_management = user_management_server(notifications_url, REDIS_URL=own_redis.url)
    api = Api(url)
    admin = api.login()
    token = admin["accessToken"]
    watcher = socket_clients(notifications_url, token)
    assert wait_until(lambda: subscribers(own_redis.url, channel) >= 1, timeout=10)

    api.create_invite(token, "before@acme.test", "operator")
    assert wait_until(lambda: access_lines(notifications, "/api/email/send"), timeout=10)  # queued in Redis

    own_redis.stop()
    outage = []

    def call(base, method, path, **kwargs):
        response = requests.request(method, f"{base}{path}", timeout=15, **kwargs)
        outage.append((path, response.status_code))
        return response

    auth = {"Authorization": f"Bearer {token}"}
    # user_management serves on without Redis: limits fall back to per-process memory.
    assert call(url, "GET", "/health").status_code == 503
    ready = call(url, "GET", "/health/ready")
    assert ready.status_code == 200 and ready.json()["checks"]["redis"] == "down"
    assert call(url, "POST", "/api/auth/login", json={"email": admin["user"]["email"], "password": "nope"}).status_code == 401
    assert call(url, "GET", "/api/auth/profile", headers=auth).status_code == 200
    created = call(url, "POST", "/api/invites/create", headers=auth, json={"email": "during@acme.test", "role": "operator"})
    assert created.status_code == 201, created.text
    assert call(url, "GET", "/api/invites/list", headers=auth).status_code == 200
    # notifications cannot queue an email without Redis: a clear 503, which the outbox retries.
    assert call(notifications_url, "GET", "/health/live").status_code == 200
    assert call(notifications_url, "GET", "/health/ready").status_code == 503
    refused = call(notifications_url, "POST", "/api/email/send", headers={"X-Service-Token": DEV_SERVICE_TOKEN},
                   json={"to": "direct@acme.test", "template": "invite",
                         "context": {"link": "http://localhost:3000/accept-invite?token=x", "inviterName": "A",
                                     "role": "operator", "expiresAt": "2030-01-01T00:00:00.000Z"}})
    assert refused.status_code == 503 and refused.json()["success"] is False
    # A new socket is refused while its token's revocation record cannot be read (sockets fail closed).
    with pytest.raises(socketio.exceptions.ConnectionError):
        connect_socket(notifications_url, token)
    assert wait_until(lambda: log_lines(user_management, "notification_client", "HTTP 503"), timeout=10)
    assert not [entry for entry in outage if entry[1] >= 500 and entry[1] != 503], outage

    own_redis.start()
    smtp_server.start()
    wait_for_message(smtp_server, "before@acme.test", SUBJECT_INVITE, timeout=60)  # survived in Redis (AOF)
    wait_for_message(smtp_server, "during@acme.test", SUBJECT_INVITE, timeout=60)  # waited in the outbox
    # Socket.IO's Redis subscription came back: a new event reaches the client connected all along.
    assert wait_until(lambda: subscribers(own_redis.url, channel) >= 1, timeout=70)
    api.create_invite(token, "after@acme.test", "operator")
    wait_for_event(watcher, "inviteStatusUpdate", email="after@acme.test", timeout=20)
    wait_for_message(smtp_server, "after@acme.test", SUBJECT_INVITE, timeout=30)

    # A duplicate would be sent before this later email: once it arrived, none can still be on its way.
    api.create_invite(token, "marker@acme.test", "operator")
    wait_for_message(smtp_server, "marker@acme.test", SUBJECT_INVITE, timeout=30)
    received = sorted(message["To"] for message in smtp_server.messages)
    assert received == ["after@acme.test", "before@acme.test", "during@acme.test", "marker@acme.test"], received
    for process in (user_management, notifications):
        errors = [line for line in access_lines(process) if line["status"] >= 500 and line["status"] != 503]
        assert not errors, errors


def test_user_management_workers_start_with_mongodb_down(redis_prefix):
    """gunicorn with MONGODB_URI on a closed port: workers boot, live 200, ready 503, API 503 JSON."""
    port = free_port()
    env = {**os.environ, "APP_ENV": "development", "PORT": str(port), "PYTHONUNBUFFERED": "1",
           "MONGODB_URI": f"mongodb://127.0.0.1:{free_port()}/user_management",
           "MONGODB_SERVER_SELECTION_TIMEOUT_MS": "300", "REDIS_KEY_PREFIX": redis_prefix}
    env.pop("FLASK_RUN_FROM_CLI", None)
    log = open(os.devnull, "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "user_management/gunicorn.conf.py", "-w", "2", "--threads", "2",
         "-b", f"127.0.0.1:{port}", "wsgi:user_management_app"],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        def live():
            try:
                return requests.get(f"{base}/health/live", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        assert wait_until(live, timeout=30), "user_management did not start"
        ready = requests.get(f"{base}/health/ready", timeout=5)
        assert ready.status_code == 503 and ready.json()["checks"]["mongodb"] == "down"
        login = requests.post(f"{base}/api/auth/login", json={"email": "a@b.test", "password": "x"}, timeout=10)
        assert login.status_code == 503 and login.json()["success"] is False
        assert process.poll() is None  # still serving, no crash loop
    finally:
        stop_process(process)
        log.close()
