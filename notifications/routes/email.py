"""POST /api/email/send."""
from flask import Blueprint, request

from ..controllers.email import enqueue_email
from ..schemas import SendEmailResultSchema, SendEmailSchema
from ..utils.http import json_body, require_service_token

bp = Blueprint("email", __name__, url_prefix="/api/email")


@bp.post("/send")
@require_service_token
def send():
    """Queue an e-mail; 202 once it is durably in Redis."""
    email = SendEmailSchema().load(json_body())
    result = enqueue_email(email, request.headers.get("Idempotency-Key"))
    return SendEmailResultSchema().dump(result), 202
