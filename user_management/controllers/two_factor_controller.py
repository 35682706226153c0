"""The second factor: login challenges, email codes, TOTP, enrollment, recovery codes and resets.

A successful password step creates a stored challenge and hands out a signed
twoFactorToken naming it. Every code check needs a pending, unexpired challenge:
without one no code is looked at. Each check first reserves one of the
challenge's attempts atomically, so parallel guesses cannot exceed the limit.
"""
import logging
import math

from bson import ObjectId
from bson.errors import InvalidId
from flask import current_app
from mongoengine.queryset.visitor import Q

from ..exceptions import Conflict, Forbidden, InvalidInput, TooManyRequests, Unauthorized
from ..models import Throttle, TwoFactorChallenge, User, WebAuthnCredential
from ..models import audit_event as events
from ..models.two_factor import LOGIN, OTP_ENROLL, PENDING, TOTP_ENROLL, USED, VOID
from ..utils import audit
from ..utils import otp as codes
from ..utils import totp
from ..utils.notification_client import queue_email
from ..utils.roles import is_staff
from ..utils.timeutil import utcnow
from . import lockout
from .password_controller import check_current_password

log = logging.getLogger(__name__)

OTP = "otp"
TOTP = "totp"
INVALID_CODE = "Invalid or expired verification code"
CHALLENGE_VOID = "Too many incorrect codes; please log in again"
TOO_MANY_FAILURES = "Too many incorrect codes for this account; please try again later"
# A login and its TOTP enrollment replace each other; an email-code enrollment stands apart.
CHALLENGE_GROUPS = {LOGIN: (LOGIN, TOTP_ENROLL), TOTP_ENROLL: (LOGIN, TOTP_ENROLL), OTP_ENROLL: (OTP_ENROLL,)}


def _config(name):
    return current_app.config[name]


def required_method(user):
    """The second factor `user` must give at login: the organization's for members, their own for staff."""
    if is_staff(user.role):
        return user.two_factor_method
    organization = user.organization
    return organization.two_factor_method if organization is not None else OTP


def _new_challenge(user, purpose, method):
    TwoFactorChallenge.void_pending(user, CHALLENGE_GROUPS[purpose])
    return TwoFactorChallenge(
        user=user,
        purpose=purpose,
        method=method,
        token_version=user.token_version,
        expires_at=utcnow() + _config("TWO_FACTOR_CHALLENGE_EXPIRES"),
    ).save()


def _challenge_token(challenge):
    return codes.issue_challenge_token(
        challenge.user_id, challenge.id, challenge.purpose, _config("TWO_FACTOR_CHALLENGE_EXPIRES")
    )


def _otp_digest(challenge, code):
    return codes.code_digest("otp", challenge.id, code)


def _recovery_digest(user, code):
    return codes.code_digest("recovery", user.id, codes.normalize_recovery_code(code))


def _email_code(user, challenge, code):
    queue_email(user.email, "otp", {
        "code": code,
        "expiresInMinutes": int(_config("TWO_FACTOR_CHALLENGE_EXPIRES").total_seconds() // 60),
        "firstName": user.first_name,
    })


def _new_otp_challenge(user, purpose):
    code = codes.new_otp()
    challenge = _new_challenge(user, purpose, OTP)
    challenge.modify(set__code_hash=_otp_digest(challenge, code), set__sent_at=utcnow())
    _email_code(user, challenge, code)
    return challenge


def start_login(user):
    """After a correct password: None when no second factor applies, else the challenge body."""
    method = required_method(user)
    if method is None:
        return None
    body = {"requiresTwoFactor": True, "twoFactorMethod": method, "userId": str(user.id)}
    if method == TOTP and not (user.totp_enabled and user.totp_secret):
        challenge = _new_challenge(user, TOTP_ENROLL, TOTP)
        body.update(requiresTotpSetup=True, message="Set up an authenticator app to finish signing in")
    elif method == TOTP:
        challenge = _new_challenge(user, LOGIN, TOTP)
        body["message"] = "Enter the code from your authenticator app"
    else:
        challenge = _new_otp_challenge(user, LOGIN)
        body["message"] = "OTP sent to your email"
    body["twoFactorToken"] = _challenge_token(challenge)
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


def _object_id(value):
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        return None


def _resolve(two_factor_token, user_id, purposes, method=None):
    """Return (challenge, user) for a live challenge named by token, or the user's newest one; else 401."""
    now = utcnow()
    challenge = None
    if two_factor_token:
        claims = codes.read_challenge_token(two_factor_token)
        challenge_id = _object_id(claims.get("cid")) if claims else None
        if challenge_id is not None:
            challenge = TwoFactorChallenge.objects(id=challenge_id).first()
        if challenge is not None and challenge.user_id != claims.get("sub"):
            challenge = None
        spent = challenge is not None and challenge.attempts >= _config("TWO_FACTOR_MAX_ATTEMPTS")
        if spent and challenge.status == VOID:
            raise Unauthorized(CHALLENGE_VOID)
    elif user_id and _object_id(user_id) is not None:
        challenge = (
            TwoFactorChallenge.objects(user=_object_id(user_id), purpose__in=list(purposes), status=PENDING,
                                       expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
    if challenge is None or not challenge.is_live(now) or challenge.purpose not in purposes:
        raise Unauthorized(INVALID_CODE)
    if method is not None and challenge.method != method:
        raise Unauthorized(INVALID_CODE)
    user = challenge.user
    if user is None or not user.is_active or user.token_version != challenge.token_version:
        raise Unauthorized(INVALID_CODE)
    return challenge, user


def _failure_key(user):
    return f"2fa-failures:{user.id}"


def _check_account_throttle(user):
    """Cap wrong codes per account across challenges (RFC 4226 §7.3): lockout, then the hourly cap."""
    lockout.check(lockout.two_factor_key(user), TOO_MANY_FAILURES)
    wait = Throttle.blocked_for(_failure_key(user), _config("TWO_FACTOR_USER_MAX_FAILURES"))
    if wait:
        raise TooManyRequests(TOO_MANY_FAILURES, retry_after=wait)


def _reserve_attempt(challenge, error=Unauthorized):
    """Count one attempt before looking at the code; refuse once the challenge's attempts are spent."""
    maximum = _config("TWO_FACTOR_MAX_ATTEMPTS")
    reserved = TwoFactorChallenge.objects(
        id=challenge.id, status=PENDING, attempts__lt=maximum, expires_at__gt=utcnow()
    ).modify(new=True, inc__attempts=1)
    if reserved is None:
        current = TwoFactorChallenge.objects(id=challenge.id).first()
        spent = current is not None and current.attempts >= maximum
        if spent:
            TwoFactorChallenge.objects(id=challenge.id, status=PENDING).update_one(set__status=VOID)
        raise error(CHALLENGE_VOID if spent else INVALID_CODE)
    return reserved


def _fail(user, challenge=None, error=Unauthorized, field=None):
    """Record a wrong code and raise; the attempt that spends the challenge voids it."""
    Throttle.hit(_failure_key(user), _config("TWO_FACTOR_USER_MAX_FAILURES"), _config("TWO_FACTOR_USER_FAILURE_WINDOW"))
    locked_for = lockout.record_failure(lockout.two_factor_key(user))
    details = {"method": challenge.method, "purpose": challenge.purpose} if challenge is not None else {}
    audit.record(events.TWO_FACTOR_FAILURE, target=user, details=details)
    if locked_for:
        audit.record(events.ACCOUNT_LOCKED, target=user, details={"scope": "two_factor", "seconds": locked_for})
    message = INVALID_CODE
    if challenge is not None and challenge.attempts >= _config("TWO_FACTOR_MAX_ATTEMPTS"):
        TwoFactorChallenge.objects(id=challenge.id, status=PENDING).update_one(set__status=VOID)
        message = CHALLENGE_VOID
    raise error(message, {field: [message]} if field else None)


def _complete(challenge):
    """Mark the challenge used; of two simultaneous right answers only one gets through."""
    now = utcnow()
    if TwoFactorChallenge.objects(id=challenge.id, status=PENDING).modify(
        new=True, set__status=USED, set__used_at=now
    ) is None:
        raise Unauthorized(INVALID_CODE)


def _succeeded(user, method, purpose):
    """A right code: the account's consecutive-failure count starts over."""
    lockout.reset(lockout.two_factor_key(user))
    audit.record(events.TWO_FACTOR_SUCCESS, actor=user, target=user, details={"method": method, "purpose": purpose})


def _open_session(user, client, method):
    from .auth_controller import open_session

    _succeeded(user, method, LOGIN)
    user.reload()
    session = open_session(user, client)
    audit.record(events.LOGIN_SUCCESS, actor=user, target=user, details={"twoFactor": True, "method": method})
    return {"requiresTwoFactor": False, **session}


def _claim_totp_step(user, step):
    """Record `step` as the last accepted one unless it (or a later one) was accepted already."""
    claimed = User.objects(id=user.id).filter(Q(totp_last_step=None) | Q(totp_last_step__lt=step)).update_one(
        set__totp_last_step=step
    )
    if not claimed:
        log.warning("reused TOTP code refused", extra={"user_id": str(user.id), "step": step})
    return bool(claimed)


def verify_otp(two_factor_token, user_id, code, client=None):
    """Finish a login with the emailed code."""
    challenge, user = _resolve(two_factor_token, user_id, (LOGIN,), OTP)
    _check_account_throttle(user)
    challenge = _reserve_attempt(challenge)
    if not codes.digests_match(challenge.code_hash, _otp_digest(challenge, code)):
        _fail(user, challenge)
    _complete(challenge)
    return _open_session(user, client, OTP)


def verify_totp(two_factor_token, user_id, code, client=None):
    """Finish a login with an authenticator code; each time step is accepted once."""
    challenge, user = _resolve(two_factor_token, user_id, (LOGIN,), TOTP)
    _check_account_throttle(user)
    challenge = _reserve_attempt(challenge)
    secret = totp.decrypt_secret(user.totp_secret) if user.totp_enabled else None
    step = totp.matching_step(secret, code) if secret else None
    if step is None or not _claim_totp_step(user, step):
        _fail(user, challenge)
    _complete(challenge)
    return _open_session(user, client, TOTP)


def verify_recovery_code(two_factor_token, code, client=None):
    """Finish a login with a recovery code, which is burnt."""
    challenge, user = _resolve(two_factor_token, None, (LOGIN,))
    _check_account_throttle(user)
    challenge = _reserve_attempt(challenge)
    digest = _recovery_digest(user, code)
    if not User.objects(id=user.id, recovery_codes=digest).update_one(pull__recovery_codes=digest):
        _fail(user, challenge)
    _complete(challenge)
    log.info("recovery code used", extra={"user_id": str(user.id)})
    session = _open_session(user, client, "recovery_code")
    session["recoveryCodesRemaining"] = len(user.recovery_codes)
    return session


def resend_otp(two_factor_token, user_id):
    """Send a new email code for a pending login (the old code dies); limited per user."""
    challenge, user = _resolve(two_factor_token, user_id, (LOGIN,), OTP)
    now = utcnow()
    interval = _config("OTP_RESEND_INTERVAL")
    if challenge.sent_at is not None and challenge.sent_at > now - interval:
        wait = max(1, math.ceil((challenge.sent_at + interval - now).total_seconds()))
        raise TooManyRequests(f"Please wait {wait} seconds before requesting another code", retry_after=wait)
    wait = Throttle.hit(f"otp-resend:{user.id}", _config("OTP_RESENDS_PER_HOUR"), _config("OTP_RESEND_WINDOW"), now)
    if wait:
        raise TooManyRequests("Too many codes requested; please try again later", retry_after=wait)
    code = codes.new_otp()
    resent = (
        TwoFactorChallenge.objects(id=challenge.id, status=PENDING)
        .filter(Q(sent_at=None) | Q(sent_at__lte=now - interval))
        .modify(new=True, set__code_hash=_otp_digest(challenge, code), set__sent_at=now,
                set__expires_at=now + _config("TWO_FACTOR_CHALLENGE_EXPIRES"))
    )
    if resent is None:
        wait = math.ceil(interval.total_seconds())
        raise TooManyRequests(f"Please wait {wait} seconds before requesting another code", retry_after=wait)
    _email_code(user, resent, code)
    return {"message": "A new code has been sent to your email", "twoFactorToken": _challenge_token(resent),
            "userId": str(user.id), "twoFactorMethod": OTP}


def _begin_totp_setup(user):
    secret = totp.new_secret()
    User.objects(id=user.id).update_one(set__totp_pending_secret=totp.encrypt_secret(secret))
    url = totp.provisioning_uri(secret, user.email)
    return {"secret": secret, "otpauthUrl": url, "qrCode": totp.qr_data_url(url)}


def totp_setup(user=None, two_factor_token=None, current_password=None):
    """Start TOTP enrollment (a pending secret): signed in with the password, or with a login's enrollment challenge."""
    if two_factor_token:
        _, user = _resolve(two_factor_token, None, (TOTP_ENROLL,))
    else:
        check_current_password(user, current_password)
    return _begin_totp_setup(user)


def totp_confirm(code, user=None, two_factor_token=None, client=None):
    """Turn TOTP on with a code from the pending secret; return recovery codes (and a session when logging in)."""
    challenge = None
    error, field = (Unauthorized, None) if two_factor_token else (InvalidInput, "token")
    if two_factor_token:
        challenge, user = _resolve(two_factor_token, None, (TOTP_ENROLL,))
    user = User.objects(id=user.id).first()
    pending = user.totp_pending_secret
    secret = totp.decrypt_secret(pending)
    if secret is None:
        raise InvalidInput("Start the authenticator setup first", {"token": ["No authenticator setup is pending"]})
    _check_account_throttle(user)
    if challenge is not None:
        challenge = _reserve_attempt(challenge)
    step = totp.matching_step(secret, code)
    if step is None:
        _fail(user, challenge, error, field)
    recovery_codes = codes.new_recovery_codes(_config("RECOVERY_CODE_COUNT"))
    updates = dict(
        set__totp_secret=pending,
        set__totp_pending_secret=None,
        set__totp_enabled=True,
        set__totp_last_step=step,
        set__recovery_codes=[_recovery_digest(user, code) for code in recovery_codes],
    )
    if is_staff(user.role):
        updates["set__two_factor_method"] = TOTP
    if not User.objects(id=user.id, totp_pending_secret=pending).update_one(**updates):
        raise Conflict("The authenticator setup changed meanwhile; start again")
    body = {"message": "Authenticator app enabled; keep your recovery codes somewhere safe",
            "recoveryCodes": recovery_codes}
    if challenge is not None:
        _complete(challenge)
        body.update(_open_session(user, client, TOTP))
    else:
        _succeeded(user, TOTP, TOTP_ENROLL)
    return body


def regenerate_recovery_codes(user, current_password):
    """Replace the user's recovery codes with a new set (the old ones stop working)."""
    check_current_password(user, current_password)
    recovery_codes = codes.new_recovery_codes(_config("RECOVERY_CODE_COUNT"))
    User.objects(id=user.id).update_one(set__recovery_codes=[_recovery_digest(user, code) for code in recovery_codes])
    return recovery_codes


def set_staff_method(user, method, current_password):
    """A staff user turns the second factor off, or on once it is proven to work."""
    if not is_staff(user.role):
        raise Forbidden("Your organization decides the second factor of its members")
    check_current_password(user, current_password)
    if method in (None, "none"):
        User.objects(id=user.id).update_one(set__two_factor_method=None)
        return {"twoFactorMethod": None, "message": "Two-factor authentication turned off"}
    ready = user.otp_verified if method == OTP else (user.totp_enabled and user.totp_secret)
    if ready:
        User.objects(id=user.id).update_one(set__two_factor_method=method)
        return {"twoFactorMethod": method, "message": "Two-factor authentication updated"}
    if method == OTP:
        _new_otp_challenge(user, OTP_ENROLL)
        return {"twoFactorMethod": user.two_factor_method, "pendingMethod": OTP,
                "message": "Enter the code we emailed you at /api/auth/two-factor/otp/confirm to turn on email codes"}
    return {"twoFactorMethod": user.two_factor_method, "pendingMethod": TOTP, "totpSetup": _begin_totp_setup(user),
            "message": "Scan the QR code, then confirm with a code at /api/auth/totp/confirm"}


def confirm_otp_enrollment(user, code):
    """A staff user proves email codes arrive; email OTP is then required at login."""
    challenge = (
        TwoFactorChallenge.objects(user=user, purpose=OTP_ENROLL, status=PENDING, expires_at__gt=utcnow())
        .order_by("-created_at")
        .first()
    )
    if challenge is None:
        raise InvalidInput(INVALID_CODE, {"otp": [INVALID_CODE]})
    _check_account_throttle(user)
    challenge = _reserve_attempt(challenge, InvalidInput)
    if not codes.digests_match(challenge.code_hash, _otp_digest(challenge, code)):
        _fail(user, challenge, InvalidInput, "otp")
    _complete(challenge)
    _succeeded(user, OTP, OTP_ENROLL)
    User.objects(id=user.id).update_one(set__otp_verified=True, set__two_factor_method=OTP)
    return {"twoFactorMethod": OTP, "message": "Email codes are now required when you log in"}


def reset_two_factor(actor, user_id):
    """A higher role clears a user's authenticator and recovery codes and ends the user's sessions.

    The method stays: an organization member (or staff on TOTP) enrolls again at the next login.
    """
    from .auth_controller import end_all_sessions
    from .user_controller import find_managed_user

    target = find_managed_user(actor, user_id)
    User.objects(id=target.id).update_one(
        set__totp_secret=None,
        set__totp_pending_secret=None,
        set__totp_enabled=False,
        set__totp_last_step=None,
        set__recovery_codes=[],
        set__otp_verified=False,
    )
    TwoFactorChallenge.void_pending(target)
    Throttle.objects(key=_failure_key(target)).delete()
    lockout.reset(lockout.two_factor_key(target))
    end_all_sessions(target)
    log.info("second factor reset", extra={"user_id": str(target.id), "actor_id": str(actor.id)})
    audit.record(events.TWO_FACTOR_RESET, actor=actor, target=target)
    target.reload()
    return target
