"""Cookie sessions of the web pages (/web/session): cookie flags, CSRF and Origin checks, rotation, 2FA."""
import re

import pyotp
import pytest

from support.factory import PASSWORD, Factory
from support.two_factor import last_otp
from user_management.models import RefreshToken
from web.helpers import (CSRF_COOKIE, ORIGIN, REFRESH_COOKIE, csrf_token, refresh_cookie, session_post,
                         set_cookie_header)


@pytest.fixture
def admin(factory):
    return factory.user("super_admin")


def login(client, user, password=PASSWORD, **kwargs):
    return session_post(client, "", {"email": user.email, "password": password}, **kwargs)


def profile(client, access_token):
    return client.get("/api/auth/profile", headers={"Authorization": f"Bearer {access_token}"})


# --- the cookie ------------------------------------------------------------------------------------------------


def test_login_sets_an_httponly_strict_cookie_scoped_to_the_session_path(client, admin):
    response = login(client, admin)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["success"] is True and body["requiresTwoFactor"] is False
    assert body["user"]["email"] == admin.email
    assert "refreshToken" not in body, "the refresh token must never reach page scripts"
    assert profile(client, body["accessToken"]).status_code == 200
    cookie, raw = set_cookie_header(response, REFRESH_COOKIE)
    assert cookie is not None, response.headers
    assert "httponly" in cookie, raw
    assert cookie["samesite"] == "Strict", raw
    assert cookie["path"] == "/web/session", raw
    assert "secure" not in cookie, raw  # plain http outside production
    assert int(cookie["max-age"]) == 7 * 24 * 3600, raw
    assert response.headers["Cache-Control"] == "no-store"
    stored = RefreshToken.objects(user=admin).first()
    assert stored is not None and cookie["value"] not in (stored.token_hash,)


def test_cookies_are_secure_in_production_like_settings(app_factory):
    app = app_factory(FORCE_HTTPS=True)
    with app.app_context():
        admin = Factory(app).user("super_admin")
        client = app.test_client()
        page = client.get("/login", base_url="https://localhost")
        csrf, raw = set_cookie_header(page, CSRF_COOKIE)
        assert "secure" in csrf and csrf["samesite"] == "Strict" and csrf["path"] == "/", raw
        assert "httponly" not in csrf, "the page script must read the CSRF token"
        response = client.post("/web/session", json={"email": admin.email, "password": PASSWORD},
                               base_url="https://localhost",
                               headers={"Origin": "https://localhost", "X-CSRF-Token": csrf["value"]})
        assert response.status_code == 200, response.json
        cookie, raw = set_cookie_header(response, REFRESH_COOKIE)
        assert "secure" in cookie and "httponly" in cookie and cookie["samesite"] == "Strict", raw


def test_a_wrong_password_sets_no_cookie(client, admin):
    response = login(client, admin, password="Wrong-Password-1")
    assert response.status_code == 401
    assert response.json == {"success": False, "message": "Invalid email or password"}
    assert set_cookie_header(response, REFRESH_COOKIE) == (None, None)


# --- CSRF and Origin --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["", "/refresh", "/logout", "/verify-otp", "/verify-totp",
                                  "/verify-recovery-code", "/totp-confirm", "/change-password"])
def test_every_session_endpoint_refuses_a_request_without_the_csrf_token(client, admin, path):
    response = session_post(client, path, {"email": admin.email, "password": PASSWORD}, csrf=None)
    assert response.status_code == 403
    assert response.json == {"success": False, "message": "Cross-site request refused"}


@pytest.mark.parametrize("csrf", ["wrong-token", " "])
def test_a_wrong_csrf_token_is_refused(client, admin, csrf):
    csrf_token(client)
    assert login(client, admin, csrf=csrf).status_code == 403


def test_the_csrf_header_without_its_cookie_is_refused(client, admin):
    token = csrf_token(client)
    client.delete_cookie(CSRF_COOKIE)
    assert login(client, admin, csrf=token).status_code == 403


@pytest.mark.parametrize("origin", ["https://evil.example", "http://localhost.evil.example", "null",
                                    "http://localhost:8080", "https://localhost"])
def test_a_foreign_origin_is_refused(client, admin, origin):
    assert login(client, admin, origin=origin).status_code == 403


def test_without_origin_the_referer_decides(client, admin):
    assert login(client, admin, origin=None).status_code == 403
    assert login(client, admin, origin=None, headers={"Referer": "https://evil.example/login"}).status_code == 403
    assert login(client, admin, origin=None, headers={"Referer": f"{ORIGIN}/login"}).status_code == 200


def test_frontend_url_is_an_allowed_origin(app_factory):
    app = app_factory(FRONTEND_URL="https://console.example.test")
    with app.app_context():
        admin = Factory(app).user("super_admin")
        client = app.test_client()
        assert login(client, admin, origin="https://console.example.test").status_code == 200
        assert login(client, admin, origin="https://other.example.test").status_code == 403


def test_refresh_refuses_a_cross_site_request_and_keeps_the_session(client, admin):
    login(client, admin)
    before = refresh_cookie(client)
    assert session_post(client, "/refresh", origin="https://evil.example").status_code == 403
    assert session_post(client, "/refresh", csrf="forged").status_code == 403
    assert refresh_cookie(client) == before
    assert session_post(client, "/refresh").status_code == 200


def test_the_json_api_is_unchanged(client, admin):
    """Other clients keep sending the refresh token in the body, with no cookie or CSRF token."""
    body = client.post("/api/auth/login", json={"email": admin.email, "password": PASSWORD}).json
    assert body["refreshToken"]
    rotated = client.post("/api/auth/refresh", json={"refreshToken": body["refreshToken"]})
    assert rotated.status_code == 200 and rotated.json["refreshToken"]
    assert set_cookie_header(rotated, REFRESH_COOKIE) == (None, None)


# --- refresh and logout -----------------------------------------------------------------------------------------


def test_a_password_change_replaces_this_sessions_cookie_and_ends_the_others(client, admin):
    other = client.application.test_client()
    assert login(other, admin).status_code == 200
    access = login(client, admin).json["accessToken"]
    before = refresh_cookie(client)
    body = {"currentPassword": PASSWORD, "newPassword": "Velvet-Tractor-Orbit-9"}
    response = session_post(client, "/change-password", body, headers={"Authorization": f"Bearer {access}"})
    assert response.status_code == 200, response.json
    assert "refreshToken" not in response.json and response.json["accessToken"]
    assert refresh_cookie(client) not in (None, before)
    assert session_post(client, "/refresh").status_code == 200
    assert session_post(other, "/refresh").status_code == 401


def test_a_password_change_needs_the_current_password_and_a_token(client, admin):
    access = login(client, admin).json["accessToken"]
    body = {"currentPassword": "Not-The-Password-1", "newPassword": "Velvet-Tractor-Orbit-9"}
    wrong = session_post(client, "/change-password", body, headers={"Authorization": f"Bearer {access}"})
    assert wrong.status_code == 422 and "currentPassword" in wrong.json.get("errors", {}), wrong.json
    assert session_post(client, "/change-password", body).status_code == 401
    assert session_post(client, "/refresh").status_code == 200


def test_password_changes_share_one_budget_across_api_and_web(client, admin, app):
    """The console's cookie route is no second budget for password changes (RATELIMIT_PASSWORD_CHANGE)."""
    access = login(client, admin).json["accessToken"]
    headers = {"Authorization": f"Bearer {access}"}
    weak = {"currentPassword": PASSWORD, "newPassword": "short"}  # refused by the schema: no lockout, no change
    budget = int(app.config["RATELIMIT_PASSWORD_CHANGE"].split()[0])
    for index in range(budget):
        if index % 2:
            response = session_post(client, "/change-password", weak, headers=headers)
        else:
            response = client.post("/api/auth/change-password", json=weak, headers=headers)
        assert response.status_code == 422, response.json
    assert client.post("/api/auth/change-password", json=weak, headers=headers).status_code == 429
    assert session_post(client, "/change-password", weak, headers=headers).status_code == 429


@pytest.mark.parametrize("path", ["/no-such-page", "/console/extra", "/organizations/a/b"])
def test_an_unknown_page_is_html_with_a_link_home(client, path):
    response = client.get(path, headers={"Accept": "text/html,application/xhtml+xml"})
    assert response.status_code == 404 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Page not found" in html and 'href="/console"' in html
    assert "style-src 'self'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/api/no-such-thing", "/web/session/nothing", "/web/static/missing.js"])
def test_unknown_api_paths_keep_the_json_404(client, path):
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 404 and response.json == {"success": False, "message": "Not found"}


def test_refresh_rotates_the_cookie_and_returns_a_fresh_access_token(client, admin):
    login(client, admin)
    first = refresh_cookie(client)
    response = session_post(client, "/refresh")
    assert response.status_code == 200, response.json
    assert "refreshToken" not in response.json
    assert response.json["user"]["id"] == str(admin.id)
    assert profile(client, response.json["accessToken"]).status_code == 200
    cookie, raw = set_cookie_header(response, REFRESH_COOKIE)
    assert "httponly" in cookie and cookie["samesite"] == "Strict" and cookie["path"] == "/web/session", raw
    second = refresh_cookie(client)
    assert second and second != first
    assert session_post(client, "/refresh").status_code == 200
    assert refresh_cookie(client) not in (first, second)


def test_replaying_a_rotated_cookie_ends_the_whole_session(client, admin):
    login(client, admin)
    stolen = refresh_cookie(client)
    assert session_post(client, "/refresh").status_code == 200
    current = refresh_cookie(client)
    client.set_cookie(REFRESH_COOKIE, stolen, path="/web/session")
    replay = session_post(client, "/refresh")
    assert replay.status_code == 401
    assert "reuse" in replay.json["message"].lower()
    cleared, raw = set_cookie_header(replay, REFRESH_COOKIE)
    assert cleared is not None and cleared["value"] == "" and cleared["path"] == "/web/session", raw
    client.set_cookie(REFRESH_COOKIE, current, path="/web/session")
    assert session_post(client, "/refresh").status_code == 401, "the family is revoked"


def test_refresh_without_a_cookie_is_401(client):
    response = session_post(client, "/refresh")
    assert response.status_code == 401
    assert response.json == {"success": False, "message": "No session; please log in"}


def test_logout_ends_the_session_and_clears_the_cookie(client, admin):
    login(client, admin)
    token = refresh_cookie(client)
    response = session_post(client, "/logout")
    assert response.status_code == 200 and response.json["success"] is True
    cleared, raw = set_cookie_header(response, REFRESH_COOKIE)
    assert cleared["value"] == "" and cleared["path"] == "/web/session" and "httponly" in cleared, raw
    assert refresh_cookie(client) is None
    client.set_cookie(REFRESH_COOKIE, token, path="/web/session")
    assert session_post(client, "/refresh").status_code == 401


def test_logout_without_a_session_still_answers_200(client):
    assert session_post(client, "/logout").status_code == 200


# --- second factor ----------------------------------------------------------------------------------------------


def test_an_otp_login_sets_the_cookie_only_after_the_code(client, factory, outbox):
    member = factory.user("client_admin")
    challenge = login(client, member)
    assert challenge.status_code == 200
    assert challenge.json["requiresTwoFactor"] is True and challenge.json["twoFactorMethod"] == "otp"
    assert "accessToken" not in challenge.json
    assert set_cookie_header(challenge, REFRESH_COOKIE) == (None, None)
    wrong = session_post(client, "/verify-otp", {"twoFactorToken": challenge.json["twoFactorToken"], "otp": "000000"})
    if last_otp(outbox, member) != "000000":
        assert wrong.status_code == 401 and set_cookie_header(wrong, REFRESH_COOKIE) == (None, None)
    response = session_post(client, "/verify-otp", {"twoFactorToken": challenge.json["twoFactorToken"],
                                                    "otp": last_otp(outbox, member)})
    assert response.status_code == 200, response.json
    assert "refreshToken" not in response.json and response.json["accessToken"]
    assert refresh_cookie(client)
    assert session_post(client, "/refresh").status_code == 200


def test_first_time_totp_enrollment_during_login(client, factory, outbox):
    organization = factory.organization(two_factor_method="totp")
    member = factory.user("client_user", organization=organization)
    challenge = login(client, member).json
    assert challenge["requiresTotpSetup"] is True
    emailed = outbox("otp", to=member.email)[-1].context["code"]
    setup = client.post("/api/auth/totp/setup", json={"twoFactorToken": challenge["twoFactorToken"], "otp": emailed})
    assert setup.status_code == 200 and setup.json["qrCode"].startswith("data:image/png;base64,")
    code = pyotp.TOTP(setup.json["secret"]).now()
    response = session_post(client, "/totp-confirm", {"twoFactorToken": challenge["twoFactorToken"], "token": code})
    assert response.status_code == 200, response.json
    assert len(response.json["recoveryCodes"]) == 10
    assert "refreshToken" not in response.json and profile(client, response.json["accessToken"]).status_code == 200
    assert refresh_cookie(client)
    recovery = response.json["recoveryCodes"][0]

    session_post(client, "/logout")
    challenge = login(client, member).json
    assert challenge["twoFactorMethod"] == "totp" and not challenge.get("requiresTotpSetup")
    response = session_post(client, "/verify-recovery-code",
                            {"twoFactorToken": challenge["twoFactorToken"], "code": recovery})
    assert response.status_code == 200, response.json
    assert response.json["recoveryCodesRemaining"] == 9 and refresh_cookie(client)


def test_totp_confirm_needs_the_login_challenge(client, admin):
    response = session_post(client, "/totp-confirm", {"token": "123456"})
    assert response.status_code == 422
    assert "twoFactorToken" in response.json["errors"]


# --- pages ------------------------------------------------------------------------------------------------------


PAGES = ["/login", "/forgot-password", "/reset-password?token=abc", "/accept-invite?token=abc", "/console",
         "/account", "/account/passkeys", "/users", "/organizations", "/organizations/abc", "/audit"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_their_own_csp(client, path):
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "text/html"
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self' http://127.0.0.1:4000 ws://127.0.0.1:4000"
    assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'none'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", html), "inline event handler"
    assert not re.search(r"\sstyle\s*=", html), "inline style"
    csrf, raw = set_cookie_header(response, CSRF_COOKIE)
    assert csrf and csrf["samesite"] == "Strict" and "httponly" not in csrf, raw


def test_connect_src_follows_notifications_public_url(app_factory):
    app = app_factory(NOTIFICATIONS_PUBLIC_URL="https://live.example.test")
    with app.app_context():
        policy = app.test_client().get("/console").headers["Content-Security-Policy"]
    assert "connect-src 'self' https://live.example.test wss://live.example.test;" in policy
    page = app.test_client().get("/console").get_data(as_text=True)
    assert "https://live.example.test" in page


def test_the_api_keeps_its_own_csp(client):
    assert client.get("/health").headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_pages_and_their_files_do_not_use_the_api_budget(client):
    """Pages are not API calls; the session endpoints are (the limiter reports the budget it counted against)."""
    for path in ("/login", "/console", "/web/static/common.js", "/web/static/vendor/socket.io.min.js"):
        response = client.get(path)
        assert response.status_code == 200
        assert "X-RateLimit-Limit" not in response.headers, path
    assert "X-RateLimit-Limit" in session_post(client, "/refresh").headers
    assert "X-RateLimit-Limit" in client.get("/api/auth/profile").headers


def test_the_socket_io_client_is_served_locally(client):
    response = client.get("/web/static/vendor/socket.io.min.js")
    assert response.status_code == 200
    assert b"Socket.IO v4" in response.data[:200]
    assert client.get("/web/static/vendor/socket.io.LICENSE").status_code == 200


def test_home_goes_to_the_console(client):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/console")


def test_failed_logins_share_one_budget_across_api_and_web(client):
    """Five failures split between the JSON API and the web console exhaust the same per-IP budget."""
    for index in range(3):
        bad = {"email": f"nobody{index}@example.test", "password": "Wrong-Password-1"}
        assert client.post("/api/auth/login", json=bad).status_code == 401
    for index in range(3, 5):
        bad = {"email": f"nobody{index}@example.test", "password": "Wrong-Password-1"}
        assert session_post(client, "", bad).status_code == 401
    bad = {"email": "nobody9@example.test", "password": "Wrong-Password-1"}
    assert client.post("/api/auth/login", json=bad).status_code == 429
    assert session_post(client, "", bad).status_code == 429
