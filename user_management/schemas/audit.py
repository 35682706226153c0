"""Request schemas of the audit endpoint."""
from datetime import timezone

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from ..models.audit_event import EVENT_TYPES
from .invite import PageSchema
from .responses import PaginationSchema


def _naive_utc(moment):
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


class AuditListSchema(PageSchema):
    """GET /api/audit: ?type&user&from&to&page&limit (from/to ISO-8601; no offset means UTC)."""

    type = fields.String(validate=validate.OneOf(EVENT_TYPES))
    user = fields.String(validate=validate.Length(min=1, max=64))
    from_ = fields.DateTime(data_key="from")
    to = fields.DateTime()

    @post_load
    def _to_utc(self, data, **kwargs):
        for name in ("from_", "to"):
            if name in data:
                data[name] = _naive_utc(data[name])
        return data

    @validates_schema
    def _range_in_order(self, data, **kwargs):
        start, end = _naive_utc(data.get("from_")), _naive_utc(data.get("to"))
        if start is not None and end is not None and start > end:
            raise ValidationError("from must not be after to", "from")


class AuditPartySchema(Schema):
    """The actor or target of an event: id and email at the time."""

    id = fields.String(required=True)
    email = fields.String(required=True, allow_none=True)


class AuditEventSchema(Schema):
    """One audit event, as GET /api/audit answers it (never a secret)."""

    id = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(EVENT_TYPES))
    actor = fields.Nested(AuditPartySchema, required=True, allow_none=True)
    target = fields.Nested(AuditPartySchema, required=True, allow_none=True)
    organization = fields.String(required=True, allow_none=True, metadata={"description": "organization id"})
    ip = fields.String(required=True, allow_none=True)
    userAgent = fields.String(required=True, allow_none=True)
    requestId = fields.String(required=True, allow_none=True)
    details = fields.Dict(required=True, keys=fields.String())
    createdAt = fields.DateTime(required=True)


class AuditListResponseSchema(Schema):
    """GET /api/audit."""

    success = fields.Boolean(required=True, metadata={"enum": [True]})
    events = fields.List(fields.Nested(AuditEventSchema), required=True)
    pagination = fields.Nested(PaginationSchema, required=True)
