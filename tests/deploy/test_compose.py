"""docker-compose.yml, the Dockerfile and .env.example keep their promises.

The Compose Specification's JSON schema comes from the check-jsonschema
package (its vendored copy of compose-spec.json), so validation runs offline.
`docker compose config` runs too when a Compose CLI is installed.
"""
import json
import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
ENV_EXAMPLE = REPO_ROOT / ".env.example"

APP_SERVICES = ("user_management", "notifications")
PORTS = {"user_management": "3000", "notifications": "4000"}
# What each app service must wait for, healthy.
DATA_DEPENDENCIES = {"user_management": {"mongodb", "redis"}, "notifications": {"redis"}}
REQUIRED_SECRETS = (
    "MONGO_ROOT_USERNAME",
    "MONGO_ROOT_PASSWORD",
    "REDIS_PASSWORD",
    "JWT_KEYS_DIR",
    "JWT_ACCESS_SECRET",
    "JWT_REFRESH_SECRET",
    "NOTIFICATIONS_SERVICE_TOKEN",
    "TOTP_ENCRYPTION_KEY",
)
# Every setting the two services read (see their config.py).
SERVICE_SETTINGS = {
    "user_management": (
        "APP_ENV PORT MONGODB_URI REDIS_URL REDIS_KEY_PREFIX SOCKETIO_CHANNEL JWT_ACCESS_SECRET JWT_SIGNING_KEYS "
        "JWT_ALGORITHM JWT_ISSUER JWT_AUDIENCE JWT_REFRESH_SECRET JWT_ACCESS_EXPIRES JWT_REFRESH_EXPIRES REFRESH_FAMILY_MAX_AGE CORS_ORIGIN "
        "FRONTEND_URL NOTIFICATIONS_URL NOTIFICATIONS_SERVICE_TOKEN TOTP_ENCRYPTION_KEY TOTP_ISSUER "
        "RATELIMIT_API RATELIMIT_USER RATELIMIT_LOGIN_FAILURES PROXY_COUNT FORCE_HTTPS BOOTSTRAP_ADMIN_EMAIL "
        "BOOTSTRAP_ADMIN_PASSWORD OUTBOX_POLL_INTERVAL MONGODB_SERVER_SELECTION_TIMEOUT_MS RECOVERY_LEASE_SECONDS"
    ).split(),
    "notifications": (
        "APP_ENV PORT REDIS_URL REDIS_KEY_PREFIX SOCKETIO_CHANNEL JWKS_URL JWT_ISSUER JWT_AUDIENCE "
        "NOTIFICATIONS_SERVICE_TOKEN SMTP_HOST SMTP_PORT SMTP_USER SMTP_PASS SMTP_FROM SMTP_TLS "
        "CORS_ORIGIN SOCKETIO_ASYNC_MODE MAIL_BACKEND"
    ).split(),
}
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
FAKE_ENV = {name: f"fake-{name.lower()}" for name in REQUIRED_SECRETS}
FAKE_ENV["JWT_KEYS_DIR"] = "./jwt-keys"  # a host directory (a bare name would be a named volume)


def load_yaml(path):
    """Parse a YAML file the way Compose does (merge keys resolved)."""
    return YAML(typ="safe").load(Path(path).read_text())


def compose_schema():
    """Return the Compose Specification JSON schema shipped by check-jsonschema."""
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads((vendor / "compose-spec.json").read_text())


def interpolate(value, env):
    """Apply Compose variable interpolation to every string in `value`."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match):
        name, op, arg = match["name"], match["op"], match["arg"]
        current = env.get(name)
        missing = current is None or (current == "" and op and op.startswith(":"))
        if op and op.endswith("?") and missing:
            raise KeyError(f"{name}: {arg}")
        if op and op.endswith("-") and missing:
            return arg
        return current or ""

    return INTERPOLATION.sub(substitute, value.replace("$$", "\0")).replace("\0", "$")


@pytest.fixture(scope="module")
def compose():
    """The compose file as written (before interpolation)."""
    return load_yaml(COMPOSE_FILE)


@pytest.fixture(scope="module")
def validator():
    """A validator for the Compose Specification schema."""
    schema = compose_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def test_schema_is_the_compose_specification(validator):
    assert validator.schema["title"] == "Compose Specification"
    assert "services" in validator.schema["properties"]


def test_compose_file_matches_the_specification(compose, validator):
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_interpolated_compose_file_matches_the_specification(compose, validator):
    errors = list(validator.iter_errors(interpolate(compose, FAKE_ENV)))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_validator_rejects_a_broken_file(compose, validator):
    broken = json.loads(json.dumps(compose))
    broken["services"]["nginx"]["ports"] = "80:80"
    broken["services"]["redis"]["healthcheck"]["intervall"] = "10s"
    assert len(list(validator.iter_errors(broken))) >= 2


def test_expected_services(compose):
    assert set(compose["services"]) == {"mongodb", "redis", "mailpit", "user_management", "notifications", "nginx"}
    assert compose["services"]["mongodb"]["image"] == "mongo:7"
    assert compose["services"]["redis"]["image"] == "redis:7-alpine"
    assert compose["services"]["nginx"]["image"] == "nginx:1.27-alpine"
    assert compose["services"]["mailpit"]["image"].startswith("axllent/mailpit")


def test_only_nginx_publishes_ports(compose):
    publishing = {name for name, service in compose["services"].items() if service.get("ports")}
    assert publishing == {"nginx"}
    # Databases sit only on the internal network, so nothing can publish them either.
    assert compose["networks"]["data"]["internal"] is True
    for name in ("mongodb", "redis", "mailpit"):
        assert compose["services"][name]["networks"] == ["data"]


def test_nginx_mounts_the_deploy_config(compose):
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in compose["services"]["nginx"]["volumes"]
    assert set(compose["services"]["nginx"]["depends_on"]) == set(APP_SERVICES)


def test_every_dependency_waits_for_health(compose):
    for name, service in compose["services"].items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: use the long depends_on form"
        for target, condition in depends_on.items():
            assert condition == {"condition": "service_healthy"}, f"{name} -> {target}"
            has_check = "healthcheck" in compose["services"][target] or (
                "build" in compose["services"][target] and "HEALTHCHECK" in DOCKERFILE.read_text()
            )
            assert has_check, f"{target} has no healthcheck to wait for"
    for name, needed in DATA_DEPENDENCIES.items():
        assert needed <= set(compose["services"][name]["depends_on"]), name


def test_datastores_have_healthchecks_and_volumes(compose):
    mongodb, redis = compose["services"]["mongodb"], compose["services"]["redis"]
    assert "mongosh" in " ".join(mongodb["healthcheck"]["test"])
    assert "mongodb-data:/data/db" in mongodb["volumes"]
    assert "--requirepass" in redis["command"] and "--appendonly" in redis["command"]
    assert "redis-data:/data" in redis["volumes"]
    assert "PONG" in " ".join(redis["healthcheck"]["test"])


def test_mongodb_is_a_single_node_replica_set_initiated_once(compose):
    mongodb = compose["services"]["mongodb"]
    command = mongodb["command"]
    assert command[0] == "mongod" and command[command.index("--replSet") + 1] == "rs0"
    # Authentication on a replica set needs a key file, written before the image's entrypoint runs.
    keyfile = command[command.index("--keyFile") + 1]
    script = mongodb["entrypoint"][2]
    assert f"> {keyfile}" in script and f"chmod 400 {keyfile}" in script
    assert script.rstrip().endswith('exec docker-entrypoint.sh "$$@"')
    check = " ".join(mongodb["healthcheck"]["test"])
    assert 'rs.initiate({ _id: "rs0", members: [{ _id: 0, host: "mongodb:27017" }] })' in check
    assert '"NotYetInitialized"' in check  # initiate only a set that was never initiated
    assert "isWritablePrimary" in check  # healthy = this node is the primary the apps write to
    assert "$$MONGO_INITDB_ROOT_PASSWORD" in check  # read in the container, never written here
    assert mongodb["networks"] == ["data"]


def test_user_management_uses_the_replica_set_safely(compose):
    uri = interpolate(compose, FAKE_ENV)["services"]["user_management"]["environment"]["MONGODB_URI"]
    host, _, query = uri.partition("?")
    assert host.endswith("@mongodb:27017/user_management")
    options = dict(pair.split("=") for pair in query.split("&"))
    assert options == {"authSource": "admin", "replicaSet": "rs0", "retryWrites": "true", "w": "majority",
                       "readPreference": "primary"}


def test_redis_keeps_the_email_queue_on_disk(compose):
    command = compose["services"]["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--appendfsync") + 1] == "everysec"


@pytest.mark.parametrize("service, port", [("user_management", "3000"), ("notifications", "4000")])
def test_app_health_checks_use_readiness(compose, service, port):
    """Compose waits for, and reports, readiness (dependencies usable), not mere liveness."""
    check = compose["services"][service]["healthcheck"]
    command = " ".join(check["test"])
    assert "/health/ready" in command and f"get('PORT', '{port}')" in command
    assert check["test"][:2] == ["CMD", "python"]
    assert compose["services"]["nginx"]["depends_on"][service] == {"condition": "service_healthy"}


def test_no_container_names(compose):
    # A fixed name would make `--scale notifications=N` fail.
    assert "container_name" not in compose["services"]["notifications"]
    assert not [name for name, service in compose["services"].items() if "container_name" in service]


def test_apps_build_from_the_one_dockerfile_with_their_name_and_port(compose):
    for name in APP_SERVICES:
        service = compose["services"][name]
        assert service["build"] == {"context": ".", "args": {"SERVICE": name, "PORT": PORTS[name]}}
        assert service["environment"]["PORT"] == PORTS[name]


def test_apps_get_every_setting_they_read(compose):
    for name, settings in SERVICE_SETTINGS.items():
        environment = compose["services"][name]["environment"]
        assert set(settings) <= set(environment), set(settings) - set(environment)
        assert environment["APP_ENV"] == "production"
    assert compose["services"]["user_management"]["environment"]["PROXY_COUNT"] == "1"
    assert compose["services"]["user_management"]["environment"]["NOTIFICATIONS_URL"] == "http://notifications:4000"


def test_only_user_management_holds_token_keys(compose):
    """notifications verifies with the public keys; the signing keys and HMAC secret stay with user_management."""
    notifications = compose["services"]["notifications"]
    assert notifications["environment"]["JWKS_URL"] == "http://user_management:3000/.well-known/jwks.json"
    assert not {"JWT_ACCESS_SECRET", "JWT_SIGNING_KEYS", "JWT_REFRESH_SECRET"} & set(notifications["environment"])
    assert not notifications.get("volumes")
    user_management = compose["services"]["user_management"]
    assert user_management["volumes"] == ["${JWT_KEYS_DIR:?JWT_KEYS_DIR is required (see .env.example)}:/run/jwt-keys:ro"]
    assert user_management["environment"]["JWT_SIGNING_KEYS"].startswith("/run/jwt-keys/")


def test_required_secrets_use_the_required_form():
    text = COMPOSE_FILE.read_text()
    for name in REQUIRED_SECRETS:
        uses = re.findall(r"\$\{" + name + r"(?![A-Za-z0-9_])([^}]*)\}", text)
        assert uses, f"{name} is never used"
        for modifier in uses:
            assert modifier.startswith(":?") and len(modifier) > 2, f"${{{name}{modifier}}} must be ${{{name}:?message}}"


def test_missing_secret_stops_interpolation(compose):
    for name in REQUIRED_SECRETS:
        env = {key: value for key, value in FAKE_ENV.items() if key != name}
        with pytest.raises(KeyError, match=name):
            interpolate(compose, env)
        with pytest.raises(KeyError, match=name):
            interpolate(compose, {**env, name: ""})


def test_env_example_documents_every_variable():
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), flags=re.M))
    used = {match["name"] for match in INTERPOLATION.finditer(COMPOSE_FILE.read_text())}
    assert used <= documented, used - documented
    everything = set(REQUIRED_SECRETS) | {s for settings in SERVICE_SETTINGS.values() for s in settings}
    assert everything <= documented, everything - documented


def _dockerfile_lines():
    return [line.strip() for line in DOCKERFILE.read_text().splitlines()]


def test_dockerfile():
    lines = _dockerfile_lines()
    assert lines[[i for i, line in enumerate(lines) if line and not line.startswith("#")][0]] == "FROM python:3.11-slim"
    assert "ARG SERVICE" in lines and "ARG PORT" in lines
    requirements = lines.index("COPY requirements/base.txt requirements/base.txt")
    install = lines.index("RUN pip install -r requirements/base.txt")
    code = lines.index("COPY ${SERVICE}/ ${SERVICE}/")
    assert requirements < install < code
    user = lines.index("USER app")
    assert code < user and not any(line.startswith("USER root") for line in lines)
    assert any(line.startswith("HEALTHCHECK") for line in lines)
    assert any("urllib.request" in line and "/health" in line for line in lines)
    assert lines[-1] == 'CMD ["sh", "-c", "exec gunicorn -c \\"$SERVICE/gunicorn.conf.py\\" \\"wsgi:${SERVICE}_app\\""]'


@pytest.mark.parametrize("service", APP_SERVICES)
def test_dockerfile_command_finds_the_services_gunicorn_config_and_app(service):
    """What the CMD names for SERVICE exists: `<service>/gunicorn.conf.py` and `wsgi:<service>_app`."""
    assert (REPO_ROOT / service / "gunicorn.conf.py").is_file()
    assert f'"{service}_app": "{service}"' in (REPO_ROOT / "wsgi.py").read_text()


def test_dockerfile_refuses_an_unknown_service_or_port():
    """The build stops early without a known SERVICE (the COPY would take the whole context) or a PORT."""
    lines = DOCKERFILE.read_text().split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith('RUN case "$SERVICE"'))
    end = next(i for i in range(start, len(lines)) if not lines[i].endswith("\\"))
    script = "\n".join(line.rstrip("\\") for line in lines[start:end + 1])[len("RUN "):]
    for service, port, ok in [("user_management", "3000", True), ("notifications", "4000", True),
                              ("", "3000", False), ("tests", "3000", False), ("notifications", "", False),
                              ("notifications", "40a0", False)]:
        result = subprocess.run(["sh", "-c", script], env={"SERVICE": service, "PORT": port}, capture_output=True)
        assert (result.returncode == 0) == ok, (service, port, result.stderr)


def _local_packages_imported_by(service):
    """Return the repository's top-level packages that `service`'s code imports."""
    local = {p.parent.name for p in REPO_ROOT.glob("*/__init__.py")}
    pattern = re.compile(r"^\s*(?:from|import)\s+([A-Za-z_][A-Za-z0-9_]*)", re.M)
    found = set()
    for path in (REPO_ROOT / service).rglob("*.py"):
        found |= {name for name in pattern.findall(path.read_text()) if name in local}
    return found | {service}


@pytest.mark.parametrize("service", APP_SERVICES)
def test_dockerfile_copies_every_local_package_the_service_imports(service):
    lines = _dockerfile_lines()
    for package in _local_packages_imported_by(service) - {service}:
        assert f"COPY {package}/ {package}/" in lines, f"{service} imports {package}, which its image lacks"


def test_dockerignore():
    entries = {line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()}
    assert {".venv", ".git", "tests", "bench", "**/__pycache__", ".env"} <= entries


def _compose_cli():
    """Return the argv prefix of an installed Compose CLI, or None."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


@pytest.fixture
def compose_project(tmp_path):
    """A throwaway copy of the compose file with an env file beside it."""
    shutil.copy(COMPOSE_FILE, tmp_path / "docker-compose.yml")
    env_file = tmp_path / "test.env"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in FAKE_ENV.items()))
    return tmp_path, env_file


def _compose_config(cli, project, env_file):
    """Run `<compose> --env-file F config` in `project`; return the CompletedProcess."""
    return subprocess.run(
        [*cli, "--env-file", str(env_file), "-f", str(project / "docker-compose.yml"), "config"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        # Only what Compose needs: the caller's secrets must not leak into the check.
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(project)},
    )


def test_compose_cli_parses_the_file(compose_project):
    cli = _compose_cli()
    if cli is None:
        pytest.skip("no Compose CLI (docker compose or docker-compose) installed")
    project, env_file = compose_project
    result = _compose_config(cli, project, env_file)
    assert result.returncode == 0, result.stderr
    rendered = load_yaml_text(result.stdout)
    assert rendered["services"]["user_management"]["environment"]["JWT_ACCESS_SECRET"] == FAKE_ENV["JWT_ACCESS_SECRET"]


def test_compose_cli_refuses_a_missing_secret(compose_project):
    cli = _compose_cli()
    if cli is None:
        pytest.skip("no Compose CLI (docker compose or docker-compose) installed")
    project, env_file = compose_project
    env_file.write_text("".join(f"{k}={v}\n" for k, v in FAKE_ENV.items() if k != "TOTP_ENCRYPTION_KEY"))
    result = _compose_config(cli, project, env_file)
    assert result.returncode != 0
    assert "TOTP_ENCRYPTION_KEY is required" in result.stderr


def load_yaml_text(text):
    """Parse YAML text (Compose CLI output)."""
    return YAML(typ="safe").load(text)
