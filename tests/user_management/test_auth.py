"""Login, refresh rotation and reuse detection, logout, profile, rate limits."""
import threading

import bcrypt
import pytest
import time_machine

from user_management.controllers import auth_controller
from user_management.models import AuditEvent, RefreshToken, User
from user_management.utils.timeutil import utcnow

from support.factory import PASSWORD, Factory


def login(client, email, password=PASSWORD):
    return client.post("/api/auth/login", json={"email": email, "password": password})


@pytest.fixture
def admin(factory):
    return factory.user("super_admin", email="admin@example.test")


def test_login_returns_tokens_and_user_without_secrets(client, admin):
    response = login(client, "ADMIN@example.test ")
    assert response.status_code == 200
    body = response.json
    assert body["success"] is True and body["requiresTwoFactor"] is False
    assert body["accessToken"] and body["refreshToken"]
    assert body["user"]["email"] == "admin@example.test"
    assert body["user"]["role"] == "super_admin"
    assert "password" not in body["user"] and "passwordHash" not in body["user"]


def test_refresh_token_is_stored_only_as_digest(client, admin):
    token = login(client, admin.email).json["refreshToken"]
    stored = RefreshToken.objects.get(user=admin)
    assert stored.token_hash != token and token not in stored.token_hash
    assert len(token) >= 43  # 32 random bytes, base64url


def test_wrong_password_and_unknown_email_look_the_same(client, admin):
    wrong = login(client, admin.email, "Wrong-Password-1")
    unknown = login(client, "nobody@example.test", "Wrong-Password-1")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json == {"success": False, "message": "Invalid email or password"}


def test_unknown_email_still_runs_bcrypt(client, admin, monkeypatch):
    calls = []
    real_checkpw = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda *a: calls.append(1) or real_checkpw(*a))
    login(client, "nobody@example.test", "Wrong-Password-1")
    login(client, admin.email, "Wrong-Password-1")
    assert len(calls) == 2


def test_password_plus_one_character_fails(client, admin):
    assert login(client, admin.email, PASSWORD + "x").status_code == 401


def test_long_multibyte_password_works_end_to_end(client, factory):
    password = "Pässwörd-" + "ü" * 55  # 64 characters, well over bcrypt's 72 bytes
    user = factory.user("operator", password=password)
    assert login(client, user.email, password).status_code == 200
    assert login(client, user.email, password[:-1]).status_code == 401


def test_stored_hash_is_bcrypt(admin, app):
    assert admin.password_hash.startswith(f"$2b${app.config['BCRYPT_ROUNDS']:02d}$")


def test_deactivated_user_cannot_log_in(client, factory):
    user = factory.user("operator", is_active=False)
    response = login(client, user.email)
    assert response.status_code == 403
    assert "access_token" not in response.json and "accessToken" not in response.json


@pytest.mark.parametrize(
    "kwargs, status",
    [
        ({"data": "{not json", "content_type": "application/json"}, 400),
        ({"data": "[1, 2]", "content_type": "application/json"}, 400),
        ({"data": "email=a@b.c", "content_type": "application/x-www-form-urlencoded"}, 415),
        ({"json": {"email": "a@b.c"}}, 422),
        ({"json": {"email": "not-an-email", "password": "x"}}, 422),
        ({"json": {"email": "a@b.c", "password": "x", "role": "super_admin"}}, 422),
        ({"json": {"email": "a@b.c", "password": 12345}}, 422),
    ],
)
def test_bad_login_input_is_a_clear_4xx(client, kwargs, status):
    response = client.post("/api/auth/login", **kwargs)
    assert response.status_code == status
    assert response.json["success"] is False and response.json["message"]


def test_unknown_field_is_named_in_errors(client):
    response = client.post("/api/auth/login", json={"email": "a@b.c", "password": "x", "isAdmin": True})
    assert response.status_code == 422
    assert "isAdmin" in response.json["errors"]


def test_refresh_rotates_and_old_token_dies(client, admin):
    first = login(client, admin.email).json["refreshToken"]
    rotated = client.post("/api/auth/refresh", json={"refreshToken": first})
    assert rotated.status_code == 200
    second = rotated.json["refreshToken"]
    assert second != first and rotated.json["accessToken"]
    assert client.post("/api/auth/refresh", json={"refreshToken": first}).status_code == 401


def test_reused_refresh_token_revokes_the_whole_family(client, admin):
    first = login(client, admin.email).json["refreshToken"]
    other_session = login(client, admin.email).json["refreshToken"]
    second = client.post("/api/auth/refresh", json={"refreshToken": first}).json["refreshToken"]
    third = client.post("/api/auth/refresh", json={"refreshToken": second}).json["refreshToken"]

    reuse = client.post("/api/auth/refresh", json={"refreshToken": first})
    assert reuse.status_code == 401
    assert "reuse" in reuse.json["message"]
    # The newest descendant is dead too; another login's session is not.
    assert client.post("/api/auth/refresh", json={"refreshToken": third}).status_code == 401
    assert client.post("/api/auth/refresh", json={"refreshToken": other_session}).status_code == 200


def refresh_status(client, token):
    return client.post("/api/auth/refresh", json={"refreshToken": token}).status_code


@pytest.mark.parametrize("loser_runs", ["before the winner stores its token", "after the winner stored its token"])
def test_reuse_detected_during_a_refresh_kills_the_winners_new_token(app, client, admin, monkeypatch, loser_runs):
    """Two refreshes with one token: the loser's reuse alarm must also kill the token the winner is issuing."""
    token = login(client, admin.email).json["refreshToken"]
    real_open_session = auth_controller.open_session
    loser = {}

    def open_session_with_a_rival(*args, **kwargs):
        if loser_runs.startswith("before"):
            loser["status"] = refresh_status(app.test_client(), token)
        session = real_open_session(*args, **kwargs)
        if loser_runs.startswith("after"):
            loser["status"] = refresh_status(app.test_client(), token)
        loser["winner"] = session["refreshToken"]
        return session

    monkeypatch.setattr(auth_controller, "open_session", open_session_with_a_rival)
    winner = client.post("/api/auth/refresh", json={"refreshToken": token})
    monkeypatch.setattr(auth_controller, "open_session", real_open_session)
    assert loser["status"] == 401 and winner.status_code == 401 and "reuse" in winner.json["message"]
    assert refresh_status(client, loser["winner"]) == 401


def test_no_refresh_token_survives_parallel_reuse(app_factory, atomic_writes):
    """50 trials of two simultaneous refreshes with one token: every token they issued is dead afterwards."""
    app = app_factory(RATELIMIT_ENABLED=False)  # 250 requests from one test IP
    with app.app_context():
        admin = Factory(app).user("super_admin")
    survivors = 0
    for _ in range(50):
        token = login(app.test_client(), admin.email).json["refreshToken"]
        barrier = threading.Barrier(2)
        issued = []

        def attempt():
            with app.app_context():
                client = app.test_client()
                barrier.wait()
                response = client.post("/api/auth/refresh", json={"refreshToken": token})
                if response.status_code == 200:
                    issued.append(response.json["refreshToken"])

        threads = [threading.Thread(target=attempt) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        survivors += sum(refresh_status(app.test_client(), new) == 200 for new in issued)
    assert survivors == 0


def test_refreshing_a_signed_out_session_is_not_a_reuse_alarm(client, factory):
    """After logout, logout-all or deactivation the refresh is refused and audited as such, not as a theft."""
    user = factory.user("operator")
    logged_out = login(client, user.email).json["refreshToken"]
    client.post("/api/auth/logout", json={"refreshToken": logged_out})
    assert refresh_status(client, logged_out) == 401
    deactivated = login(client, user.email).json["refreshToken"]
    operator_admin = factory.user("site_admin")
    client.patch(f"/api/users/{user.id}/status", json={"isActive": False}, headers=factory.headers(operator_admin))
    response = client.post("/api/auth/refresh", json={"refreshToken": deactivated})
    assert response.status_code == 401 and "reuse" not in response.json["message"]
    types = [event.type for event in AuditEvent.objects(target_id=str(user.id))]
    assert "refresh_token.reuse_detected" not in types
    assert types.count("refresh_token.revoked_presented") == 2


def test_refresh_token_expires_after_seven_days(client, admin):
    token = login(client, admin.email).json["refreshToken"]
    with time_machine.travel(utcnow().timestamp() + 7 * 24 * 3600 + 60):
        assert client.post("/api/auth/refresh", json={"refreshToken": token}).status_code == 401


def test_refresh_family_has_an_absolute_lifetime(client, app, admin):
    app.config["REFRESH_FAMILY_MAX_AGE"] = app.config["JWT_REFRESH_EXPIRES"] * 2
    token = login(client, admin.email).json["refreshToken"]
    start = utcnow().timestamp()
    for day in (6, 12):
        with time_machine.travel(start + day * 24 * 3600):
            token = client.post("/api/auth/refresh", json={"refreshToken": token}).json["refreshToken"]
    with time_machine.travel(start + 14 * 24 * 3600 + 60):
        assert client.post("/api/auth/refresh", json={"refreshToken": token}).status_code == 401


def test_unknown_refresh_token_is_401(client):
    response = client.post("/api/auth/refresh", json={"refreshToken": "made-up"})
    assert response.status_code == 401 and response.json["success"] is False


def test_refresh_for_deactivated_user_fails(client, factory):
    user = factory.user("operator")
    token = login(client, user.email).json["refreshToken"]
    User.objects(id=user.id).update_one(set__is_active=False)
    assert client.post("/api/auth/refresh", json={"refreshToken": token}).status_code == 401


def test_logout_revokes_the_session(client, admin):
    token = login(client, admin.email).json["refreshToken"]
    assert client.post("/api/auth/logout", json={"refreshToken": token}).status_code == 200
    assert client.post("/api/auth/refresh", json={"refreshToken": token}).status_code == 401


def test_logout_all_ends_refresh_and_access_tokens(client, admin):
    one = login(client, admin.email).json
    two = login(client, admin.email).json
    headers = {"Authorization": f"Bearer {one['accessToken']}"}
    assert client.post("/api/auth/logout-all", headers=headers).status_code == 200
    for session in (one, two):
        assert client.post("/api/auth/refresh", json={"refreshToken": session["refreshToken"]}).status_code == 401
        profile = client.get("/api/auth/profile", headers={"Authorization": f"Bearer {session['accessToken']}"})
        assert profile.status_code == 401
    assert login(client, admin.email).status_code == 200


def test_profile_requires_a_valid_access_token(client, admin, factory):
    assert client.get("/api/auth/profile").status_code == 401
    assert client.get("/api/auth/profile", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    response = client.get("/api/auth/profile", headers=factory.headers(admin))
    assert response.status_code == 200 and response.json["user"]["id"] == str(admin.id)


def test_expired_access_token_is_refused(client, admin, factory):
    headers = factory.headers(admin)
    with time_machine.travel(utcnow().timestamp() + 15 * 60 + 5):
        response = client.get("/api/auth/profile", headers=headers)
    assert response.status_code == 401 and response.json["message"] == "Access token expired"


def test_refresh_token_is_not_an_access_token(client, admin):
    refresh_token = login(client, admin.email).json["refreshToken"]
    response = client.get("/api/auth/profile", headers={"Authorization": f"Bearer {refresh_token}"})
    assert response.status_code == 401


def test_token_signed_with_none_algorithm_is_refused(client, admin):
    import jwt as pyjwt

    forged = pyjwt.encode({"sub": str(admin.id), "type": "access", "tv": 0, "role": "super_admin"}, key=None,
                          algorithm="none")
    assert client.get("/api/auth/profile", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_five_failed_logins_per_ip_then_429(client, admin):
    for _ in range(5):
        assert login(client, admin.email, "Wrong-Password-1").status_code == 401
    blocked = login(client, admin.email)
    assert blocked.status_code == 429
    assert blocked.json["success"] is False and blocked.headers.get("Retry-After")


def test_successful_logins_do_not_count_toward_the_login_limit(client, admin):
    for _ in range(8):
        assert login(client, admin.email).status_code == 200
    assert login(client, admin.email, "Wrong-Password-1").status_code == 401


def test_login_limit_is_per_ip(client, admin):
    for _ in range(5):
        login(client, admin.email, "Wrong-Password-1")
    other_ip = client.post("/api/auth/login", json={"email": admin.email, "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other_ip.status_code == 200


def test_api_allows_100_requests_per_15_minutes_per_ip_without_a_token(client):
    for _ in range(100):
        assert client.get("/api/auth/profile").status_code == 401
    limited = client.get("/api/auth/profile", headers={"Authorization": "Bearer not-a-token"})
    assert limited.status_code == 429 and limited.json["success"] is False
    assert client.get("/health").status_code == 200  # health checks are never limited
