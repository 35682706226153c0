"""The application factory, configuration, health, headers, CORS and proxies."""
import importlib.util
import os
from unittest import mock
import tempfile
from pathlib import Path

import pytest

import user_management.config

from user_management import create_app
from user_management.utils.signing_keys import KeySet, new_key, write_keyset
from user_management.config import (DEV_ACCESS_SECRET, DEV_TOTP_ENCRYPTION_KEY, ConfigurationError, ProductionConfig, TestingConfig,
                                     config_for)

# Generated once with secrets.token_urlsafe(48) and Fernet.generate_key(): random-looking, as production needs.
ACCESS = "kW3v9Jq0bX7rT2mZcN5hL8yP1sD4fG6aQeUiOo-_RtYwVxBnMjKlHgFdSaPzCx"
REFRESH = "Hq8Zp2Lm7Nc4Vb1Xz9Kw3Jr6Tf0Ys5Gd-_UeIoPaQsWdErTyBnMlKjHgFcDvXz"
SERVICE = "Ty6Ub3Nm8Qw1Er5Zx0Cv4Bn7Lk2Jh9Gf-_PoIuYtRsAaDdFfGgHhJjKkLlZzXx"
FERNET_KEY = "3q2v4ZxD7cJ0mYh1uLk9WsQe5RtNp8bGfAo6iKjHlVw="


@pytest.fixture(scope="module", autouse=True)
def production_keyset():
    """A keyset file, which production needs to start."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "keys.json"
        write_keyset(path, KeySet([new_key()]))
        PRODUCTION_FILES["JWT_SIGNING_KEYS"] = str(path)
        yield path


PRODUCTION_FILES = {}


def production_settings(**overrides):
    settings = dict(JWT_ACCESS_SECRET=ACCESS, JWT_REFRESH_SECRET=REFRESH,
                    NOTIFICATIONS_SERVICE_TOKEN=SERVICE, TOTP_ENCRYPTION_KEY=FERNET_KEY,
                    MONGODB_URI="mongodb://db.internal/user_management", JWT_ALGORITHM="EdDSA",
                    FRONTEND_URL="https://app.example.com", **PRODUCTION_FILES)
    settings.update(overrides)
    return settings


@pytest.mark.parametrize(
    "override, reason",
    [
        ({"JWT_ACCESS_SECRET": None}, "JWT_ACCESS_SECRET must be set"),
        ({"JWT_REFRESH_SECRET": DEV_ACCESS_SECRET}, "development default"),
        ({"NOTIFICATIONS_SERVICE_TOKEN": "short"}, "at least 32 bytes"),
        ({"TOTP_ENCRYPTION_KEY": None}, "TOTP_ENCRYPTION_KEY"),
        ({"TOTP_ENCRYPTION_KEY": "not-a-fernet-key-but-long-enough-to-pass-length"}, "not a valid Fernet key"),
        ({"TOTP_ENCRYPTION_KEY": f"{FERNET_KEY},{DEV_TOTP_ENCRYPTION_KEY}"}, "development default"),
        ({"MONGODB_URI": "mongomock://localhost/x"}, "real MongoDB"),
        ({"JWT_REFRESH_SECRET": ACCESS}, "JWT_REFRESH_SECRET must differ from JWT_ACCESS_SECRET"),
        ({"NOTIFICATIONS_SERVICE_TOKEN": ACCESS}, "must differ from JWT_ACCESS_SECRET"),
        ({"JWT_ACCESS_SECRET": "a" * 32}, "does not look random enough"),
        ({"JWT_ACCESS_SECRET": "Password1" * 4}, "does not look random enough"),
        ({"JWT_ACCESS_SECRET": DEV_ACCESS_SECRET + "x"}, "development default"),
        ({"JWT_ACCESS_SECRET": DEV_ACCESS_SECRET[:-2] + "9z"}, "development default"),
    ],
)
def test_production_refuses_weak_or_default_secrets(override, reason):
    with pytest.raises(ConfigurationError, match=reason):
        ProductionConfig.validate(production_settings(**override))


def test_production_accepts_strong_secrets():
    ProductionConfig.validate(production_settings())


def test_production_app_refuses_to_start_with_dev_defaults(monkeypatch):
    with pytest.raises(ConfigurationError):
        create_app(ProductionConfig, JWT_ACCESS_SECRET=DEV_ACCESS_SECRET)


def test_unknown_app_env_is_refused():
    with pytest.raises(ConfigurationError, match="unknown APP_ENV"):
        config_for("staging-ish")


def test_factory_builds_a_testing_app(app):
    assert app.config["TESTING"] and app.config["ENV_NAME"] == "testing"
    assert {"auth", "invites", "organization", "users", "health"} <= set(app.blueprints)


def test_health_reports_mongodb_and_redis(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json["checks"] == {"mongodb": "up", "redis": "up"}


def test_health_is_503_when_redis_is_down(app_factory):
    app = app_factory(REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/health")
    assert response.status_code == 503
    assert response.json["checks"]["redis"] == "down" and response.json["success"] is False


def test_security_headers_on_api_responses(client):
    headers = client.get("/health").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "no-referrer"


def test_no_https_redirect_in_dev_and_test(client):
    assert client.get("/health").status_code == 200


def test_cors_allows_only_the_configured_origin(app_factory):
    client = app_factory(CORS_ORIGIN=["https://console.example.test"]).test_client()
    allowed = client.options("/api/auth/login", headers={"Origin": "https://console.example.test",
                                                         "Access-Control-Request-Method": "POST"})
    assert allowed.headers.get("Access-Control-Allow-Origin") == "https://console.example.test"
    denied = client.options("/api/auth/login", headers={"Origin": "https://evil.example.test",
                                                        "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in denied.headers


def test_unknown_route_and_wrong_method_are_json(client):
    missing = client.get("/api/nothing-here")
    assert missing.status_code == 404 and missing.json == {"success": False, "message": "Not found"}
    wrong = client.get("/api/auth/login")
    assert wrong.status_code == 405 and wrong.json["success"] is False


def test_oversized_body_is_413(client):
    response = client.post("/api/auth/login", data="x" * (65 * 1024), content_type="application/json")
    assert response.status_code == 413 and response.json["success"] is False


def test_client_ip_comes_from_the_trusted_proxy(app_factory):
    """Behind one proxy the limiter keys on X-Forwarded-For, so two clients have separate budgets."""
    client = app_factory(PROXY_COUNT=1).test_client()
    bad = {"email": "nobody@example.test", "password": "Wrong-Password-1"}
    for _ in range(5):
        client.post("/api/auth/login", json=bad, headers={"X-Forwarded-For": "203.0.113.5"})
    assert client.post("/api/auth/login", json=bad, headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 429
    assert client.post("/api/auth/login", json=bad, headers={"X-Forwarded-For": "203.0.113.6"}).status_code == 401


def test_without_a_proxy_forwarded_for_is_ignored(client):
    bad = {"email": "nobody@example.test", "password": "Wrong-Password-1"}
    for index in range(5):
        client.post("/api/auth/login", json=bad, headers={"X-Forwarded-For": f"198.51.100.{index}"})
    assert client.post("/api/auth/login", json=bad, headers={"X-Forwarded-For": "198.51.100.99"}).status_code == 429


def fresh_config_module(**environment):
    """user_management.config executed afresh with only `environment` set (the real module is left alone)."""
    spec = importlib.util.spec_from_file_location("user_management._config_fresh", user_management.config.__file__)
    module = importlib.util.module_from_spec(spec)
    with mock.patch.dict(os.environ, environment, clear=True):
        spec.loader.exec_module(module)
    return module


def test_production_trusts_no_proxy_unless_told(app_factory):
    """Production without PROXY_COUNT trusts no X-Forwarded-For: 8 spoofed failed logins still hit the 429."""
    production = fresh_config_module(APP_ENV="production").ProductionConfig
    assert production.PROXY_COUNT == 0
    assert fresh_config_module(APP_ENV="production", PROXY_COUNT="1").ProductionConfig.PROXY_COUNT == 1
    client = app_factory(PROXY_COUNT=production.PROXY_COUNT).test_client()
    bad = {"email": "nobody@example.test", "password": "Wrong-Password-1"}
    statuses = [client.post("/api/auth/login", json=bad, headers={"X-Forwarded-For": f"203.0.113.{index}"}).status_code
                for index in range(8)]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}


def test_testing_config_is_distinct_from_production():
    assert TestingConfig.BCRYPT_ROUNDS < ProductionConfig.BCRYPT_ROUNDS == 12


def test_health_is_not_redirected_when_https_is_forced(app_factory):
    client = app_factory(FORCE_HTTPS=True).test_client()
    assert client.get("/api/auth/profile").status_code == 302
    assert client.get("/health").status_code == 200


def test_wildcard_cors_origin_is_refused():
    with pytest.raises(ConfigurationError, match="explicitly"):
        TestingConfig.validate({**production_settings(), "CORS_ORIGIN": ["*"]})


def test_security_headers_stay_the_same_from_request_to_request_and_per_kind_of_view(client):
    first, second = client.get("/health").headers, client.get("/health").headers
    names = ("X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy", "Referrer-Policy")
    assert [first[name] for name in names] == [second[name] for name in names]
    page = client.get("/login").headers["Content-Security-Policy"]
    assert page != first["Content-Security-Policy"] and client.get("/login").headers["Content-Security-Policy"] == page


def test_cors_headers_only_for_requests_with_an_origin(app_factory):
    client = app_factory(CORS_ORIGIN=["https://console.example.test"]).test_client()
    assert not [name for name, _ in client.get("/api/auth/profile").headers if name.startswith("Access-Control")]
    asked = client.get("/api/auth/profile", headers={"Origin": "https://console.example.test"})
    assert asked.headers["Access-Control-Allow-Origin"] == "https://console.example.test"
    assert asked.headers["Access-Control-Allow-Credentials"] == "true"
