"""Response schemas of the probes both services answer: GET /health/live and GET /health/ready."""
from marshmallow import Schema, fields, validate


def dependency_state(**kwargs):
    """A dependency's state in a probe answer: "up" or "down"."""
    return fields.String(required=True, validate=validate.OneOf(("up", "down")), **kwargs)


class LivenessSchema(Schema):
    """GET /health/live: the process serves requests."""

    success = fields.Boolean(required=True, metadata={"enum": [True]})
    status = fields.String(required=True, validate=validate.OneOf(("alive",)))
    service = fields.String(required=True)


class ReadinessSchema(Schema):
    """GET /health/ready (200 and 503 alike); a service adds `checks`, the states its readiness reads."""

    success = fields.Boolean(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("ready", "not_ready")))
    service = fields.String(required=True)
