"""/api/audit: the security audit log."""
from flask import Blueprint
from flask_jwt_extended import current_user

from ..controllers import audit_controller
from ..middleware.auth import auth_required
from ..middleware.request_parsing import query_args
from ..schemas.audit import AuditListResponseSchema, AuditListSchema
from ..utils.openapi import api_doc
from ..utils.roles import CLIENT_ADMIN, SITE_ADMIN, SUPER_ADMIN

bp = Blueprint("audit", __name__, url_prefix="/api/audit")


@bp.get("")
@api_doc(query=AuditListSchema, response=AuditListResponseSchema, auth=True, errors=(403,))
@auth_required(SUPER_ADMIN, SITE_ADMIN, CLIENT_ADMIN)
def list_events():
    """Security events, newest first, filtered by type, user and time range."""
    args = query_args(AuditListSchema())
    page = audit_controller.list_events(
        current_user, args["page"], args["limit"], args.get("type"), args.get("user"), args.get("from_"), args.get("to")
    )
    return AuditListResponseSchema().dump({"events": page.items, "pagination": page})
