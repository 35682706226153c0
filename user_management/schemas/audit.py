"""Request and response schemas of the audit endpoint."""
from datetime import timezone

from marshmallow import Schema, ValidationError, fields, missing, post_load, validate, validates_schema

from ..models.audit_event import EVENT_TYPES
from .fields import Timestamp
from .invite import PageSchema
from .responses import ListSchema


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
    """The actor or target of an event: id and email at the time.

    To a client_admin, someone outside the organization (staff) is only a role: id and email are null.
    """

    id = fields.String(required=True, allow_none=True)
    email = fields.String(required=True, allow_none=True)
    role = fields.String(allow_none=True, dump_only=True, metadata={"description": "only for someone outside the viewer's "
                                                                   "organization, shown instead of id and email"})


class AuditParty(fields.Nested):
    """An event's actor or target, stored flat as `<party>_id` and `<party>_email`; null when there is none."""

    def __init__(self, party, **kwargs):
        super().__init__(AuditPartySchema, required=True, allow_none=True, **kwargs)
        self.party = party

    def get_value(self, obj, attr, accessor=None, default=missing):
        """`{id, email}` of the party, `{id: null, email: null, role}` of a redacted outsider, or None."""
        party_id = getattr(obj, f"{self.party}_id")
        if party_id:
            return {"id": party_id, "email": getattr(obj, f"{self.party}_email")}
        if hasattr(obj, f"{self.party}_role"):
            return {"id": None, "email": None, "role": getattr(obj, f"{self.party}_role")}
        return None


class AuditEventSchema(Schema):
    """One audit event (an `AuditEvent`), as GET /api/audit answers it (never a secret)."""

    id = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(EVENT_TYPES))
    actor = AuditParty("actor")
    target = AuditParty("target")
    organization_id = fields.String(required=True, allow_none=True, data_key="organization",
                                    metadata={"description": "organization id"})
    ip = fields.String(required=True, allow_none=True)
    user_agent = fields.String(required=True, allow_none=True, data_key="userAgent")
    request_id = fields.String(required=True, allow_none=True, data_key="requestId")
    details = fields.Dict(required=True, keys=fields.String())
    created_at = Timestamp(required=True, data_key="createdAt")


class AuditListResponseSchema(ListSchema):
    """GET /api/audit."""

    events = fields.List(fields.Nested(AuditEventSchema), required=True)
