"""Request and response schemas of the passkey endpoints (WebAuthn JSON as the browser's toJSON() gives it)."""
from marshmallow import Schema, fields, validate

from ..models.webauthn_credential import NAME_MAX_LENGTH
from .auth import two_factor_token
from .fields import Timestamp, given_password
from .responses import MessageSchema, SuccessSchema

CREDENTIAL_DESCRIPTION = ("The PublicKeyCredential from navigator.credentials.create() or .get(), as JSON "
                          "(`credential.toJSON()`): id, rawId, type, response with base64url fields")


def _credential():
    return fields.Dict(required=True, metadata={"description": CREDENTIAL_DESCRIPTION})


class PasskeyRegistrationOptionsSchema(Schema):
    """POST /api/auth/passkeys/register/options: registering a passkey needs the password."""

    current_password = given_password("currentPassword")


class PasskeyRegistrationSchema(Schema):
    """POST /api/auth/passkeys: finish registering a passkey."""

    credential = _credential()
    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX_LENGTH))


class PasskeyRenameSchema(Schema):
    """PATCH /api/auth/passkeys/{passkey_id}."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX_LENGTH))


class PasskeyRemovalSchema(Schema):
    """DELETE /api/auth/passkeys/{passkey_id}: removing one needs the password."""

    current_password = given_password("currentPassword")


class PasskeyLoginOptionsSchema(Schema):
    """POST /api/auth/passkey/options: the pending login's twoFactorToken."""

    two_factor_token = two_factor_token(required=True)


class VerifyPasskeySchema(Schema):
    """POST /api/auth/verify-passkey."""

    two_factor_token = two_factor_token(required=True)
    credential = _credential()


class PasskeySignInSchema(Schema):
    """POST /api/auth/passkey/login."""

    passkey_token = fields.String(required=True, data_key="passkeyToken", validate=validate.Length(min=1, max=512))
    credential = _credential()


class PasskeySchema(Schema):
    """A registered passkey (never its key)."""

    id = fields.String(required=True)
    name = fields.String(required=True)
    createdAt = Timestamp(required=True, attribute="created_at")
    lastUsedAt = Timestamp(required=True, allow_none=True, attribute="last_used_at")
    backedUp = fields.Boolean(required=True, attribute="backed_up",
                              metadata={"description": "synced to other devices by its provider"})
    transports = fields.List(fields.String(), required=True)


class PasskeyListSchema(SuccessSchema):
    """GET /api/auth/passkeys."""

    passkeys = fields.List(fields.Nested(PasskeySchema), required=True)


class PasskeyResponseSchema(MessageSchema):
    """A message and the passkey it is about."""

    passkey = fields.Nested(PasskeySchema, required=True)


class PasskeyOptionsSchema(SuccessSchema):
    """WebAuthn options to hand to the browser (PublicKeyCredentialCreationOptionsJSON or RequestOptionsJSON)."""

    options = fields.Dict(required=True, metadata={"description": "pass to navigator.credentials.create()/.get() "
                                                                  "after decoding the base64url fields"})


class PasskeySignInOptionsSchema(PasskeyOptionsSchema):
    """POST /api/auth/passkey/login/options."""

    passkeyToken = fields.String(required=True, metadata={"description": "send back with the credential"})
