"""/health: is the service able to serve? Checks MongoDB and Redis."""
from flask import Blueprint

from ..extensions import limiter, talisman
from ..utils.database import database_is_up
from ..utils.redis_client import redis_is_up
from ..schemas import responses as out
from ..utils.openapi import api_doc

bp = Blueprint("health", __name__)


@bp.get("/health")
@api_doc(response=out.HealthSchema, rate_limited=False, errors={
    503: {"description": "A dependency is down", "content": {"application/json": {"schema": out.HealthSchema}}}})
@limiter.exempt
@talisman(force_https=False)  # container and load-balancer checks speak plain HTTP
def health():
    """200 when MongoDB and Redis answer, 503 otherwise."""
    checks = {"mongodb": "up" if database_is_up() else "down", "redis": "up" if redis_is_up() else "down"}
    healthy = all(state == "up" for state in checks.values())
    body = {"success": healthy, "status": "ok" if healthy else "degraded", "service": "user_management", "checks": checks}
    return out.HealthSchema().dump(body), 200 if healthy else 503
