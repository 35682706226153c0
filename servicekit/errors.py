"""Typed domain exceptions and the one JSON error shape both services answer with.

Controllers raise these and know nothing of HTTP; `register_error_handlers`
maps each class to a status and every error, Werkzeug's and marshmallow's
included, to `{success: false, message, errors?}`.
"""
import logging

from flask import jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """Base class: a request that cannot be carried out, with a message for the client."""

    default_message = "Request failed"

    def __init__(self, message=None, errors=None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.errors = errors


class BadRequest(DomainError):
    """The request is malformed."""

    default_message = "Bad request"


class InvalidInput(DomainError):
    """The request is well-formed but a field's value is not acceptable."""

    default_message = "Validation failed"


class Unauthorized(DomainError):
    """Credentials are missing, wrong or no longer valid."""

    default_message = "Authentication required"


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    default_message = "You are not allowed to do this"


class NotFound(DomainError):
    """No such object, or none the caller may see."""

    default_message = "Not found"


class Conflict(DomainError):
    """The request clashes with existing state."""

    default_message = "Conflict"


class Gone(DomainError):
    """The object existed but can no longer be used (expired, used, revoked)."""

    default_message = "This link is no longer valid"


class UnsupportedMediaType(DomainError):
    """The request body is not JSON."""

    default_message = "Content-Type must be application/json"


class TooManyRequests(DomainError):
    """The caller must wait before trying again."""

    default_message = "Too many requests, please try again later"

    def __init__(self, message=None, retry_after=None):
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(DomainError):
    """A dependency the request needs right now is down."""

    default_message = "Service temporarily unavailable"


STATUS_BY_ERROR = {
    BadRequest: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    UnsupportedMediaType: 415,
    InvalidInput: 422,
    TooManyRequests: 429,
    ServiceUnavailable: 503,
}


def error_response(status, message, errors=None, headers=None):
    """Build the one JSON error shape the APIs use."""
    body = {"success": False, "message": message}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def status_for(error):
    """The HTTP status of a domain exception (its nearest mapped base class; 400 otherwise)."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def handle_domain_error(error):
    """Map a typed domain exception to its status."""
    headers = {}
    if isinstance(error, TooManyRequests) and error.retry_after:
        headers["Retry-After"] = str(int(error.retry_after))
    return error_response(status_for(error), error.message, error.errors, headers)


def handle_validation_error(error):
    """Schema validation failed: 422 with the field messages."""
    messages = error.normalized_messages() if isinstance(error.messages, dict) else {"_schema": error.messages}
    return error_response(422, "Validation failed", messages)


def handle_http_exception(error):
    """Werkzeug's own errors (404 route, 405 method, 413, 415, 429 from the limiter), keeping Allow and Retry-After."""
    message = "Not found" if error.code == 404 else error.description or error.name
    if error.code == 429:
        message = "Too many requests, please try again later"
    response = error_response(error.code, message)
    for name, value in error.get_response().headers.items():
        if name.lower() in ("retry-after", "allow"):
            response.headers[name] = value
    return response


def handle_unexpected(error):
    """Anything else is a bug: log it with its trace, tell the client nothing more."""
    log.exception("unhandled error")
    return error_response(500, "Internal server error")


def register_error_handlers(app):
    """Install the handlers on `app`."""
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(ValidationError, handle_validation_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
