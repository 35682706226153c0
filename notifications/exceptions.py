"""Domain exceptions raised by controllers.

Controllers know nothing of HTTP; the error handler in `errors.py` maps each
class to a status code and a `{success: false, message, errors?}` body.
"""


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
    """Credentials are missing or wrong."""

    default_message = "Authentication required"


class Conflict(DomainError):
    """The request clashes with existing state."""

    default_message = "Conflict"


class UnsupportedMediaType(DomainError):
    """The request body is not JSON."""

    default_message = "Content-Type must be application/json"


class ServiceUnavailable(DomainError):
    """A dependency the request needs right now is down."""

    default_message = "Service temporarily unavailable"


class InvalidToken(DomainError):
    """An access token is missing, malformed, expired or of the wrong type."""

    default_message = "Invalid token"


class PermanentEmailError(DomainError):
    """A queued e-mail can never be sent (for example its template fails to render)."""

    default_message = "E-mail cannot be sent"
