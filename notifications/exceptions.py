"""Domain exceptions raised by controllers.

Controllers know nothing of HTTP; `servicekit.errors` maps each
class to a status code and a `{success: false, message, errors?}` body.
"""


from servicekit.errors import (  # noqa: F401  (re-exported for the service's modules)
    BadRequest,
    Conflict,
    DomainError,
    InvalidInput,
    ServiceUnavailable,
    Unauthorized,
    UnsupportedMediaType,
)


class InvalidToken(Unauthorized):
    """An access token is missing, malformed, expired or of the wrong type."""

    default_message = "Invalid token"


class PermanentEmailError(DomainError):
    """A queued e-mail can never be sent (for example its template fails to render)."""

    default_message = "E-mail cannot be sent"
