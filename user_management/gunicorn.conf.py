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
