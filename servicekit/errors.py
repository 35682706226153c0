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

    A subclass names its HTTP status and default message in its bases:
    `class NotFound(DomainError, status=404, message="Not found")`; a subclass of that keeps them.
    """

    status = 400
    default_message = "Request failed"

    def __init_subclass__(cls, status=None, message=None, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.status = status or cls.status
        cls.default_message = message or cls.default_message

    def __init__(self, message=None, errors=None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.errors = errors


class BadRequest(DomainError, status=400, message="Bad request"):
    """The request is malformed."""


class InvalidInput(DomainError, status=422, message="Validation failed"):
    """The request is well-formed but a field's value is not acceptable."""


class Unauthorized(DomainError, status=401, message="Authentication required"):
    """Credentials are missing, wrong or no longer valid."""


class Forbidden(DomainError, status=403, message="You are not allowed to do this"):
    """The caller is known but may not do this."""


class NotFound(DomainError, status=404, message="Not found"):
    """No such object, or none the caller may see."""


class Conflict(DomainError, status=409, message="Conflict"):
    """The request clashes with existing state."""


class Gone(DomainError, status=410, message="This link is no longer valid"):
    """The object existed but can no longer be used (expired, used, revoked)."""


class UnsupportedMediaType(DomainError, status=415, message="Content-Type must be application/json"):
    """The request body is not JSON."""


class TooManyRequests(DomainError, status=429, message="Too many requests, please try again later"):
    """The caller must wait before trying again."""

    def __init__(self, message=None, retry_after=None):
        super().__init__(message)
        self.retry_after = retry_after


def wait_in_words(seconds):
    """A wait as a person reads it, matching a Retry-After of `seconds`: "45 seconds", "about 59 minutes",
    "about 1 hour and 5 minutes" (rounded down past a minute, so never more than Retry-After)."""
    seconds = max(1, int(seconds))
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    hours, minutes = divmod(seconds // 60, 60)
    minutes_text = f"{minutes} minute{'s' if minutes != 1 else ''}"
    if not hours:
        return f"about {minutes_text}"
    hours_text = f"{hours} hour{'s' if hours != 1 else ''}"
    return f"about {hours_text}" + (f" and {minutes_text}" if minutes else "")


class ServiceUnavailable(DomainError, status=503, message="Service temporarily unavailable"):
    """A dependency the request needs right now is down."""


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
