"""notifications' GET /api/openapi.json and /api/docs."""
from schemathesis.specs.openapi.adapter.validators import validate_v3

from servicekit.openapi import undocumented_routes

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _document(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_document_is_valid_and_covers_every_http_route(app, client):
    document = _document(client)
    validate_v3(document)
    assert undocumented_routes(app) == []
    config = app.extensions["apidocs"]
    for rule in app.url_map.iter_rules():
        if config.in_scope(rule):
            for method in rule.methods - IGNORED_METHODS:
                assert method.lower() in document["paths"][rule.rule], f"{method} {rule.rule}"
    assert set(document["paths"]) == {"/health", "/health/live", "/health/ready", "/api/email/send", "/api/notify"}


def test_service_endpoints_declare_the_service_token(client):
    document = _document(client)
    assert document["components"]["securitySchemes"]["serviceToken"]["type"] == "apiKey"
    assert document["components"]["securitySchemes"]["serviceToken"]["in"] == "header"
    assert document["components"]["securitySchemes"]["serviceToken"]["name"] == "X-Service-Token"
    for path in ("/api/email/send", "/api/notify"):
        operation = document["paths"][path]["post"]
        assert operation["security"] == [{"serviceToken": []}]
        assert {"202", "400", "401", "413", "415", "422"} <= set(operation["responses"])
    assert "security" not in document["paths"]["/health"]["get"]


def test_send_documents_its_body_and_idempotency_header(client):
    document = _document(client)
    send = document["paths"]["/api/email/send"]["post"]
    header = next(parameter for parameter in send["parameters"] if parameter["in"] == "header")
    assert header["name"] == "Idempotency-Key" and header["schema"]["pattern"]
    body = document["components"]["schemas"]["SendEmail"]
    assert body["required"] == ["to"] and body["additionalProperties"] is False
    assert {"409", "503"} <= set(send["responses"])


def test_docs_page_is_local(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert "https://" not in page.get_data(as_text=True)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert client.get("/api/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_production_has_no_docs_page(make_app):
    # The production switch alone (the rest of the testing settings stay).
    app = make_app(ENV_NAME="production")
    assert app.test_client().get("/api/docs").status_code == 404
    assert app.test_client().get("/api/openapi.json").status_code == 200
