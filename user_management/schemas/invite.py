"""Request schemas of the invite endpoints."""
from marshmallow import Schema, fields, validate, validates_schema, ValidationError

from servicekit.contract import ORGANIZATION_NAME_MAX_LENGTH, name_validators

from ..models.invite import ACCEPTED, EXPIRED, PENDING, REVOKED
from ..utils.roles import CLIENT_ADMIN, ROLES
from .fields import NormalizedEmail, Password, name_field, object_id_field, search_field


class InviteCreateSchema(Schema):
    """POST /api/invites/create."""

    email = NormalizedEmail(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    organization_name = fields.String(data_key="organizationName",
                                      validate=name_validators(ORGANIZATION_NAME_MAX_LENGTH))

    @validates_schema
    def _organization_name_for_client_admin(self, data, **kwargs):
        if data.get("role") == CLIENT_ADMIN and not (data.get("organization_name") or "").strip():
            raise ValidationError("organizationName is required to invite a client_admin", "organizationName")


class InviteAcceptSchema(Schema):
    """POST /api/invites/accept."""

    token = fields.String(required=True, validate=validate.Length(min=1, max=512))
    first_name = name_field("firstName")
    last_name = name_field("lastName")
    password = Password(required=True)


class PageSchema(Schema):
    """Query string of paginated lists."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class InviteListSchema(PageSchema):
    """GET /api/invites/list."""

    status = fields.String(validate=validate.OneOf((PENDING, ACCEPTED, EXPIRED, REVOKED)))
    search = search_field("case-insensitive part of the invited email")
    organization_id = object_id_field("organizationId", metadata={
        "description": "every invite of this organization (staff: any; a client_admin: its own), not only the caller's"})
