"""/health (dependencies), /health/live (liveness) and /health/ready (readiness)."""
import pymongo
from flask import Blueprint, current_app

from ..extensions import limiter, talisman
from ..schemas import responses as out
from ..utils.database import PING_TIMEOUT, database_is_up, database_state
from ..utils.openapi import api_doc
from ..utils.redis_client import redis_is_up

bp = Blueprint("health", __name__)
SERVICE = "user_management"


@bp.get("/health")
@api_doc(response=out.HealthSchema, rate_limited=False, errors={
    503: {"description": "A dependency is down", "content": {"application/json": {"schema": out.HealthSchema}}}})
@limiter.exempt
@talisman(force_https=False)  # container and load-balancer checks speak plain HTTP
def health():
    """200 when MongoDB and Redis answer, 503 otherwise."""
    checks = {"mongodb": "up" if database_is_up() else "down", "redis": "up" if redis_is_up() else "down"}
    healthy = all(state == "up" for state in checks.values())
    body = {"success": healthy, "status": "ok" if healthy else "degraded", "service": SERVICE, "checks": checks}
    return out.HealthSchema().dump(body), 200 if healthy else 503


@bp.get("/health/live")
@api_doc(response=out.LivenessSchema, rate_limited=False)
@limiter.exempt
@talisman(force_https=False)
def live():
    """200 while the process serves requests, whatever its dependencies (restart it when this fails)."""
    return out.LivenessSchema().dump({"success": True, "status": "alive", "service": SERVICE})


@bp.get("/health/ready")
@api_doc(response=out.ReadinessSchema, rate_limited=False, errors={
    503: {"description": "MongoDB unreachable, or not prepared yet",
          "content": {"application/json": {"schema": out.ReadinessSchema}}}})
@limiter.exempt
@talisman(force_https=False)
def ready():
    """200 when this process can serve: MongoDB reachable and prepared. Redis is reported, not required."""
    app = current_app._get_current_object()
    state = database_state(app)
    mongodb_up = database_is_up()
    prepared = state.prepared
    if mongodb_up and not prepared:
        with pymongo.timeout(PING_TIMEOUT):
            prepared = state.try_prepare(app, now=True)
    ready_now = prepared and mongodb_up
    checks = {"mongodb": "up" if mongodb_up else "down", "indexes": state.index_status(),
              "redis": "up" if redis_is_up() else "down"}
    body = {"success": ready_now, "status": "ready" if ready_now else "not_ready", "service": SERVICE,
            "checks": checks}
    return out.ReadinessSchema().dump(body), 200 if ready_now else 503
