"""Gunicorn settings for user_management: threaded sync workers (gthread)."""
import os

from servicekit.config import env_int
from servicekit.gunicorn_settings import *  # noqa: F403  (the shared settings; gunicorn reads this module's names)

bind = bind_address(3000)  # noqa: F405
worker_class = "gthread"
# CPUs this process may run on (honours a cpuset; cpu_count() would see the host).
_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
workers = env_int("GUNICORN_WORKERS", 2 * _cores + 1)
threads = env_int("GUNICORN_THREADS", 4)


def on_starting(server):
    """Check the configuration in the master, before any worker starts: a refusal is one line and exit status 4."""
    # Imported here: gunicorn reads every module-level name as a setting (`check_config` is one).
    from servicekit.config import ConfigurationError, check_config, refuse_to_start

    try:
        from user_management.config import config_for

        check_config(config_for())
    except ConfigurationError as error:
        refuse_to_start("user_management", error)
