"""The service's Redis connections, opened here and nowhere else, once per app.

Two users: the health check pings with a plain client, and real-time events go
out through a write-only Flask-SocketIO client on the message queue (flack's
pattern: no app, so it only emits). The rate limiter reaches the same Redis
through its own storage URI (RATELIMIT_STORAGE_URI, set by the factory).
"""
import redis
from flask import current_app
from flask_socketio import SocketIO
from socketio import RedisManager

TIMEOUT_SECONDS = 2


def _per_app(name, build):
    app = current_app._get_current_object()
    client = app.extensions.get(name)
    if client is None:
        client = app.extensions[name] = build(app.config)
    return client


def get_redis():
    """Return the app's Redis client (created on first use)."""
    return _per_app("redis", lambda config: redis.Redis.from_url(
        config["REDIS_URL"], socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS))


def socketio_emitter():
    """Return the app's write-only Socket.IO client on the Redis message queue (created on first use)."""
    return _per_app("socketio_emitter", _build_emitter)


def _build_emitter(config):
    # The queue is built here only to give it Redis timeouts: a Redis that is down or
    # unreachable then costs an emit seconds, never a hung request.
    queue = RedisManager(config["REDIS_URL"], channel=config["SOCKETIO_CHANNEL"], write_only=True,
                         redis_options={"socket_connect_timeout": TIMEOUT_SECONDS, "socket_timeout": TIMEOUT_SECONDS})
    return SocketIO(message_queue=config["REDIS_URL"], client_manager=queue, async_mode="threading")


def redis_is_up():
    """True when Redis answers a ping."""
    try:
        return bool(get_redis().ping())
    except redis.RedisError:
        return False
