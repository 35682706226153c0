"""Reading settings from the environment, and the checks both services make before starting."""
import os

MIN_SECRET_BYTES = 32
# Development and testing defaults of the secrets the two services share, so that a fresh
# checkout's services trust each other; production refuses them (require_production_secrets).
# B105: dev/test defaults, refused in production
DEV_ACCESS_SECRET = "dev-access-secret-not-for-production-0000"  # nosec B105
DEV_SERVICE_TOKEN = "dev-service-token-not-for-production-0000"  # nosec B105


class ConfigurationError(RuntimeError):
    """The service cannot start with this configuration."""


def env_str(name, default=None):
    """Return an environment variable, or `default` when unset or empty."""
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_int(name, default):
    """Return an environment variable as an int."""
    return int(env_str(name, default))


def env_float(name, default):
    """Return an environment variable as a float."""
    return float(env_str(name, default))


def env_bool(name, default=False):
    """Return an environment variable as a boolean ("1", "true", "yes", "on")."""
    value = env_str(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    """Return a comma-separated environment variable as a list of stripped strings."""
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def require_settings(settings, names):
    """Refuse a setting of `names` that is unset or empty."""
    for name in names:
        if not settings.get(name):
            raise ConfigurationError(f"{name} must be set")


def require_production_secrets(settings, names, dev_defaults):
    """Refuse a missing secret, a development default (alone or in a comma list) or one under 32 bytes."""
    for name in names:
        value = settings.get(name)
        if not value:
            raise ConfigurationError(f"{name} must be set in production")
        if value in dev_defaults or set(value.split(",")) & dev_defaults:
            raise ConfigurationError(f"{name} is a development default; set a real secret")
        if len(value.encode()) < MIN_SECRET_BYTES:
            raise ConfigurationError(f"{name} must be at least {MIN_SECRET_BYTES} bytes")


def refuse_wildcard_origin(settings):
    """CORS origins must be listed; '*' would let any site drive the API with a user's browser."""
    if "*" in settings.get("CORS_ORIGIN", []):
        raise ConfigurationError("CORS_ORIGIN must list origins explicitly, not '*'")


def config_picker(*classes):
    """Return a service's `config_for(name=None)`: the class of `classes` whose ENV_NAME is `name` or APP_ENV."""
    configs = {cls.ENV_NAME: cls for cls in classes}

    def config_for(name=None):
        """Return the config class for `name`, or for `APP_ENV` (default development)."""
        name = name or env_str("APP_ENV", "development")
        try:
            return configs[name]
        except KeyError:
            raise ConfigurationError(f"unknown APP_ENV {name!r}; expected one of {sorted(configs)}") from None

    return config_for


class SharedConfig:
    """The settings both services read, under the same names and defaults; each service's Config extends it.

    The services must agree on the Redis server and Socket.IO channel and the service token, or
    events, sockets and e-mails silently go nowhere. (Access tokens need no shared secret: notifications
    verifies them with user_management's public keys.)
    """

    ENV_NAME = "base"
    TESTING = False
    REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
    # Pub/sub channel of the Socket.IO message queue: user_management's write-only
    # emitter publishes on it, every notifications process listens on it.
    SOCKETIO_CHANNEL = env_str("SOCKETIO_CHANNEL", "flask-socketio")
    CORS_ORIGIN = env_list("CORS_ORIGIN", "http://localhost:5173")
    NOTIFICATIONS_SERVICE_TOKEN = env_str("NOTIFICATIONS_SERVICE_TOKEN")
