"""GET /health."""
from flask import Blueprint

from ..controllers.health import check_health

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    """Report Redis and SMTP reachability; 503 when Redis is down."""
    result = check_health()
    body = {"success": result["ok"], "status": "ok" if result["ok"] else "unavailable", **result}
    del body["ok"]
    return body, 200 if result["ok"] else 503
