"""Gunicorn settings for notifications: one async worker per container."""
import os


def _env_int(name, default):
    """Return an int from the environment; unset or empty gives `default`."""
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


ASYNC_MODES = ("eventlet", "gevent")
worker_class = os.environ.get("SOCKETIO_ASYNC_MODE", "eventlet").strip() or "eventlet"
if worker_class not in ASYNC_MODES:
    raise SystemExit(f"SOCKETIO_ASYNC_MODE must be one of {ASYNC_MODES}, not {worker_class!r}")

bind = f"0.0.0.0:{_env_int('PORT', 4000)}"
# Always one: Socket.IO's long-polling sessions live in the worker's memory, and
# gunicorn cannot route a client back to the same worker. Scale with more
# containers (`--scale notifications=N`) behind nginx's ip_hash instead;
# GUNICORN_WORKERS is deliberately ignored here.
workers = 1
worker_connections = _env_int("GUNICORN_WORKER_CONNECTIONS", 1000)
# For async workers this is the heartbeat deadline of the event loop, not a
# per-request limit, so open WebSockets are not cut at 30 s.
timeout = _env_int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 30
keepalive = _env_int("GUNICORN_KEEPALIVE", 10)
# No preload_app: the worker monkey-patches (eventlet/gevent) before it imports
# the app; preloading would import it unpatched in the master.
preload_app = False

accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")

# See user_management/gunicorn.conf.py: ProxyFix in the app owns X-Forwarded-*.
forwarded_allow_ips = ""

# B108: gunicorn's heartbeat files in memory, as its docs advise
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # nosec B108

# gunicornc's control socket is not used in containers, and its default path
# ($HOME/.gunicorn) is on a read-only filesystem there.
control_socket_disable = True


def worker_exit(server, worker):
    """Let the email sender finish the email in hand before the worker exits."""
    sender = getattr(getattr(worker, "wsgi", None), "extensions", {}).get("notifications_sender")
    if sender is not None:
        sender.stop(timeout=graceful_timeout)


def on_starting(server):
    """Check the configuration in the master, before any worker starts: a refusal is one line and exit status 4."""
    from servicekit.config import ConfigurationError, check_config, refuse_to_start

    try:
        from notifications.config import config_for

        check_config(config_for())
    except ConfigurationError as error:
        refuse_to_start("notifications", error)
