"""Typed domain exceptions and the one JSON error shape both services answer with.

Controllers raise these and know nothing of HTTP; each class names the status it
answers with, and `register_error_handlers` turns every error, Werkzeug's and
marshmallow's included, into `{success: false, message, errors?}`.
"""
import logging

from flask import jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """Base class: a request that cannot be carried out, with a message for the client.

    `status` is the HTTP status the error handler answers with; subclasses inherit their parent's.
    """

    status = 400
    default_message = "Request failed"

    def __init__(self, message=None, errors=None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.errors = errors


class BadRequest(DomainError):
    """The request is malformed."""

    status = 400
    default_message = "Bad request"


class InvalidInput(DomainError):
    """The request is well-formed but a field's value is not acceptable."""

    status = 422
    default_message = "Validation failed"


class Unauthorized(DomainError):
    """Credentials are missing, wrong or no longer valid."""

    status = 401
    default_message = "Authentication required"


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    status = 403
    default_message = "You are not allowed to do this"


class NotFound(DomainError):
    """No such object, or none the caller may see."""

    status = 404
    default_message = "Not found"


class Conflict(DomainError):
    """The request clashes with existing state."""

    status = 409
    default_message = "Conflict"


class Gone(DomainError):
    """The object existed but can no longer be used (expired, used, revoked)."""

    status = 410
    default_message = "This link is no longer valid"


class UnsupportedMediaType(DomainError):
    """The request body is not JSON."""

    status = 415
    default_message = "Content-Type must be application/json"


class TooManyRequests(DomainError):
    """The caller must wait before trying again."""

    status = 429
    default_message = "Too many requests, please try again later"

    def __init__(self, message=None, retry_after=None):
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(DomainError):
    """A dependency the request needs right now is down."""

    status = 503
    default_message = "Service temporarily unavailable"


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


def handle_domain_error(error):
    """Map a typed domain exception to its status."""
    headers = {}
    if isinstance(error, TooManyRequests) and error.retry_after:
        headers["Retry-After"] = str(int(error.retry_after))
    return error_response(error.status, error.message, error.errors, headers)


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
