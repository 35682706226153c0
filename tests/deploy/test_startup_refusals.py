"""A configuration the service refuses is one line on stderr naming the variable, and a non-zero exit.

Real processes, as an operator starts them: gunicorn with the image's config file
(the master checks before any worker starts), gunicorn without it (the worker refuses
and the master halts instead of booting workers in a loop), `flask --app wsgi:...`
and `python -m notifications.serve`.
"""
import os
import subprocess
import sys

import pytest

from support.jwks import keyset_file
from support.processes import PROJECT_ROOT, free_port

# Fixed random-looking secrets (production refuses low-entropy ones), one per purpose.
ACCESS_SECRET = "q7Vd2LxR9mTz4Kp8Wn3Hc6Jb1Fy5Gs0Ua2Ee7Oi4Lr9Nt"  # nosec B105
REFRESH_SECRET = "Zk3Pw8Qm1Xv6Rb9Tn2Yc5Hd7Lf0Gs4Ja8Ue3Oi6Mr1Vq"  # nosec B105
SERVICE_TOKEN = "Hn5Rt8Wq2Lz7Kc4Vb9Xm1Pd6Jf3Gs0Ya5Ue8Oi2Nr7Tq"  # nosec B105
# What a production start needs, so that each case below breaks exactly one thing.
PRODUCTION_UM = {
    "APP_ENV": "production",
    "MONGODB_URI": "mongodb://127.0.0.1:1/user_management",
    "JWT_ACCESS_SECRET": ACCESS_SECRET,
    "JWT_REFRESH_SECRET": REFRESH_SECRET,
    "NOTIFICATIONS_SERVICE_TOKEN": SERVICE_TOKEN,
    "TOTP_ENCRYPTION_KEY": "Vx8zN3Ml0iCq6Ww5C3l2Qd0Qm7xQ2rC1m3H7q1n6JxE=",
}
PRODUCTION_NOTIFICATIONS = {
    "APP_ENV": "production",
    "JWKS_URL": "http://127.0.0.1:1/.well-known/jwks.json",
    "JWT_ISSUER": "https://example.com",
    "JWT_AUDIENCE": "https://example.com",
    "NOTIFICATIONS_SERVICE_TOKEN": SERVICE_TOKEN,
    "MAIL_BACKEND": "smtp",
}
GUNICORN = [sys.executable, "-m", "gunicorn", "--no-control-socket", "-w", "1"]


@pytest.fixture(scope="module")
def production_um(tmp_path_factory):
    """PRODUCTION_UM with a real keyset file of access-token signing keys."""
    return {**PRODUCTION_UM, "JWT_SIGNING_KEYS": str(keyset_file(tmp_path_factory.mktemp("keys")))}


def run(command, env):
    """Run `command` in the repository with only `env` (plus PATH) set; return the CompletedProcess."""
    environment = {"PATH": os.environ["PATH"], "PYTHONUNBUFFERED": "1", "PORT": str(free_port()),
                   "REDIS_URL": "redis://127.0.0.1:1/0", **env}
    return subprocess.run(command, cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=120)


def assert_one_line_refusal(result, variable, reason):
    """Exit non-zero; one line saying which variable and why; no traceback, no worker boot loop."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    refusals = [line for line in result.stderr.splitlines() if "refusing to start" in line]
    assert len(refusals) == 1, output
    assert variable in refusals[0] and reason in refusals[0], refusals[0]
    assert "Traceback" not in output, output
    assert "Worker failed to boot" not in output, output


UM_CASES = [
    pytest.param({"BOOTSTRAP_ADMIN_EMAIL": "admin@example.com", "BOOTSTRAP_ADMIN_PASSWORD": "Admin123!"},
                 "BOOTSTRAP_ADMIN_PASSWORD", "too easy to guess", id="reference-example-admin-password"),
    pytest.param({"JWT_ACCESS_SECRET": ""}, "JWT_ACCESS_SECRET", "must be set", id="missing-secret"),
    pytest.param({"JWT_REFRESH_SECRET": "short"}, "JWT_REFRESH_SECRET", "at least 32 bytes", id="weak-secret"),
    pytest.param({"NOTIFICATIONS_SERVICE_TOKEN": "dev-service-token-not-for-production-0000"},
                 "NOTIFICATIONS_SERVICE_TOKEN", "development default", id="dev-default-secret"),
    pytest.param({"TOTP_ENCRYPTION_KEY": "not-a-fernet-key"}, "TOTP_ENCRYPTION_KEY", "not a valid Fernet key",
                 id="bad-key"),
    pytest.param({"MONGODB_URI": ""}, "MONGODB_URI", "real MongoDB", id="production-mongomock"),
    pytest.param({"OUTBOX_MAX_ATTEMPTS": "many"}, "OUTBOX_MAX_ATTEMPTS", "whole number", id="not-a-number"),
]


@pytest.mark.parametrize("env, variable, reason", UM_CASES)
def test_user_management_under_gunicorn_with_its_config(production_um, env, variable, reason):
    result = run([*GUNICORN, "-c", "user_management/gunicorn.conf.py", "wsgi:user_management_app"],
                 {**production_um, **env})
    assert_one_line_refusal(result, variable, reason)
    assert result.returncode == 4
    assert "Booting worker" not in result.stderr  # refused in the master, before any worker


def test_user_management_under_plain_gunicorn_refuses_in_the_worker_and_halts():
    """No config file (as `make dev` runs it): the worker refuses, the master stops instead of respawning."""
    env = {"APP_ENV": "development", "BOOTSTRAP_ADMIN_EMAIL": "admin@example.com",
           "BOOTSTRAP_ADMIN_PASSWORD": "Admin123!"}
    result = run([*GUNICORN, "-b", f"127.0.0.1:{free_port()}", "wsgi:user_management_app"], env)
    assert_one_line_refusal(result, "BOOTSTRAP_ADMIN_PASSWORD", "too easy to guess")
    assert result.stderr.count("Booting worker") == 1


def test_flask_cli_refuses_in_one_line(production_um):
    result = run([sys.executable, "-m", "flask", "--app", "wsgi:user_management_app", "sync-indexes", "--dry-run"],
                 {**production_um, "JWT_ACCESS_SECRET": ""})
    assert_one_line_refusal(result, "JWT_ACCESS_SECRET", "must be set")


@pytest.mark.parametrize("env, variable, reason", [
    pytest.param({"NOTIFICATIONS_SERVICE_TOKEN": ""}, "NOTIFICATIONS_SERVICE_TOKEN", "must be set", id="missing"),
    pytest.param({"NOTIFICATIONS_SERVICE_TOKEN": "short"}, "NOTIFICATIONS_SERVICE_TOKEN", "at least 32 bytes",
                 id="weak"),
    pytest.param({"MAIL_BACKEND": "console"}, "MAIL_BACKEND", "production needs smtp", id="console-mail"),
])
def test_notifications_under_gunicorn_with_its_config(env, variable, reason):
    result = run([*GUNICORN, "-c", "notifications/gunicorn.conf.py", "wsgi:notifications_app"],
                 {**PRODUCTION_NOTIFICATIONS, **env})
    assert_one_line_refusal(result, variable, reason)
    assert "Booting worker" not in result.stderr


def test_notifications_serve_module_refuses_in_one_line():
    result = run([sys.executable, "-m", "notifications.serve"],
                 {**PRODUCTION_NOTIFICATIONS, "SOCKETIO_ASYNC_MODE": "threading", "SMTP_PORT": "twenty-five"})
    assert_one_line_refusal(result, "SMTP_PORT", "whole number")


def test_a_good_configuration_is_not_refused(production_um):
    """The check the gunicorn hook runs passes a valid production configuration."""
    result = run([sys.executable, "-c", "from servicekit.config import check_config; "
                  "from user_management.config import config_for; check_config(config_for())"], production_um)
    assert result.returncode == 0, result.stderr
