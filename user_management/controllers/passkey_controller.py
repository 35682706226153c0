"""Passkeys (WebAuthn, with py_webauthn): registration, the second step of a login, passwordless sign-in, removal.

Every ceremony starts with options holding a fresh challenge, stored single use, short
lived and bound to whoever asked: the signed-in user (registration), the pending login
named by its twoFactorToken (second factor), or a passkeyToken handed out with the
options (passwordless). The answer must come back through the same binding. User
verification is required; a signature counter that does not grow is refused.
"""
import binascii
import json
import logging
import secrets

from bson import ObjectId
from bson.errors import InvalidId
from flask import current_app
from webauthn import (generate_authentication_options, generate_registration_options, options_to_json,
                      verify_authentication_response, verify_registration_response)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, parse_client_data_json
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (AttestationConveyancePreference, AuthenticatorSelectionCriteria,
                                      AuthenticatorTransport, PublicKeyCredentialDescriptor, ResidentKeyRequirement,
                                      UserVerificationRequirement)

from ..exceptions import Conflict, InvalidInput, NotFound, Unauthorized
from ..models import User, WebAuthnCredential
from ..models import audit_event as events
from ..models.two_factor import LOGIN, TOTP_ENROLL
from ..models.webauthn_credential import REGISTER, SECOND_FACTOR, SIGN_IN, PasskeyChallenge
from ..services import audit
from ..services.passwords import check_current_password
from ..services.sessions import open_session
from ..services.two_factor import (TOTP, check_account_throttle, complete, fail, finish_login, reserve_attempt,
                                   resolve, required_method)
from ..utils.relying_party import relying_party
from ..utils.timeutil import utcnow
from ..utils.tokens import new_token, token_digest

log = logging.getLogger(__name__)

PASSKEY = "passkey"
INVALID_PASSKEY = "The passkey could not be verified; please try again"
LAST_FACTOR = ("This passkey is the only second factor of your account; set up an authenticator app before "
               "removing it")
# ES256 (most authenticators), EdDSA, RS256 (Windows Hello).
ALGORITHMS = [COSEAlgorithmIdentifier.ECDSA_SHA_256, COSEAlgorithmIdentifier.EDDSA,
              COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256]
# What malformed input can raise inside py_webauthn besides its own exceptions.
MALFORMED = (WebAuthnException, binascii.Error, ValueError, TypeError, KeyError, AttributeError, IndexError)


def _config(name):
    return current_app.config[name]


def _timeout_ms():
    return int(_config("WEBAUTHN_CHALLENGE_EXPIRES").total_seconds() * 1000)


def user_handle(user):
    """The WebAuthn user handle of `user`: the 12 bytes of its id (no personal data)."""
    return bytes.fromhex(str(user.id))


def _user_from_handle(handle):
    try:
        return ObjectId(handle.hex()) if isinstance(handle, bytes) and len(handle) == 12 else None
    except InvalidId:
        return None


def _descriptor(credential):
    transports = []
    for transport in credential.transports or []:
        try:
            transports.append(AuthenticatorTransport(transport))
        except ValueError:
            pass
    return PublicKeyCredentialDescriptor(id=base64url_to_bytes(credential.credential_id), transports=transports)


def _new_challenge(ceremony, **binding):
    """Store a fresh challenge for `ceremony`; return its bytes."""
    challenge = secrets.token_bytes(32)
    PasskeyChallenge(ceremony=ceremony, challenge=bytes_to_base64url(challenge),
                     expires_at=utcnow() + _config("WEBAUTHN_CHALLENGE_EXPIRES"), **binding).save()
    return challenge


def _options_json(options):
    return json.loads(options_to_json(options))


def _answered_challenge(credential):
    """The challenge the browser signed (base64url, from clientDataJSON), or None when it cannot be read."""
    try:
        client_data = parse_client_data_json(base64url_to_bytes(credential["response"]["clientDataJSON"]))
        return bytes_to_base64url(client_data.challenge)
    except MALFORMED:
        return None


def passkeys_of(user):
    """The user's passkeys, oldest first."""
    return list(WebAuthnCredential.objects(user=user))


def has_passkeys(user):
    """True when the user has at least one passkey."""
    return WebAuthnCredential.objects(user=user).count() > 0


# --- registration -----------------------------------------------------------------------------------------


def registration_options(user, current_password):
    """Options for navigator.credentials.create(): a discoverable credential, user verification required."""
    check_current_password(user, current_password)
    existing = passkeys_of(user)
    if len(existing) >= _config("PASSKEYS_PER_USER"):
        raise Conflict(f"An account can have at most {_config('PASSKEYS_PER_USER')} passkeys; remove one first")
    rp_id, rp_name, _ = relying_party(current_app.config)
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=rp_name,
        user_name=user.email,
        user_id=user_handle(user),
        user_display_name=user.full_name or user.email,
        challenge=_new_challenge(REGISTER, user=user),
        timeout=_timeout_ms(),
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[_descriptor(credential) for credential in existing],
        supported_pub_key_algs=ALGORITHMS,
    )
    return _options_json(options)


def register(user, credential, name):
    """Verify the authenticator's answer to the user's registration challenge and store the passkey."""
    if PasskeyChallenge.claim(_answered_challenge(credential), REGISTER, user=user.id) is None:
        raise InvalidInput("This passkey setup has expired; please start again",
                           {"credential": ["Unknown, used or expired challenge"]})
    rp_id, _, origins = relying_party(current_app.config)
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(_answered_challenge(credential)),
            expected_rp_id=rp_id,
            expected_origin=origins,
            require_user_verification=True,
            supported_pub_key_algs=ALGORITHMS,
        )
    except MALFORMED as error:
        log.info("passkey registration refused", extra={"user_id": str(user.id), "reason": str(error)[:200]})
        raise InvalidInput("The passkey could not be registered", {"credential": ["Verification failed"]}) from None
    credential_id = bytes_to_base64url(verified.credential_id)
    if WebAuthnCredential.objects(credential_id=credential_id).first() is not None:
        raise Conflict("This passkey is already registered")
    transports = credential.get("response", {}).get("transports") if isinstance(credential, dict) else None
    passkey = WebAuthnCredential(
        user=user,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=[t for t in transports or [] if isinstance(t, str)][:8],
        aaguid=verified.aaguid,
        device_type=str(getattr(verified.credential_device_type, "value", verified.credential_device_type)),
        backed_up=bool(verified.credential_backed_up),
        name=name,
    ).save()
    audit.record(events.PASSKEY_REGISTERED, actor=user, target=user,
                 details={"passkeyId": str(passkey.id), "name": name})
    return passkey


def find_passkey(user, passkey_id):
    """The user's passkey `passkey_id`, or NotFound (another user's passkey is not found either)."""
    try:
        passkey = WebAuthnCredential.objects(id=ObjectId(passkey_id), user=user).first()
    except (InvalidId, TypeError):
        passkey = None
    if passkey is None:
        raise NotFound("Passkey not found")
    return passkey


def rename(user, passkey_id, name):
    """Rename one of the user's passkeys."""
    passkey = find_passkey(user, passkey_id)
    passkey.modify(set__name=name)
    return passkey


def remove(user, passkey_id, current_password):
    """Remove a passkey after the password is proven; never the last second factor under a policy that needs one."""
    passkey = find_passkey(user, passkey_id)
    check_current_password(user, current_password)
    user = User.objects(id=user.id).first()
    needs_own_factor = required_method(user) == TOTP and not (user.totp_enabled and user.totp_secret)
    if needs_own_factor and WebAuthnCredential.objects(user=user).count() <= 1:
        raise Conflict(LAST_FACTOR)
    WebAuthnCredential.objects(id=passkey.id).delete()
    audit.record(events.PASSKEY_REMOVED, actor=user, target=user,
                 details={"passkeyId": str(passkey.id), "name": passkey.name})


# --- assertions -------------------------------------------------------------------------------------------


def _authentication_options(challenge, credentials=()):
    rp_id = relying_party(current_app.config)[0]
    return _options_json(generate_authentication_options(
        rp_id=rp_id,
        challenge=challenge,
        timeout=_timeout_ms(),
        allow_credentials=[_descriptor(credential) for credential in credentials],
        user_verification=UserVerificationRequirement.REQUIRED,
    ))


def _verify_assertion(credential, passkey, challenge):
    """Check the signature, user verification and counter of an assertion by `passkey`; True when it holds."""
    rp_id, _, origins = relying_party(current_app.config)
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp_id,
            expected_origin=origins,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except MALFORMED as error:
        log.info("passkey assertion refused", extra={"user_id": passkey.user_id, "reason": str(error)[:200]})
        return False
    if not passkey.record_use(verified.new_sign_count):
        log.warning("passkey signature counter did not grow", extra={"user_id": passkey.user_id})
        return False
    return True


def _passkey_named_in(credential, **filters):
    raw_id = credential.get("rawId") if isinstance(credential, dict) else None
    if not isinstance(raw_id, str) or not raw_id:
        return None
    return WebAuthnCredential.objects(credential_id=raw_id, **filters).first()


def second_factor_options(two_factor_token):
    """Options for the second step of a pending login, limited to the user's passkeys."""
    challenge, user = resolve(two_factor_token, None, (LOGIN, TOTP_ENROLL))
    credentials = passkeys_of(user)
    if not credentials:
        raise Conflict("No passkey is registered for this account")
    PasskeyChallenge.void_for_login(challenge.id)
    expires = min(challenge.expires_at, utcnow() + _config("WEBAUTHN_CHALLENGE_EXPIRES"))
    webauthn_challenge = secrets.token_bytes(32)
    PasskeyChallenge(ceremony=SECOND_FACTOR, challenge=bytes_to_base64url(webauthn_challenge), user=user,
                     login_challenge_id=challenge.id, expires_at=expires).save()
    return _authentication_options(webauthn_challenge, credentials)


def verify_second_factor(two_factor_token, credential, client=None):
    """Finish a login with a passkey; it satisfies every organization policy."""
    challenge, user = resolve(two_factor_token, None, (LOGIN, TOTP_ENROLL))
    check_account_throttle(user)
    challenge = reserve_attempt(challenge)
    answered = _answered_challenge(credential)
    ceremony = PasskeyChallenge.claim(answered, SECOND_FACTOR, login_challenge_id=challenge.id)
    passkey = _passkey_named_in(credential, user=user)
    if ceremony is None or passkey is None or not _verify_assertion(credential, passkey, answered):
        fail(user, challenge)
    complete(challenge)
    audit.record(events.PASSKEY_USED, actor=user, target=user,
                 details={"passkeyId": str(passkey.id), "passwordless": False})
    return finish_login(user, client, PASSKEY)


def sign_in_options():
    """Options for a passwordless sign-in (any discoverable passkey of this site), and the passkeyToken binding them."""
    passkey_token = new_token()
    challenge = _new_challenge(SIGN_IN, session_hash=token_digest(passkey_token))
    return {"options": _authentication_options(challenge), "passkeyToken": passkey_token}


def sign_in(passkey_token, credential, client=None):
    """Sign in with a discoverable passkey alone: no email, no password."""
    answered = _answered_challenge(credential)
    if PasskeyChallenge.claim(answered, SIGN_IN, session_hash=token_digest(passkey_token)) is None:
        raise Unauthorized(INVALID_PASSKEY)
    passkey = _passkey_named_in(credential)
    handle = credential.get("response", {}).get("userHandle") if passkey is not None else None
    try:
        owner = _user_from_handle(base64url_to_bytes(handle)) if isinstance(handle, str) else None
    except MALFORMED:
        owner = None
    # A discoverable passkey names its user; it must be the passkey's owner.
    if passkey is None or owner is None or str(owner) != passkey.user_id:
        audit.record(events.LOGIN_FAILURE, details={"method": PASSKEY})
        raise Unauthorized(INVALID_PASSKEY)
    if not _verify_assertion(credential, passkey, answered):
        audit.record(events.LOGIN_FAILURE, target=passkey.user, details={"method": PASSKEY})
        raise Unauthorized(INVALID_PASSKEY)
    user = User.objects(id=owner).first()
    session = open_session(user, client)
    audit.record(events.PASSKEY_USED, actor=user, target=user,
                 details={"passkeyId": str(passkey.id), "passwordless": True})
    audit.record(events.LOGIN_SUCCESS, actor=user, target=user,
                 details={"twoFactor": True, "method": PASSKEY, "passwordless": True})
    return {"requiresTwoFactor": False, **session}
