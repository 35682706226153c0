"""Every error leaves the service as `{success: false, message, errors?}`."""
import logging

from flask import jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from .. import exceptions

log = logging.getLogger(__name__)

STATUS_BY_ERROR = {
    exceptions.BadRequest: 400,
    exceptions.Unauthorized: 401,
    exceptions.Forbidden: 403,
    exceptions.NotFound: 404,
    exceptions.Conflict: 409,
    exceptions.Gone: 410,
    exceptions.InvalidInput: 422,
    exceptions.TooManyRequests: 429,
    exceptions.ServiceUnavailable: 503,
}


def error_response(status, message, errors=None, headers=None):
    """Build the one JSON error shape the API uses."""
    body = {"success": False, "message": message}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _status_for(error):
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def handle_domain_error(error):
    """Map a typed domain exception to its status."""
    headers = {}
    if isinstance(error, exceptions.TooManyRequests) and error.retry_after:
        headers["Retry-After"] = str(int(error.retry_after))
    return error_response(_status_for(error), error.message, error.errors, headers)


def handle_validation_error(error):
    """Schema validation failed: 422 with the field messages."""
    return error_response(422, "Validation failed", error.normalized_messages())


def handle_http_exception(error):
    """Werkzeug's own errors (404 route, 405 method, 413, 415, 429 from the limiter)."""
    message = error.description if error.code != 404 else "Not found"
    if error.code == 429:
        message = "Too many requests, please try again later"
    response = error_response(error.code, message)
    for name, value in (error.get_response().headers or {}).items():
        if name.lower() in ("retry-after", "allow"):
            response.headers[name] = value
    return response


def handle_unexpected(error):
    """Anything else is a bug: log it with its trace, tell the client nothing more."""
    log.exception("unhandled error")
    return error_response(500, "Internal server error")


def register_error_handlers(app):
    """Install the handlers on `app`."""
    app.register_error_handler(exceptions.DomainError, handle_domain_error)
    app.register_error_handler(ValidationError, handle_validation_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
