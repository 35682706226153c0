"""Request schemas of the organization and user endpoints."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from servicekit.contract import ORGANIZATION_NAME_MAX_LENGTH, name_validators

from ..models.organization import TWO_FACTOR_METHODS
from ..utils.roles import ROLES
from .fields import StrictBoolean, object_id_field, search_field
from .invite import PageSchema

USER_STATUSES = ("active", "inactive", "locked")
ORGANIZATION_STATUSES = ("active", "inactive")


class OrganizationUpdateSchema(Schema):
    """PUT /api/organization."""

    name = fields.String(validate=name_validators(ORGANIZATION_NAME_MAX_LENGTH))
    two_factor_method = fields.String(data_key="twoFactorMethod", validate=validate.OneOf(TWO_FACTOR_METHODS))

    @validates_schema
    def _something_to_change(self, data, **kwargs):
        if not data:
            raise ValidationError("Give name and/or twoFactorMethod")


class UserStatusSchema(Schema):
    """PATCH /api/users/:userId/status."""

    is_active = StrictBoolean(required=True, data_key="isActive")


class OrganizationStatusSchema(Schema):
    """PATCH /api/organizations/:organizationId/status."""

    is_active = StrictBoolean(required=True, data_key="isActive")


class UserListSchema(PageSchema):
    """GET /api/users."""

    search = search_field("case-insensitive part of the email, first or last name")
    role = fields.String(validate=validate.OneOf(ROLES))
    organization_id = object_id_field("organizationId")
    status = fields.String(validate=validate.OneOf(USER_STATUSES),
                           metadata={"description": "active: can sign in; inactive: deactivated; "
                                                    "locked: active but locked out by failed attempts"})


class OrganizationListSchema(PageSchema):
    """GET /api/organizations."""

    search = search_field("case-insensitive part of the name")
    status = fields.String(validate=validate.OneOf(ORGANIZATION_STATUSES))
