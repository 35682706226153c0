"""POST /api/email/send."""
from flask import Blueprint, request

from servicekit.contract import IDEMPOTENCY_KEY_HEADER

from ..controllers.email import enqueue_email
from ..schemas import IdempotencyKeyHeader, QueuedSchema, SendEmailResultSchema, SendEmailSchema
from ..utils.http import json_body, require_service_token
from ..utils.openapi import api_doc

bp = Blueprint("email", __name__, url_prefix="/api/email")


@bp.post("/send")
@api_doc(body=SendEmailSchema, response=QueuedSchema, status=202, auth=True,
         headers=[{"in": "header", "schema": IdempotencyKeyHeader}],
         errors={409: "Idempotency-Key already used for a different e-mail",
                 503: "Redis unreachable: nothing was queued, retry later"})
@require_service_token
def send():
    """Queue an e-mail; 202 once it is durably in Redis."""
    email = SendEmailSchema().load(json_body())
    result = enqueue_email(email, request.headers.get(IDEMPOTENCY_KEY_HEADER))
    return SendEmailResultSchema().dump(result), 202
