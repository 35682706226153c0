"""The one JSON error handler: every error becomes {success: false, message, errors?}."""
import logging

from flask import jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from . import exceptions as exc

log = logging.getLogger(__name__)

STATUS = {
    exc.BadRequest: 400,
    exc.Unauthorized: 401,
    exc.InvalidToken: 401,
    exc.Conflict: 409,
    exc.UnsupportedMediaType: 415,
    exc.InvalidInput: 422,
    exc.ServiceUnavailable: 503,
}


def error_response(status, message, errors=None):
    """Return the JSON error response used by every error path."""
    body = {"success": False, "message": message}
    if errors:
        body["errors"] = errors
    return jsonify(body), status


def handle_domain_error(error):
    """Map a controller's typed exception to its status."""
    status = next((code for cls, code in STATUS.items() if isinstance(error, cls)), 400)
    return error_response(status, error.message, error.errors)


def handle_validation_error(error):
    """marshmallow rejected the body: 422 with the field messages."""
    messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
    return error_response(422, "Validation failed", messages)


def handle_http_error(error):
    """Werkzeug's 404, 405, 413 ... as JSON, keeping the headers that go with them (405's Allow)."""
    response, status = error_response(error.code, error.description or error.name)
    for name, value in error.get_response().headers.items():
        if name.lower() in ("allow", "retry-after"):
            response.headers[name] = value
    return response, status


def handle_unexpected(error):
    """Anything else: log it and answer a bare 500."""
    log.exception("unhandled error")
    return error_response(500, "Internal server error")


def init_app(app):
    """Register the handlers on `app`."""
    app.register_error_handler(exc.DomainError, handle_domain_error)
    app.register_error_handler(ValidationError, handle_validation_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
