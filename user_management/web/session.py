"""/web/session: the pages' sessions, with the refresh token in a cookie.

The same controllers as /api/auth; the difference is only where the refresh
token travels. It is set as an HttpOnly, SameSite=Strict cookie scoped to
/web/session (Secure in production) and never appears in a response body, so
page scripts (and anything injected into them) cannot read it. The access
token is returned in the body and kept in page memory. Every request here must
come from one of our pages: Origin check plus a double-submit CSRF token
(`security.check_same_origin_request`). The JSON API is unchanged for other
clients.
"""
from flask import current_app, jsonify, request

from ..controllers import auth_controller, two_factor_enrollment, two_factor_login
from ..exceptions import InvalidInput, Unauthorized
from ..middleware.auth import auth_required
from ..middleware.error_handlers import error_response
from ..middleware.request_parsing import json_body
from ..routes.auth import (client_info, finish_login, login_failure_limit, password_change_limit, password_changed,
                           two_factor_limit)
from ..schemas import responses as out
from ..schemas.auth import LoginSchema, RecoveryCodeLoginSchema, TotpConfirmSchema, VerifyOtpSchema, VerifyTotpSchema
from . import bp
from .security import check_same_origin_request, cookie_secure

REFRESH_COOKIE = "um_refresh"
REFRESH_COOKIE_PATH = "/web/session"
NO_SESSION = "No session; please log in"


@bp.before_request
def _same_origin_only():
    """Every cookie-session call (they are all POSTs) comes from our own pages."""
    if request.method == "POST" and request.path.startswith(REFRESH_COOKIE_PATH):
        check_same_origin_request()


def _set_refresh_cookie(response, refresh_token):
    response.set_cookie(
        REFRESH_COOKIE, refresh_token,
        max_age=int(current_app.config["JWT_REFRESH_EXPIRES"].total_seconds()),
        path=REFRESH_COOKIE_PATH, secure=cookie_secure(), httponly=True, samesite="Strict",
    )


def _clear_refresh_cookie(response):
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH, secure=cookie_secure(), httponly=True,
                           samesite="Strict")


def session_response(schema, result):
    """Dump a controller's result with `schema`; the refresh token (if any) goes into the cookie, not the body."""
    body = schema().dump(result)
    refresh_token = body.pop("refreshToken", None)
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    if refresh_token:
        _set_refresh_cookie(response, refresh_token)
    return response


def new_session(schema, start, *fields):
    """Read the body with `schema`, open a session with `start(*fields' values, client)`: the session response."""
    data = json_body(schema())
    return session_response(out.SessionSchema, start(*(data[field] for field in fields), client_info()))


@bp.post("/web/session")
@login_failure_limit
def create_session():
    """Log in: a session (cookie + access token), or the second-factor challenge."""
    data = json_body(LoginSchema())
    result = auth_controller.login(data["email"], data["password"], client_info())
    return session_response(out.login_schema(result), result)


@bp.post("/web/session/verify-otp")
@two_factor_limit
def verify_otp():
    """Finish a login with the emailed code."""
    return session_response(out.SessionSchema, finish_login(two_factor_login.verify_otp, VerifyOtpSchema, "otp"))


@bp.post("/web/session/verify-totp")
@two_factor_limit
def verify_totp():
    """Finish a login with an authenticator app code."""
    verify = two_factor_login.verify_totp
    return session_response(out.SessionSchema, finish_login(verify, VerifyTotpSchema, "token"))


@bp.post("/web/session/verify-recovery-code")
@two_factor_limit
def verify_recovery_code():
    """Finish a login with a single-use recovery code."""
    return new_session(RecoveryCodeLoginSchema, two_factor_login.verify_recovery_code, "two_factor_token", "code")


@bp.post("/web/session/totp-confirm")
@two_factor_limit
def totp_confirm():
    """Finish first-time authenticator enrollment during login; returns the recovery codes once."""
    data = json_body(TotpConfirmSchema())
    if not data.get("two_factor_token"):
        raise InvalidInput(errors={"twoFactorToken": ["Missing data for required field."]})
    return session_response(out.TotpConfirmedSchema, two_factor_enrollment.totp_confirm(
        data["token"], None, data["two_factor_token"], client_info()))


@bp.post("/web/session/refresh")
def refresh():
    """Rotate the cookie's refresh token: a new cookie and a new access token."""
    refresh_token = request.cookies.get(REFRESH_COOKIE)
    if not refresh_token:
        raise Unauthorized(NO_SESSION)
    try:
        session = auth_controller.refresh(refresh_token, client_info())
    except Unauthorized as error:
        # A dead cookie is useless; drop it so the page goes back to the login form.
        response = error_response(401, error.message)
        _clear_refresh_cookie(response)
        return response
    return session_response(out.TokensSchema, session)


@bp.post("/web/session/change-password")
@auth_required()
@password_change_limit
def change_password():
    """Change the caller's password from the account page: the other sessions end, this one gets a new cookie."""
    return session_response(out.PasswordChangedSchema, password_changed())


@bp.post("/web/session/logout")
def logout():
    """End this login's session and drop the cookie."""
    refresh_token = request.cookies.get(REFRESH_COOKIE)
    if refresh_token:
        auth_controller.logout(refresh_token)
    response = jsonify(out.MessageSchema().dump({"message": "Logged out"}))
    _clear_refresh_cookie(response)
    return response
