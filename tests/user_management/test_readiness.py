"""MongoDB down at start-up: the app starts, says it is not ready, answers 503 JSON, and recovers.

/health/live is liveness (the process serves), /health/ready is readiness (MongoDB
reachable and prepared); /health keeps its contract (MongoDB and Redis both up).
"""
import time

import mongoengine
import mongomock.collection
import mongomock.database
import pytest
from pymongo.errors import ServerSelectionTimeoutError

from user_management import create_app
from user_management.config import TestingConfig
from user_management.models import User
from user_management.utils import database

from conftest import REDIS_URL
from support.processes import free_port

ADMIN_EMAIL = "root@example.test"
ADMIN_PASSWORD = "Bootstrap-Admin-2024!x"


@pytest.fixture
def build(redis_prefix):
    """create_app with this test's Redis prefix; disconnects afterwards (there may be no server to clean)."""

    def make(**overrides):
        settings = dict(REDIS_URL=REDIS_URL, REDIS_KEY_PREFIX=redis_prefix, SOCKETIO_CHANNEL=f"{redis_prefix}-socketio",
                        BOOTSTRAP_ADMIN_EMAIL=ADMIN_EMAIL, BOOTSTRAP_ADMIN_PASSWORD=ADMIN_PASSWORD)
        settings.update(overrides)
        return create_app(TestingConfig, **settings)

    yield make
    mongoengine.disconnect()


def test_live_is_200_whatever_the_dependencies(client):
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json == {"success": True, "status": "alive", "service": "user_management"}


def test_ready_when_mongodb_answers_and_redis_is_only_reported(client, app_factory):
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json["status"] == "ready"
    assert response.json["checks"] == {"mongodb": "up", "indexes": "ok", "redis": "up"}
    # Without Redis the service still serves (limits fall back to memory), so it stays ready.
    without_redis = app_factory(REDIS_URL="redis://127.0.0.1:1/0").test_client().get("/health/ready")
    assert without_redis.status_code == 200 and without_redis.json["checks"]["redis"] == "down"


def test_a_real_mongodb_uri_on_a_closed_port_boots_and_answers_503(build):
    """pymongo against nothing: create_app returns, readiness is a quick 503, the API a 503 JSON, never a 500."""
    started = time.monotonic()
    app = build(MONGODB_URI=f"mongodb://127.0.0.1:{free_port()}/test_um_down", MONGODB_SERVER_SELECTION_TIMEOUT_MS=300)
    assert time.monotonic() - started < 5
    client = app.test_client()

    assert client.get("/health/live").status_code == 200
    started = time.monotonic()
    ready = client.get("/health/ready")
    assert time.monotonic() - started < 3
    assert ready.status_code == 503
    assert ready.json["status"] == "not_ready"
    assert ready.json["checks"]["mongodb"] == "down" and ready.json["checks"]["indexes"] == "pending"
    assert client.get("/health").status_code == 503  # unchanged contract: a dependency is down

    for method, path, body in (("POST", "/api/auth/login", {"email": "a@b.test", "password": "x"}),
                               ("GET", "/api/auth/profile", None),
                               ("GET", "/api/invites/details/some-token", None),
                               ("POST", "/api/auth/forgot-password", {"email": "a@b.test"})):
        response = client.open(path, method=method, json=body)
        assert response.status_code == 503, (path, response.status_code, response.data)
        assert response.is_json and response.json["success"] is False
        assert response.headers["Retry-After"]


@pytest.fixture
def mongodb_down(monkeypatch):
    """mongomock that behaves like an unreachable server until `.up()` is called."""

    class Switch:
        down = True

        def up(self):
            self.down = False

    switch = Switch()

    def failing(method):
        def call(self, *args, **kwargs):
            if switch.down:
                raise ServerSelectionTimeoutError("127.0.0.1:27017: [Errno 111] Connection refused")
            return method(self, *args, **kwargs)
        return call

    monkeypatch.setattr(mongomock.database.Database, "command", failing(mongomock.database.Database.command))
    for name in ("create_index", "find", "insert_one", "find_one_and_update", "update_one"):
        monkeypatch.setattr(mongomock.collection.Collection, name, failing(getattr(mongomock.collection.Collection, name)))
    return switch


def test_recovers_when_mongodb_comes_back(build, mongodb_down):
    """Indexes and the bootstrap admin wait for the first successful contact; then the API works."""
    app = build(MONGODB_URI="mongomock://localhost/test_um_recovering")
    client = app.test_client()
    assert client.get("/health/ready").status_code == 503
    assert client.post("/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).status_code == 503

    mongodb_down.up()
    ready = client.get("/health/ready")
    assert ready.status_code == 200, ready.json
    assert ready.json["checks"]["indexes"] == "ok"
    assert "email_1" in User._get_collection().index_information()
    login = client.post("/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert login.status_code == 200, login.json


def test_the_first_api_request_prepares_the_database_too(build, mongodb_down, monkeypatch):
    """No readiness probe needed: a request that finds MongoDB back prepares it and is served."""
    monkeypatch.setattr(database, "RETRY_INTERVAL", 0)  # else requests within 1 s of the failure get 503 at once
    app = build(MONGODB_URI="mongomock://localhost/test_um_recovering_by_request")
    mongodb_down.up()
    login = app.test_client().post("/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert login.status_code == 200, login.json
