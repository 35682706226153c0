"""Socket.IO authentication and rooms, in process (Flask-SocketIO's test client, real handlers)."""
import time

import jwt
import pytest

from notifications.controllers.notify import notify_user
from notifications.extensions import socketio
from support.jwks import JwksServer
from user_management.utils.signing_keys import KeySet, new_key

# Whoever holds notifications' configuration must not be able to mint a token: every one of these is refused.
ANY_SECRET = "another-secret-of-enough-length-0000"


def connect(app, auth):
    """Return a test client connected (or refused) with `auth`."""
    return socketio.test_client(app, auth=auth)


def test_connect_with_access_token(app, token):
    """A valid access token connects."""
    client = connect(app, {"token": token()})
    assert client.is_connected()
    client.disconnect()


@pytest.mark.parametrize("auth", [None, {}, {"token": ""}, {"token": 42}, "a-string", ["list"], {"token": "x.y.z"}])
def test_refused_without_valid_token(app, auth):
    """No token or garbage: refused."""
    assert not connect(app, auth).is_connected()


def _claims(**extra):
    now = int(time.time())
    return {"sub": "u", "role": "operator", "type": "access", "iat": now, "exp": now + 300, **extra}


def _served_kid(token):
    return jwt.get_unverified_header(token(sub="probe"))["kid"]


@pytest.mark.parametrize("make", [
    lambda token: token(expires_in=-10),
    lambda token: token(type_="refresh"),
    lambda token: token(key=new_key()),
    lambda token: token(role="root"),
    lambda token: token(sub=None),
    lambda token: jwt.encode({"sub": "u", "role": "operator", "type": "access"}, ANY_SECRET, "HS256"),
    lambda token: jwt.encode(_claims(), ANY_SECRET, "HS256", headers={"kid": _served_kid(token)}),
    lambda token: jwt.encode(_claims(), ANY_SECRET, "HS512", headers={"kid": _served_kid(token)}),
    lambda token: jwt.encode(_claims(), None, algorithm="none"),
    lambda token: jwt.encode(_claims(), None, algorithm="none", headers={"kid": _served_kid(token)}),
    lambda token: token(key=new_key(), headers={"kid": _served_kid(token)}),
    lambda token: token(headers={"kid": None}),
    # A colon would let an id name another room: org "o1:client_admin" is the room of o1's admins.
    lambda token: token(role="client_user", org="o1:client_admin"),
    lambda token: token(sub="u1:x"),
    lambda token: token(sub="u 1"),
    lambda token: token(org=""),
], ids=["expired", "refresh", "unknown-key", "bad-role", "no-sub", "hs256-no-kid", "hs256-served-kid",
        "hs512-served-kid", "alg-none", "alg-none-served-kid", "other-key-served-kid", "no-kid",
        "org-with-colon", "sub-with-colon", "sub-with-space", "empty-org"])
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_refused_with_bad_token(app, token, make):
    """Expired, wrong type, HMAC with any secret, `alg: none`, a key not in the set, missing claims: refused."""
    assert not connect(app, {"token": make(token)}).is_connected()


def test_rsa_keys_verify_too(make_app, token):
    """An RS256 key in the set verifies what it signs (a deployment may choose RSA)."""
    server = JwksServer(KeySet([new_key("RS256")])).start()
    try:
        app = make_app(JWKS_URL=server.url)
        assert connect(app, {"token": token(key=server.keyset.signing_key)}).is_connected()
    finally:
        server.stop()


def test_keys_cached_and_refetched_for_an_unknown_kid(make_app, token):
    """The key set is fetched once and cached; a token naming a new key fetches it again, once."""
    server = JwksServer().start()
    try:
        app = make_app(JWKS_URL=server.url)
        for user in ("a", "b", "c"):
            assert connect(app, {"token": token(key=server.keyset.signing_key, sub=user)}).is_connected()
        assert server.fetches == 1
        old_key = server.keyset.signing_key
        server.keyset = server.keyset.rotated()
        new_signer = server.keyset.signing_key
        assert connect(app, {"token": token(key=new_signer, sub="d")}).is_connected()
        assert server.fetches == 2
        # The retired key still verifies the tokens it signed, without another fetch.
        assert connect(app, {"token": token(key=old_key, sub="e")}).is_connected()
        assert server.fetches == 2
    finally:
        server.stop()


def test_unknown_kids_cannot_hammer_the_jwks_url(make_app, token):
    """Within the cooldown, tokens with made-up kids are refused without fetching the set again."""
    server = JwksServer().start()
    try:
        app = make_app(JWKS_URL=server.url, JWKS_REFRESH_COOLDOWN=60)
        assert connect(app, {"token": token(key=server.keyset.signing_key)}).is_connected()
        for _ in range(5):
            assert not connect(app, {"token": token(key=new_key())}).is_connected()
        assert server.fetches == 1
    finally:
        server.stop()


def test_last_key_set_serves_while_user_management_is_down(make_app, token):
    """Once fetched, the key set keeps verifying when the JWKS URL stops answering."""
    server = JwksServer().start()
    app = make_app(JWKS_URL=server.url, JWKS_CACHE_SECONDS=0.01)
    key = server.keyset.signing_key
    assert connect(app, {"token": token(key=key, sub="before")}).is_connected()
    server.stop()
    time.sleep(0.02)  # let the 10 ms cache lapse, so the next token needs a fetch
    assert connect(app, {"token": token(key=key, sub="after")}).is_connected()


def test_refused_when_keys_never_fetched(make_app, token):
    """No key set was ever fetched and the URL is down: refused (fail closed)."""
    server = JwksServer().start()
    url = server.url
    server.stop()
    app = make_app(JWKS_URL=url)
    assert not connect(app, {"token": token(key=server.keyset.signing_key)}).is_connected()


def test_issuer_and_audience_checked_when_configured(make_app, token):
    """With JWT_ISSUER and JWT_AUDIENCE set, a token of another issuer or audience is refused."""
    app = make_app(JWT_ISSUER="https://app.example", JWT_AUDIENCE="https://app.example")
    good = token(iss="https://app.example", aud="https://app.example")
    assert connect(app, {"token": good}).is_connected()
    assert not connect(app, {"token": token(iss="https://evil.example", aud="https://app.example")}).is_connected()
    assert not connect(app, {"token": token(iss="https://app.example", aud="https://other.example")}).is_connected()
    assert not connect(app, {"token": token()}).is_connected()


def test_bearer_prefix_accepted(app, token):
    """`Bearer <token>` is tolerated, as clients copy the HTTP header."""
    assert connect(app, {"token": f"Bearer {token()}"}).is_connected()


def test_rooms_joined_on_connect(app, token):
    """A user joins user:, role: and org: rooms; staff without org join no org room."""
    client = connect(app, {"token": token(sub="u1", role="client_admin", org="o1")})
    staff = connect(app, {"token": token(sub="u2", role="super_admin", org=None)})
    rooms = socketio.server.manager.rooms["/"]
    assert {"user:u1", "role:client_admin", "org:o1"} <= set(rooms)
    assert "user:u2" in rooms and "role:super_admin" in rooms
    assert not any(room == "org:None" for room in rooms)
    client.disconnect()
    staff.disconnect()


def test_register_own_user(app, token):
    """register with the token's own id is acknowledged."""
    client = connect(app, {"token": token(sub="u1")})
    assert client.emit("register", {"userId": "u1"}, callback=True) == {"success": True, "userId": "u1"}
    assert client.get_received() == []


@pytest.mark.parametrize("data", [{"userId": "someone-else"}, {}, "u1", None])
def test_register_other_user_is_an_error(app, token, data):
    """register for any other id emits `error` and joins nothing."""
    client = connect(app, {"token": token(sub="u1")})
    assert client.emit("register", data, callback=True) == {"success": False}
    (received,) = client.get_received()
    assert received["name"] == "error"
    assert received["args"][0]["message"]
    assert "user:someone-else" not in socketio.server.manager.rooms["/"]


def test_notification_reaches_only_its_user(app, token):
    """notify_user emits `notification` {type, message, timestamp, data} to one user's room."""
    alice = connect(app, {"token": token(sub="alice")})
    bob = connect(app, {"token": token(sub="bob")})
    with app.app_context():
        notify_user("alice", "inviteAccepted", "Bob accepted your invite", {"inviteId": "i1"})
    (event,) = alice.get_received()
    assert event["name"] == "notification"
    payload = event["args"][0]
    assert payload["type"] == "inviteAccepted" and payload["message"] == "Bob accepted your invite"
    assert payload["data"] == {"inviteId": "i1"} and payload["timestamp"].endswith("Z")
    assert bob.get_received() == []


def test_notify_endpoint_emits(app, client, token, service_headers):
    """POST /api/notify delivers to the user's sockets."""
    alice = connect(app, {"token": token(sub="alice")})
    response = client.post("/api/notify", json={"userId": "alice", "type": "info", "message": "hi"},
                           headers=service_headers)
    assert response.status_code == 202
    assert alice.get_received()[0]["args"][0]["message"] == "hi"


# Security round two (issue 12, item 1): a socket is authorized like an API request, for as long as it lives.

from notifications.controllers.socket_guard import get_guard  # noqa: E402
from servicekit import revocation  # noqa: E402

from support.authz import grant  # noqa: E402


@pytest.mark.parametrize("state", [
    None,
    revocation.UserState(1, True, True),
    revocation.UserState(0, False, True),
    revocation.UserState(0, True, False),
], ids=["no-record", "newer-token-version", "user-deactivated", "organization-deactivated"])
def test_a_revoked_or_unknown_token_opens_no_socket(app, token, redis_prefix, redis_client, state):
    """Tokens killed by logout-all or a deactivation (the API answers 401) used to open sockets."""
    minted = token(sub="alice", tv=0, grant_record=False)
    if state is not None:
        grant(redis_prefix, "alice", *state[:3])
    assert not connect(app, {"token": minted}).is_connected()
    redis_client.delete(revocation.user_key(redis_prefix, "alice"))
    grant(redis_prefix, "alice", 0)
    assert connect(app, {"token": minted}).is_connected()


def test_a_token_without_a_version_opens_no_socket(app, token):
    assert not connect(app, {"token": token(sub="alice", tv=None)}).is_connected()


def received_events(client):
    """Events a test client got, also after the server disconnected it (get_received() refuses then)."""
    return [(event["name"], event["args"][0] if event["args"] else None) for event in client.queue]


def test_the_guard_ends_a_socket_whose_token_was_revoked(app, token, redis_prefix):
    """After logout-all (a newer version announced) the socket gets sessionEnded and is disconnected."""
    alice = connect(app, {"token": token(sub="alice", tv=3)})
    bob = connect(app, {"token": token(sub="bob", tv=0)})
    guard = get_guard(app)
    grant(redis_prefix, "alice", 4)
    assert guard.recheck({"alice"}) == 1
    assert ("sessionEnded", {"reason": "token_revoked", "message": revocation_message("token_revoked")}) \
        in received_events(alice)
    assert not alice.is_connected() and bob.is_connected()
    assert [user for user, _tv, _exp, _session in guard.sockets.values()] == ["bob"]


def test_the_guard_ends_only_the_sockets_of_an_ended_session(app, token, redis_prefix, redis_client):
    """One session signed out (DELETE /api/auth/sessions/<id>): its socket ends, the user's other one stays."""
    ended = connect(app, {"token": token(sub="alice", sid="s-1")})
    other = connect(app, {"token": token(sub="alice", sid="s-2")})
    revocation.end_session(redis_client, redis_prefix, "alice", "s-1", 60)
    assert get_guard(app).recheck({"alice"}) == 1
    assert ("sessionEnded", {"reason": "session_ended", "message": revocation_message("session_ended")}) \
        in received_events(ended)
    assert not ended.is_connected() and other.is_connected()
    # A later login's record write keeps the ended session: its tokens open no socket, the other's do.
    assert not connect(app, {"token": token(sub="alice", sid="s-1")}).is_connected()
    assert connect(app, {"token": token(sub="alice", sid="s-2")}).is_connected()


def revocation_message(reason):
    from notifications.controllers.socket_guard import MESSAGES

    return MESSAGES[reason]


def test_the_guard_ends_a_socket_when_its_token_expires(app, token):
    """Sockets stayed connected 25 s past their token's expiry; now the guard ends them with `token_expired`."""
    alice = connect(app, {"token": token(sub="alice", expires_in=60)})
    bob = connect(app, {"token": token(sub="bob", expires_in=600)})
    guard = get_guard(app)
    assert guard.end_expired() == 0
    assert guard.end_expired(now=time.time() + 61) == 1
    assert [name for name, _ in received_events(alice)] == ["sessionEnded"]
    assert not alice.is_connected() and bob.is_connected()


def test_an_expired_token_is_refused_with_a_reason_a_client_can_act_on(app, token):
    client = connect(app, {"token": token(sub="alice", expires_in=-5)})
    assert not client.is_connected()
