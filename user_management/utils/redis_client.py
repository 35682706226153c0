"""The service's Redis connection, shared per app."""
import redis
from flask import current_app


def get_redis():
    """Return the app's Redis client (created on first use)."""
    app = current_app._get_current_object()
    client = app.extensions.get("redis")
    if client is None:
        client = redis.Redis.from_url(app.config["REDIS_URL"], socket_timeout=2, socket_connect_timeout=2)
        app.extensions["redis"] = client
    return client


def redis_is_up():
    """True when Redis answers a ping."""
    try:
        return bool(get_redis().ping())
    except redis.RedisError:
        return False


def redis_key(*parts):
    """A key under this service's prefix."""
    return ":".join([current_app.config["REDIS_KEY_PREFIX"], *map(str, parts)])
