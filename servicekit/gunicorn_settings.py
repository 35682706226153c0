"""Gunicorn settings both services share: each service's gunicorn.conf.py star-imports them, then adds
its bind address and worker model.

Gunicorn's master process reads this before any worker monkey-patches (eventlet, gevent), so it
imports nothing but the environment readers.
"""
import os

from .config import env_int, env_str

__all__ = [
    "timeout", "graceful_timeout", "keepalive", "accesslog", "errorlog", "loglevel", "forwarded_allow_ips",
    "worker_tmp_dir", "control_socket_disable", "bind_address",
]


def bind_address(default_port):
    """`0.0.0.0:<PORT>`, with the service's own port when PORT is unset."""
    return f"0.0.0.0:{env_int('PORT', default_port)}"


timeout = env_int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 30
# Longer than nginx's upstream keepalive_timeout (4 s), so nginx always drops an
# idle connection first and never reuses one gunicorn has just closed (a 502).
keepalive = env_int("GUNICORN_KEEPALIVE", 10)

# Access logs come from the app's structured logging; GUNICORN_ACCESSLOG=- turns
# gunicorn's own back on for debugging.
accesslog = env_str("GUNICORN_ACCESSLOG")
errorlog = "-"
loglevel = env_str("GUNICORN_LOGLEVEL", "info")

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
