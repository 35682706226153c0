"""user_management's shipped gunicorn.conf.py (with the settings it shares from servicekit) boots the service.

notifications' is tested under each async worker in tests/notifications/test_notif_processes.py.
"""
import os
import subprocess
import sys
import tempfile
import uuid

import redis

from support.processes import PROJECT_ROOT, free_port, read_log, stop_process, wait_for_health


def test_user_management_gunicorn_config_boots_and_stops_cleanly():
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    port = free_port()
    # One worker: the testing config's mongomock database lives inside one process.
    env = {**os.environ, "APP_ENV": "testing", "PORT": str(port), "GUNICORN_WORKERS": "1",
           "REDIS_KEY_PREFIX": prefix, "PYTHONUNBUFFERED": "1"}
    env.pop("FLASK_RUN_FROM_CLI", None)
    log = tempfile.NamedTemporaryFile(prefix="um-gunicorn-", suffix=".log", delete=False)
    command = [sys.executable, "-m", "gunicorn", "-c", "user_management/gunicorn.conf.py",
               "-b", f"127.0.0.1:{port}", "wsgi:user_management_app"]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    process.log_path = log.name
    log.close()
    try:
        wait_for_health(f"http://127.0.0.1:{port}", process, timeout=30)
        assert "[INFO] Using worker: gthread" in read_log(process)
        process.terminate()
        assert process.wait(20) == 0, read_log(process)
    finally:
        stop_process(process)
        client = redis.Redis.from_url(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
        for key in client.scan_iter(match=f"*{prefix}*"):
            client.delete(key)
        client.close()
