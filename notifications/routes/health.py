"""GET /health."""
from flask import Blueprint

from ..controllers.health import check_health
from ..schemas import HealthSchema
from ..utils.openapi import api_doc

bp = Blueprint("health", __name__)


@bp.get("/health")
@api_doc(response=HealthSchema,
         errors={503: {"description": "Redis is down", "content": {"application/json": {"schema": HealthSchema}}}})
def health():
    """Report Redis and SMTP reachability; 503 when Redis is down."""
    result = check_health()
    body = {"success": result["ok"], "status": "ok" if result["ok"] else "unavailable", **result}
    del body["ok"]
    return body, 200 if result["ok"] else 503
