"""Reading settings from the environment, and the checks both services make before starting."""
import difflib
import math
import os
import sys
from collections import Counter

from .revocation import socketio_channel

MIN_SECRET_BYTES = 32
# A secret must look random: at least this many bits by a per-character Shannon estimate, and this many
# distinct characters. A 32-character hex token (128 real bits) estimates at about 110 bits.
MIN_SECRET_ENTROPY_BITS = 96
MIN_SECRET_DISTINCT_CHARACTERS = 10
# A value this similar to a development default (difflib ratio) is that default, edited.
DEV_DEFAULT_SIMILARITY = 0.8
# Development and testing default of the service token both services share, so that a fresh
# checkout's services trust each other; production refuses it (require_production_secrets).
# B105: a dev/test default, refused in production
DEV_SERVICE_TOKEN = "dev-service-token-not-for-production-0000"  # nosec B105
# The exit status of a refused start: gunicorn's "App failed to load" status, so that a
# refusal inside a worker halts the gunicorn master instead of making it boot workers forever.
EXIT_CONFIG = 4


class ConfigurationError(RuntimeError):
    """The service cannot start with this configuration."""


def env_str(name, default=None):
    """Return an environment variable, or `default` when unset or empty."""
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_number(name, default, convert, kind):
    """Return an environment variable through `convert`; ConfigurationError names it when it is not `kind`."""
    value = env_str(name, default)
    try:
        return convert(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} must be {kind}, not {value!r}") from None


def env_int(name, default):
    """Return an environment variable as an int; ConfigurationError names it when it is not one."""
    return _env_number(name, default, int, "a whole number")


def env_float(name, default):
    """Return an environment variable as a float; ConfigurationError names it when it is not one."""
    return _env_number(name, default, float, "a number")


def env_bool(name, default=False):
    """Return an environment variable as a boolean ("1", "true", "yes", "on")."""
    value = env_str(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    """Return a comma-separated environment variable as a list of stripped strings."""
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def estimated_entropy_bits(value):
    """Shannon entropy of `value`'s characters times its length: a rough upper bound of its randomness."""
    counts = Counter(value)
    length = len(value)
    return -sum(count * math.log2(count / length) for count in counts.values()) if length else 0.0


def _looks_like_dev_default(value, dev_defaults):
    return any(
        value in default or default in value
        or difflib.SequenceMatcher(None, value, default).ratio() >= DEV_DEFAULT_SIMILARITY
        for default in dev_defaults
    )


def secret_problem(value, dev_defaults):
    """Why `value` cannot be a production secret, or None: a dev default (or one edited), too short, too regular."""
    if _looks_like_dev_default(value, dev_defaults):
        return "is a development default; set a real secret"
    if len(value.encode()) < MIN_SECRET_BYTES:
        return f"must be at least {MIN_SECRET_BYTES} bytes"
    if len(set(value)) < MIN_SECRET_DISTINCT_CHARACTERS or estimated_entropy_bits(value) < MIN_SECRET_ENTROPY_BITS:
        return "does not look random enough; generate it (see .env.example)"
    return None


def require_settings(settings, names):
    """Refuse a setting of `names` that is unset or empty."""
    for name in names:
        if not settings.get(name):
            raise ConfigurationError(f"{name} must be set")


def require_production_secrets(settings, names, dev_defaults):
    """Refuse a missing, default, short or low-entropy secret (each item of a comma list), and two names sharing one."""
    seen = {}
    for name in names:
        value = settings.get(name)
        if not value:
            raise ConfigurationError(f"{name} must be set in production")
        for item in [part.strip() for part in value.split(",") if part.strip()] or [value]:
            problem = secret_problem(item, dev_defaults)
            if problem:
                raise ConfigurationError(f"{name} {problem}")
            if item in seen:
                raise ConfigurationError(f"{name} must differ from {seen[item]}: each secret has one purpose")
            seen[item] = name


def apply_shared_defaults(settings):
    """Fill what both services derive from SHARED_KEY_PREFIX, unless set: the Socket.IO channel.

    Pub/sub ignores the Redis database number, so a fixed default channel would mix the events of
    every deployment on one Redis.
    """
    if not settings.get("SOCKETIO_CHANNEL"):
        settings["SOCKETIO_CHANNEL"] = socketio_channel(settings["SHARED_KEY_PREFIX"])


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
    # What both services share on Redis (the revocation records, the default Socket.IO channel) lives
    # under this prefix: the same value in both services, a different one per deployment.
    SHARED_KEY_PREFIX = env_str("SHARED_KEY_PREFIX", "um")
    # Pub/sub channel of the Socket.IO message queue: user_management's write-only emitter publishes
    # on it, every notifications process listens on it. Unset: "<SHARED_KEY_PREFIX>:socketio"
    # (apply_shared_defaults), since pub/sub ignores the Redis database number.
    SOCKETIO_CHANNEL = env_str("SOCKETIO_CHANNEL")
    CORS_ORIGIN = env_list("CORS_ORIGIN", "http://localhost:5173")
    NOTIFICATIONS_SERVICE_TOKEN = env_str("NOTIFICATIONS_SERVICE_TOKEN")


def settings_of(config_class):
    """The settings a config class gives an app (its upper-case attributes, as Flask's from_object reads them)."""
    return {name: getattr(config_class, name) for name in dir(config_class) if name.isupper()}


def check_config(config_class):
    """Run the class's start-up checks on its own settings; raises ConfigurationError."""
    config_class.validate(settings_of(config_class))


def refuse_to_start(service, error):
    """Print one line naming what is wrong, without a traceback, and exit with EXIT_CONFIG."""
    print(f"{service}: refusing to start: {error}", file=sys.stderr, flush=True)
    raise SystemExit(EXIT_CONFIG)
