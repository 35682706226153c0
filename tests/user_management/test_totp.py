"""Authenticator apps: enrollment, login, one use per code, window, encryption, organizations requiring TOTP."""
import base64
import datetime
import threading
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from cryptography.fernet import Fernet

from user_management.config import ConfigurationError, ProductionConfig
from user_management.models import TwoFactorChallenge, User
from user_management.utils import totp as totp_util

from support.factory import PASSWORD
from support.two_factor import bearer, enroll_totp, frozen_clock, last_otp, login, verify_otp, verify_totp, wrong

INVALID = "Invalid or expired verification code"


def totp_org_member(factory, role="client_user", **fields):
    return factory.user(role, organization=factory.organization(two_factor_method="totp"), **fields)


def test_setup_returns_secret_url_and_qr_code_and_keeps_the_secret_pending(client, factory):
    operator = factory.user("operator", email="ops@example.test")
    response = client.post("/api/auth/totp/setup", json={"currentPassword": PASSWORD},
                           headers=factory.headers(operator))
    assert response.status_code == 200
    body = response.json
    secret = body["secret"]
    assert len(base64.b32decode(secret)) * 8 >= 160
    url = urlparse(body["otpauthUrl"])
    assert url.scheme == "otpauth" and url.netloc == "totp"
    assert parse_qs(url.query)["secret"] == [secret] and parse_qs(url.query)["issuer"] == ["User Management"]
    assert "ops%40example.test" in body["otpauthUrl"] or "ops@example.test" in body["otpauthUrl"]
    assert body["qrCode"].startswith("data:image/png;base64,")
    assert base64.b64decode(body["qrCode"].split(",", 1)[1]).startswith(b"\x89PNG")

    stored = User.objects.get(id=operator.id)
    assert stored.totp_pending_secret and secret not in stored.totp_pending_secret
    assert totp_util.decrypt_secret(stored.totp_pending_secret) == secret
    assert not stored.totp_enabled and stored.totp_secret is None
    assert login(client, operator.email).json["requiresTwoFactor"] is False


def test_issuer_name_is_configurable(app, client, factory):
    app.config["TOTP_ISSUER"] = "Acme Identity"
    operator = factory.user("operator")
    body = client.post("/api/auth/totp/setup", json={"currentPassword": PASSWORD},
                       headers=factory.headers(operator)).json
    assert parse_qs(urlparse(body["otpauthUrl"]).query)["issuer"] == ["Acme Identity"]


@pytest.mark.parametrize("password", [None, "Wrong-Password-1"])
def test_setup_when_signed_in_needs_the_current_password(client, factory, password):
    operator = factory.user("operator")
    body = {} if password is None else {"currentPassword": password}
    response = client.post("/api/auth/totp/setup", json=body, headers=factory.headers(operator))
    assert response.status_code == 422
    assert operator.reload().totp_pending_secret is None


def test_setup_without_any_credential_is_401(client):
    assert client.post("/api/auth/totp/setup", json={}).status_code == 401
    assert client.post("/api/auth/totp/confirm", json={"token": "123456"}).status_code == 401


def test_confirm_turns_totp_on_and_returns_ten_recovery_codes(client, factory):
    operator = factory.user("operator")
    headers = factory.headers(operator)
    with frozen_clock():
        secret = client.post("/api/auth/totp/setup", json={"currentPassword": PASSWORD}, headers=headers).json["secret"]
        bad = client.post("/api/auth/totp/confirm", json={"token": wrong(pyotp.TOTP(secret).now())}, headers=headers)
        assert bad.status_code == 422 and not operator.reload().totp_enabled
        response = client.post("/api/auth/totp/confirm", json={"token": pyotp.TOTP(secret).now()}, headers=headers)
    assert response.status_code == 200
    recovery = response.json["recoveryCodes"]
    assert len(recovery) == 10 and len(set(recovery)) == 10
    stored = operator.reload()
    assert stored.totp_enabled and stored.two_factor_method == "totp" and stored.totp_pending_secret is None
    assert stored.totp_secret and secret not in stored.totp_secret
    assert len(stored.recovery_codes) == 10 and not set(recovery) & set(stored.recovery_codes)
    user_json = client.get("/api/auth/profile", headers=factory.headers(stored)).json["user"]
    assert user_json["totpEnabled"] is True
    assert not {"totpSecret", "totpPendingSecret", "recoveryCodes", "totpLastStep"} & set(user_json)


def test_confirm_without_a_pending_setup_is_refused(client, factory):
    operator = factory.user("operator")
    response = client.post("/api/auth/totp/confirm", json={"token": "123456"}, headers=factory.headers(operator))
    assert response.status_code == 422 and not operator.reload().totp_enabled


def test_login_with_totp(client, factory):
    operator = factory.user("operator")
    with frozen_clock() as clock:
        secret, _ = enroll_totp(client, factory, operator)
        clock.shift(30)
        body = login(client, operator.email).json
        assert body["requiresTwoFactor"] is True and body["twoFactorMethod"] == "totp"
        assert "requiresTotpSetup" not in body and "accessToken" not in body
        response = verify_totp(client, pyotp.TOTP(secret).now(), token=body["twoFactorToken"])
        assert response.status_code == 200
        assert response.json["requiresTwoFactor"] is False and response.json["accessToken"]
        assert client.get("/api/auth/profile", headers=bearer(response.json["accessToken"])).status_code == 200


def test_a_totp_code_is_accepted_once(client, factory):
    operator = factory.user("operator")
    with frozen_clock() as clock:
        secret, _ = enroll_totp(client, factory, operator)
        clock.shift(30)
        code = pyotp.TOTP(secret).now()
        assert verify_totp(client, code, token=login(client, operator.email).json["twoFactorToken"]).status_code == 200
        replay = verify_totp(client, code, token=login(client, operator.email).json["twoFactorToken"])
        assert replay.status_code == 401 and replay.json["message"] == INVALID
        # Still inside the ±1 window a step later, but older than the last accepted step.
        clock.shift(30)
        assert verify_totp(client, code, token=login(client, operator.email).json["twoFactorToken"]).status_code == 401
        assert verify_totp(client, pyotp.TOTP(secret).now(),
                           token=login(client, operator.email).json["twoFactorToken"]).status_code == 200


def test_the_code_used_to_confirm_cannot_log_in(client, factory):
    operator = factory.user("operator")
    with frozen_clock():
        secret, _ = enroll_totp(client, factory, operator)
        token = login(client, operator.email).json["twoFactorToken"]
        assert verify_totp(client, pyotp.TOTP(secret).now(), token=token).status_code == 401


def test_window_is_two_steps_either_way(client, factory):
    """The reference's window: a code from a minute ago still works (it failed at ±1 step); three steps do not."""
    operator = factory.user("operator")
    with frozen_clock() as clock:
        secret, _ = enroll_totp(client, factory, operator)
        totp = pyotp.TOTP(secret)
        clock.shift(180)
        step = totp.timecode(datetime.datetime.now())
        token = login(client, operator.email).json["twoFactorToken"]
        assert verify_totp(client, totp.generate_otp(step - 3), token=token).status_code == 401
        assert verify_totp(client, totp.generate_otp(step + 3), token=token).status_code == 401
        assert verify_totp(client, totp.generate_otp(step - 2), token=token).status_code == 200
        token = login(client, operator.email).json["twoFactorToken"]
        assert verify_totp(client, totp.generate_otp(step - 2), token=token).status_code == 401  # used once
        assert verify_totp(client, totp.generate_otp(step + 2), token=token).status_code == 200


def test_window_is_configurable(app, client, factory):
    app.config["TOTP_VALID_WINDOW"] = 1
    operator = factory.user("operator")
    with frozen_clock() as clock:
        secret, _ = enroll_totp(client, factory, operator)
        clock.shift(180)
        totp = pyotp.TOTP(secret)
        token = login(client, operator.email).json["twoFactorToken"]
        step = totp.timecode(datetime.datetime.now())
        assert verify_totp(client, totp.generate_otp(step - 2), token=token).status_code == 401
        assert verify_totp(client, totp.generate_otp(step - 1), token=token).status_code == 200


def test_five_wrong_totp_codes_void_the_challenge(client, factory):
    operator = factory.user("operator")
    with frozen_clock() as clock:
        secret, _ = enroll_totp(client, factory, operator)
        clock.shift(30)
        token = login(client, operator.email).json["twoFactorToken"]
        code = pyotp.TOTP(secret).now()
        for _ in range(5):
            assert verify_totp(client, wrong(code), token=token).status_code == 401
        sixth = verify_totp(client, code, token=token)
        assert sixth.status_code == 401 and "Too many" in sixth.json["message"]


def test_totp_user_id_only_path(client, factory):
    operator = factory.user("operator")
    with frozen_clock() as clock:
        secret, _ = enroll_totp(client, factory, operator)
        clock.shift(30)
        assert verify_totp(client, pyotp.TOTP(secret).now(), user_id=str(operator.id)).status_code == 401
        login(client, operator.email)
        assert verify_totp(client, pyotp.TOTP(secret).now(), user_id=str(operator.id)).status_code == 200


def test_otp_and_totp_challenges_do_not_mix(client, factory, outbox):
    member = factory.user("client_user")
    token = login(client, member.email).json["twoFactorToken"]
    assert verify_totp(client, last_otp(outbox, member), token=token).status_code == 401
    assert verify_otp(client, last_otp(outbox, member), token=token).status_code == 200


def test_secret_is_encrypted_with_the_configured_key(app, client, factory):
    operator = factory.user("operator")
    secret, _ = enroll_totp(client, factory, operator)
    stored = operator.reload().totp_secret
    assert Fernet(app.config["TOTP_ENCRYPTION_KEY"]).decrypt(stored.encode()).decode() == secret


def test_encryption_key_can_be_rotated(app, client, factory):
    operator = factory.user("operator")
    with frozen_clock() as clock:
        secret, _ = enroll_totp(client, factory, operator)
        app.config["TOTP_ENCRYPTION_KEY"] = f"{Fernet.generate_key().decode()},{app.config['TOTP_ENCRYPTION_KEY']}"
        app.extensions.pop("totp_cipher", None)
        clock.shift(30)
        token = login(client, operator.email).json["twoFactorToken"]
        assert verify_totp(client, pyotp.TOTP(secret).now(), token=token).status_code == 200


def test_production_refuses_to_start_without_an_encryption_key():
    settings = {name: getattr(ProductionConfig, name) for name in dir(ProductionConfig) if name.isupper()}
    settings.update(JWT_ACCESS_SECRET="a" * 40, JWT_REFRESH_SECRET="b" * 40, NOTIFICATIONS_SERVICE_TOKEN="c" * 40,
                    MONGODB_URI="mongodb://db/um", TOTP_ENCRYPTION_KEY=None)
    with pytest.raises(ConfigurationError, match="TOTP_ENCRYPTION_KEY"):
        ProductionConfig.validate(settings)


# Organizations that require TOTP.

def test_member_without_totp_must_enroll_to_finish_login(client, factory, outbox):
    member = totp_org_member(factory)
    with frozen_clock() as clock:
        body = login(client, member.email).json
        assert body["requiresTwoFactor"] is True and body["twoFactorMethod"] == "totp"
        assert body["requiresTotpSetup"] is True and "accessToken" not in body
        token = body["twoFactorToken"]

        # The enrollment challenge allows setup and confirm only.
        assert client.get("/api/auth/profile", headers=bearer(token)).status_code == 401
        assert verify_totp(client, "123456", token=token).status_code == 401
        assert verify_totp(client, "123456", user_id=str(member.id)).status_code == 401

        # The password alone binds nothing: the code emailed to the account's address comes first.
        refused = client.post("/api/auth/totp/setup", json={"twoFactorToken": token})
        assert refused.status_code == 401 and "otp" in refused.json["errors"] and "secret" not in refused.json
        code = last_otp(outbox, member)
        assert client.post("/api/auth/totp/setup", json={"twoFactorToken": token, "otp": wrong(code)}).status_code == 401
        assert member.reload().totp_pending_secret is None
        setup = client.post("/api/auth/totp/setup", json={"twoFactorToken": token, "otp": code})
        assert setup.status_code == 200
        secret = setup.json["secret"]
        confirm = client.post("/api/auth/totp/confirm",
                              json={"twoFactorToken": token, "token": pyotp.TOTP(secret).now()})
        assert confirm.status_code == 200
        assert confirm.json["requiresTwoFactor"] is False and confirm.json["accessToken"]
        assert len(confirm.json["recoveryCodes"]) == 10
        assert client.get("/api/auth/profile", headers=bearer(confirm.json["accessToken"])).status_code == 200
        assert member.reload().totp_enabled and member.two_factor_method is None  # the organization decides

        # The enrollment challenge is spent.
        again = client.post("/api/auth/totp/confirm", json={"twoFactorToken": token, "token": pyotp.TOTP(secret).now()})
        assert again.status_code == 401

        clock.shift(30)
        body = login(client, member.email).json
        assert body["twoFactorMethod"] == "totp" and "requiresTotpSetup" not in body
        assert verify_totp(client, pyotp.TOTP(secret).now(), token=body["twoFactorToken"]).status_code == 200


def test_enrollment_challenge_voids_after_five_wrong_codes(client, factory, outbox):
    member = totp_org_member(factory)
    token = login(client, member.email).json["twoFactorToken"]
    secret = client.post("/api/auth/totp/setup",
                         json={"twoFactorToken": token, "otp": last_otp(outbox, member)}).json["secret"]
    code = pyotp.TOTP(secret).now()
    for _ in range(5):
        response = client.post("/api/auth/totp/confirm", json={"twoFactorToken": token, "token": wrong(code)})
        assert response.status_code == 401
    assert client.post("/api/auth/totp/confirm", json={"twoFactorToken": token, "token": code}).status_code == 401
    assert not member.reload().totp_enabled


def test_login_challenge_token_cannot_enroll(client, factory, outbox):
    member = factory.user("client_user")
    token = login(client, member.email).json["twoFactorToken"]
    assert client.post("/api/auth/totp/setup", json={"twoFactorToken": token}).status_code == 401
    assert member.reload().totp_pending_secret is None


def test_organization_switching_from_otp_to_totp(client, factory, outbox):
    admin = factory.user("client_admin")
    member = factory.user("client_user", organization=admin.organization)
    body = login(client, member.email).json
    assert body["twoFactorMethod"] == "otp"
    assert verify_otp(client, last_otp(outbox, member), token=body["twoFactorToken"]).status_code == 200

    response = client.put("/api/organization", json={"twoFactorMethod": "totp"}, headers=factory.headers(admin))
    assert response.status_code == 200

    for user in (member, admin):
        body = login(client, user.email).json
        assert body["twoFactorMethod"] == "totp" and body["requiresTotpSetup"] is True

    with frozen_clock():
        token = login(client, member.email).json["twoFactorToken"]
        # The switch is no way around the email: a code to the account's address comes before the secret.
        assert "secret" not in client.post("/api/auth/totp/setup", json={"twoFactorToken": token}).json
        secret = client.post("/api/auth/totp/setup",
                             json={"twoFactorToken": token, "otp": last_otp(outbox, member)}).json["secret"]
        done = client.post("/api/auth/totp/confirm", json={"twoFactorToken": token, "token": pyotp.TOTP(secret).now()})
        assert done.status_code == 200 and done.json["accessToken"]

    # Back to email codes: the enrolled authenticator is kept but not asked for.
    client.put("/api/organization", json={"twoFactorMethod": "otp"}, headers=factory.headers(admin))
    assert login(client, member.email).json["twoFactorMethod"] == "otp"


def test_staff_switches_to_totp_through_two_factor_settings(client, factory):
    operator = factory.user("operator")
    headers = factory.headers(operator)
    with frozen_clock() as clock:
        response = client.put("/api/auth/two-factor", json={"method": "totp", "currentPassword": PASSWORD},
                              headers=headers)
        assert response.status_code == 200 and response.json["pendingMethod"] == "totp"
        secret = response.json["totpSetup"]["secret"]
        assert login(client, operator.email).json["requiresTwoFactor"] is False
        confirm = client.post("/api/auth/totp/confirm", json={"token": pyotp.TOTP(secret).now()}, headers=headers)
        assert confirm.status_code == 200 and len(confirm.json["recoveryCodes"]) == 10
        clock.shift(30)
        body = login(client, operator.email).json
        assert body["twoFactorMethod"] == "totp"
        assert verify_totp(client, pyotp.TOTP(secret).now(), token=body["twoFactorToken"]).status_code == 200


def test_the_same_code_raced_on_two_logins_is_accepted_once(app, client, factory):
    operator = factory.user("operator")
    with frozen_clock() as clock:
        secret, _ = enroll_totp(client, factory, operator)
        clock.shift(30)
        code = pyotp.TOTP(secret).now()
        tokens = []
        for _ in range(2):
            tokens.append(login(client, operator.email).json["twoFactorToken"])
            # Each login voids the previous challenge; revive it so both are pending at once.
            TwoFactorChallenge.objects(user=operator).update(set__status="pending")
        barrier = threading.Barrier(len(tokens))
        statuses = []

        def attempt(token):
            with app.app_context():
                barrier.wait()
                statuses.append(verify_totp(app.test_client(), code, token=token).status_code)

        threads = [threading.Thread(target=attempt, args=(token,)) for token in tokens]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(statuses) == [200, 401]
