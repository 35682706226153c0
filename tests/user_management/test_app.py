"""The application factory, configuration, health, headers, CORS and proxies."""
import tempfile
from pathlib import Path

import pytest

from user_management import create_app
from user_management.utils.signing_keys import KeySet, new_key, write_keyset
from user_management.config import (DEV_ACCESS_SECRET, DEV_TOTP_ENCRYPTION_KEY, ConfigurationError, ProductionConfig, TestingConfig,
                                     config_for)

STRONG = "s" * 48
FERNET_KEY = "c3Ryb25nLXRvdHAta2V5LWZvci1wcm9kdWN0aW9uISE="


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
    settings = dict(JWT_ACCESS_SECRET=STRONG + "a", JWT_REFRESH_SECRET=STRONG + "r",
                    NOTIFICATIONS_SERVICE_TOKEN=STRONG + "n", TOTP_ENCRYPTION_KEY=FERNET_KEY,
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


def test_testing_config_is_distinct_from_production():
    assert TestingConfig.BCRYPT_ROUNDS < ProductionConfig.BCRYPT_ROUNDS == 12


def test_health_is_not_redirected_when_https_is_forced(app_factory):
    client = app_factory(FORCE_HTTPS=True).test_client()
    assert client.get("/api/auth/profile").status_code == 302
    assert client.get("/health").status_code == 200


def test_wildcard_cors_origin_is_refused():
    with pytest.raises(ConfigurationError, match="explicitly"):
        TestingConfig.validate({**production_settings(), "CORS_ORIGIN": ["*"]})
