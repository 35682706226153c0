"""Response schemas: the JSON shapes the endpoints answer, for the OpenAPI document.

The views build their bodies with the models' `to_dict`; these schemas describe those
bodies (they are not used to serialise). The contract tests check every answer against
them, so a field added to a `to_dict` must be added here too.
"""
from marshmallow import Schema, fields, validate

from ..models.invite import ACCEPTED, EMAIL_STATUSES, EXPIRED, PENDING, REVOKED
from ..models.organization import TWO_FACTOR_METHODS
from ..utils.roles import ROLES

_role = fields.String(required=True, validate=validate.OneOf(ROLES))
_two_factor_method = fields.String(required=True, allow_none=True, validate=validate.OneOf(TWO_FACTOR_METHODS))


def _success():
    return fields.Boolean(required=True, metadata={"enum": [True]})


class UserSchema(Schema):
    """An account, never with a secret."""

    id = fields.String(required=True)
    email = fields.String(required=True)
    firstName = fields.String(required=True)
    lastName = fields.String(required=True)
    role = _role
    organization = fields.String(required=True, allow_none=True, metadata={"description": "organization id"})
    twoFactorMethod = _two_factor_method
    totpEnabled = fields.Boolean(required=True)
    isActive = fields.Boolean(required=True)
    lastLoginAt = fields.DateTime(required=True, allow_none=True)
    createdAt = fields.DateTime(required=True, allow_none=True)
    updatedAt = fields.DateTime(required=True, allow_none=True)


class OrganizationSchema(Schema):
    """A client organization."""

    id = fields.String(required=True)
    name = fields.String(required=True)
    twoFactorMethod = _two_factor_method
    isActive = fields.Boolean(required=True)
    createdAt = fields.DateTime(required=True, allow_none=True)
    updatedAt = fields.DateTime(required=True, allow_none=True)


class OrganizationRefSchema(Schema):
    """An organization named inside an invite."""

    id = fields.String(required=True)
    name = fields.String(required=True)


class InviterSchema(Schema):
    """Who sent an invite."""

    id = fields.String(required=True)
    email = fields.String(required=True)
    firstName = fields.String(required=True)
    lastName = fields.String(required=True)


class InviteSchema(Schema):
    """An invite, without its token."""

    id = fields.String(required=True)
    email = fields.String(required=True)
    role = _role
    organization = fields.Nested(OrganizationRefSchema, required=True, allow_none=True)
    invitedBy = fields.Nested(InviterSchema, required=True, allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf((PENDING, ACCEPTED, REVOKED, EXPIRED)))
    expiresAt = fields.DateTime(required=True, allow_none=True)
    acceptedAt = fields.DateTime(required=True, allow_none=True)
    revokedAt = fields.DateTime(required=True, allow_none=True)
    sendCount = fields.Integer(required=True)
    emailStatus = fields.String(required=True, validate=validate.OneOf(EMAIL_STATUSES), metadata={
        "description": "queued: waiting to be handed to notifications (or retried); sent: accepted by it; "
                       "failed: refused for good (e.g. an address it cannot send to): resend after fixing it"})
    createdAt = fields.DateTime(required=True, allow_none=True)


class InviteDetailsSchema(Schema):
    """What an invite link is for."""

    email = fields.String(required=True)
    role = _role
    organizationName = fields.String(required=True, allow_none=True)
    invitedBy = fields.String(required=True, allow_none=True)
    expiresAt = fields.DateTime(required=True, allow_none=True)


class PaginationSchema(Schema):
    """Where a page sits in a list."""

    page = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    total = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class MessageSchema(Schema):
    """`{success: true, message}`."""

    success = _success()
    message = fields.String(required=True)


class UserResponseSchema(MessageSchema):
    """A message and the account it is about."""

    user = fields.Nested(UserSchema, required=True)


class ProfileSchema(Schema):
    """The caller's account."""

    success = _success()
    user = fields.Nested(UserSchema, required=True)


class TokensSchema(Schema):
    """A new session: access token, refresh token and the account."""

    success = _success()
    accessToken = fields.String(required=True)
    refreshToken = fields.String(required=True)
    user = fields.Nested(UserSchema, required=True)


class SessionSchema(TokensSchema):
    """A finished login."""

    requiresTwoFactor = fields.Boolean(required=True, metadata={"enum": [False]})
    recoveryCodesRemaining = fields.Integer(metadata={"description": "after a recovery-code login"})


class PasswordChangedSchema(TokensSchema):
    """The caller's fresh session after a password change."""

    message = fields.String(required=True)


class LoginChallengeSchema(Schema):
    """A correct password, but a second factor is needed first."""

    success = _success()
    requiresTwoFactor = fields.Boolean(required=True, metadata={"enum": [True]})
    requiresTotpSetup = fields.Boolean(metadata={"enum": [True]})
    twoFactorMethod = fields.String(required=True, validate=validate.OneOf(TWO_FACTOR_METHODS))
    userId = fields.String(required=True)
    twoFactorToken = fields.String(required=True)
    message = fields.String(required=True)


LOGIN_RESPONSE = {"oneOf": [SessionSchema, LoginChallengeSchema]}


class OtpResentSchema(MessageSchema):
    """A new email code for a pending login."""

    twoFactorMethod = fields.String(required=True, validate=validate.OneOf(("otp",)))
    userId = fields.String(required=True)
    twoFactorToken = fields.String(required=True)


class TotpSecretSchema(Schema):
    """A pending authenticator secret."""

    secret = fields.String(required=True)
    otpauthUrl = fields.String(required=True)
    qrCode = fields.String(required=True, metadata={"description": "data: URL of a PNG QR code"})


class TotpSecretResponseSchema(TotpSecretSchema):
    """POST /api/auth/totp/setup."""

    success = _success()


class TotpConfirmedSchema(MessageSchema):
    """Authenticator enabled; with a session when it finished a login."""

    recoveryCodes = fields.List(fields.String(), required=True)
    requiresTwoFactor = fields.Boolean(metadata={"enum": [False]})
    accessToken = fields.String()
    refreshToken = fields.String()
    user = fields.Nested(UserSchema)


class RecoveryCodesSchema(MessageSchema):
    """A new set of recovery codes, shown once."""

    recoveryCodes = fields.List(fields.String(), required=True)


class TwoFactorSettingsResponseSchema(MessageSchema):
    """A staff user's second factor after PUT /api/auth/two-factor or its email confirmation."""

    twoFactorMethod = fields.String(required=True, allow_none=True, validate=validate.OneOf(TWO_FACTOR_METHODS))
    pendingMethod = fields.String(validate=validate.OneOf(TWO_FACTOR_METHODS))
    totpSetup = fields.Nested(TotpSecretSchema)


class InviteResponseSchema(MessageSchema):
    """A message and the invite it is about."""

    invite = fields.Nested(InviteSchema, required=True)


class InviteDetailsResponseSchema(Schema):
    """GET /api/invites/details/{token}."""

    success = _success()
    invite = fields.Nested(InviteDetailsSchema, required=True)


class InviteListResponseSchema(Schema):
    """GET /api/invites/list."""

    success = _success()
    invites = fields.List(fields.Nested(InviteSchema), required=True)
    pagination = fields.Nested(PaginationSchema, required=True)


class OrganizationResponseSchema(Schema):
    """The caller's organization (with a message after a change)."""

    success = _success()
    message = fields.String()
    organization = fields.Nested(OrganizationSchema, required=True)


class MembersSchema(Schema):
    """GET /api/organization/members."""

    success = _success()
    members = fields.List(fields.Nested(UserSchema), required=True)
    pagination = fields.Nested(PaginationSchema, required=True)


class HealthChecksSchema(Schema):
    """State of each dependency."""

    mongodb = fields.String(required=True, validate=validate.OneOf(("up", "down")))
    redis = fields.String(required=True, validate=validate.OneOf(("up", "down")))


class HealthSchema(Schema):
    """GET /health (200 and 503 alike)."""

    success = fields.Boolean(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("ok", "degraded")))
    service = fields.String(required=True)
    checks = fields.Nested(HealthChecksSchema, required=True)
