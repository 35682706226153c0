"""Login with an emailed code: challenges, attempts, expiry, resend, the userId path, staff enrollment."""
import jwt as pyjwt
import pytest

from servicekit.errors import wait_in_words
from flask_jwt_extended import create_access_token

from user_management.models import AuditEvent, TwoFactorChallenge, User
from user_management.utils import otp as otp_util

from support.factory import PASSWORD
from support.two_factor import bearer, frozen_clock, last_otp, login, verify_otp, wrong

INVALID = "Invalid or expired verification code"
VOID = "Too many incorrect codes; please log in again"


@pytest.fixture
def member(factory):
    return factory.user("client_user")


def start(client, user):
    response = login(client, user.email)
    assert response.status_code == 200 and response.json["requiresTwoFactor"] is True, response.json
    return response.json


def test_member_login_returns_a_challenge_and_no_tokens(client, member, outbox):
    body = start(client, member)
    assert body["success"] is True and body["twoFactorMethod"] == "otp"
    assert body["userId"] == str(member.id) and body["twoFactorToken"] and body["message"]
    assert "accessToken" not in body and "refreshToken" not in body
    sent = outbox("otp", to=member.email)
    assert len(sent) == 1
    context = sent[0].context
    assert context["expiresInMinutes"] == 10 and context["firstName"] == member.first_name
    assert len(context["code"]) == 6 and context["code"].isdigit()
    challenge = TwoFactorChallenge.objects.get(user=member)
    assert challenge.code_hash and context["code"] not in challenge.code_hash


def test_staff_without_a_second_factor_logs_in_directly(client, factory):
    body = login(client, factory.user("super_admin").email).json
    assert body["requiresTwoFactor"] is False and body["accessToken"]


def test_verify_otp_returns_the_same_body_as_a_plain_login(client, member, outbox):
    token = start(client, member)["twoFactorToken"]
    response = verify_otp(client, last_otp(outbox, member), token=token)
    assert response.status_code == 200
    body = response.json
    assert body["success"] is True and body["requiresTwoFactor"] is False
    assert body["accessToken"] and body["refreshToken"] and body["user"]["id"] == str(member.id)
    assert client.get("/api/auth/profile", headers=bearer(body["accessToken"])).status_code == 200
    assert client.post("/api/auth/refresh", json={"refreshToken": body["refreshToken"]}).status_code == 200


def test_wrong_code_is_refused_and_the_right_one_still_works(client, member, outbox):
    token = start(client, member)["twoFactorToken"]
    code = last_otp(outbox, member)
    response = verify_otp(client, wrong(code), token=token)
    assert response.status_code == 401 and response.json == {"success": False, "message": INVALID}
    assert verify_otp(client, code, token=token).status_code == 200


def test_a_code_works_once(client, member, outbox):
    token = start(client, member)["twoFactorToken"]
    code = last_otp(outbox, member)
    assert verify_otp(client, code, token=token).status_code == 200
    again = verify_otp(client, code, token=token)
    assert again.status_code == 401 and again.json["message"] == INVALID
    assert verify_otp(client, code, user_id=str(member.id)).status_code == 401


def test_expired_code_looks_like_a_wrong_one(client, member, outbox):
    with frozen_clock() as clock:
        token = start(client, member)["twoFactorToken"]
        code = last_otp(outbox, member)
        clock.shift(10 * 60 + 1)
        response = verify_otp(client, code, token=token)
        assert response.status_code == 401 and response.json["message"] == INVALID
        by_id = verify_otp(client, code, user_id=str(member.id))
        assert by_id.status_code == 401 and by_id.json["message"] == INVALID


def test_code_still_valid_just_before_ten_minutes(client, member, outbox):
    with frozen_clock() as clock:
        token = start(client, member)["twoFactorToken"]
        clock.shift(10 * 60 - 2)
        assert verify_otp(client, last_otp(outbox, member), token=token).status_code == 200


def test_fifth_wrong_code_voids_the_challenge_and_a_sixth_attempt_fails_even_when_right(client, member, outbox):
    token = start(client, member)["twoFactorToken"]
    code = last_otp(outbox, member)
    messages = [verify_otp(client, wrong(code), token=token).json["message"] for _ in range(5)]
    assert messages == [INVALID] * 4 + [VOID]
    sixth = verify_otp(client, code, token=token)
    assert sixth.status_code == 401 and sixth.json["message"] == VOID
    assert verify_otp(client, code, user_id=str(member.id)).status_code == 401
    challenge = TwoFactorChallenge.objects.get(user=member)
    assert challenge.status == "void" and challenge.attempts == 5


def test_without_a_pending_challenge_no_code_is_checked(client, member, monkeypatch):
    checked = []
    real = otp_util.digests_match
    monkeypatch.setattr(otp_util, "digests_match", lambda *a: checked.append(a) or real(*a))
    for user_id in (str(member.id), "not-an-id", "6b06a47c3ec77d4034bb7315"):
        response = verify_otp(client, "123456", user_id=user_id)
        assert response.status_code == 401 and response.json["message"] == INVALID
    assert checked == []


def test_user_id_only_path_works_while_a_challenge_is_pending(client, member, outbox):
    start(client, member)
    response = verify_otp(client, last_otp(outbox, member), user_id=str(member.id))
    assert response.status_code == 200 and response.json["accessToken"]


def test_user_id_only_path_counts_attempts_on_the_pending_challenge(client, member, outbox):
    start(client, member)
    code = last_otp(outbox, member)
    for _ in range(5):
        assert verify_otp(client, wrong(code), user_id=str(member.id)).status_code == 401
    assert verify_otp(client, code, user_id=str(member.id)).status_code == 401


def test_a_new_login_replaces_the_pending_challenge(client, member, outbox):
    first = start(client, member)["twoFactorToken"]
    first_code = last_otp(outbox, member)
    second = start(client, member)["twoFactorToken"]
    assert verify_otp(client, first_code, token=first).status_code == 401
    assert verify_otp(client, last_otp(outbox, member), token=second).status_code == 200


def test_token_of_one_user_cannot_verify_another(app, client, factory, outbox):
    alice, bob = factory.user("client_user"), factory.user("client_user")
    alice_token = start(client, alice)["twoFactorToken"]
    start(client, bob)
    claims = pyjwt.decode(alice_token, options={"verify_signature": False})
    forged = pyjwt.encode({**claims, "sub": str(bob.id)}, "not-the-secret-but-32-bytes-long-xx", algorithm="HS256")
    assert verify_otp(client, last_otp(outbox, bob), token=forged).status_code == 401
    # Even correctly signed, a token naming Alice's challenge for Bob is refused.
    alice_challenge = TwoFactorChallenge.objects.get(user=alice, status="pending")
    mixed = otp_util.issue_challenge_token(bob.id, alice_challenge.id, "login",
                                           app.config["TWO_FACTOR_CHALLENGE_EXPIRES"])
    assert verify_otp(client, last_otp(outbox, alice), token=mixed).status_code == 401
    assert verify_otp(client, last_otp(outbox, alice), token=alice_token).status_code == 200


def test_challenge_token_is_never_an_access_token(client, member):
    token = start(client, member)["twoFactorToken"]
    for path in ("/api/auth/profile", "/api/organization"):
        assert client.get(path, headers=bearer(token)).status_code == 401
    assert client.post("/api/auth/logout-all", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize("claims", [
    {"type": otp_util.CHALLENGE_TYPE, "aud": otp_util.CHALLENGE_AUDIENCE},
    {"type": otp_util.CHALLENGE_TYPE},
    {"type": "access", "aud": otp_util.CHALLENGE_AUDIENCE},
], ids=["challenge", "challenge-type", "challenge-audience"])
def test_type_and_audience_keep_a_challenge_token_out_even_with_a_token_version(app, client, member, claims):
    """Only the missing `tv` claim used to refuse a challenge token; type and audience are checked themselves.

    Signed with the access tokens' own key and carrying a current `tv`, so nothing but those claims differs.
    """
    challenge = pyjwt.decode(start(client, member)["twoFactorToken"], options={"verify_signature": False})
    token = create_access_token(identity=member.reload(), additional_claims={"purpose": challenge["purpose"],
                                                                             "cid": challenge["cid"], **claims})
    assert pyjwt.decode(token, options={"verify_signature": False})["tv"] == member.token_version
    response = client.get("/api/auth/profile", headers=bearer(token))
    assert response.status_code == 401 and response.json["message"] == "Invalid access token"


def test_access_token_is_not_a_challenge_token(client, member, factory, outbox):
    start(client, member)
    access = factory.headers(member)["Authorization"].split()[1]
    assert verify_otp(client, last_otp(outbox, member), token=access).status_code == 401


def test_challenge_token_expires_with_the_challenge(client, member, outbox):
    with frozen_clock() as clock:
        token = start(client, member)["twoFactorToken"]
        clock.shift(11 * 60)
        assert verify_otp(client, last_otp(outbox, member), token=token).status_code == 401


def test_logout_all_or_deactivation_voids_a_pending_challenge(client, factory, outbox):
    member = factory.user("client_user")
    token = start(client, member)["twoFactorToken"]
    User.objects(id=member.id).update_one(inc__token_version=1)
    assert verify_otp(client, last_otp(outbox, member), token=token).status_code == 401
    token = start(client, member)["twoFactorToken"]
    User.objects(id=member.id).update_one(set__is_active=False)
    assert verify_otp(client, last_otp(outbox, member), token=token).status_code == 401


@pytest.mark.parametrize("body", [{"otp": "123456"}, {"userId": "x", "otp": "12345"}, {"userId": "x", "otp": "abcdef"},
                                  {"userId": "x"}, {"userId": "x", "otp": "123456", "extra": 1}])
def test_verify_otp_input_is_validated(client, body):
    assert client.post("/api/auth/verify-otp", json=body).status_code == 422


def test_resend_waits_30_seconds_then_kills_the_old_code(client, member, outbox):
    with frozen_clock() as clock:
        token = start(client, member)["twoFactorToken"]
        old = last_otp(outbox, member)
        early = client.post("/api/auth/resend-otp", json={"twoFactorToken": token})
        assert early.status_code == 429 and early.json["message"] == "Please wait 30 seconds before requesting another code"
        assert early.headers["Retry-After"] == "30"  # not the end of the route's hourly limiter window
        clock.shift(31)
        resent = client.post("/api/auth/resend-otp", json={"twoFactorToken": token})
        assert resent.status_code == 200 and resent.json["twoFactorToken"]
        new = last_otp(outbox, member)
        assert len(outbox("otp", to=member.email)) == 2
        if new != old:
            assert verify_otp(client, old, token=token).status_code == 401
        assert verify_otp(client, new, token=resent.json["twoFactorToken"]).status_code == 200


def test_resend_with_user_id_only(client, member, outbox):
    with frozen_clock() as clock:
        start(client, member)
        clock.shift(31)
        assert client.post("/api/auth/resend-otp", json={"userId": str(member.id)}).status_code == 200
        assert verify_otp(client, last_otp(outbox, member), user_id=str(member.id)).status_code == 200


def test_resend_at_most_five_times_an_hour(client, member, outbox):
    with frozen_clock() as clock:
        start(client, member)
        for _ in range(5):
            clock.shift(31)
            assert client.post("/api/auth/resend-otp", json={"userId": str(member.id)}).status_code == 200
        clock.shift(31)
        limited = client.post("/api/auth/resend-otp", json={"userId": str(member.id)})
        assert limited.status_code == 429 and limited.headers["Retry-After"]
        # The words say the same wait as the header (it said "try again later" beside a Retry-After of 3593).
        wait = int(limited.headers["Retry-After"])
        assert limited.json["message"] == f"Too many codes requested; please try again in {wait_in_words(wait)}", wait
        assert len(outbox("otp", to=member.email)) == 6
        clock.shift(3600)
        start(client, member)
        clock.shift(31)
        assert client.post("/api/auth/resend-otp", json={"userId": str(member.id)}).status_code == 200


def test_resend_without_a_pending_challenge_sends_nothing(client, member, outbox):
    assert client.post("/api/auth/resend-otp", json={"userId": str(member.id)}).status_code == 401
    assert outbox("otp") == []


def test_wrong_codes_are_capped_per_account_across_logins(app, client, member, outbox):
    app.config["TWO_FACTOR_USER_MAX_FAILURES"] = 7
    with frozen_clock() as clock:
        for _ in range(2):
            token = start(client, member)["twoFactorToken"]
            for _ in range(4):
                verify_otp(client, wrong(last_otp(outbox, member)), token=token)
        token = start(client, member)["twoFactorToken"]
        blocked = verify_otp(client, last_otp(outbox, member), token=token)
        assert blocked.status_code == 429 and blocked.headers["Retry-After"]
        clock.shift(3601)
        token = start(client, member)["twoFactorToken"]
        assert verify_otp(client, last_otp(outbox, member), token=token).status_code == 200


def test_verify_endpoints_are_rate_limited_per_ip(app, client):
    app.config["RATELIMIT_TWO_FACTOR"] = "3 per minute"
    for _ in range(3):
        assert verify_otp(client, "123456", user_id="x").status_code == 401
    assert verify_otp(client, "123456", user_id="x").status_code == 429
    assert client.post("/api/auth/verify-totp", json={"userId": "x", "token": "123456"}).status_code == 429
    other_ip = client.post("/api/auth/verify-otp", json={"userId": "x", "otp": "123456"},
                           environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other_ip.status_code == 401


# Staff choose their own second factor.

def test_staff_turns_on_email_codes_only_after_entering_one(client, factory, outbox):
    operator = factory.user("operator")
    headers = factory.headers(operator)
    body = {"method": "otp", "currentPassword": PASSWORD}
    response = client.put("/api/auth/two-factor", json=body, headers=headers)
    assert response.status_code == 200 and response.json["pendingMethod"] == "otp"
    assert response.json["twoFactorMethod"] is None
    assert login(client, operator.email).json["requiresTwoFactor"] is False  # not proven yet

    code = last_otp(outbox, operator)
    bad = client.post("/api/auth/two-factor/otp/confirm", json={"otp": wrong(code)}, headers=headers)
    assert bad.status_code == 422
    good = client.post("/api/auth/two-factor/otp/confirm", json={"otp": code}, headers=headers)
    assert good.status_code == 200 and good.json["twoFactorMethod"] == "otp"
    assert operator.reload().otp_verified and operator.two_factor_method == "otp"

    challenge = start(client, operator)
    assert challenge["twoFactorMethod"] == "otp"
    assert verify_otp(client, last_otp(outbox, operator), token=challenge["twoFactorToken"]).status_code == 200


def test_staff_email_code_confirmation_needs_a_pending_enrollment(client, factory):
    operator = factory.user("operator")
    response = client.post("/api/auth/two-factor/otp/confirm", json={"otp": "123456"},
                           headers=factory.headers(operator))
    assert response.status_code == 422 and operator.reload().two_factor_method is None


def test_staff_change_of_second_factor_needs_the_current_password(client, factory, outbox):
    operator = factory.user("operator")
    response = client.put("/api/auth/two-factor", json={"method": "otp", "currentPassword": "Wrong-Password-1"},
                          headers=factory.headers(operator))
    assert response.status_code == 422 and "currentPassword" in response.json["errors"]
    assert outbox("otp") == []


def test_staff_turns_the_second_factor_off(client, factory):
    operator = factory.user("operator", two_factor_method="otp", otp_verified=True)
    assert login(client, operator.email).json["requiresTwoFactor"] is True
    response = client.put("/api/auth/two-factor", json={"method": None, "currentPassword": PASSWORD},
                          headers=factory.headers(operator))
    assert response.status_code == 200 and response.json["twoFactorMethod"] is None
    assert login(client, operator.email).json["requiresTwoFactor"] is False


def test_staff_who_proved_email_codes_switches_back_at_once(client, factory, outbox):
    operator = factory.user("operator", otp_verified=True)
    response = client.put("/api/auth/two-factor", json={"method": "otp", "currentPassword": PASSWORD},
                          headers=factory.headers(operator))
    assert response.json["twoFactorMethod"] == "otp" and outbox("otp") == []


@pytest.mark.parametrize("role", ["client_admin", "client_user"])
def test_members_cannot_choose_their_own_method(client, factory, role):
    user = factory.user(role)
    response = client.put("/api/auth/two-factor", json={"method": None, "currentPassword": PASSWORD},
                          headers=factory.headers(user))
    assert response.status_code == 403


@pytest.mark.parametrize("body", [{"method": "sms", "currentPassword": PASSWORD}, {"method": "otp"}, {}])
def test_two_factor_settings_input_is_validated(client, factory, body):
    response = client.put("/api/auth/two-factor", json=body, headers=factory.headers(factory.user("operator")))
    assert response.status_code == 422


# Security round two (issue 12, item 2): the `userId` form is honoured only from the client that passed the password.


def from_ip(ip, agent="victim-browser/1.0"):
    return {"environ_base": {"REMOTE_ADDR": ip}, "headers": {"User-Agent": agent}}


def test_a_stranger_with_the_user_id_cannot_disrupt_a_login_in_progress(client, member, outbox):
    """Wrong codes and resends by `userId` from other IPs voided the challenge, locked the account's second
    factor and killed the emailed code; now they are refused untouched (and audited)."""
    victim = from_ip("198.51.100.7")
    challenge = client.post("/api/auth/login", json={"email": member.email, "password": PASSWORD}, **victim).json
    code = last_otp(outbox, member)
    for index in range(12):
        stranger = from_ip(f"203.0.113.{index % 5}", "curl/8.0")
        response = client.post("/api/auth/verify-otp", json={"userId": challenge["userId"], "otp": wrong(code)},
                               **stranger)
        assert response.status_code == 401
    for index in range(2):
        resent = client.post("/api/auth/resend-otp", json={"userId": challenge["userId"]}, **from_ip("203.0.113.9"))
        assert resent.status_code == 401
    # Same IP, another browser: still not the client that passed the password step.
    assert client.post("/api/auth/verify-otp", json={"userId": challenge["userId"], "otp": code},
                       **from_ip("198.51.100.7", "other-agent")).status_code == 401
    stored = TwoFactorChallenge.objects.get(user=member)
    assert stored.attempts == 0 and stored.status == "pending"
    assert len(outbox("otp", to=member.email)) == 1
    assert AuditEvent.objects(type="two_factor.foreign_client_refused", target_id=str(member.id)).count() == 15
    assert AuditEvent.objects(type="two_factor.failure").count() == 0
    session = client.post("/api/auth/verify-otp", json={"userId": challenge["userId"], "otp": code}, **victim)
    assert session.status_code == 200 and session.json["accessToken"]


def test_the_two_factor_token_form_works_from_anywhere(client, member, outbox):
    """The signed twoFactorToken is the proof; it does not depend on the client (unchanged)."""
    challenge = client.post("/api/auth/login", json={"email": member.email, "password": PASSWORD},
                            **from_ip("198.51.100.7")).json
    response = client.post("/api/auth/verify-otp", json={"twoFactorToken": challenge["twoFactorToken"],
                                                         "otp": last_otp(outbox, member)}, **from_ip("203.0.113.1"))
    assert response.status_code == 200
