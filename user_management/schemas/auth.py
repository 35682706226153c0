"""Request schemas of the auth endpoints."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from .fields import NormalizedEmail, Password, given_password, name_field

TOKEN_LENGTH = validate.Length(min=1, max=512)
SIX_DIGITS = validate.Regexp(r"^\d{6}$", error="Must be a 6-digit code")
TWO_FACTOR_METHOD = validate.OneOf(("otp", "totp", "none"))


class Code(fields.String):
    """A one-time code as people type it: surrounding and inner spaces are dropped."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).replace(" ", "")


def two_factor_token(required=False):
    """The signed twoFactorToken that login returned."""
    return fields.String(required=required, data_key="twoFactorToken", validate=validate.Length(min=1, max=2048))


class LoginSchema(Schema):
    """POST /api/auth/login."""

    email = NormalizedEmail(required=True)
    password = given_password()


class RefreshTokenSchema(Schema):
    """POST /api/auth/refresh and /api/auth/logout."""

    refresh_token = fields.String(required=True, data_key="refreshToken", validate=TOKEN_LENGTH)


class ChallengeSchema(Schema):
    """Names a pending login challenge: twoFactorToken, or userId alone (reference clients)."""

    two_factor_token = two_factor_token()
    user_id = fields.String(data_key="userId", validate=validate.Length(min=1, max=64))

    @validates_schema
    def _token_or_user_id(self, data, **kwargs):
        if not data.get("two_factor_token") and not data.get("user_id"):
            raise ValidationError("Give twoFactorToken (or userId)", "twoFactorToken")


class VerifyOtpSchema(ChallengeSchema):
    """POST /api/auth/verify-otp."""

    otp = Code(required=True, validate=SIX_DIGITS)


class VerifyTotpSchema(ChallengeSchema):
    """POST /api/auth/verify-totp."""

    token = Code(required=True, validate=SIX_DIGITS)


class ResendOtpSchema(ChallengeSchema):
    """POST /api/auth/resend-otp."""


class RecoveryCodeLoginSchema(Schema):
    """POST /api/auth/verify-recovery-code."""

    two_factor_token = two_factor_token(required=True)
    code = fields.String(required=True, validate=validate.Length(min=1, max=64))


class TotpSetupSchema(Schema):
    """POST /api/auth/totp/setup: signed in with the current password, or with an enrollment twoFactorToken."""

    two_factor_token = two_factor_token()
    current_password = fields.String(data_key="currentPassword", validate=validate.Length(min=1, max=512))
    otp = Code(validate=SIX_DIGITS, metadata={"description": "With twoFactorToken: the code emailed at login"})


class TotpConfirmSchema(Schema):
    """POST /api/auth/totp/confirm."""

    two_factor_token = two_factor_token()
    token = Code(required=True, validate=SIX_DIGITS)


class CurrentPasswordSchema(Schema):
    """POST /api/auth/recovery-codes."""

    current_password = given_password("currentPassword")


class TwoFactorSettingsSchema(Schema):
    """PUT /api/auth/two-factor (staff): "otp", "totp", or "none"/null to turn it off."""

    method = fields.String(required=True, allow_none=True, validate=TWO_FACTOR_METHOD)
    current_password = given_password("currentPassword")


class OtpConfirmSchema(Schema):
    """POST /api/auth/two-factor/otp/confirm."""

    otp = Code(required=True, validate=SIX_DIGITS)


class ForgotPasswordSchema(Schema):
    """POST /api/auth/forgot-password."""

    email = NormalizedEmail(required=True)


class ResetTokenSchema(Schema):
    """POST /api/auth/reset-password/check."""

    token = fields.String(required=True, validate=TOKEN_LENGTH)


class ResetPasswordSchema(Schema):
    """POST /api/auth/reset-password."""

    token = fields.String(required=True, validate=TOKEN_LENGTH)
    password = Password(required=True)


class ChangePasswordSchema(Schema):
    """POST /api/auth/change-password."""

    current_password = given_password("currentPassword")
    new_password = Password(required=True, data_key="newPassword")


class ProfileUpdateSchema(Schema):
    """PATCH /api/auth/profile: the caller's own names (at least one)."""

    first_name = name_field("firstName", required=False)
    last_name = name_field("lastName", required=False)

    @validates_schema
    def _something_to_change(self, data, **kwargs):
        if not data:
            raise ValidationError("Give firstName and/or lastName")
