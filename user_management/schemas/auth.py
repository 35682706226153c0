"""Request schemas of the auth endpoints."""
from marshmallow import Schema, fields, validate

from .fields import NormalizedEmail, given_password

TOKEN_LENGTH = validate.Length(min=1, max=512)


class LoginSchema(Schema):
    """POST /api/auth/login."""

    email = NormalizedEmail(required=True)
    password = given_password()


class RefreshTokenSchema(Schema):
    """POST /api/auth/refresh and /api/auth/logout."""

    refresh_token = fields.String(required=True, data_key="refreshToken", validate=TOKEN_LENGTH)
