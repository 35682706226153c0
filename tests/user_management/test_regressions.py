"""Regressions found while testing from the OpenAPI contract (tests/contract), one test per finding."""
import pytest

LONE_SURROGATE = '"\\ud800"'  # valid JSON text, but no UTF-8 string: hashing or BSON-encoding it raised


@pytest.mark.parametrize("path, body", [
    ("/api/auth/refresh", '{"refreshToken": %s}'),
    ("/api/auth/logout", '{"refreshToken": %s}'),
    ("/api/auth/reset-password", '{"token": %s, "password": "Lantern-Quartz-Orbit-7x"}'),
    ("/api/invites/accept", '{"token": %s, "firstName": "Ada", "lastName": "Byron", "password": "Lantern-Quartz-Orbit-7x"}'),
    ("/api/auth/verify-otp", '{"twoFactorToken": %s, "otp": "123456"}'),
    ("/api/auth/login", '{"email": "someone@example.test", "password": %s}'),
    ("/api/auth/forgot-password", '{"email": "someone@example.test", %s: 1}'),
])
def test_lone_surrogate_in_json_is_a_400_not_a_500(client, path, body):
    """`{"refreshToken": "\\ud800"}` crashed token hashing (UnicodeEncodeError, 500); on a real MongoDB any
    such string crashed BSON encoding. The body is now refused as malformed JSON."""
    response = client.post(path, data=body % LONE_SURROGATE, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json() == {"success": False, "message": "Malformed JSON body"}


def test_lone_surrogate_in_a_known_users_password_is_refused(client, factory):
    """The password check encodes the password; a known account must not turn the crash into a 500 either."""
    user = factory.user("operator")
    body = '{"email": "%s", "password": %s}' % (user.email, LONE_SURROGATE)
    assert client.post("/api/auth/login", data=body, content_type="application/json").status_code == 400


def test_paired_surrogates_and_other_unicode_still_work(client):
    """An emoji arrives as a surrogate pair in JSON: that is valid and must still reach validation."""
    body = '{"refreshToken": "\\ud83d\\ude00 caf\\u00e9"}'
    response = client.post("/api/auth/refresh", data=body, content_type="application/json")
    assert response.status_code == 401


# Security round two (issue 12, item 8): bodies that crashed into a 500.

DEEPLY_NESTED = "[" * 3000 + "]" * 3000


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/invites/accept", "/api/auth/forgot-password"])
def test_deeply_nested_json_is_a_400_not_a_500(client, path):
    """3,000 nested arrays exhausted the JSON decoder's recursion (RecursionError, 500)."""
    response = client.post(path, data=DEEPLY_NESTED, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["success"] is False and "nested" in response.get_json()["message"]


def test_moderately_nested_json_still_reaches_validation(client):
    """A few levels of nesting are an ordinary wrong body: 422 naming the field, not a 400."""
    response = client.post("/api/auth/login", json={"email": [[[["x"]]]], "password": "p"})
    assert response.status_code == 422 and "email" in response.get_json()["errors"]


@pytest.mark.parametrize("name", ["   ", "Acme\r\nBcc: victim@example.test", "Acme\u2028Corp", "x" * 121])
def test_blank_or_control_character_organization_name_is_a_422(client, factory, name):
    """`PUT /api/organization {"name": "   "}` raised mongoengine's ValidationError (500)."""
    admin = factory.user("client_admin")
    response = client.put("/api/organization", json={"name": name}, headers=factory.headers(admin))
    assert response.status_code == 422 and "name" in response.get_json()["errors"]
    admin.organization.reload()
    assert admin.organization.name != name
