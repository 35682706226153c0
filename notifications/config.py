"""Configuration classes, read from the environment.

`APP_ENV` picks the class (development, testing, production). Development and
testing carry obviously fake secrets so a fresh checkout runs; production has no
secret defaults and refuses to start when a secret is missing, is a dev default,
or is shorter than 32 bytes.
"""
from urllib.parse import urlsplit

# ConfigurationError and the DEV_ secrets are part of this module's interface too.
from servicekit.config import (  # noqa: F401
    DEV_SERVICE_TOKEN, ConfigurationError, SharedConfig, config_picker, env_bool, env_float,
    env_int, env_str, refuse_wildcard_origin, require_production_secrets, require_settings,
)

DEV_DEFAULT_SECRETS = {DEV_SERVICE_TOKEN}
# user_management's public keys in development (make dev runs it on port 3000).
DEV_JWKS_URL = "http://127.0.0.1:3000/.well-known/jwks.json"
ASYNC_MODES = {"eventlet", "gevent", "threading"}
MAIL_BACKENDS = {"smtp", "console"}


class Config(SharedConfig):
    """Settings shared by every environment (with those of `SharedConfig`)."""

    PORT = env_int("PORT", 4000)

    # Every Redis key this service uses starts with this prefix, so several
    # deployments (or test runs) can share one Redis.
    REDIS_KEY_PREFIX = env_str("REDIS_KEY_PREFIX", "notif")
    SOCKETIO_MESSAGE_QUEUE = True
    SOCKETIO_ASYNC_MODE = env_str("SOCKETIO_ASYNC_MODE", "eventlet")
    # An emit to more clients of one process than this is written in batches of
    # this size from a background task, so single events need not wait for it.
    SOCKETIO_FANOUT_BATCH = env_int("SOCKETIO_FANOUT_BATCH", 50)
    # Run this process's socket guard: it disconnects sockets whose token expired or was revoked.
    SOCKET_GUARD_ENABLED = env_bool("SOCKET_GUARD_ENABLED", True)

    # Access tokens are verified with user_management's public keys (no secret here can mint one).
    JWKS_URL = env_str("JWKS_URL")
    JWKS_CACHE_SECONDS = env_float("JWKS_CACHE_SECONDS", 300)
    # An unknown kid fetches the key set again, at most this often (a rotated key is picked up at once).
    JWKS_REFRESH_COOLDOWN = env_float("JWKS_REFRESH_COOLDOWN", 1)
    JWKS_TIMEOUT = env_float("JWKS_TIMEOUT", 3)
    # `iss` and `aud` that access tokens must carry (user_management's JWT_ISSUER / JWT_AUDIENCE,
    # both FRONTEND_URL by default); checked when set, required in production.
    JWT_ISSUER = env_str("JWT_ISSUER")
    JWT_AUDIENCE = env_str("JWT_AUDIENCE")

    MAIL_BACKEND = env_str("MAIL_BACKEND", "smtp")
    MAIL_SERVER = env_str("SMTP_HOST", "127.0.0.1")
    MAIL_PORT = env_int("SMTP_PORT", 25)
    MAIL_USERNAME = env_str("SMTP_USER")
    MAIL_PASSWORD = env_str("SMTP_PASS")
    MAIL_DEFAULT_SENDER = env_str("SMTP_FROM", "User Management <no-reply@localhost>")
    # SMTP_TLS: "true" for STARTTLS, "ssl" for implicit TLS (port 465), else plain.
    MAIL_USE_TLS = env_str("SMTP_TLS", "false").lower() in {"1", "true", "yes", "on", "starttls"}
    MAIL_USE_SSL = env_str("SMTP_TLS", "false").lower() == "ssl"
    SMTP_TIMEOUT = env_float("SMTP_TIMEOUT", 10)
    PRODUCT_NAME = env_str("PRODUCT_NAME", "User Management")

    EMAIL_SENDER_ENABLED = env_bool("EMAIL_SENDER_ENABLED", True)
    EMAIL_MAX_ATTEMPTS = env_int("EMAIL_MAX_ATTEMPTS", 8)
    EMAIL_RETRY_BASE_SECONDS = env_float("EMAIL_RETRY_BASE_SECONDS", 5)
    EMAIL_RETRY_MAX_SECONDS = env_float("EMAIL_RETRY_MAX_SECONDS", 600)
    # A pending job idle this long belongs to a crashed sender and is reclaimed;
    # it must exceed the longest possible send (SMTP_TIMEOUT per SMTP step).
    EMAIL_CLAIM_IDLE_SECONDS = env_float("EMAIL_CLAIM_IDLE_SECONDS", 120)
    EMAIL_POLL_SECONDS = env_float("EMAIL_POLL_SECONDS", 1)
    # Sender loops per process, each with its own SMTP connection kept open
    # while jobs keep coming: SMTP round trips overlap instead of queueing.
    EMAIL_SENDERS = env_int("EMAIL_SENDERS", 4)
    EMAIL_IDEMPOTENCY_TTL_SECONDS = env_int("EMAIL_IDEMPOTENCY_TTL_SECONDS", 7 * 24 * 3600)

    MAX_CONTENT_LENGTH = 256 * 1024

    @classmethod
    def validate(cls, settings):
        """Raise ConfigurationError when `settings` cannot run; called by the factory."""
        require_settings(settings, ("JWKS_URL", "NOTIFICATIONS_SERVICE_TOKEN"))
        if urlsplit(settings["JWKS_URL"]).scheme not in ("http", "https"):
            raise ConfigurationError("JWKS_URL must be an http(s) URL (user_management's /.well-known/jwks.json)")
        if settings.get("SOCKETIO_ASYNC_MODE") not in ASYNC_MODES:
            raise ConfigurationError(f"SOCKETIO_ASYNC_MODE must be one of {sorted(ASYNC_MODES)}")
        for name in ("EMAIL_SENDERS", "SOCKETIO_FANOUT_BATCH"):
            if not isinstance(settings.get(name), int) or settings[name] < 1:
                raise ConfigurationError(f"{name} must be a whole number of at least 1")
        if settings.get("MAIL_BACKEND") not in MAIL_BACKENDS:
            raise ConfigurationError(f"MAIL_BACKEND must be one of {sorted(MAIL_BACKENDS)}")
        refuse_wildcard_origin(settings)


class DevelopmentConfig(Config):
    """`make dev`: fake secrets; e-mails printed to stdout when no SMTP_HOST is set."""

    ENV_NAME = "development"
    JWKS_URL = env_str("JWKS_URL", DEV_JWKS_URL)
    NOTIFICATIONS_SERVICE_TOKEN = env_str("NOTIFICATIONS_SERVICE_TOKEN", DEV_SERVICE_TOKEN)
    MAIL_BACKEND = env_str("MAIL_BACKEND", "smtp" if env_str("SMTP_HOST") else "console")


class TestingConfig(DevelopmentConfig):
    """In-process tests: no message queue, no background sender, instant retries."""

    ENV_NAME = "testing"
    TESTING = True
    MAIL_BACKEND = env_str("MAIL_BACKEND", "smtp")
    SOCKETIO_MESSAGE_QUEUE = env_bool("SOCKETIO_MESSAGE_QUEUE", False)
    SOCKETIO_ASYNC_MODE = env_str("SOCKETIO_ASYNC_MODE", "threading")
    EMAIL_SENDER_ENABLED = env_bool("EMAIL_SENDER_ENABLED", False)
    SOCKET_GUARD_ENABLED = env_bool("SOCKET_GUARD_ENABLED", False)
    EMAIL_RETRY_BASE_SECONDS = env_float("EMAIL_RETRY_BASE_SECONDS", 0)
    SMTP_TIMEOUT = env_float("SMTP_TIMEOUT", 2)


class ProductionConfig(Config):
    """Deployed: no secret defaults, real SMTP only."""

    ENV_NAME = "production"

    @classmethod
    def validate(cls, settings):
        """Refuse missing, default or short secrets and the console mail backend."""
        super().validate(settings)
        require_production_secrets(settings, ("NOTIFICATIONS_SERVICE_TOKEN",), DEV_DEFAULT_SECRETS)
        for name in ("JWT_ISSUER", "JWT_AUDIENCE"):
            if not settings.get(name):
                raise ConfigurationError(f"{name} must be set in production (user_management's, FRONTEND_URL by default)")
        if settings["MAIL_BACKEND"] != "smtp":
            raise ConfigurationError("MAIL_BACKEND=console prints e-mails to stdout; production needs smtp")


config_for = config_picker(DevelopmentConfig, TestingConfig, ProductionConfig)
