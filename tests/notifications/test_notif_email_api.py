"""POST /api/email/send and POST /api/notify: authentication, validation, idempotency."""
import json

import pytest

from support.redis_store import UNREACHABLE_REDIS_URL

INVITE = {"to": "new.user@example.com", "template": "invite", "context": {"link": "http://localhost:3000/invite/abc123"}}


def post(client, body, headers, path="/api/email/send", **kwargs):
    """POST a JSON body."""
    return client.post(path, json=body, headers=headers, **kwargs)


@pytest.mark.parametrize("headers", [{}, {"X-Service-Token": "wrong"}, {"X-Service-Token": ""},
                                     {"Authorization": "Bearer dev-service-token-not-for-production-0000"}])
@pytest.mark.parametrize("path", ["/api/email/send", "/api/notify"])
def test_service_token_required(client, headers, path):
    """Anything but the exact service token is 401, before the body is looked at."""
    response = client.post(path, data="not json", headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {"success": False, "message": "Invalid service token"}


def test_queues_template_email(client, service_headers, redis_client, redis_prefix):
    """A valid request is 202 with an id, and the job is in the stream."""
    response = post(client, INVITE, service_headers)
    assert response.status_code == 202
    body = response.get_json()
    assert body["success"] is True and body["queued"] is True and body["duplicate"] is False
    entries = redis_client.xrange(f"{redis_prefix}:email:jobs")
    assert len(entries) == 1
    job = json.loads(entries[0][1]["job"])
    assert job["id"] == body["id"] and job["to"] == INVITE["to"] and job["context"] == INVITE["context"]


def test_queues_raw_email(client, service_headers):
    """The subject/html/text shape is accepted too."""
    body = {"to": "a@example.com", "subject": "Hello", "html": "<p>Hi</p>", "text": "Hi"}
    assert post(client, body, service_headers).status_code == 202


def test_raw_email_without_text_gets_one_from_its_html(app, client, service_headers, smtp_server):
    """The reference's clients send subject and html only; `text` was required (422). Now it is derived."""
    from notifications.controllers.sender import send_queued

    smtp_server.start()
    html = ("<html><head><style>p{color:red}</style></head><body><h1>Welcome</h1><p>Hello&nbsp;Ada,</p>"
            "<ul><li>one</li><li>two</li></ul><p><a href=\"https://example.com/start\">Start here</a></p></body></html>")
    body = {"to": "a@example.com", "subject": "Hello", "html": html}
    assert post(client, body, service_headers).status_code == 202
    with app.app_context():
        send_queued()
    [message] = smtp_server.wait_for(1)
    text = message.get_body(("plain",)).get_content()
    assert text.replace("\r\n", "\n").strip() == "Welcome\n\nHello Ada,\n\n- one\n- two\n\nStart here (https://example.com/start)"
    assert "<" not in text and "color" not in text
    assert message.get_body(("html",)).get_content().strip() == html


def test_same_idempotency_key_is_queued_once(client, service_headers, redis_client, redis_prefix):
    """The second request with a key answers the first id, duplicate, and queues nothing."""
    headers = {**service_headers, "Idempotency-Key": "outbox-job-42"}
    first = post(client, INVITE, headers).get_json()
    second = post(client, INVITE, headers)
    assert second.status_code == 202
    assert second.get_json() == {"success": True, "queued": True, "id": first["id"], "duplicate": True}
    assert redis_client.xlen(f"{redis_prefix}:email:jobs") == 1


def test_idempotency_key_reused_for_other_email_conflicts(client, service_headers):
    """One key, two different e-mails: 409 rather than silently dropping the second."""
    headers = {**service_headers, "Idempotency-Key": "outbox-job-43"}
    assert post(client, INVITE, headers).status_code == 202
    response = post(client, {**INVITE, "to": "other@example.com"}, headers)
    assert response.status_code == 409
    assert response.get_json()["success"] is False


def test_generated_idempotency_keys_differ(client, service_headers, redis_client, redis_prefix):
    """Without the header every request is a new job."""
    ids = {post(client, INVITE, service_headers).get_json()["id"] for _ in range(2)}
    assert len(ids) == 2
    assert redis_client.xlen(f"{redis_prefix}:email:jobs") == 2


@pytest.mark.parametrize("key", ["has space", "x" * 201, "semi;colon", "ünï"])
def test_bad_idempotency_key(client, service_headers, key):
    """Idempotency keys are short and plain."""
    response = post(client, INVITE, {**service_headers, "Idempotency-Key": key})
    assert response.status_code == 422
    assert "Idempotency-Key" in response.get_json()["errors"]


def test_malformed_json_is_400(client, service_headers):
    """A JSON content type with a broken body."""
    response = client.post("/api/email/send", data='{"to": ', content_type="application/json",
                           headers=service_headers)
    assert response.status_code == 400
    assert response.get_json() == {"success": False, "message": "Malformed JSON body"}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_non_json_is_415(client, service_headers, content_type):
    """Bodies that are not JSON are refused by content type."""
    response = client.post("/api/email/send", data=json.dumps(INVITE), content_type=content_type,
                           headers=service_headers)
    assert response.status_code == 415
    assert response.get_json()["success"] is False


@pytest.mark.parametrize("body, field", [
    ({**INVITE, "template": "welcome"}, "template"),
    ({**INVITE, "cc": "x@example.com"}, "cc"),
    ({**INVITE, "context": {"link": "http://localhost/x", "extra": 1}}, "context"),
    ({**INVITE, "context": {}}, "context"),
    ({**INVITE, "context": {"link": "javascript:alert(1)"}}, "context"),
    ({**INVITE, "to": "not-an-email"}, "to"),
    ({"to": "a@example.com", "template": "otp", "context": {"code": "12ab"}}, "context"),
    ({"to": "a@example.com", "subject": "Hi", "text": "x"}, "html"),
    ({"to": "a@example.com", "subject": "Hi\r\nBcc: x@example.com", "html": "x", "text": "x"}, "subject"),
    ({"to": "a@example.com", "context": {"link": "http://localhost/x"}}, "context"),
    ({**INVITE, "subject": "Hi"}, "_schema"),
    ({"template": "invite", "context": {"link": "http://localhost/x"}}, "to"),
])
def test_invalid_body_is_422(client, service_headers, body, field):
    """Validation errors name the field and never queue anything."""
    response = post(client, body, service_headers)
    assert response.status_code == 422
    payload = response.get_json()
    assert payload["success"] is False and payload["message"] == "Validation failed"
    assert field in payload["errors"]


@pytest.mark.parametrize("raw", ["[]", '"text"', "42", "null", "true", '{"to": {"a": 1}}', '{"context": []}'])
def test_odd_json_never_500(client, service_headers, raw):
    """Any JSON value is a 4xx, never a 500."""
    response = client.post("/api/email/send", data=raw, content_type="application/json", headers=service_headers)
    assert 400 <= response.status_code < 500
    assert response.get_json()["success"] is False


def test_redis_down_is_503(make_app, service_headers):
    """The request is only accepted when the job is durably queued."""
    client = make_app(REDIS_URL=UNREACHABLE_REDIS_URL).test_client()
    response = post(client, INVITE, service_headers)
    assert response.status_code == 503
    assert response.get_json()["success"] is False


def test_unknown_route_and_method_are_json(client):
    """Werkzeug errors use the same JSON body."""
    assert client.get("/nope").get_json()["success"] is False
    response = client.get("/api/email/send")
    assert response.status_code == 405 and response.get_json()["success"] is False


def test_too_large_body_is_413(client, service_headers):
    """Bodies above MAX_CONTENT_LENGTH are refused."""
    body = {"to": "a@example.com", "subject": "Hi", "html": "x" * 300_000, "text": "x"}
    assert post(client, body, service_headers).status_code == 413


def test_notify_validates(client, service_headers):
    """POST /api/notify needs userId, type and message, nothing else."""
    assert post(client, {"userId": "u1", "type": "info"}, service_headers, "/api/notify").status_code == 422
    assert post(client, {"userId": "u1", "type": "i", "message": "m", "x": 1}, service_headers,
                "/api/notify").status_code == 422
    assert post(client, {"userId": "u1", "type": "i", "message": "m"}, service_headers,
                "/api/notify").status_code == 202
    for user_id in ("u1:x", "u 1", "", "u" * 101):  # not a name a room can be built from (servicekit.contract)
        assert post(client, {"userId": user_id, "type": "i", "message": "m"}, service_headers,
                    "/api/notify").status_code == 422


def test_names_in_the_context_follow_the_contract(client, service_headers):
    """The longest names user_management accepts are queued; a name on two lines is refused."""
    longest = {**INVITE["context"], "inviterName": "A" * 100 + " " + "B" * 100, "organizationName": "O" * 120}
    assert post(client, {**INVITE, "context": longest}, service_headers).status_code == 202
    for name in ("Ada\nBcc: eve@example.com", "Ada\n", "Ada\tLovelace", "A" * 202):
        response = post(client, {**INVITE, "context": {**INVITE["context"], "inviterName": name}}, service_headers)
        assert response.status_code == 422 and "inviterName" in response.get_json()["errors"]["context"]
