"""POST /api/notify."""
from flask import Blueprint

from ..controllers.notify import notify_user
from ..schemas import AcceptedSchema, NotifySchema
from ..utils.http import json_body, require_service_token
from ..utils.openapi import api_doc

bp = Blueprint("notify", __name__, url_prefix="/api")


@bp.post("/notify")
@api_doc(body=NotifySchema, response=AcceptedSchema, status=202, auth=True)
@require_service_token
def notify():
    """Emit a `notification` event to one user's sockets, on whichever process holds them."""
    body = NotifySchema().load(json_body())
    notify_user(body["userId"], body["type"], body["message"], body["data"])
    return {"success": True}, 202
