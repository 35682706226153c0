"""The authenticated request path: one token decode, the Redis revocation record instead of MongoDB, budgets per user.

An access token is checked against the user's record in Redis (servicekit.revocation), which every change
writes before it answers, so a revocation made through one app instance holds at once on every other.
"""
import jwt as pyjwt
import pytest
import redis
from flask_jwt_extended import create_access_token, current_user

from servicekit import revocation
from user_management.extensions import limiter
from user_management.middleware import auth as auth_middleware
from user_management.middleware.auth import auth_required
from user_management.models import User
from user_management.services import sessions
from user_management.services.sessions import end_all_sessions, remember_user_state
from user_management.utils.redis_client import get_redis

from support.factory import PASSWORD, Factory
from support.jwks import keyset_file
from support.redis_store import REDIS_URL, UNREACHABLE_REDIS_URL
from support.two_factor import bearer


def profile(client, headers):
    return client.get("/api/auth/profile", headers=headers)


def record_of(app, user):
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        return client.hgetall(revocation.user_key(app.config["SHARED_KEY_PREFIX"], user.id)) or None
    finally:
        client.close()


class Counter:
    """Counts calls of a function it wraps (by name of the first argument when `by_first` is set)."""

    def __init__(self, function, by_first=False):
        self.function, self.by_first, self.calls = function, by_first, []

    def __call__(self, *args, **kwargs):
        self.calls.append(args[0] if self.by_first else None)
        return self.function(*args, **kwargs)


@pytest.fixture
def member(factory):
    return factory.user("client_admin", organization=factory.organization())


def test_one_token_decode_per_request(app, client, factory, member, monkeypatch):
    headers = factory.headers(member)
    assert profile(client, headers).status_code == 200
    decodes = Counter(pyjwt.decode)
    monkeypatch.setattr(pyjwt, "decode", decodes)
    assert profile(client, headers).status_code == 200
    assert len(decodes.calls) == 1  # the rate limiter's key and the token check share it


def test_the_token_check_reads_redis_not_mongodb_and_the_user_only_when_used(app_factory, monkeypatch):
    app = app_factory()
    calls = []

    @app.get("/test-only/whoami-not")
    @auth_required()
    def no_user_needed():
        return {"ok": True}

    @app.get("/test-only/whoami")
    @auth_required()
    def user_needed():
        return {"email": current_user.email}

    with app.app_context():
        user = Factory(app).user("operator")
        remember_user_state(user)  # as at login
        headers = Factory(app).headers(user)
    reads = Counter(lambda *args: calls.append(args) or User.objects(id=args[1]).first())
    monkeypatch.setattr(auth_middleware, "get_by_id", reads)
    monkeypatch.setattr(sessions, "get_by_id", reads)
    client = app.test_client()
    assert client.get("/test-only/whoami-not", headers=headers).status_code == 200
    assert calls == []
    assert client.get("/test-only/whoami", headers=headers).json == {"email": user.email}
    assert len(calls) == 1  # the view reads current_user: loaded then, once


def test_revocation_through_one_instance_holds_at_once_on_another(app_factory, tmp_path):
    keys = str(keyset_file(tmp_path))  # two workers of one deployment: one keyset
    first, second = app_factory(JWT_SIGNING_KEYS=keys), app_factory(JWT_SIGNING_KEYS=keys)
    with first.app_context():
        user = Factory(first).user("operator")
        remember_user_state(user)
        headers = Factory(first).headers(user)
    assert profile(second.test_client(), headers).status_code == 200
    with first.app_context():
        end_all_sessions(user)
    refused = profile(second.test_client(), headers)
    assert refused.status_code == 401 and refused.json["message"] == "Access token revoked"


def test_the_record_is_the_authority_while_it_exists(app, client, factory, member):
    headers = factory.headers(member)
    remember_user_state(member)
    prefix = app.config["SHARED_KEY_PREFIX"]
    revocation.write(get_redis(), prefix, member.id, revocation.UserState(member.token_version + 1, True, True), 60)
    assert profile(client, headers).status_code == 401  # MongoDB still has the old version: not asked


@pytest.mark.parametrize("field, value", [("active", "0"), ("orgActive", "0")])
def test_an_inactive_user_or_organization_in_the_record_refuses_the_token(app, client, factory, member, field,
                                                                            value):
    headers = factory.headers(member)
    remember_user_state(member)
    get_redis().hset(revocation.user_key(app.config["SHARED_KEY_PREFIX"], member.id), field, value)
    assert profile(client, headers).status_code == 401


def test_an_ended_session_in_the_record_refuses_only_that_sessions_tokens(app, client, member):
    remember_user_state(member)
    member.reload()
    ended = create_access_token(identity=member, additional_claims={"sid": "ended-one"})
    other = create_access_token(identity=member, additional_claims={"sid": "still-open"})
    revocation.end_session(get_redis(), app.config["SHARED_KEY_PREFIX"], member.id, "ended-one", 60)
    assert profile(client, bearer(ended)).status_code == 401
    assert profile(client, bearer(other)).status_code == 200


def test_a_missing_record_is_rebuilt_from_mongodb(app, client, factory, member):
    headers = factory.headers(member)
    assert record_of(app, member) is None
    assert profile(client, headers).status_code == 200
    assert record_of(app, member)["tv"] == str(member.token_version)
    User.objects(id=member.id).update_one(set__is_active=False)  # without a record write: the record stands
    get_redis().delete(revocation.user_key(app.config["SHARED_KEY_PREFIX"], member.id))
    assert profile(client, headers).status_code == 401  # rebuilt from MongoDB: inactive
    assert record_of(app, member)["active"] == "0"


def test_redis_down_falls_back_to_mongodb(app_factory, monkeypatch):
    # The limiter (one object for every app of the process) marks its storage dead: undone afterwards.
    monkeypatch.setattr(limiter, "_storage_dead", False)
    app = app_factory(REDIS_URL=UNREACHABLE_REDIS_URL)
    client = app.test_client()
    with app.app_context():
        user = Factory(app).user("operator")
        headers = Factory(app).headers(user)
        assert profile(client, headers).status_code == 200
        end_all_sessions(user)  # the record cannot be written; MongoDB has the new version
        assert profile(client, headers).status_code == 401
        assert profile(client, Factory(app).headers(user)).status_code == 200


# --- rate limits that fit people ------------------------------------------------------------------------


def test_each_user_has_a_budget_of_their_own_behind_one_ip(app_factory):
    app = app_factory(RATELIMIT_USER="5 per 15 minutes", RATELIMIT_API="3 per 15 minutes")
    client = app.test_client()
    with app.app_context():
        factory = Factory(app)
        alice, bob = factory.user("operator"), factory.user("operator")
        alice_headers, bob_headers = factory.headers(alice), factory.headers(bob)
    for remaining in range(4, -1, -1):
        response = profile(client, alice_headers)
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "5"
        assert response.headers["X-RateLimit-Remaining"] == str(remaining)
        assert int(response.headers["X-RateLimit-Reset"]) > 0
    limited = profile(client, alice_headers)
    assert limited.status_code == 429 and limited.json["success"] is False and "Retry-After" in limited.headers
    assert profile(client, bob_headers).status_code == 200  # same IP, own budget
    for _ in range(3):  # nor do signed-out requests from that IP spend the users' budgets
        assert client.get("/api/auth/profile").headers["X-RateLimit-Limit"] == "3"
    assert client.get("/api/auth/profile").status_code == 429
    assert profile(client, bob_headers).status_code == 200


def test_an_invalid_or_revoked_token_spends_the_ip_budget_not_a_users(app_factory):
    app = app_factory(RATELIMIT_USER="50 per 15 minutes", RATELIMIT_API="2 per 15 minutes")
    client = app.test_client()
    with app.app_context():
        user = Factory(app).user("operator")
        headers = Factory(app).headers(user)
    for _ in range(2):
        assert profile(client, {"Authorization": headers["Authorization"] + "x"}).status_code == 401
    assert profile(client, {"Authorization": "Bearer forged"}).status_code == 429
    assert profile(client, headers).status_code == 200


def test_the_limiter_makes_one_redis_round_trip_per_request(app, client, factory, member, monkeypatch):
    headers = factory.headers(member)
    assert profile(client, headers).status_code == 200  # the record and the Lua script are in place
    limiter_redis, record_redis = limiter.storage.get_connection(), get_redis()
    limiter_commands = Counter(limiter_redis.execute_command, by_first=True)
    record_commands = Counter(record_redis.execute_command, by_first=True)
    monkeypatch.setattr(limiter_redis, "execute_command", limiter_commands)
    monkeypatch.setattr(record_redis, "execute_command", record_commands)
    response = profile(client, headers)
    assert response.status_code == 200 and response.headers["X-RateLimit-Remaining"]
    assert limiter_commands.calls == ["EVALSHA"]  # count and TTL together; the headers ask nothing more
    assert record_commands.calls == ["HGETALL"]  # the whole revocation record, ended sessions included


def test_a_persons_console_session_never_meets_the_limit(app, client, factory, outbox):
    """300 realistic console actions by one person, all inside one 15-minute window (stricter than spread)."""
    organization = factory.organization()
    person = factory.user("client_admin", organization=organization)
    for _ in range(3):
        factory.user("client_user", organization=organization)
    remember_user_state(person)
    headers = factory.headers(person)
    invite_ids = []

    def create_invite(step):
        response = client.post("/api/invites/create", headers=headers,
                               json={"email": f"colleague-{step}@example.test", "role": "client_user"})
        invite_ids.append(response.json["invite"]["id"])
        return response

    actions = [
        lambda step: profile(client, headers),
        lambda step: client.get("/api/organization", headers=headers),
        lambda step: client.get("/api/organization/members?page=1&limit=20", headers=headers),
        lambda step: client.get("/api/invites/list?page=1&limit=20", headers=headers),
        lambda step: client.get("/api/audit?page=1&limit=20", headers=headers),
        create_invite,
        lambda step: client.get("/api/invites/list?status=pending", headers=headers),
        lambda step: client.get("/api/invites/list?page=2&limit=20", headers=headers),
        lambda step: client.get("/api/audit?page=2&limit=20", headers=headers),
        lambda step: client.delete(f"/api/invites/{invite_ids[-1]}/revoke", headers=headers),
    ]
    statuses = [actions[step % len(actions)](step).status_code for step in range(300)]
    assert 429 not in statuses
    assert set(statuses) <= {200, 201}, sorted(set(statuses))


@pytest.mark.parametrize("token", ["!!!.e30.sig", "e30", "bm90LWpzb24.e30.sig", "WzFd.e30.sig", ""])
def test_a_malformed_token_is_an_invalid_token_not_an_error(client, token):
    answer = client.get("/api/auth/profile", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert answer.json["message"] in ("Invalid access token", "Authentication required")


def test_a_token_whose_user_is_gone_is_refused(app, client, factory, member):
    headers = factory.headers(member)
    remember_user_state(member)
    User.objects(id=member.id).delete()
    assert profile(client, headers).status_code == 401


def test_a_rebuilt_record_keeps_the_sessions_ended_before_it_was_lost(app, client, factory):
    user = factory.user("super_admin", email="two-browsers@example.test")
    sessions_of = [client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD}).json
                   for _ in range(2)]
    ended, kept = (bearer(session["accessToken"]) for session in sessions_of)
    ended_sid = pyjwt.decode(sessions_of[0]["accessToken"], options={"verify_signature": False})["sid"]
    assert client.delete(f"/api/auth/sessions/{ended_sid}", headers=kept).status_code == 200
    get_redis().delete(revocation.user_key(app.config["SHARED_KEY_PREFIX"], user.id))  # Redis lost the record
    for _ in range(2):  # the request that rebuilds the record, then one the rebuilt record answers
        assert profile(client, ended).status_code == 401
        assert profile(client, kept).status_code == 200
