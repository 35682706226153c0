"""Second-factor steps shared by login and enrollment: challenges, codes, attempts and the finished login.

A successful password step creates a stored challenge and hands out a signed
twoFactorToken naming it. Every code check needs a pending, unexpired challenge:
without one no code is looked at. Each check first reserves one of the
challenge's attempts atomically, so parallel guesses cannot exceed the limit.
"""
from flask import current_app

from ..exceptions import Forbidden, Unauthorized
from ..models import TwoFactorChallenge, WebAuthnCredential
from ..models import audit_event as events
from ..models.lookup import object_id
from ..models.two_factor import LOGIN, OTP_ENROLL, TOTP_ENROLL, VOID
from ..utils import otp as codes
from ..utils.roles import is_staff
from ..utils.timeutil import utcnow
from . import audit, lockout
from .notification_client import queue_email
from .sessions import ORGANIZATION_DEACTIVATED, open_session, organization_is_active

OTP = "otp"
TOTP = "totp"
INVALID_CODE = "Invalid or expired verification code"
CHALLENGE_VOID = "Too many incorrect codes; please log in again"
TOO_MANY_FAILURES = "Too many incorrect codes for this account; please try again later"
# A login and its TOTP enrollment replace each other; an email-code enrollment stands apart.
CHALLENGE_GROUPS = {LOGIN: (LOGIN, TOTP_ENROLL), TOTP_ENROLL: (LOGIN, TOTP_ENROLL), OTP_ENROLL: (OTP_ENROLL,)}


def setting(name):
    """A setting of the running app."""
    return current_app.config[name]


def required_method(user):
    """The second factor `user` must give at login: the organization's for members, their own for staff."""
    if is_staff(user.role):
        return user.two_factor_method
    organization = user.organization
    return organization.two_factor_method if organization is not None else OTP


def new_challenge(user, purpose, method):
    """A fresh challenge for `purpose`; it replaces the user's pending ones of the same group."""
    TwoFactorChallenge.void_pending(user, CHALLENGE_GROUPS[purpose])
    client = audit.client_context()
    return TwoFactorChallenge(
        user=user,
        purpose=purpose,
        method=method,
        token_version=user.token_version,
        client_ip=client["ip"],
        client_agent=client["user_agent"],
        expires_at=utcnow() + setting("TWO_FACTOR_CHALLENGE_EXPIRES"),
    ).save()


def challenge_token(challenge):
    """The signed twoFactorToken naming `challenge`."""
    return codes.issue_challenge_token(
        challenge.user_id, challenge.id, challenge.purpose, setting("TWO_FACTOR_CHALLENGE_EXPIRES")
    )


def otp_digest(challenge, code):
    """The stored digest of an email code, bound to its challenge."""
    return codes.code_digest("otp", challenge.id, code)


def recovery_digest(user, code):
    """The stored digest of a recovery code, bound to its user."""
    return codes.code_digest("recovery", user.id, codes.normalize_recovery_code(code))


def email_code(user, code):
    """Queue the email that carries a code."""
    queue_email(user.email, "otp", {
        "code": code,
        "expiresInMinutes": int(setting("TWO_FACTOR_CHALLENGE_EXPIRES").total_seconds() // 60),
        "firstName": user.first_name,
    })


def new_otp_challenge(user, purpose):
    """A fresh email-code challenge; the code goes out by email and is kept only as a digest."""
    code = codes.new_otp()
    challenge = new_challenge(user, purpose, OTP)
    challenge.set_code(otp_digest(challenge, code))
    email_code(user, code)
    return challenge


def start_login(user):
    """After a correct password: None when no second factor applies, else the challenge body."""
    method = required_method(user)
    if method is None:
        return None
    body = {"requiresTwoFactor": True, "twoFactorMethod": method, "userId": str(user.id)}
    if method == TOTP and not (user.totp_enabled and user.totp_secret):
        # Binding a new authenticator needs a factor the account already has: a code sent to its address.
        challenge = new_challenge(user, TOTP_ENROLL, TOTP)
        code = codes.new_otp()
        challenge.set_code(otp_digest(challenge, code))
        email_code(user, code)
        body.update(requiresTotpSetup=True, message="We emailed you a code: enter it at /api/auth/totp/setup "
                                                    "(otp) to set up an authenticator app and finish signing in")
    elif method == TOTP:
        challenge = new_challenge(user, LOGIN, TOTP)
        body["message"] = "Enter the code from your authenticator app"
    else:
        challenge = new_otp_challenge(user, LOGIN)
        body["message"] = "OTP sent to your email"
    body["twoFactorToken"] = challenge_token(challenge)
    body["twoFactorMethods"] = offered_methods(user, method)
    return body


def offered_methods(user, method):
    """What can finish this login: the required method, a passkey (any policy), a recovery code."""
    offered = [method]
    if WebAuthnCredential.objects(user=user).count():
        offered.append("passkey")
    if user.recovery_codes:
        offered.append("recovery_code")
    return offered


def resolve(two_factor_token, user_id, purposes, method=None):
    """Return (challenge, user) for a live challenge named by token, or the user's newest one; else 401."""
    now = utcnow()
    challenge = None
    if two_factor_token:
        claims = codes.read_challenge_token(two_factor_token)
        challenge_id = object_id(claims.get("cid")) if claims else None
        if challenge_id is not None:
            challenge = TwoFactorChallenge.objects(id=challenge_id).first()
        if challenge is not None and challenge.user_id != claims.get("sub"):
            challenge = None
        if challenge is not None and challenge.status == VOID and challenge.spent(setting("TWO_FACTOR_MAX_ATTEMPTS")):
            raise Unauthorized(CHALLENGE_VOID)
    elif user_id and object_id(user_id) is not None:
        challenge = TwoFactorChallenge.newest_pending(object_id(user_id), purposes, now)
        _refuse_foreign_client(challenge)
    if challenge is None or not challenge.is_live(now) or challenge.purpose not in purposes:
        raise Unauthorized(INVALID_CODE)
    if method is not None and challenge.method != method:
        raise Unauthorized(INVALID_CODE)
    user = challenge.user
    if user is not None and user.is_active and not organization_is_active(user):
        # Deactivating the organization also bumped the token version: say why, as the password step would.
        raise Forbidden(ORGANIZATION_DEACTIVATED)
    if user is None or not user.is_active or user.token_version != challenge.token_version:
        raise Unauthorized(INVALID_CODE)
    return challenge, user


def _refuse_foreign_client(challenge):
    """The `userId` form names no secret: honour it only from the client that passed the password step.

    Anyone else is refused like a wrong code, before the challenge's attempts, the account's failure
    counters or its code are touched, and the attempt is audited.
    """
    client = audit.client_context()
    if challenge is None or challenge.is_from(client["ip"], client["user_agent"]):
        return
    audit.record(events.TWO_FACTOR_FOREIGN_CLIENT, target=challenge.user,
                 details={"method": challenge.method, "purpose": challenge.purpose})
    raise Unauthorized(INVALID_CODE)


def prove_email(challenge, user, code, error=Unauthorized, field="otp"):
    """Check the code emailed for an enrollment challenge (attempts and failures counted as for a login)."""
    check_account_throttle(user)
    challenge = reserve_attempt(challenge, error)
    if not code or not codes.digests_match(challenge.code_hash, otp_digest(challenge, code)):
        fail(user, challenge, error, field)
    challenge.prove_email()


def check_account_throttle(user):
    """Cap wrong codes per account across challenges (RFC 4226 §7.3): lockout, then the hourly cap."""
    lockout.check_two_factor(user, TOO_MANY_FAILURES)


def reserve_attempt(challenge, error=Unauthorized):
    """Count one attempt before looking at the code; refuse once the challenge's attempts are spent."""
    maximum = setting("TWO_FACTOR_MAX_ATTEMPTS")
    reserved = challenge.reserve_attempt(maximum)
    if reserved is None:
        raise error(CHALLENGE_VOID if challenge.spent(maximum) else INVALID_CODE)
    return reserved


def fail(user, challenge=None, error=Unauthorized, field=None):
    """Record a wrong code and raise; the attempt that spends the challenge voids it."""
    locked_for = lockout.record_two_factor_failure(user)
    details = {"method": challenge.method, "purpose": challenge.purpose} if challenge is not None else {}
    audit.record(events.TWO_FACTOR_FAILURE, target=user, details=details)
    if locked_for:
        audit.record(events.ACCOUNT_LOCKED, target=user, details={"scope": "two_factor", "seconds": locked_for})
    message = INVALID_CODE
    if challenge is not None and challenge.void_if_spent(setting("TWO_FACTOR_MAX_ATTEMPTS")):
        message = CHALLENGE_VOID
    raise error(message, {field: [message]} if field else None)


def complete(challenge):
    """Mark the challenge used; of two simultaneous right answers only one gets through."""
    if not challenge.complete():
        raise Unauthorized(INVALID_CODE)


def succeeded(user, method, purpose):
    """A right code: the account's consecutive-failure count starts over."""
    lockout.reset(lockout.two_factor_key(user))
    audit.record(events.TWO_FACTOR_SUCCESS, actor=user, target=user, details={"method": method, "purpose": purpose})


def finish_login(user, client, method):
    """A login's second factor is proven: open the session."""
    succeeded(user, method, LOGIN)
    user.reload()
    session = open_session(user, client)
    audit.record(events.LOGIN_SUCCESS, actor=user, target=user, details={"twoFactor": True, "method": method})
    return {"requiresTwoFactor": False, **session}
