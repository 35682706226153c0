"""Domain exceptions raised by controllers and models.

Controllers know nothing of HTTP; `servicekit.errors.register_error_handlers`
maps each class to a status code and a JSON body.
"""
from servicekit.errors import (  # noqa: F401  (re-exported for the service's modules)
    BadRequest,
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
    wait_in_words,
)
