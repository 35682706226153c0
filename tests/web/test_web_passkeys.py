"""Passkeys in the web pages' cookie sessions, and the account page (in process)."""
from support.factory import PASSWORD
from support.webauthn import SoftwareAuthenticator
from web.helpers import REFRESH_COOKIE, refresh_cookie, session_post, set_cookie_header

ORIGIN = "http://localhost:3000"  # the testing config's FRONTEND_URL: the passkeys' origin


def _register(client, factory, user):
    authenticator = SoftwareAuthenticator(ORIGIN)
    headers = factory.headers(user)
    options = client.post("/api/auth/passkeys/register/options", json={"currentPassword": PASSWORD},
                          headers=headers).json["options"]
    response = client.post("/api/auth/passkeys", json={"credential": authenticator.create(options),
                                                                "name": "Phone"}, headers=headers)
    assert response.status_code == 201
    return authenticator


def test_passwordless_sign_in_sets_the_session_cookie(client, factory):
    """A passkey alone opens a cookie session: the refresh token in the HttpOnly cookie, not in the body."""
    user = factory.user("client_user")
    authenticator = _register(client, factory, user)
    options = client.post("/api/auth/passkey/login/options", json={}).json
    response = session_post(client, "/passkey", {"passkeyToken": options["passkeyToken"],
                                                 "credential": authenticator.get(options["options"])})
    assert response.status_code == 200, response.json
    assert "refreshToken" not in response.json and response.json["user"]["email"] == user.email
    cookie, raw = set_cookie_header(response, REFRESH_COOKIE)
    assert cookie is not None and "httponly" in cookie, raw
    assert refresh_cookie(client)


def test_second_step_with_a_passkey_sets_the_session_cookie(client, factory):
    """Password, then a passkey, through /web/session."""
    user = factory.user("client_user")
    authenticator = _register(client, factory, user)
    first = session_post(client, "", {"email": user.email, "password": PASSWORD}).json
    assert "passkey" in first["twoFactorMethods"]
    options = client.post("/api/auth/passkey/options", json={"twoFactorToken": first["twoFactorToken"]}).json
    response = session_post(client, "/verify-passkey", {"twoFactorToken": first["twoFactorToken"],
                                                        "credential": authenticator.get(options["options"])})
    assert response.status_code == 200, response.json
    assert refresh_cookie(client) and "refreshToken" not in response.json


def test_passkey_session_calls_need_our_origin_and_csrf_token(client, factory):
    """The cookie-session passkey endpoints refuse cross-site calls like every /web/session call."""
    user = factory.user("client_user")
    authenticator = _register(client, factory, user)
    options = client.post("/api/auth/passkey/login/options", json={}).json
    body = {"passkeyToken": options["passkeyToken"], "credential": authenticator.get(options["options"])}
    assert session_post(client, "/passkey", body, origin="https://evil.example").status_code == 403
    assert session_post(client, "/passkey", body, csrf="forged").status_code == 403
    assert session_post(client, "/verify-passkey", {}, origin="https://evil.example").status_code == 403


def test_account_page_and_login_page_offer_passkeys(client):
    """The account page holds the passkeys section; the login page offers a passkey sign-in."""
    page = client.get("/account/passkeys")
    assert page.status_code == 200 and b'id="passkeys-section"' in page.data
    assert b"passkeys.js" in page.data and "script-src 'self'" in page.headers["Content-Security-Policy"]
    login = client.get("/login")
    assert b'id="passkey-sign-in"' in login.data and b"passkeys.js" in login.data
