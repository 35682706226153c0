"""The cookie sessions opened with a passkey (the page /account/passkeys is in `pages.PAGES`).

The options come from the JSON API (/api/auth/passkey/...); only the last step, which opens a
session, goes through /web/session so the refresh token lands in the HttpOnly cookie.
"""
from ..controllers import passkey_controller
from ..middleware.request_parsing import json_body
from ..routes.auth import client_info, login_failure_limit, two_factor_limit
from ..schemas import responses as out
from ..schemas.passkeys import PasskeySignInSchema, VerifyPasskeySchema
from . import bp
from .session import session_response


@bp.post("/web/session/verify-passkey")
@two_factor_limit
def verify_passkey():
    """Finish a login with a passkey."""
    data = json_body(VerifyPasskeySchema())
    return session_response(out.SessionSchema, passkey_controller.verify_second_factor(
        data["two_factor_token"], data["credential"], client_info()))


@bp.post("/web/session/passkey")
@login_failure_limit
def sign_in_with_passkey():
    """Passwordless sign-in: a session from a discoverable passkey."""
    data = json_body(PasskeySignInSchema())
    return session_response(out.SessionSchema, passkey_controller.sign_in(data["passkey_token"], data["credential"], client_info()))
