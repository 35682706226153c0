"""GET /health (Redis and SMTP), /health/live (liveness) and /health/ready (readiness: Redis)."""
from flask import Blueprint

from ..controllers.health import check_health, redis_ok
from ..schemas import HealthSchema, LivenessSchema, ReadinessSchema
from ..utils.openapi import api_doc

bp = Blueprint("health", __name__)
SERVICE = "notifications"


@bp.get("/health")
@api_doc(response=HealthSchema,
         errors={503: {"description": "Redis is down", "content": {"application/json": {"schema": HealthSchema}}}})
def health():
    """Report Redis and SMTP reachability; 503 when Redis is down."""
    result = check_health()
    body = {"success": result["ok"], "status": "ok" if result["ok"] else "unavailable", **result}
    del body["ok"]
    return body, 200 if result["ok"] else 503


@bp.get("/health/live")
@api_doc(response=LivenessSchema)
def live():
    """200 while the process serves requests, whatever its dependencies."""
    return {"success": True, "status": "alive", "service": SERVICE}


@bp.get("/health/ready")
@api_doc(response=ReadinessSchema,
         errors={503: {"description": "Redis is down", "content": {"application/json": {"schema": ReadinessSchema}}}})
def ready():
    """200 when Redis answers (the queue and Socket.IO fan-out need it); SMTP down only delays email."""
    up = redis_ok()
    body = {"success": up, "status": "ready" if up else "not_ready", "service": SERVICE,
            "checks": {"redis": "up" if up else "down"}}
    return body, 200 if up else 503
