"""Setting up a second factor: authenticator enrollment, a staff user's method, recovery codes, and resets by a higher role."""
import logging

from ..exceptions import Conflict, Forbidden, InvalidInput, Unauthorized
from ..models import TwoFactorChallenge, User
from ..models import audit_event as events
from ..models.two_factor import OTP_ENROLL, TOTP_ENROLL
from ..services import audit, lockout
from ..services import two_factor as second_factor
from ..services.passwords import check_current_password
from ..services.sessions import end_all_sessions
from ..services.two_factor import INVALID_CODE, OTP, TOTP, setting
from ..services.users import find_managed_user
from ..utils import otp as codes
from ..utils import totp
from ..utils.roles import is_staff

log = logging.getLogger(__name__)


def _begin_totp_setup(user):
    secret = totp.new_secret()
    User.objects(id=user.id).update_one(set__totp_pending_secret=totp.encrypt_secret(secret))
    url = totp.provisioning_uri(secret, user.email)
    return {"secret": secret, "otpauthUrl": url, "qrCode": totp.qr_data_url(url)}


def _new_recovery_codes(user):
    """Fresh recovery codes: (the codes to show once, their digests to store)."""
    recovery_codes = codes.new_recovery_codes(setting("RECOVERY_CODE_COUNT"))
    return recovery_codes, [second_factor.recovery_digest(user, code) for code in recovery_codes]


EMAIL_CODE_FIRST = "Enter the code we emailed you first"


def totp_setup(user=None, two_factor_token=None, current_password=None, otp=None):
    """Start TOTP enrollment (a pending secret): signed in with the password, or with a login's enrollment challenge.

    A login's enrollment shows the secret only once the code emailed to the account's address is given:
    the password alone does not bind a new authenticator.
    """
    if two_factor_token:
        challenge, user = second_factor.resolve(two_factor_token, None, (TOTP_ENROLL,))
        if challenge.email_proven_at is None:
            if not otp:
                raise Unauthorized(EMAIL_CODE_FIRST, {"otp": [EMAIL_CODE_FIRST]})
            second_factor.prove_email(challenge, user, otp)
    else:
        check_current_password(user, current_password)
    return _begin_totp_setup(user)


def totp_confirm(code, user=None, two_factor_token=None, client=None):
    """Turn TOTP on with a code from the pending secret; return recovery codes (and a session when logging in)."""
    challenge = None
    error, field = (Unauthorized, None) if two_factor_token else (InvalidInput, "token")
    if two_factor_token:
        challenge, user = second_factor.resolve(two_factor_token, None, (TOTP_ENROLL,))
        if challenge.email_proven_at is None:
            raise Unauthorized(EMAIL_CODE_FIRST, {"otp": [EMAIL_CODE_FIRST]})
    user = User.objects(id=user.id).first()
    pending = user.totp_pending_secret
    secret = totp.decrypt_secret(pending)
    if secret is None:
        raise InvalidInput("Start the authenticator setup first", {"token": ["No authenticator setup is pending"]})
    second_factor.check_account_throttle(user)
    if challenge is not None:
        challenge = second_factor.reserve_attempt(challenge)
    step = totp.matching_step(secret, code)
    if step is None:
        second_factor.fail(user, challenge, error, field)
    recovery_codes, digests = _new_recovery_codes(user)
    updates = dict(
        set__totp_secret=pending,
        set__totp_pending_secret=None,
        set__totp_enabled=True,
        set__totp_last_step=step,
        set__recovery_codes=digests,
    )
    if is_staff(user.role):
        updates["set__two_factor_method"] = TOTP
    if not User.objects(id=user.id, totp_pending_secret=pending).update_one(**updates):
        raise Conflict("The authenticator setup changed meanwhile; start again")
    body = {"message": "Authenticator app enabled; keep your recovery codes somewhere safe",
            "recoveryCodes": recovery_codes}
    if challenge is not None:
        second_factor.complete(challenge)
        body.update(second_factor.finish_login(user, client, TOTP))
    else:
        second_factor.succeeded(user, TOTP, TOTP_ENROLL)
    return body


def regenerate_recovery_codes(user, current_password):
    """Replace the user's recovery codes with a new set (the old ones stop working)."""
    check_current_password(user, current_password)
    recovery_codes, digests = _new_recovery_codes(user)
    User.objects(id=user.id).update_one(set__recovery_codes=digests)
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
        second_factor.new_otp_challenge(user, OTP_ENROLL)
        return {"twoFactorMethod": user.two_factor_method, "pendingMethod": OTP,
                "message": "Enter the code we emailed you at /api/auth/two-factor/otp/confirm to turn on email codes"}
    return {"twoFactorMethod": user.two_factor_method, "pendingMethod": TOTP, "totpSetup": _begin_totp_setup(user),
            "message": "Scan the QR code, then confirm with a code at /api/auth/totp/confirm"}


def confirm_otp_enrollment(user, code):
    """A staff user proves email codes arrive; email OTP is then required at login."""
    challenge = TwoFactorChallenge.newest_pending(user, (OTP_ENROLL,))
    if challenge is None:
        raise InvalidInput(INVALID_CODE, {"otp": [INVALID_CODE]})
    second_factor.check_account_throttle(user)
    challenge = second_factor.reserve_attempt(challenge, InvalidInput)
    if not codes.digests_match(challenge.code_hash, second_factor.otp_digest(challenge, code)):
        second_factor.fail(user, challenge, InvalidInput, "otp")
    second_factor.complete(challenge)
    second_factor.succeeded(user, OTP, OTP_ENROLL)
    User.objects(id=user.id).update_one(set__otp_verified=True, set__two_factor_method=OTP)
    return {"twoFactorMethod": OTP, "message": "Email codes are now required when you log in"}


def reset_two_factor(actor, user_id):
    """A higher role clears a user's authenticator and recovery codes and ends the user's sessions.

    The method stays: an organization member (or staff on TOTP) enrolls again at the next login.
    """
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
    lockout.clear_two_factor_failures(target)
    end_all_sessions(target)
    log.info("second factor reset", extra={"user_id": str(target.id), "actor_id": str(actor.id)})
    audit.record(events.TWO_FACTOR_RESET, actor=actor, target=target)
    target.reload()
    return target
