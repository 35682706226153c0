"""Regressions found by the contract tests (tests/contract), one test per finding."""


def test_405_names_the_allowed_methods(client):
    """Schemathesis ST204: a 405 must carry `Allow` (RFC 9110 15.5.6); the JSON error handler dropped it."""
    response = client.get("/api/email/send")
    assert response.status_code == 405
    assert response.get_json() == {"success": False, "message": "The method is not allowed for the requested URL."}
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"POST", "OPTIONS"}
    assert "GET" in client.delete("/health").headers["Allow"]


def test_lone_surrogate_in_json_is_refused(client, service_headers):
    """`"\\ud800"` is valid JSON but no e-mail can carry it: refused up front instead of dead-lettered later."""
    body = '{"to": "a@example.com", "subject": "\\ud800", "html": "<p>x</p>", "text": "x"}'
    response = client.post("/api/email/send", data=body, content_type="application/json", headers=service_headers)
    assert response.status_code == 400
    assert response.get_json() == {"success": False, "message": "Malformed JSON body"}


def test_deeply_nested_json_is_a_400_not_a_500(client, service_headers):
    """3,000 nested arrays on /api/email/send exhausted the JSON decoder's recursion (issue 12, item 8)."""
    response = client.post("/api/email/send", data="[" * 3000 + "]" * 3000, content_type="application/json",
                           headers=service_headers)
    assert response.status_code == 400 and response.get_json()["success"] is False
