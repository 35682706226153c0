"""The cookie sessions opened with a passkey (the page /account/passkeys is in `pages.PAGES`).

The options come from the JSON API (/api/auth/passkey/...); only the last step, which opens a
session, goes through /web/session so the refresh token lands in the HttpOnly cookie.
"""
from ..controllers import passkey_controller
from ..routes.auth import login_failure_limit, two_factor_limit
from ..schemas.passkeys import PasskeySignInSchema, VerifyPasskeySchema
from . import bp
from .session import new_session


@bp.post("/web/session/verify-passkey")
@two_factor_limit
def verify_passkey():
    """Finish a login with a passkey."""
    return new_session(VerifyPasskeySchema, passkey_controller.verify_second_factor, "two_factor_token", "credential")


@bp.post("/web/session/passkey")
@login_failure_limit
def sign_in_with_passkey():
    """Passwordless sign-in: a session from a discoverable passkey."""
    return new_session(PasskeySignInSchema, passkey_controller.sign_in, "passkey_token", "credential")
