"""Passkeys through the API, with a software authenticator (real attestation and assertion objects)."""
from datetime import timedelta

import pytest
import time_machine

from support.factory import PASSWORD
from support.webauthn import SoftwareAuthenticator, b64url
from support.two_factor import bearer, login
from user_management.config import ConfigurationError, relying_party, require_matching_relying_party
from user_management.models import AuditEvent, PasskeyChallenge, User, WebAuthnCredential
from user_management.utils.roles import CLIENT_ADMIN, CLIENT_USER, SUPER_ADMIN

ORIGIN = "http://localhost:3000"  # FRONTEND_URL of the testing config: rp id "localhost"


@pytest.fixture
def authenticator():
    """A software authenticator on the site's origin."""
    return SoftwareAuthenticator(ORIGIN)


def registration_options(client, headers, password=PASSWORD):
    """POST /api/auth/passkeys/register/options."""
    return client.post("/api/auth/passkeys/register/options", json={"currentPassword": password}, headers=headers)


def register(client, headers, authenticator, name="Laptop", **bend):
    """Register a passkey of `authenticator` for the caller; returns the response."""
    options = registration_options(client, headers).json["options"]
    credential = authenticator.create(options, **bend)
    return client.post("/api/auth/passkeys", json={"credential": credential, "name": name}, headers=headers)


def second_factor(client, two_factor_token, authenticator, **bend):
    """Answer a pending login's passkey options; returns the /verify-passkey response."""
    options = client.post("/api/auth/passkey/options", json={"twoFactorToken": two_factor_token})
    assert options.status_code == 200, options.json
    assertion = authenticator.get(options.json["options"], **bend)
    return client.post("/api/auth/verify-passkey", json={"twoFactorToken": two_factor_token, "credential": assertion})


def passwordless(client, authenticator, **bend):
    """A passwordless sign-in; returns the /passkey/login response."""
    options = client.post("/api/auth/passkey/login/options", json={}).json
    assertion = authenticator.get(options["options"], **bend)
    return client.post("/api/auth/passkey/login", json={"passkeyToken": options["passkeyToken"],
                                                        "credential": assertion})


def events(kind):
    """Audit events of one type."""
    return list(AuditEvent.objects(type=kind))


# --- registration ---------------------------------------------------------------------------------------------


def test_register_list_rename(client, factory, authenticator):
    """A user adds a named passkey; it is listed with when it was added and last used; it can be renamed."""
    user = factory.user(CLIENT_USER)
    headers = factory.headers(user)
    options = registration_options(client, headers).json["options"]
    assert options["rp"]["id"] == "localhost"
    assert options["user"]["name"] == user.email
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["attestation"] == "none"
    credential = authenticator.create(options)
    response = client.post("/api/auth/passkeys", json={"credential": credential, "name": "Work laptop"},
                           headers=headers)
    assert response.status_code == 201, response.json
    passkey = response.json["passkey"]
    assert passkey["name"] == "Work laptop" and passkey["lastUsedAt"] is None and passkey["createdAt"].endswith("Z")
    listed = client.get("/api/auth/passkeys", headers=headers).json["passkeys"]
    assert [item["id"] for item in listed] == [passkey["id"]]
    assert "publicKey" not in listed[0] and "credentialId" not in listed[0]
    renamed = client.patch(f"/api/auth/passkeys/{passkey['id']}", json={"name": "Old laptop"}, headers=headers)
    assert renamed.status_code == 200 and renamed.json["passkey"]["name"] == "Old laptop"
    [event] = events("passkey.registered")
    assert event.actor_id == str(user.id) and event.details["name"] == "Work laptop"
    # The next registration excludes the passkey already there, so the authenticator does not make a second one.
    again = registration_options(client, headers).json["options"]
    assert [item["id"] for item in again["excludeCredentials"]] == [credential["id"]]


def test_packed_self_attestation_accepted(client, factory, authenticator):
    """An authenticator that attests with its own key ("packed", self attestation) registers too."""
    user = factory.user(SUPER_ADMIN)
    assert register(client, factory.headers(user), authenticator, fmt="packed").status_code == 201


def test_registration_needs_the_password(client, factory):
    """Adding a passkey (a way in without the password) needs the password first."""
    user = factory.user(CLIENT_USER)
    response = registration_options(client, factory.headers(user), password="Wrong-Password-1")
    assert response.status_code == 422 and "currentPassword" in response.json["errors"]
    assert PasskeyChallenge.objects.count() == 0


@pytest.mark.parametrize("bend, reason", [
    ({"user_verified": False}, "no user verification"),
    ({"origin": "https://evil.example"}, "another origin"),
    ({"rp_id": "evil.example"}, "another relying party"),
    ({"challenge": b64url(b"x" * 32)}, "a challenge never issued"),
])
def test_registration_refused(client, factory, authenticator, bend, reason):
    """The server checks user verification, origin, rp id and challenge: each bent one is refused."""
    user = factory.user(CLIENT_USER)
    response = register(client, factory.headers(user), authenticator, **bend)
    assert response.status_code == 422, (reason, response.json)
    assert WebAuthnCredential.objects.count() == 0


def test_registration_challenge_is_single_use_short_lived_and_bound_to_the_user(client, factory, authenticator):
    """A challenge answers once, within its lifetime, and only for the user who asked for it."""
    alice, bob = factory.user(CLIENT_USER), factory.user(CLIENT_USER)
    options = registration_options(client, factory.headers(alice)).json["options"]
    credential = authenticator.create(options)
    stolen = client.post("/api/auth/passkeys", json={"credential": credential, "name": "x"},
                         headers=factory.headers(bob))
    assert stolen.status_code == 422
    mine = client.post("/api/auth/passkeys", json={"credential": credential, "name": "x"},
                       headers=factory.headers(alice))
    assert mine.status_code == 201
    WebAuthnCredential.objects.delete()
    replay = client.post("/api/auth/passkeys", json={"credential": credential, "name": "x"},
                         headers=factory.headers(alice))
    assert replay.status_code == 422
    options = registration_options(client, factory.headers(alice)).json["options"]
    with time_machine.travel(timedelta(minutes=6)):
        late = client.post("/api/auth/passkeys", json={"credential": authenticator.create(options),
                                                                "name": "x"}, headers=factory.headers(alice))
    assert late.status_code == 422 and WebAuthnCredential.objects.count() == 0


@pytest.mark.parametrize("credential", [
    {}, {"id": "x"}, {"id": "x", "rawId": "x", "type": "public-key", "response": {}},
    {"id": "x", "rawId": "x", "type": "public-key", "response": {"clientDataJSON": "!!!", "attestationObject": "?"}},
    {"id": "x", "rawId": "x", "type": "public-key", "response": {"clientDataJSON": b64url(b"[]"),
                                                                 "attestationObject": b64url(b"\xff")}},
    {"id": 1, "rawId": [], "type": None, "response": "x"},
])
def test_malformed_credentials_get_a_clear_4xx(client, factory, credential):
    """Garbage where a credential should be: 4xx with the error shape, never a 500."""
    user = factory.user(CLIENT_USER)
    headers = factory.headers(user)
    registration_options(client, headers)
    response = client.post("/api/auth/passkeys", json={"credential": credential, "name": "x"},
                           headers=headers)
    assert response.status_code == 422 and response.json["success"] is False
    login_response = login(client, user.email)
    token = login_response.json["twoFactorToken"]
    answer = client.post("/api/auth/verify-passkey", json={"twoFactorToken": token, "credential": credential})
    assert answer.status_code == 401 and answer.json["success"] is False
    options = client.post("/api/auth/passkey/login/options", json={}).json
    signed_in = client.post("/api/auth/passkey/login", json={"passkeyToken": options["passkeyToken"],
                                                             "credential": credential})
    assert signed_in.status_code == 401


# --- second factor --------------------------------------------------------------------------------------------


def test_password_then_passkey(client, factory, authenticator):
    """An organization member (email-code policy) finishes the login with a passkey instead of the code."""
    user = factory.user(CLIENT_USER)
    assert register(client, factory.headers(user), authenticator).status_code == 201
    first = login(client, user.email)
    assert first.json["requiresTwoFactor"] is True and first.json["twoFactorMethod"] == "otp"
    assert first.json["twoFactorMethods"] == ["otp", "passkey"]
    response = second_factor(client, first.json["twoFactorToken"], authenticator)
    assert response.status_code == 200, response.json
    assert response.json["requiresTwoFactor"] is False and response.json["accessToken"]
    assert client.get("/api/auth/profile", headers=bearer(response.json["accessToken"])).status_code == 200
    [used] = events("passkey.used")
    assert used.details["passwordless"] is False
    success = [e for e in events("login.success") if e.details.get("method") == "passkey"]
    assert len(success) == 1 and success[0].details["twoFactor"] is True
    assert WebAuthnCredential.objects.get().last_used_at is not None


def test_passkey_satisfies_a_totp_policy_before_enrollment(client, factory, authenticator):
    """Under an authenticator-app policy, a member with a passkey but no app yet signs in with the passkey."""
    organization = factory.organization(two_factor_method="totp")
    user = factory.user(CLIENT_ADMIN, organization=organization)
    register(client, factory.headers(user), authenticator)
    first = login(client, user.email)
    assert first.json["requiresTotpSetup"] is True and "passkey" in first.json["twoFactorMethods"]
    assert second_factor(client, first.json["twoFactorToken"], authenticator).status_code == 200


def test_passkey_options_need_a_passkey(client, factory):
    """A login of an account without passkeys gets a clear 409 for passkey options."""
    user = factory.user(CLIENT_USER)
    token = login(client, user.email).json["twoFactorToken"]
    response = client.post("/api/auth/passkey/options", json={"twoFactorToken": token})
    assert response.status_code == 409


def test_assertion_is_bound_to_its_login(client, factory, authenticator):
    """An assertion made for one pending login cannot finish another one."""
    user = factory.user(CLIENT_USER)
    register(client, factory.headers(user), authenticator)
    token_a = login(client, user.email).json["twoFactorToken"]
    options_a = client.post("/api/auth/passkey/options", json={"twoFactorToken": token_a}).json["options"]
    assertion = authenticator.get(options_a)
    token_b = login(client, user.email).json["twoFactorToken"]  # a new login replaces the first
    response = client.post("/api/auth/verify-passkey", json={"twoFactorToken": token_b, "credential": assertion})
    assert response.status_code == 401


def test_another_users_passkey_does_not_finish_my_login(client, factory):
    """Bob's passkey cannot answer Alice's login, even with a challenge issued for Alice."""
    alice, bob = factory.user(CLIENT_USER), factory.user(CLIENT_USER)
    alices, bobs = SoftwareAuthenticator(ORIGIN), SoftwareAuthenticator(ORIGIN)
    register(client, factory.headers(alice), alices)
    register(client, factory.headers(bob), bobs)
    token = login(client, alice.email).json["twoFactorToken"]
    assert second_factor(client, token, bobs).status_code == 401


@pytest.mark.parametrize("bend", [{"user_verified": False}, {"origin": "https://evil.example"},
                                  {"rp_id": "evil.example"}])
def test_second_factor_refused(client, factory, authenticator, bend):
    """No user verification, a phishing origin, another rp id: the login is not finished and the failure counts."""
    user = factory.user(CLIENT_USER)
    register(client, factory.headers(user), authenticator)
    token = login(client, user.email).json["twoFactorToken"]
    assert second_factor(client, token, authenticator, **bend).status_code == 401
    assert events("two_factor.failure")


def test_sign_counter_must_grow(client, factory):
    """With an authenticator that counts, a replayed assertion and a counter going back are refused."""
    user = factory.user(SUPER_ADMIN, two_factor_method="otp", otp_verified=True)
    key = SoftwareAuthenticator(ORIGIN, counter=True)
    register(client, factory.headers(user), key)
    token = login(client, user.email).json["twoFactorToken"]
    options = client.post("/api/auth/passkey/options", json={"twoFactorToken": token}).json["options"]
    assertion = key.get(options)
    assert client.post("/api/auth/verify-passkey", json={"twoFactorToken": token,
                                                         "credential": assertion}).status_code == 200
    assert WebAuthnCredential.objects.get().sign_count == 1
    token = login(client, user.email).json["twoFactorToken"]
    options = client.post("/api/auth/passkey/options", json={"twoFactorToken": token}).json["options"]
    cloned = key.get(options, sign_count=1)  # a copy of the key that has not seen the last use
    response = client.post("/api/auth/verify-passkey", json={"twoFactorToken": token, "credential": cloned})
    assert response.status_code == 401


# --- passwordless ---------------------------------------------------------------------------------------------


def test_passwordless_sign_in(client, factory, authenticator):
    """A discoverable passkey signs in with no email and no password."""
    user = factory.user(CLIENT_USER)
    register(client, factory.headers(user), authenticator)
    options = client.post("/api/auth/passkey/login/options", json={}).json
    assert options["options"]["allowCredentials"] == [] and options["options"]["userVerification"] == "required"
    assertion = authenticator.get(options["options"])
    response = client.post("/api/auth/passkey/login", json={"passkeyToken": options["passkeyToken"],
                                                            "credential": assertion})
    assert response.status_code == 200, response.json
    assert response.json["user"]["email"] == user.email and response.json["refreshToken"]
    # The same challenge never works twice.
    replay = client.post("/api/auth/passkey/login", json={"passkeyToken": options["passkeyToken"],
                                                          "credential": assertion})
    assert replay.status_code == 401
    [used] = events("passkey.used")
    assert used.details["passwordless"] is True


def test_passwordless_challenge_is_bound_to_its_passkey_token(client, factory, authenticator):
    """The assertion must come back with the passkeyToken its options were given with."""
    user = factory.user(CLIENT_USER)
    register(client, factory.headers(user), authenticator)
    mine = client.post("/api/auth/passkey/login/options", json={}).json
    other = client.post("/api/auth/passkey/login/options", json={}).json
    assertion = authenticator.get(mine["options"])
    response = client.post("/api/auth/passkey/login", json={"passkeyToken": other["passkeyToken"],
                                                            "credential": assertion})
    assert response.status_code == 401


def test_passwordless_needs_the_user_handle(client, factory, authenticator):
    """A non-discoverable answer (no userHandle) does not sign anyone in."""
    user = factory.user(CLIENT_USER)
    register(client, factory.headers(user), authenticator)
    assert passwordless(client, authenticator, user_handle=False).status_code == 401
    assert events("login.failure")


def test_passwordless_refused_for_a_deactivated_account(client, factory, authenticator):
    """A valid passkey of a deactivated account gets the deactivated answer, no tokens."""
    user = factory.user(CLIENT_USER)
    register(client, factory.headers(user), authenticator)
    User.objects(id=user.id).update_one(set__is_active=False)
    response = passwordless(client, authenticator)
    assert response.status_code == 403 and "accessToken" not in response.json


def test_passkey_challenge_expires(client, factory, authenticator):
    """A passwordless challenge lives WEBAUTHN_CHALLENGE_EXPIRES (5 minutes)."""
    user = factory.user(CLIENT_USER)
    register(client, factory.headers(user), authenticator)
    options = client.post("/api/auth/passkey/login/options", json={}).json
    assertion = authenticator.get(options["options"])
    with time_machine.travel(timedelta(minutes=6)):
        response = client.post("/api/auth/passkey/login", json={"passkeyToken": options["passkeyToken"],
                                                                "credential": assertion})
    assert response.status_code == 401


# --- removal --------------------------------------------------------------------------------------------------


def test_remove_needs_the_password(client, factory, authenticator):
    """Removing a passkey needs the password; then it is gone, and audited."""
    user = factory.user(CLIENT_USER)
    headers = factory.headers(user)
    passkey_id = register(client, headers, authenticator).json["passkey"]["id"]
    wrong = client.delete(f"/api/auth/passkeys/{passkey_id}", json={"currentPassword": "Nope-Nope-12"},
                          headers=headers)
    assert wrong.status_code == 422
    response = client.delete(f"/api/auth/passkeys/{passkey_id}", json={"currentPassword": PASSWORD}, headers=headers)
    assert response.status_code == 200 and WebAuthnCredential.objects.count() == 0
    assert events("passkey.removed")[0].details["passkeyId"] == passkey_id
    # The removed passkey no longer signs in.
    assert passwordless(client, authenticator).status_code == 401


def test_last_factor_under_a_policy_is_kept(client, factory, authenticator):
    """Under an authenticator-app policy with no app enrolled, the last passkey cannot be removed."""
    organization = factory.organization(two_factor_method="totp")
    user = factory.user(CLIENT_USER, organization=organization)
    headers = factory.headers(user)
    first = register(client, headers, authenticator, name="one").json["passkey"]["id"]
    second = register(client, headers, authenticator, name="two").json["passkey"]["id"]
    assert client.delete(f"/api/auth/passkeys/{first}", json={"currentPassword": PASSWORD},
                         headers=headers).status_code == 200
    refused = client.delete(f"/api/auth/passkeys/{second}", json={"currentPassword": PASSWORD}, headers=headers)
    assert refused.status_code == 409 and "only second factor" in refused.json["message"]
    assert WebAuthnCredential.objects.count() == 1


def test_another_users_passkey_is_not_found(client, factory, authenticator):
    """A passkey of someone else can be neither renamed nor removed."""
    owner, other = factory.user(CLIENT_USER), factory.user(CLIENT_USER)
    passkey_id = register(client, factory.headers(owner), authenticator).json["passkey"]["id"]
    headers = factory.headers(other)
    assert client.patch(f"/api/auth/passkeys/{passkey_id}", json={"name": "x"}, headers=headers).status_code == 404
    assert client.delete(f"/api/auth/passkeys/{passkey_id}", json={"currentPassword": PASSWORD},
                         headers=headers).status_code == 404
    assert client.delete("/api/auth/passkeys/not-an-id", json={"currentPassword": PASSWORD},
                         headers=headers).status_code == 404


def test_passkey_endpoints_need_a_session(client):
    """Listing and registering need an access token."""
    assert client.get("/api/auth/passkeys").status_code == 401
    assert client.post("/api/auth/passkeys/register/options", json={"currentPassword": "x"}).status_code == 401


# --- configuration --------------------------------------------------------------------------------------------


def test_relying_party_defaults_to_the_public_url():
    """rp id and origin come from FRONTEND_URL unless set."""
    assert relying_party({"FRONTEND_URL": "https://app.example.com"}) == (
        "app.example.com", "User Management", ["https://app.example.com"])
    assert relying_party({"FRONTEND_URL": "https://app.example.com", "WEBAUTHN_RP_ID": "example.com"})[0] == \
        "example.com"


@pytest.mark.parametrize("overrides, message", [
    ({"WEBAUTHN_RP_ID": "other.example"}, "does not match"),
    ({"WEBAUTHN_ORIGINS": ["https://evil.example"]}, "must include"),
    ({"FRONTEND_URL": "http://app.example.com"}, "https"),
    ({"FRONTEND_URL": "https://10.0.0.5"}, "IP address"),
])
def test_production_refuses_a_relying_party_mismatch(overrides, message):
    """Production refuses an rp id or origin that does not match the public URL."""
    settings = {"FRONTEND_URL": "https://app.example.com", **overrides}
    with pytest.raises(ConfigurationError, match=message):
        require_matching_relying_party(settings)
