"""Fixtures for the notifications tests: a notifications app per test on its own Redis key prefix.

`app` overrides the suite's user_management app, so the suite's `client` and
`runner` fixtures drive the notifications app here.
"""
import pytest
import redis

from notifications import create_app
from notifications.config import DEV_SERVICE_TOKEN
from support.authz import grant
from support.jwks import JwksServer, mint
from support.redis_store import REDIS_URL

ALLOWED_ORIGIN = "http://localhost:5173"


@pytest.fixture
def redis_client():
    """A plain Redis client for looking at what the service stored."""
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    yield client
    client.close()


@pytest.fixture(scope="session")
def jwks_server():
    """user_management's JWKS as far as these tests go: one key, served on 127.0.0.1."""
    server = JwksServer().start()
    yield server
    server.stop()


@pytest.fixture
def make_app(redis_prefix, smtp_server, jwks_server):
    """Build a testing app on the test's prefix; keyword arguments override settings."""

    def make(**overrides):
        settings = {
            "APP_ENV": "testing",
            "REDIS_URL": REDIS_URL,
            "REDIS_KEY_PREFIX": redis_prefix,
            "SHARED_KEY_PREFIX": redis_prefix,
            "SOCKETIO_CHANNEL": f"{redis_prefix}:socketio",
            "MAIL_BACKEND": "smtp",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp_server.port,
            "MAIL_DEFAULT_SENDER": "User Management <no-reply@example.com>",
            "EMAIL_MAX_ATTEMPTS": 3,
            "EMAIL_RETRY_BASE_SECONDS": 0,
            "CORS_ORIGIN": [ALLOWED_ORIGIN],
            "JWKS_URL": jwks_server.url,
            "JWKS_REFRESH_COOLDOWN": 0,
            **overrides,
        }
        return create_app(settings)

    return make


@pytest.fixture
def app(make_app):
    """The testing app."""
    return make_app()


@pytest.fixture
def service_headers():
    """Headers of an authorised service call."""
    return {"X-Service-Token": DEV_SERVICE_TOKEN}


@pytest.fixture
def token(jwks_server, redis_prefix):
    """Mint an access token signed with the served key: `token(sub=..., role=..., org=..., tv=..., key=...)`.

    As user_management does at login, its user's revocation record is written too (`grant_record=False`: not).
    """

    def make(key=None, grant_record=True, **claims):
        claims.setdefault("tv", 0)
        minted = mint(key or jwks_server.keyset.signing_key, **claims)
        sub = claims.get("sub", "user-1")
        if grant_record and isinstance(sub, str) and isinstance(claims["tv"], int):
            grant(redis_prefix, sub, claims["tv"])
        return minted

    return make
