"""Gunicorn settings for user_management: threaded sync workers (gthread)."""
import os


def _env_int(name, default):
    """Return an int from the environment; unset or empty gives `default`."""
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = f"0.0.0.0:{_env_int('PORT', 3000)}"
worker_class = "gthread"
# CPUs this process may run on (honours a cpuset; cpu_count() would see the host).
_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
workers = _env_int("GUNICORN_WORKERS", 2 * _cores + 1)
threads = _env_int("GUNICORN_THREADS", 4)
timeout = _env_int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 30
# Longer than nginx's upstream keepalive_timeout (4 s), so nginx always drops an
# idle connection first and never reuses one gunicorn has just closed (a 502).
keepalive = _env_int("GUNICORN_KEEPALIVE", 10)

# Access logs come from the app's structured logging; GUNICORN_ACCESSLOG=- turns
# gunicorn's own back on for debugging.
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")

# Trust no peer's X-Forwarded-* here: the app's ProxyFix (PROXY_COUNT) is the one
# place that decides which proxy headers count, so gunicorn must not rewrite the
# scheme (X-Forwarded-Proto) before the app sees the request.
forwarded_allow_ips = ""

# The heartbeat file lives in memory; /tmp in a container may be overlayfs.
# B108: gunicorn's heartbeat files in memory, as its docs advise
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # nosec B108

# gunicornc's control socket is not used in containers, and its default path
# ($HOME/.gunicorn) is on a read-only filesystem there.
control_socket_disable = True


def on_starting(server):
    """Check the configuration in the master, before any worker starts: a refusal is one line and exit status 4."""
    from servicekit.config import ConfigurationError, check_config, refuse_to_start

    try:
        from user_management.config import config_for

        check_config(config_for())
    except ConfigurationError as error:
        refuse_to_start("user_management", error)
