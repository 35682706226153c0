"""The second step of a login: verify an email code, an authenticator code or a recovery code; resend the email code.

The challenge itself (created by the password step) and the attempt rules live
one floor down, in `services/two_factor.py`.
"""
import logging
import math

from ..exceptions import TooManyRequests, Unauthorized, wait_in_words
from ..models import Throttle
from ..models.two_factor import LOGIN, TOTP_ENROLL
from ..services import two_factor as second_factor
from ..services.two_factor import OTP, TOTP, setting
from ..utils import otp as codes
from ..utils import totp
from ..utils.timeutil import utcnow

log = logging.getLogger(__name__)


def _claim_totp_step(user, step):
    """Accept `step` once: a code already used (on any worker) is refused and logged."""
    claimed = user.claim_totp_step(step)
    if not claimed:
        log.warning("reused TOTP code refused", extra={"user_id": str(user.id), "step": step})
    return claimed


def verify_otp(two_factor_token, user_id, code, client=None):
    """Finish a login with the emailed code."""
    challenge, user = second_factor.resolve(two_factor_token, user_id, (LOGIN,), OTP)
    second_factor.check_account_throttle(user)
    challenge = second_factor.reserve_attempt(challenge)
    if not codes.digests_match(challenge.code_hash, second_factor.otp_digest(challenge, code)):
        second_factor.fail(user, challenge)
    second_factor.complete(challenge)
    return second_factor.finish_login(user, client, OTP)


def verify_totp(two_factor_token, user_id, code, client=None):
    """Finish a login with an authenticator code; each time step is accepted once."""
    challenge, user = second_factor.resolve(two_factor_token, user_id, (LOGIN,), TOTP)
    second_factor.check_account_throttle(user)
    challenge = second_factor.reserve_attempt(challenge)
    secret = totp.decrypt_secret(user.totp_secret) if user.totp_enabled else None
    step = totp.matching_step(secret, code) if secret else None
    if step is None or not _claim_totp_step(user, step):
        second_factor.fail(user, challenge)
    second_factor.complete(challenge)
    return second_factor.finish_login(user, client, TOTP)


def verify_recovery_code(two_factor_token, code, client=None):
    """Finish a login with a recovery code, which is burnt."""
    challenge, user = second_factor.resolve(two_factor_token, None, (LOGIN,))
    second_factor.check_account_throttle(user)
    challenge = second_factor.reserve_attempt(challenge)
    if not user.burn_recovery_code(second_factor.recovery_digest(user, code)):
        second_factor.fail(user, challenge)
    second_factor.complete(challenge)
    log.info("recovery code used", extra={"user_id": str(user.id)})
    session = second_factor.finish_login(user, client, "recovery_code")
    session["recoveryCodesRemaining"] = len(user.recovery_codes)
    return session


def _wait_message(seconds):
    return f"Please wait {wait_in_words(seconds)} before requesting another code"


def resend_otp(two_factor_token, user_id):
    """Send a new email code for a pending login or authenticator enrollment (the old code dies); limited per user."""
    challenge, user = second_factor.resolve(two_factor_token, user_id, (LOGIN, TOTP_ENROLL))
    if challenge.purpose == LOGIN and challenge.method != OTP or challenge.email_proven_at is not None:
        raise Unauthorized(second_factor.INVALID_CODE)
    now = utcnow()
    interval = setting("OTP_RESEND_INTERVAL")
    if challenge.sent_at is not None and challenge.sent_at > now - interval:
        wait = max(1, math.ceil((challenge.sent_at + interval - now).total_seconds()))
        raise TooManyRequests(_wait_message(wait), retry_after=wait)
    wait = Throttle.hit(f"otp-resend:{user.id}", setting("OTP_RESENDS_PER_HOUR"), setting("OTP_RESEND_WINDOW"), now)
    if wait:
        raise TooManyRequests(f"Too many codes requested; please try again in {wait_in_words(wait)}",
                              retry_after=wait)
    code = codes.new_otp()
    resent = challenge.resend_code(second_factor.otp_digest(challenge, code), setting("TWO_FACTOR_CHALLENGE_EXPIRES"),
                                   interval, now)
    if resent is None:
        wait = math.ceil(interval.total_seconds())
        raise TooManyRequests(_wait_message(wait), retry_after=wait)
    second_factor.email_code(user, code)
    return {"message": "A new code has been sent to your email", "twoFactorToken": second_factor.challenge_token(resent),
            "userId": str(user.id), "twoFactorMethod": OTP}
