"""Sessions: list your signed-in sessions, end one (its tokens and sockets die at once), edit your names."""
import pytest
import redis

from servicekit import revocation
from user_management.models import AuditEvent
from user_management.models import audit_event as events

from support.factory import PASSWORD
from support.redis_store import REDIS_URL


def login(client, user, agent="Browser A"):
    response = client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD},
                           headers={"User-Agent": agent})
    assert response.status_code == 200, response.json
    return response.json


def bearer(session):
    return {"Authorization": f"Bearer {session['accessToken']}"}


def test_two_logins_are_two_sessions_and_ending_one_leaves_the_other(client, factory, redis_prefix):
    user = factory.user("operator")
    first, second = login(client, user, "Browser A"), login(client, user, "Browser B")
    listed = client.get("/api/auth/sessions", headers=bearer(first))
    assert listed.status_code == 200
    sessions = listed.json["sessions"]
    assert [s["userAgent"] for s in sessions] == ["Browser B", "Browser A"]  # most recently used first
    assert [s["current"] for s in sessions] == [False, True]
    assert sessions[0]["ipAddress"] == "127.0.0.1" and sessions[0]["createdAt"].endswith("Z")
    other = sessions[0]["id"]

    assert client.post("/api/auth/refresh", json={"refreshToken": second["refreshToken"]}).status_code == 200
    response = client.delete(f"/api/auth/sessions/{other}", headers=bearer(first))
    assert response.status_code == 200 and response.json == {"success": True, "message": "Session signed out"}
    assert client.get("/api/auth/profile", headers=bearer(second)).status_code == 401
    assert client.post("/api/auth/refresh", json={"refreshToken": second["refreshToken"]}).status_code == 401
    assert client.get("/api/auth/profile", headers=bearer(first)).status_code == 200
    assert [s["current"] for s in client.get("/api/auth/sessions", headers=bearer(first)).json["sessions"]] == [True]

    # The record every worker (and notifications) reads names the ended session.
    state = revocation.read(redis.Redis.from_url(REDIS_URL), redis_prefix, str(user.id))
    assert other in state.ended_sessions
    event = AuditEvent.objects(type=events.SESSION_ENDED).get()
    assert event.actor_id == str(user.id) and event.details == {"sessionId": other, "current": False}
    # Ended, so gone: a second DELETE is 404.
    assert client.delete(f"/api/auth/sessions/{other}", headers=bearer(first)).status_code == 404


def test_without_the_redis_record_mongodb_still_refuses_an_ended_session(client, factory, redis_prefix):
    user = factory.user("operator")
    first, second = login(client, user), login(client, user)
    sid = client.get("/api/auth/sessions", headers=bearer(first)).json["sessions"][0]["id"]
    assert client.delete(f"/api/auth/sessions/{sid}", headers=bearer(first)).status_code == 200
    redis.Redis.from_url(REDIS_URL).delete(revocation.user_key(redis_prefix, str(user.id)))
    assert client.get("/api/auth/profile", headers=bearer(second)).status_code == 401
    assert client.get("/api/auth/profile", headers=bearer(first)).status_code == 200


def test_ending_the_current_session_signs_the_caller_out(client, factory):
    session = login(client, factory.user("site_admin"))
    sid = client.get("/api/auth/sessions", headers=bearer(session)).json["sessions"][0]["id"]
    assert client.delete(f"/api/auth/sessions/{sid}", headers=bearer(session)).status_code == 200
    assert client.get("/api/auth/profile", headers=bearer(session)).status_code == 401


def test_logout_also_refuses_that_sessions_access_token(client, factory):
    user = factory.user("operator")
    session, other = login(client, user), login(client, user)
    assert client.post("/api/auth/logout", json={"refreshToken": session["refreshToken"]}).status_code == 200
    assert client.get("/api/auth/profile", headers=bearer(session)).status_code == 401
    assert client.get("/api/auth/profile", headers=bearer(other)).status_code == 200


def test_another_users_or_unknown_session_is_404(client, factory):
    mine, theirs = login(client, factory.user("operator")), login(client, factory.user("operator"))
    their_sid = client.get("/api/auth/sessions", headers=bearer(theirs)).json["sessions"][0]["id"]
    for sid in (their_sid, "nope", "f" * 32):
        response = client.delete(f"/api/auth/sessions/{sid}", headers=bearer(mine))
        assert response.status_code == 404 and response.json == {"success": False, "message": "Session not found"}
    assert client.get("/api/auth/profile", headers=bearer(theirs)).status_code == 200


def test_sessions_need_a_token(client):
    assert client.get("/api/auth/sessions").status_code == 401
    assert client.delete("/api/auth/sessions/x").status_code == 401


def test_profile_update_changes_only_the_given_names(client, factory):
    user = factory.user("client_user")
    response = client.patch("/api/auth/profile", json={"firstName": "  Bea "}, headers=factory.headers(user))
    assert response.status_code == 200, response.json
    assert response.json["message"] == "Profile updated"
    assert (response.json["user"]["firstName"], response.json["user"]["lastName"]) == ("Bea", "Tester")
    event = AuditEvent.objects(type=events.PROFILE_UPDATED).get()
    assert event.target_id == str(user.id) and event.details == {"fields": ["firstName"]}


@pytest.mark.parametrize("body", [{}, {"firstName": ""}, {"lastName": "x" * 200}, {"firstName": 7},
                                  {"firstName": "Bea", "role": "super_admin"}, {"email": "me@x.test"}])
def test_profile_update_refuses_bad_input(client, factory, body):
    response = client.patch("/api/auth/profile", json=body, headers=factory.headers(factory.user("operator")))
    assert response.status_code == 422 and response.json["success"] is False
