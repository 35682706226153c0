"""Response schemas: the one serializer of every answer, and its description in the OpenAPI document.

A route answers `SomeResponseSchema().dump(...)` and names the same class in
`@api_doc(response=...)`, so the document and the bodies cannot drift apart. The
resource schemas dump model objects (`User`, `Invite`, `Organization`); the
answer schemas dump a dict of them with the answer's other keys.
"""
from marshmallow import Schema, fields, validate

from ..models.invite import ACCEPTED, EMAIL_STATUSES, EXPIRED, PENDING, REVOKED
from ..models.organization import TWO_FACTOR_METHODS
from ..utils.roles import ROLES
from .fields import Timestamp


def _role():
    return fields.String(required=True, validate=validate.OneOf(ROLES))


def _two_factor_method(**kwargs):
    return fields.String(required=True, allow_none=True, validate=validate.OneOf(TWO_FACTOR_METHODS), **kwargs)


def _time(data_key):
    return Timestamp(required=True, allow_none=True, data_key=data_key)


class PersonSchema(Schema):
    """A user's id, email and names."""

    id = fields.String(required=True)
    email = fields.String(required=True)
    first_name = fields.String(required=True, data_key="firstName")
    last_name = fields.String(required=True, data_key="lastName")


class UserSchema(PersonSchema):
    """An account (a `User`), never with a secret."""

    role = _role()
    organization_id = fields.String(required=True, allow_none=True, data_key="organization",
                                    metadata={"description": "organization id"})
    two_factor_method = _two_factor_method(data_key="twoFactorMethod")
    totp_enabled = fields.Boolean(required=True, data_key="totpEnabled")
    is_active = fields.Boolean(required=True, data_key="isActive")
    last_login_at = _time("lastLoginAt")
    created_at = _time("createdAt")
    updated_at = _time("updatedAt")


class UserListItemSchema(UserSchema):
    """A user as GET /api/users lists it."""

    locked = fields.Boolean(required=True, metadata={"description": "locked out by failed attempts right now"})
    organization_name = fields.String(required=True, allow_none=True, data_key="organizationName")


class OrganizationSchema(Schema):
    """A client organization (an `Organization`)."""

    id = fields.String(required=True)
    name = fields.String(required=True)
    two_factor_method = _two_factor_method(data_key="twoFactorMethod")
    is_active = fields.Boolean(required=True, data_key="isActive")
    created_at = _time("createdAt")
    updated_at = _time("updatedAt")


class OrganizationSummarySchema(OrganizationSchema):
    """An organization with its counts (GET /api/organizations and /api/organizations/{id})."""

    member_count = fields.Integer(required=True, data_key="memberCount")
    pending_invite_count = fields.Integer(required=True, data_key="pendingInviteCount",
                                          metadata={"description": "pending, unexpired invites"})


class OrganizationRefSchema(Schema):
    """An organization named inside an invite."""

    id = fields.String(required=True)
    name = fields.String(required=True)


class InviterSchema(PersonSchema):
    """Who sent an invite (a `User`)."""


class InviteSchema(Schema):
    """An invite (an `Invite`), without its token; `status` is the effective one (expired included)."""

    id = fields.String(required=True)
    email = fields.String(required=True)
    role = _role()
    organization = fields.Nested(OrganizationRefSchema, required=True, allow_none=True)
    invited_by = fields.Nested(InviterSchema, required=True, allow_none=True, data_key="invitedBy")
    status = fields.Function(lambda invite: invite.effective_status(), required=True, metadata={"type": "string"},
                             validate=validate.OneOf((PENDING, ACCEPTED, REVOKED, EXPIRED)))
    expires_at = _time("expiresAt")
    accepted_at = _time("acceptedAt")
    revoked_at = _time("revokedAt")
    send_count = fields.Integer(required=True, data_key="sendCount")
    email_status = fields.String(required=True, data_key="emailStatus", validate=validate.OneOf(EMAIL_STATUSES),
                                 metadata={
        "description": "queued: waiting to be handed to notifications (or retried); sent: accepted by it; "
                       "failed: refused for good (e.g. an address it cannot send to): resend after fixing it"})
    created_at = _time("createdAt")


class InviteDetailsSchema(Schema):
    """What an invite link is for (an `Invite`, as its accept page shows it)."""

    email = fields.String(required=True)
    role = _role()
    organization_name = fields.Method("_organization_name", required=True, allow_none=True,
                                      data_key="organizationName", metadata={"type": "string"})
    inviter_name = fields.Method("_inviter_name", required=True, allow_none=True, data_key="invitedBy",
                                 metadata={"type": "string"})
    expires_at = _time("expiresAt")

    def _organization_name(self, invite):
        return invite.organization.name if invite.organization else None

    def _inviter_name(self, invite):
        return invite.invited_by.full_name if invite.invited_by else None


class PaginationSchema(Schema):
    """Where a page (a `utils.pagination.Page`) sits in a list."""

    page = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    total = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class SuccessSchema(Schema):
    """`{success: true, …}`: the base of every success answer."""

    success = fields.Constant(True, required=True, metadata={"type": "boolean", "enum": [True]})


class MessageSchema(SuccessSchema):
    """`{success: true, message}`."""

    message = fields.String(required=True)


class ResetTokenValidSchema(SuccessSchema):
    """POST /api/auth/reset-password/check: the link still works (otherwise 410 says why)."""

    valid = fields.Boolean(required=True, metadata={"enum": [True]})


class UserResponseSchema(MessageSchema):
    """A message and the account it is about."""

    user = fields.Nested(UserSchema, required=True)


class ProfileSchema(SuccessSchema):
    """The caller's account."""

    user = fields.Nested(UserSchema, required=True)


class TokensSchema(ProfileSchema):
    """A new session: access token, refresh token and the account."""

    accessToken = fields.String(required=True)
    refreshToken = fields.String(required=True)


class SessionSchema(TokensSchema):
    """A finished login."""

    requiresTwoFactor = fields.Boolean(required=True, metadata={"enum": [False]})
    recoveryCodesRemaining = fields.Integer(metadata={"description": "after a recovery-code login"})


class PasswordChangedSchema(TokensSchema):
    """The caller's fresh session after a password change."""

    message = fields.String(required=True)


class LoginChallengeSchema(MessageSchema):
    """A correct password, but a second factor is needed first."""

    requiresTwoFactor = fields.Boolean(required=True, metadata={"enum": [True]})
    requiresTotpSetup = fields.Boolean(metadata={"enum": [True]})
    twoFactorMethod = fields.String(required=True, validate=validate.OneOf(TWO_FACTOR_METHODS))
    userId = fields.String(required=True)
    twoFactorToken = fields.String(required=True)
    twoFactorMethods = fields.List(fields.String(validate=validate.OneOf(("otp", "totp", "passkey", "recovery_code"))),
                                   metadata={"description": "Every way to finish this login (passkey: "
                                                            "/api/auth/passkey/options then /api/auth/verify-passkey)"})


LOGIN_RESPONSE = {"oneOf": [SessionSchema, LoginChallengeSchema]}


def login_schema(body):
    """The schema of a login's answer: the session, or the second-factor challenge."""
    return LoginChallengeSchema if body["requiresTwoFactor"] else SessionSchema


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


class TotpSecretResponseSchema(SuccessSchema, TotpSecretSchema):
    """POST /api/auth/totp/setup."""


class RecoveryCodesSchema(MessageSchema):
    """A new set of recovery codes, shown once."""

    recoveryCodes = fields.List(fields.String(), required=True)


class TotpConfirmedSchema(RecoveryCodesSchema):
    """Authenticator enabled; with a session when it finished a login."""

    requiresTwoFactor = fields.Boolean(metadata={"enum": [False]})
    accessToken = fields.String()
    refreshToken = fields.String()
    user = fields.Nested(UserSchema)


class TwoFactorSettingsResponseSchema(MessageSchema):
    """A staff user's second factor after PUT /api/auth/two-factor or its email confirmation."""

    twoFactorMethod = fields.String(required=True, allow_none=True, validate=validate.OneOf(TWO_FACTOR_METHODS))
    pendingMethod = fields.String(validate=validate.OneOf(TWO_FACTOR_METHODS))
    totpSetup = fields.Nested(TotpSecretSchema)


class ActiveSessionSchema(Schema):
    """One signed-in session of the caller (a login and its refreshes)."""

    id = fields.String(required=True)
    created_at = _time("createdAt")
    last_used_at = Timestamp(required=True, allow_none=True, data_key="lastUsedAt",
                             metadata={"description": "its login or latest token refresh"})
    ip = fields.String(required=True, allow_none=True, data_key="ipAddress")
    user_agent = fields.String(required=True, allow_none=True, data_key="userAgent")
    current = fields.Boolean(required=True, metadata={"description": "the session of this request's access token"})


class SessionListSchema(SuccessSchema):
    """GET /api/auth/sessions."""

    sessions = fields.List(fields.Nested(ActiveSessionSchema), required=True)


class InviteResponseSchema(MessageSchema):
    """A message and the invite it is about."""

    invite = fields.Nested(InviteSchema, required=True)


class InviteDetailsResponseSchema(SuccessSchema):
    """GET /api/invites/details/{token}."""

    invite = fields.Nested(InviteDetailsSchema, required=True)


class ListSchema(SuccessSchema):
    """A page of a list: `{success, <items>, pagination}`."""

    pagination = fields.Nested(PaginationSchema, required=True)


class InviteListResponseSchema(ListSchema):
    """GET /api/invites/list."""

    invites = fields.List(fields.Nested(InviteSchema), required=True)


class MembersSchema(ListSchema):
    """GET /api/organization/members."""

    members = fields.List(fields.Nested(UserSchema), required=True)


class UserListResponseSchema(ListSchema):
    """GET /api/users."""

    users = fields.List(fields.Nested(UserListItemSchema), required=True)


class OrganizationResponseSchema(SuccessSchema):
    """The caller's organization (with a message after a change)."""

    message = fields.String()
    organization = fields.Nested(OrganizationSchema, required=True)


class OrganizationListResponseSchema(ListSchema):
    """GET /api/organizations."""

    organizations = fields.List(fields.Nested(OrganizationSummarySchema), required=True)


class OrganizationDetailResponseSchema(SuccessSchema):
    """GET /api/organizations/{organizationId}."""

    organization = fields.Nested(OrganizationSummarySchema, required=True)


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


class LivenessSchema(Schema):
    """GET /health/live: the process serves requests."""

    success = fields.Boolean(required=True, metadata={"enum": [True]})
    status = fields.String(required=True, validate=validate.OneOf(("alive",)))
    service = fields.String(required=True)


class ReadinessChecksSchema(Schema):
    """What readiness depends on, and what it only reports."""

    mongodb = fields.String(required=True, validate=validate.OneOf(("up", "down")))
    indexes = fields.String(required=True, validate=validate.OneOf(("ok", "pending", "conflict")),
                            metadata={"description": "conflict: an index change waits for `flask sync-indexes`"})
    redis = fields.String(required=True, validate=validate.OneOf(("up", "down")),
                          metadata={"description": "reported only: without Redis the service still serves"})


class ReadinessSchema(Schema):
    """GET /health/ready (200 and 503 alike)."""

    success = fields.Boolean(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("ready", "not_ready")))
    service = fields.String(required=True)
    checks = fields.Nested(ReadinessChecksSchema, required=True)
