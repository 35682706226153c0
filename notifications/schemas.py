"""marshmallow schemas for the HTTP API; unknown fields are rejected everywhere."""
import re

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from servicekit import health
from servicekit.contract import (
    FULL_NAME_MAX_LENGTH,
    IDEMPOTENCY_KEY_HEADER,
    email_length,
    NAME_MAX_LENGTH,
    ORGANIZATION_NAME_MAX_LENGTH,
    name_validators,
    single_line,
    valid_id,
)
from servicekit.health import LivenessSchema, dependency_state  # noqa: F401 - LivenessSchema answers here too

from .utils.mailer import TEMPLATES

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:\-]{1,200}$")
# Names as user_management accepts them; an empty one is left out of the e-mail.
_person = name_validators(FULL_NAME_MAX_LENGTH, min_length=0)
_first_name = name_validators(NAME_MAX_LENGTH, min_length=0)
_organization = name_validators(ORGANIZATION_NAME_MAX_LENGTH, min_length=0)


class StrictSchema(Schema):
    """Base schema: unknown fields are an error."""

    class Meta:
        unknown = RAISE


class InviteContext(StrictSchema):
    """Context of the `invite` template."""

    link = fields.Url(schemes={"http", "https"}, require_tld=False, required=True)
    inviterName = fields.String(validate=_person)
    organizationName = fields.String(validate=_organization)
    role = fields.String(validate=validate.Length(max=50))
    expiresAt = fields.String(validate=validate.Length(max=100))


class OtpContext(StrictSchema):
    """Context of the `otp` template."""

    code = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{4,10}$", error="Must be 4 to 10 digits."))
    expiresInMinutes = fields.Integer(validate=validate.Range(min=1, max=1440))
    firstName = fields.String(validate=_first_name)


class PasswordResetContext(StrictSchema):
    """Context of the `password-reset` template."""

    link = fields.Url(schemes={"http", "https"}, require_tld=False, required=True)
    expiresInMinutes = fields.Integer(validate=validate.Range(min=1, max=10080))
    firstName = fields.String(validate=_first_name)


class InviteAcceptedContext(StrictSchema):
    """Context of the `invite-accepted` template."""

    email = fields.Email(required=True, validate=email_length)
    name = fields.String(validate=_person)
    role = fields.String(validate=validate.Length(max=50))
    organizationName = fields.String(validate=_organization)
    link = fields.Url(schemes={"http", "https"}, require_tld=False)


CONTEXT_SCHEMAS = {
    "invite": InviteContext,
    "otp": OtpContext,
    "password-reset": PasswordResetContext,
    "invite-accepted": InviteAcceptedContext,
}
if set(CONTEXT_SCHEMAS) != set(TEMPLATES):  # checked at import, also under python -O
    raise RuntimeError("every e-mail template needs a context schema")


class SendEmailSchema(StrictSchema):
    """Body of POST /api/email/send: a template with its context, or a ready subject and html (text optional).

    Without `text`, the text part is derived from the HTML part, as the reference's clients expect.
    """

    to = fields.Email(required=True, validate=email_length)
    template = fields.String(validate=validate.OneOf(TEMPLATES))
    context = fields.Dict(keys=fields.String())
    subject = fields.String(validate=[validate.Length(min=1, max=300), single_line])
    html = fields.String(validate=validate.Length(min=1, max=200_000))
    text = fields.String(validate=validate.Length(min=1, max=100_000))

    @validates_schema
    def check_shape(self, data, **kwargs):
        """Require exactly one of the two shapes and a context that fits the template."""
        raw = {"subject", "html", "text"} & data.keys()
        if "template" in data:
            if raw:
                raise ValidationError("Give either template and context, or subject and html (and text).", "_schema")
            schema = CONTEXT_SCHEMAS[data["template"]]()
            try:
                data["context"] = schema.load(data.get("context") or {})
            except ValidationError as exc:
                raise ValidationError(exc.messages, "context") from None
        elif "context" in data:
            raise ValidationError("context needs a template.", "context")
        else:
            missing = {"subject", "html"} - raw
            if missing:
                raise ValidationError(
                    {name: ["Missing data for required field."] for name in sorted(missing)}
                )


class NotifySchema(StrictSchema):
    """Body of POST /api/notify: a `notification` event for one user."""

    userId = fields.String(required=True, validate=valid_id)
    type = fields.String(required=True, validate=validate.Length(min=1, max=50))
    message = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    data = fields.Dict(load_default=dict)


class SendEmailResultSchema(Schema):
    """Response of POST /api/email/send."""

    success = fields.Boolean(dump_default=True)
    queued = fields.Boolean(dump_default=True)
    id = fields.String()
    duplicate = fields.Boolean()


class IdempotencyKeyHeader(Schema):
    """Request headers of POST /api/email/send (for the OpenAPI document)."""

    key = fields.String(data_key=IDEMPOTENCY_KEY_HEADER, validate=validate.Regexp(IDEMPOTENCY_KEY.pattern),
                        metadata={"description": "Makes retries safe: the outbox job id. Generated when absent."})


class AcceptedSchema(Schema):
    """`{success: true}` (POST /api/notify)."""

    success = fields.Boolean(required=True, metadata={"enum": [True]})


class QueuedSchema(Schema):
    """Response of POST /api/email/send (for the OpenAPI document)."""

    success = fields.Boolean(required=True, metadata={"enum": [True]})
    queued = fields.Boolean(required=True, metadata={"enum": [True]})
    id = fields.String(required=True)
    duplicate = fields.Boolean(required=True)


class RedisHealthSchema(Schema):
    """Redis reachability."""

    ok = fields.Boolean(required=True)


class SmtpHealthSchema(Schema):
    """SMTP reachability (down only delays e-mail)."""

    backend = fields.String(required=True)
    ok = fields.Boolean(required=True)


class HealthSchema(Schema):
    """GET /health (200 and 503 alike)."""

    success = fields.Boolean(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("ok", "unavailable")))
    redis = fields.Nested(RedisHealthSchema, required=True)
    smtp = fields.Nested(SmtpHealthSchema, required=True)


class ReadinessChecksSchema(Schema):
    """What readiness depends on."""

    redis = dependency_state()


class ReadinessSchema(health.ReadinessSchema):
    """GET /health/ready (200 and 503 alike)."""

    checks = fields.Nested(ReadinessChecksSchema, required=True)
