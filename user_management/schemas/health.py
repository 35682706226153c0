"""Liveness and readiness answers (GET /health/live, GET /health/ready)."""
from marshmallow import Schema, fields, validate

UP_DOWN = validate.OneOf(("up", "down"))


class LivenessSchema(Schema):
    """GET /health/live: the process serves requests."""

    success = fields.Boolean(required=True, metadata={"enum": [True]})
    status = fields.String(required=True, validate=validate.OneOf(("alive",)))
    service = fields.String(required=True)


class ReadinessChecksSchema(Schema):
    """What readiness depends on, and what it only reports."""

    mongodb = fields.String(required=True, validate=UP_DOWN)
    indexes = fields.String(required=True, validate=validate.OneOf(("ok", "pending", "conflict")),
                            metadata={"description": "conflict: an index change waits for `flask sync-indexes`"})
    redis = fields.String(required=True, validate=UP_DOWN,
                          metadata={"description": "reported only: without Redis the service still serves"})


class ReadinessSchema(Schema):
    """GET /health/ready (200 and 503 alike)."""

    success = fields.Boolean(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("ready", "not_ready")))
    service = fields.String(required=True)
    checks = fields.Nested(ReadinessChecksSchema, required=True)
