"""Gunicorn settings for notifications: one async worker per container.

For async workers the shared `timeout` is the heartbeat deadline of the event loop, not a
per-request limit, so open WebSockets are not cut at 30 s.
"""
from servicekit.config import env_int, env_str
from servicekit.gunicorn_settings import *  # noqa: F403  (the shared settings; gunicorn reads this module's names)

ASYNC_MODES = ("eventlet", "gevent")
worker_class = env_str("SOCKETIO_ASYNC_MODE", "eventlet").strip() or "eventlet"
if worker_class not in ASYNC_MODES:
    raise SystemExit(f"SOCKETIO_ASYNC_MODE must be one of {ASYNC_MODES}, not {worker_class!r}")

bind = bind_address(4000)  # noqa: F405
# Always one: Socket.IO's long-polling sessions live in the worker's memory, and
# gunicorn cannot route a client back to the same worker. Scale with more
# containers (`--scale notifications=N`) behind nginx's ip_hash instead;
# GUNICORN_WORKERS is deliberately ignored here.
workers = 1
worker_connections = env_int("GUNICORN_WORKER_CONNECTIONS", 1000)
# No preload_app: the worker monkey-patches (eventlet/gevent) before it imports
# the app; preloading would import it unpatched in the master.
preload_app = False


def worker_exit(server, worker):
    """Let the email sender finish the email in hand before the worker exits."""
    sender = getattr(getattr(worker, "wsgi", None), "extensions", {}).get("notifications_sender")
    if sender is not None:
        sender.stop(timeout=graceful_timeout)  # noqa: F405


def on_starting(server):
    """Check the configuration in the master, before any worker starts: a refusal is one line and exit status 4."""
    # Imported here: gunicorn reads every module-level name as a setting (`check_config` is one).
    from servicekit.config import ConfigurationError, check_config, refuse_to_start

    try:
        from notifications.config import config_for

        check_config(config_for())
    except ConfigurationError as error:
        refuse_to_start("notifications", error)
