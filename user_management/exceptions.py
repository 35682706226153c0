"""Domain exceptions raised by controllers and models.

Controllers know nothing of HTTP; the error handler in
`middleware/error_handlers.py` maps each class to a status code and a JSON body.
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


class TooManyRequests(DomainError):
    """The caller must wait before trying again."""

    default_message = "Too many requests, please try again later"

    def __init__(self, message=None, retry_after=None):
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(DomainError):
    """A dependency the request needs right now is down."""

    default_message = "Service temporarily unavailable"
