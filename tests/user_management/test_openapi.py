"""GET /api/openapi.json and /api/docs: generated from the routes, complete, valid, and the page is local."""
import pytest
# The OpenAPI 3.0 meta-schema check Schemathesis runs on load (schemathesis is pinned in requirements/dev.txt).
from schemathesis.specs.openapi.adapter.validators import validate_v3 as validate

from servicekit.openapi import undocumented_routes
from servicekit.swagger_ui import ASSETS
from user_management.config import ProductionConfig

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _document(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def _rules_in_scope(app):
    config = app.extensions["apidocs"]
    return [rule for rule in app.url_map.iter_rules() if config.in_scope(rule)]


def test_document_is_valid_openapi_3(client):
    document = _document(client)
    assert document["openapi"].startswith("3.")
    validate(document)


def test_every_api_and_health_route_is_documented(app, client):
    """A new route without @api_doc fails here: add one line under its @bp.<method>(...)."""
    assert undocumented_routes(app) == []
    paths = _document(client)["paths"]
    for rule in _rules_in_scope(app):
        path = rule.rule.replace("<", "{").replace(">", "}")
        assert path in paths, f"{rule.rule} missing from the document"
        for method in rule.methods - IGNORED_METHODS:
            assert method.lower() in paths[path], f"{method} {rule.rule} missing from the document"


def test_scope_covers_api_and_health_but_not_metrics_or_the_docs_themselves(app):
    scoped = {rule.rule for rule in _rules_in_scope(app)}
    assert "/health" in scoped and "/api/auth/login" in scoped
    assert not {"/metrics", "/api/openapi.json", "/api/docs"} & scoped
    assert not any(rule.endpoint.startswith("web.") for rule in _rules_in_scope(app))


def test_a_route_without_api_doc_is_reported(app):
    app.add_url_rule("/api/undocumented", "undocumented", lambda: "x")
    assert undocumented_routes(app) == ["GET /api/undocumented"]


def test_bodies_come_from_the_validating_schemas(client):
    document = _document(client)
    login = document["paths"]["/api/auth/login"]["post"]
    ref = login["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    login_schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(login_schema["required"]) == {"email", "password"}
    assert login_schema["additionalProperties"] is False  # unknown fields are refused
    accept = document["components"]["schemas"]["InviteAccept"]
    assert {"token", "firstName", "lastName", "password"} <= set(accept["properties"])
    invites = document["paths"]["/api/invites/list"]["get"]
    query = {parameter["name"]: parameter for parameter in invites["parameters"] if parameter["in"] == "query"}
    assert query["status"]["schema"]["enum"] == ["pending", "accepted", "expired", "revoked"]
    assert query["limit"]["schema"]["maximum"] == 100


def test_errors_share_one_shape_and_are_listed_per_operation(client):
    document = _document(client)
    error = document["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"success", "message"}
    login = document["paths"]["/api/auth/login"]["post"]["responses"]
    assert {"200", "400", "401", "403", "413", "415", "422", "429"} <= set(login)
    assert login["422"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert "Retry-After" in login["429"]["headers"]
    assert set(document["paths"]["/health"]["get"]["responses"]) == {"200", "503"}


def test_protected_operations_declare_bearer_auth(client):
    document = _document(client)
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": document["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    paths = document["paths"]
    assert paths["/api/auth/profile"]["get"]["security"] == [{"bearerAuth": []}]
    assert paths["/api/invites/create"]["post"]["security"] == [{"bearerAuth": []}]
    assert "security" not in paths["/api/auth/login"]["post"]
    assert "security" not in paths["/api/invites/details/{token}"]["get"]
    # Either an access token or the login's twoFactorToken in the body.
    assert paths["/api/auth/totp/setup"]["post"]["security"] == [{"bearerAuth": []}, {}]


@pytest.mark.parametrize("path", ["/api/auth/profile", "/api/invites/list", "/api/organization"])
def test_every_operation_declaring_auth_refuses_a_request_without_it(client, path):
    assert client.get(path).status_code == 401


def test_docs_page_is_served_with_local_assets_and_its_own_csp(client):
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html  # nothing from a CDN
    assert "/api/docs/assets/swagger-ui-bundle.js" in html and "/api/openapi.json" in html
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    for asset in ASSETS:
        response = client.get(f"/api/docs/assets/{asset}")
        assert response.status_code == 200 and len(response.data) > 100
    assert client.get("/api/docs/init.js").mimetype == "text/javascript"
    assert client.get("/api/docs/assets/..%2Fflask_swagger_ui.py").status_code == 404
    assert client.get("/api/docs/assets/index.template.html").status_code == 404


def test_api_keeps_the_strict_csp(client):
    assert client.get("/api/openapi.json").headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_production_serves_the_document_but_not_the_docs_page(app_factory, monkeypatch):
    secret = "x" * 40
    app = app_factory(
        JWT_ACCESS_SECRET=secret, JWT_REFRESH_SECRET=secret + "r", NOTIFICATIONS_SERVICE_TOKEN=secret + "s",
        TOTP_ENCRYPTION_KEY="cHJvZHVjdGlvbi10b3RwLWtleS1mb3ItdGVzdHMtMDA=",
    )
    # app_factory builds with TestingConfig; rebuild its docs with the production switch.
    from user_management import create_app

    settings = {key: app.config[key] for key in ("MONGODB_URI", "REDIS_URL", "REDIS_KEY_PREFIX", "JWT_ACCESS_SECRET",
                                                 "JWT_REFRESH_SECRET", "NOTIFICATIONS_SERVICE_TOKEN",
                                                 "TOTP_ENCRYPTION_KEY")}
    monkeypatch.setattr(ProductionConfig, "validate", classmethod(lambda cls, settings: None))
    production = create_app(ProductionConfig, **settings)
    client = production.test_client()
    assert client.get("/api/openapi.json").status_code == 200
    assert client.get("/api/docs").status_code == 404
    assert client.get("/api/docs/assets/swagger-ui-bundle.js").status_code == 404
