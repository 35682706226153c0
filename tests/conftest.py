"""Fixtures shared by the whole suite.

Each test gets its own database (mongomock by default; a real MongoDB when
MONGODB_URI is set) and its own Redis key prefix on the real Redis, both removed
afterwards, so test runs can share one Redis and never touch real data.
"""
import os
import uuid
from urllib.parse import urlparse, urlunparse

import mongoengine
import pytest
import redis as redis_lib
from flask_jwt_extended import create_access_token

from user_management import create_app
from user_management.config import TestingConfig
from user_management.models import EmailOutbox, Invite, Organization, User
from user_management.utils.passwords import hash_password
from user_management.utils.roles import CLIENT_ADMIN, CLIENT_USER, is_staff
from user_management.utils.timeutil import utcnow
from user_management.utils.tokens import new_token, token_digest

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "Correct-Horse-42"


def test_database_uri(name):
    """The database URI for one test: the configured server, a database name that starts with test_."""
    base = os.environ.get("MONGODB_URI") or "mongomock://localhost/"
    parsed = urlparse(base)
    uri = urlunparse(parsed._replace(path=f"/{name}"))
    if not urlparse(uri).path.lstrip("/").startswith("test_"):
        raise RuntimeError(f"refusing to run tests against a database not named test_*: {uri}")
    return uri


def delete_redis_keys(prefix, url=REDIS_URL):
    """Remove every key whose name contains `prefix`."""
    client = redis_lib.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"*{prefix}*", count=500))
    if keys:
        client.delete(*keys)
    client.close()


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
    """The user_management app under test."""
    app = app_factory()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    """HTTP test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """Flask CLI runner."""
    return app.test_cli_runner()


class Factory:
    """Builds users, organizations and invites directly in the database."""

    def __init__(self, app):
        self.app = app
        self.count = 0

    def _unique(self):
        self.count += 1
        return f"{self.count}-{uuid.uuid4().hex[:6]}"

    def organization(self, name=None, **fields):
        """An organization."""
        return Organization(name=name or f"Org {self._unique()}", **fields).save()

    def user(self, role, organization=None, password=PASSWORD, email=None, **fields):
        """An active user of `role`; client roles get an organization when none is given."""
        if not is_staff(role) and organization is None:
            organization = self.organization()
        return User(
            email=email or f"{role}-{self._unique()}@example.test",
            password_hash=hash_password(password, self.app.config["BCRYPT_ROUNDS"]),
            first_name=role.replace("_", " ").title(),
            last_name="Tester",
            role=role,
            organization=organization,
            **fields,
        ).save()

    def invite(self, inviter, role, email=None, organization=None, expires_at=None, **fields):
        """A pending invite; returns (invite, plaintext token)."""
        if organization is None and role in (CLIENT_ADMIN, CLIENT_USER):
            organization = inviter.organization if role == CLIENT_USER else self.organization()
        token = new_token()
        invite = Invite(
            email=email or f"invitee-{self._unique()}@example.test",
            role=role,
            organization=organization,
            invited_by=inviter,
            token_hash=token_digest(token),
            expires_at=expires_at or utcnow() + self.app.config["INVITE_EXPIRES"],
            **fields,
        ).save()
        return invite, token

    def headers(self, user):
        """Authorization headers with a fresh access token for `user`."""
        user.reload()
        return {"Authorization": f"Bearer {create_access_token(identity=user)}"}


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
