"""The factory, configuration rules, /health and the CLI registration."""
import pytest

from notifications import create_app
from notifications.config import DEV_SERVICE_TOKEN, ConfigurationError
from notifications.extensions import socketio
from support.redis_store import UNREACHABLE_REDIS_URL

# Random-looking, as production needs (secrets.token_urlsafe(48)).
GOOD_TOKEN = "Ty6Ub3Nm8Qw1Er5Zx0Cv4Bn7Lk2Jh9Gf-_PoIuYtRsAaDdFfGgHhJjKkLlZzXx"
PRODUCTION = {"APP_ENV": "production", "JWKS_URL": "http://user_management:3000/.well-known/jwks.json",
              "JWT_ISSUER": "https://app.example", "JWT_AUDIENCE": "https://app.example",
              "NOTIFICATIONS_SERVICE_TOKEN": GOOD_TOKEN, "MAIL_BACKEND": "smtp", "SOCKETIO_ASYNC_MODE": "threading"}


def test_testing_app(app):
    """The testing config: threading, no message queue, no background sender."""
    assert app.testing
    assert socketio.async_mode == "threading"
    assert socketio.server.manager.__class__.__name__ == "Manager"
    assert "notifications_sender" not in app.extensions


def test_message_queue_uses_channel(make_app, redis_prefix):
    """With the queue on, Socket.IO uses Redis on the configured channel (batching large emits)."""
    make_app(SOCKETIO_MESSAGE_QUEUE=True, SOCKETIO_FANOUT_BATCH=7)
    manager = socketio.server.manager
    assert manager.__class__.__name__ == "FanOutRedisManager"
    assert manager.channel == f"{redis_prefix}:socketio" and manager.batch == 7


def test_queue_does_not_leak_into_next_app(make_app):
    """A second app without the queue does not inherit the first one's."""
    make_app(SOCKETIO_MESSAGE_QUEUE=True)
    make_app()
    assert socketio.server.manager.__class__.__name__ == "Manager"


def test_production_accepts_real_secrets():
    """Long, non-default secrets and SMTP: the app starts."""
    assert create_app(PRODUCTION).config["ENV_NAME"] == "production"


@pytest.mark.parametrize("name", ["NOTIFICATIONS_SERVICE_TOKEN"])
@pytest.mark.parametrize("value, message", [
    (None, "must be set"),
    ("", "must be set"),
    ("short-secret", "at least 32 bytes"),
    ("a" * 40, "does not look random enough"),
])
def test_production_refuses_bad_secret(name, value, message):
    """Missing and short secrets stop the start."""
    with pytest.raises(ConfigurationError, match=message):
        create_app({**PRODUCTION, name: value})


@pytest.mark.parametrize("name, value", [("NOTIFICATIONS_SERVICE_TOKEN", DEV_SERVICE_TOKEN),
                                         ("NOTIFICATIONS_SERVICE_TOKEN", DEV_SERVICE_TOKEN + "1")])
def test_production_refuses_dev_defaults(name, value):
    """The development secrets are public, so production refuses them."""
    with pytest.raises(ConfigurationError, match="development default"):
        create_app({**PRODUCTION, name: value})


@pytest.mark.parametrize("overrides, message", [
    ({"JWKS_URL": None}, "JWKS_URL must be set"),
    ({"JWKS_URL": "file:///etc/keys.json"}, "http"),
    ({"JWT_ISSUER": None}, "JWT_ISSUER"),
    ({"JWT_AUDIENCE": ""}, "JWT_AUDIENCE"),
])
def test_production_refuses_missing_token_keys(overrides, message):
    """Production needs the JWKS URL, issuer and audience to verify access tokens."""
    with pytest.raises(ConfigurationError, match=message):
        create_app({**PRODUCTION, **overrides})


def test_holds_no_key_that_can_mint_a_token():
    """notifications' configuration has no JWT secret or private key at all."""
    settings = create_app(PRODUCTION).config
    assert not {"JWT_ACCESS_SECRET", "JWT_SECRET_KEY", "JWT_PRIVATE_KEY", "JWT_SIGNING_KEYS"} & set(settings)


def test_production_refuses_console_mail():
    """Printing e-mails (with links and codes) to stdout is for development only."""
    with pytest.raises(ConfigurationError, match="console"):
        create_app({**PRODUCTION, "MAIL_BACKEND": "console"})


@pytest.mark.parametrize("overrides, message", [
    ({"CORS_ORIGIN": ["*"]}, "CORS_ORIGIN"),
    ({"SOCKETIO_ASYNC_MODE": "asyncio"}, "SOCKETIO_ASYNC_MODE"),
    ({"MAIL_BACKEND": "sendmail"}, "MAIL_BACKEND"),
    ({"APP_ENV": "staging"}, "unknown APP_ENV"),
])
def test_invalid_settings_refused(overrides, message):
    """Settings the service cannot honour stop the start."""
    with pytest.raises(ConfigurationError, match=message):
        create_app({"APP_ENV": "testing", **overrides})


def test_health_ok(make_app, smtp_server):
    """Redis up and SMTP up: 200 with both reachable."""
    smtp_server.start()
    response = make_app().test_client().get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"success": True, "status": "ok", "redis": {"ok": True},
                                   "smtp": {"backend": "smtp", "ok": True}}


def test_health_smtp_down_is_still_200(client):
    """SMTP down only delays e-mail; the check reports it without failing."""
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json()["smtp"] == {"backend": "smtp", "ok": False}


def test_live_and_ready(client, make_app):
    """Liveness is the process; readiness is Redis (SMTP down only delays e-mail)."""
    assert client.get("/health/live").get_json() == {"success": True, "status": "alive", "service": "notifications"}
    ready = client.get("/health/ready")
    assert ready.status_code == 200 and ready.get_json()["checks"] == {"redis": "up"}
    down = make_app(REDIS_URL=UNREACHABLE_REDIS_URL).test_client()
    assert down.get("/health/live").status_code == 200
    not_ready = down.get("/health/ready")
    assert not_ready.status_code == 503 and not_ready.get_json()["status"] == "not_ready"


def test_health_redis_down_is_503(make_app):
    """Without Redis nothing can be queued: 503."""
    response = make_app(REDIS_URL=UNREACHABLE_REDIS_URL).test_client().get("/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["success"] is False and body["redis"] == {"ok": False}


def test_cli_commands_registered(runner):
    """The operator commands exist."""
    output = runner.invoke(args=["--help"]).output
    for command in ("send-queued", "list-dead-letters", "requeue-dead-letters"):
        assert command in output


def test_cli_with_redis_down_fails_cleanly(make_app):
    """An operator command without Redis exits non-zero with the error, no traceback dump."""
    result = make_app(REDIS_URL=UNREACHABLE_REDIS_URL).test_cli_runner().invoke(args=["list-dead-letters"])
    assert result.exit_code == 1
    assert "Redis unavailable" in result.output and "Traceback" not in result.output


def test_default_channel_follows_the_shared_prefix_in_both_services(make_app, redis_prefix):
    """Every deployment shared `flask-socketio`: two environments on one Redis saw each other's events (issue 12,
    item 14). Unset, the channel now derives from SHARED_KEY_PREFIX, and both services derive the same one."""
    import mongoengine

    from user_management import create_app as create_user_management
    from user_management.config import TestingConfig

    notifications = make_app(SOCKETIO_CHANNEL=None, SHARED_KEY_PREFIX="staging")
    assert notifications.config["SOCKETIO_CHANNEL"] == "staging:socketio"
    assert make_app(SOCKETIO_CHANNEL=None, SHARED_KEY_PREFIX="production").config["SOCKETIO_CHANNEL"] \
        == "production:socketio"
    assert make_app(SOCKETIO_CHANNEL="explicit").config["SOCKETIO_CHANNEL"] == "explicit"
    try:
        user_management = create_user_management(TestingConfig, SOCKETIO_CHANNEL=None, SHARED_KEY_PREFIX="staging",
                                                 REDIS_KEY_PREFIX=redis_prefix,
                                                 MONGODB_URI="mongomock://localhost/test_channel_default")
        assert user_management.config["SOCKETIO_CHANNEL"] == notifications.config["SOCKETIO_CHANNEL"]
    finally:
        mongoengine.disconnect()
