"""Fixtures for the notifications tests: a notifications app per test on its own Redis key prefix.

`app` overrides the suite's user_management app, so the suite's `client` and
`runner` fixtures drive the notifications app here.
"""
import pytest
import redis

from notifications import create_app
from notifications.config import DEV_SERVICE_TOKEN
from support.redis_store import REDIS_URL
from support.tokens import mint_token

ALLOWED_ORIGIN = "http://localhost:5173"


@pytest.fixture
def redis_client():
    """A plain Redis client for looking at what the service stored."""
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def make_app(redis_prefix, smtp_server):
    """Build a testing app on the test's prefix; keyword arguments override settings."""

    def make(**overrides):
        settings = {
            "APP_ENV": "testing",
            "REDIS_URL": REDIS_URL,
            "REDIS_KEY_PREFIX": redis_prefix,
            "SOCKETIO_CHANNEL": f"{redis_prefix}:socketio",
            "MAIL_BACKEND": "smtp",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp_server.port,
            "MAIL_DEFAULT_SENDER": "User Management <no-reply@example.com>",
            "EMAIL_MAX_ATTEMPTS": 3,
            "EMAIL_RETRY_BASE_SECONDS": 0,
            "CORS_ORIGIN": [ALLOWED_ORIGIN],
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
def token():
    """The token minting helper (support.tokens.mint_token)."""
    return mint_token
