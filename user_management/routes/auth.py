"""/api/auth: login and its second factor, refresh, logout, profile, passwords."""
from flask import Blueprint, current_app, request
from flask_jwt_extended import current_user

from ..controllers import auth_controller, password_controller, two_factor_enrollment, two_factor_login, user_controller
from ..extensions import limiter
from ..middleware.auth import access_claims, auth_required, verify_access_token
from ..middleware.request_parsing import json_body
from ..schemas import responses as out
from ..utils.openapi import api_doc
from ..schemas.auth import (
    ChangePasswordSchema,
    CurrentPasswordSchema,
    ForgotPasswordSchema,
    LoginSchema,
    OtpConfirmSchema,
    ProfileUpdateSchema,
    RecoveryCodeLoginSchema,
    RefreshTokenSchema,
    ResendOtpSchema,
    ResetPasswordSchema,
    ResetTokenSchema,
    TotpConfirmSchema,
    TotpSetupSchema,
    TwoFactorSettingsSchema,
    VerifyOtpSchema,
    VerifyTotpSchema,
)

bp = Blueprint("auth", __name__, url_prefix="/api/auth")


def client_info():
    """Who is calling, for the session record."""
    return {"ip": request.remote_addr, "user_agent": (request.user_agent.string or "")[:512]}


def _login_failure_limit():
    return current_app.config["RATELIMIT_LOGIN_FAILURES"]


# One budget of failed logins per IP, whichever door (JSON API or web console) they come through.
login_failure_limit = limiter.shared_limit(_login_failure_limit, scope="login-failures",
                                           deduct_when=lambda response: response.status_code == 401)


@bp.post("/login")
@api_doc(body=LoginSchema, response=out.LOGIN_RESPONSE, errors=(401, 403))
@login_failure_limit
def login():
    """Exchange email and password for tokens, or for a second-factor challenge."""
    data = json_body(LoginSchema())
    body = auth_controller.login(data["email"], data["password"], client_info())
    return out.login_schema(body)().dump(body)


def _limit(name):
    return lambda: current_app.config[name]


two_factor_limit = limiter.shared_limit(_limit("RATELIMIT_TWO_FACTOR"), scope="two-factor")
password_reset_limit = limiter.shared_limit(_limit("RATELIMIT_PASSWORD_RESET"), scope="password-reset")
# One budget for a password change, whether from the API or the console's cookie session.
password_change_limit = limiter.shared_limit(_limit("RATELIMIT_PASSWORD_CHANGE"), scope="password-change")


def _signed_in_user(two_factor_token):
    """The access-token user, unless the request carries an enrollment twoFactorToken instead."""
    if two_factor_token:
        return None
    verify_access_token()
    return current_user._get_current_object()


def finish_login(verify, schema, code_field):
    """Read the pending login and its code with `schema`, and finish the login with `verify`: the session."""
    data = json_body(schema())
    return verify(data.get("two_factor_token"), data.get("user_id"), data[code_field], client_info())


@bp.post("/verify-otp")
@api_doc(body=VerifyOtpSchema, response=out.SessionSchema, errors=(401,))
@two_factor_limit
def verify_otp():
    """Finish a login with the emailed code."""
    return out.SessionSchema().dump(finish_login(two_factor_login.verify_otp, VerifyOtpSchema, "otp"))


@bp.post("/verify-totp")
@api_doc(body=VerifyTotpSchema, response=out.SessionSchema, errors=(401,))
@two_factor_limit
def verify_totp():
    """Finish a login with an authenticator app code."""
    return out.SessionSchema().dump(finish_login(two_factor_login.verify_totp, VerifyTotpSchema, "token"))


@bp.post("/verify-recovery-code")
@api_doc(body=RecoveryCodeLoginSchema, response=out.SessionSchema, errors=(401,))
@two_factor_limit
def verify_recovery_code():
    """Finish a login with a single-use recovery code."""
    data = json_body(RecoveryCodeLoginSchema())
    session = two_factor_login.verify_recovery_code(data["two_factor_token"], data["code"], client_info())
    return out.SessionSchema().dump(session)


@bp.post("/resend-otp")
@api_doc(body=ResendOtpSchema, response=out.OtpResentSchema, errors=(401,))
@limiter.limit(_limit("RATELIMIT_OTP_RESEND"))
def resend_otp():
    """Email a new code for a pending login."""
    data = json_body(ResendOtpSchema())
    resent = two_factor_login.resend_otp(data.get("two_factor_token"), data.get("user_id"))
    return out.OtpResentSchema().dump(resent)


@bp.post("/totp/setup")
@api_doc(body=TotpSetupSchema, response=out.TotpSecretResponseSchema, auth="optional")
@two_factor_limit
def totp_setup():
    """Start authenticator enrollment: secret, otpauth URL and QR code."""
    data = json_body(TotpSetupSchema())
    user = _signed_in_user(data.get("two_factor_token"))
    setup = two_factor_enrollment.totp_setup(user, data.get("two_factor_token"), data.get("current_password"),
                                             data.get("otp"))
    return out.TotpSecretResponseSchema().dump(setup)


@bp.post("/totp/confirm")
@api_doc(body=TotpConfirmSchema, response=out.TotpConfirmedSchema, auth="optional", errors=(409,))
@two_factor_limit
def totp_confirm():
    """Finish authenticator enrollment; returns recovery codes (and tokens when it finishes a login)."""
    data = json_body(TotpConfirmSchema())
    user = _signed_in_user(data.get("two_factor_token"))
    body = two_factor_enrollment.totp_confirm(data["token"], user, data.get("two_factor_token"), client_info())
    return out.TotpConfirmedSchema().dump(body)


@bp.post("/recovery-codes")
@api_doc(body=CurrentPasswordSchema, response=out.RecoveryCodesSchema, auth=True)
@auth_required()
@limiter.limit(_limit("RATELIMIT_PASSWORD_CHANGE"))
def recovery_codes():
    """Replace the caller's recovery codes."""
    data = json_body(CurrentPasswordSchema())
    codes = two_factor_enrollment.regenerate_recovery_codes(current_user, data["current_password"])
    return out.RecoveryCodesSchema().dump(
        {"message": "New recovery codes issued; the old ones no longer work", "recoveryCodes": codes})


@bp.put("/two-factor")
@api_doc(body=TwoFactorSettingsSchema, response=out.TwoFactorSettingsResponseSchema, auth=True, errors=(403,))
@auth_required()
@limiter.limit(_limit("RATELIMIT_OTP_RESEND"))
def two_factor_settings():
    """A staff user turns the second factor on (after proving it works) or off."""
    data = json_body(TwoFactorSettingsSchema())
    body = two_factor_enrollment.set_staff_method(current_user, data["method"], data["current_password"])
    return out.TwoFactorSettingsResponseSchema().dump(body)


@bp.post("/two-factor/otp/confirm")
@api_doc(body=OtpConfirmSchema, response=out.TwoFactorSettingsResponseSchema, auth=True)
@auth_required()
@two_factor_limit
def confirm_otp_enrollment():
    """A staff user enters the emailed code that turns email codes on."""
    data = json_body(OtpConfirmSchema())
    body = two_factor_enrollment.confirm_otp_enrollment(current_user, data["otp"])
    return out.TwoFactorSettingsResponseSchema().dump(body)


@bp.post("/forgot-password")
@api_doc(body=ForgotPasswordSchema, response=out.MessageSchema)
@password_reset_limit
def forgot_password():
    """Email a reset link when the account exists; the answer is the same either way."""
    data = json_body(ForgotPasswordSchema())
    password_controller.forgot_password(data["email"])
    return out.MessageSchema().dump({"message": "If an account exists for this email, a reset link has been sent"})


@bp.post("/reset-password/check")
@api_doc(body=ResetTokenSchema, response=out.ResetTokenValidSchema, errors=(410, 429))
@password_reset_limit
def check_reset_token():
    """Whether a reset link still works, so the page can say so before the form is filled."""
    data = json_body(ResetTokenSchema())
    return out.ResetTokenValidSchema().dump({"valid": password_controller.check_reset_token(data["token"])})


@bp.post("/reset-password")
@api_doc(body=ResetPasswordSchema, response=out.MessageSchema, errors=(410,))
@password_reset_limit
def reset_password():
    """Set a new password with a reset link; every session ends."""
    data = json_body(ResetPasswordSchema())
    password_controller.reset_password(data["token"], data["password"])
    return out.MessageSchema().dump({"message": "Your password has been reset; please log in"})


def password_changed():
    """Change the caller's password from the request body: the answer (a message and the caller's new session)."""
    data = json_body(ChangePasswordSchema())
    session = password_controller.change_password(current_user, data["current_password"], data["new_password"],
                                                  client_info())
    return {"message": "Password changed; your other sessions were signed out", **session}


@bp.post("/change-password")
@api_doc(body=ChangePasswordSchema, response=out.PasswordChangedSchema, auth=True)
@auth_required()
@password_change_limit
def change_password():
    """Change the caller's password; other sessions end, the caller gets a fresh one."""
    return out.PasswordChangedSchema().dump(password_changed())


@bp.post("/refresh")
@api_doc(body=RefreshTokenSchema, response=out.TokensSchema, errors=(401,))
def refresh():
    """Rotate a refresh token into a new access and refresh token."""
    data = json_body(RefreshTokenSchema())
    return out.TokensSchema().dump(auth_controller.refresh(data["refresh_token"], client_info()))


@bp.post("/logout")
@api_doc(body=RefreshTokenSchema, response=out.MessageSchema)
def logout():
    """Revoke the session a refresh token belongs to."""
    data = json_body(RefreshTokenSchema())
    auth_controller.logout(data["refresh_token"])
    return out.MessageSchema().dump({"message": "Logged out"})


@bp.post("/logout-all")
@api_doc(response=out.MessageSchema, auth=True)
@auth_required()
def logout_all():
    """Revoke every session of the caller."""
    auth_controller.logout_all(current_user)
    return out.MessageSchema().dump({"message": "Every session has been signed out"})


PROFILE_SCHEMA = out.ProfileSchema()  # dumping keeps no state: one instance serves every request


@bp.get("/profile")
@api_doc(response=out.ProfileSchema, auth=True)
@auth_required()
def profile():
    """The caller's account, without secrets."""
    return PROFILE_SCHEMA.dump({"user": auth_controller.profile(access_claims()["sub"])})


@bp.patch("/profile")
@api_doc(body=ProfileUpdateSchema, response=out.UserResponseSchema, auth=True)
@auth_required()
def update_profile():
    """Change the caller's own first and/or last name."""
    data = json_body(ProfileUpdateSchema())
    user = user_controller.update_profile(current_user, data.get("first_name"), data.get("last_name"))
    return out.UserResponseSchema().dump({"message": "Profile updated", "user": user})


@bp.get("/sessions")
@api_doc(response=out.SessionListSchema, auth=True)
@auth_required()
def sessions():
    """The caller's signed-in sessions (created, last used, IP, user agent, which one is this one)."""
    return out.SessionListSchema().dump(
        {"sessions": auth_controller.list_sessions(current_user, access_claims().get("sid"))})


@bp.delete("/sessions/<session_id>")
@api_doc(response=out.MessageSchema, auth=True, errors=(404,))
@auth_required()
def end_session(session_id):
    """Sign one of the caller's sessions out: its refresh token, access tokens and sockets die at once."""
    auth_controller.end_own_session(current_user, session_id, access_claims().get("sid"))
    return out.MessageSchema().dump({"message": "Session signed out"})
