"""Reading settings from the environment, and the checks both services make before starting."""
import difflib
import math
import os
from collections import Counter

from .revocation import socketio_channel

MIN_SECRET_BYTES = 32
# A secret must look random: at least this many bits by a per-character Shannon estimate, and this many
# distinct characters. A 32-character hex token (128 real bits) estimates at about 110 bits.
MIN_SECRET_ENTROPY_BITS = 96
MIN_SECRET_DISTINCT_CHARACTERS = 10
# A value this similar to a development default (difflib ratio) is that default, edited.
DEV_DEFAULT_SIMILARITY = 0.8


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


def pick_config(configs, name=None):
    """Return the config class for `name`, or for `APP_ENV` (default development)."""
    name = name or env_str("APP_ENV", "development")
    try:
        return configs[name]
    except KeyError:
        raise ConfigurationError(f"unknown APP_ENV {name!r}; expected one of {sorted(configs)}") from None
