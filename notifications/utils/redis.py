"""The Redis client of the app and the key naming rule (every key starts with the prefix)."""
import redis
from flask import current_app

EXTENSION_KEY = "notifications_redis"


def init_app(app):
    """Create the app's Redis client from REDIS_URL; no connection is made yet."""
    app.extensions[EXTENSION_KEY] = redis.Redis.from_url(
        app.config["REDIS_URL"],
        decode_responses=True,
        # Bounded so a dead Redis gives a 503 quickly; the socket timeout must
        # exceed the sender's blocking read (EMAIL_POLL_SECONDS).
        socket_connect_timeout=2,
        socket_timeout=max(5, app.config["EMAIL_POLL_SECONDS"] + 5),
        health_check_interval=30,
    )


def get_redis(app=None):
    """Return the Redis client of `app` (default: the current app)."""
    return (app or current_app).extensions[EXTENSION_KEY]


def prefixed(prefix, *parts):
    """Return the key `prefix:part1:part2...`."""
    return ":".join((prefix, *parts))


def delete_prefixed(client, prefix):
    """Delete every key starting with `prefix:`; return how many were deleted."""
    deleted = 0
    batch = []
    for key in client.scan_iter(match=f"{prefix}:*", count=500):
        batch.append(key)
        if len(batch) >= 500:
            deleted += client.delete(*batch)
            batch = []
    if batch:
        deleted += client.delete(*batch)
    return deleted
