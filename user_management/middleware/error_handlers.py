"""Every error leaves the service as `{success: false, message, errors?}` (see servicekit.errors).

On top of servicekit's handlers: MongoDB or Redis unreachable is a 503 with Retry-After,
never a 500.
"""
import logging

import redis
from flask import g
from pymongo.errors import PyMongoError

from servicekit import errors
from servicekit.errors import error_response  # noqa: F401  (the service's entry point)

from ..utils.database import is_unavailable_error

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


def handle_database_error(error):
    """MongoDB unreachable or without a primary: 503; any other driver error is a bug (500)."""
    if not is_unavailable_error(error):
        return errors.handle_unexpected(error)
    log.warning("MongoDB unavailable", extra={"error": type(error).__name__})
    return error_response(503, "The database is unavailable; try again shortly",
                          headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def handle_redis_error(error):
    """Redis unreachable where a request cannot do without it: 503."""
    log.warning("Redis unavailable", extra={"error": type(error).__name__})
    return error_response(503, "A required service is unavailable; try again shortly",
                          headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def handle_domain_error(error):
    """servicekit's answer; a 429's own wait is remembered so the limiter's headers cannot change it."""
    if isinstance(error, errors.TooManyRequests) and error.retry_after:
        g.retry_after = int(error.retry_after)
    return errors.handle_domain_error(error)


def keep_retry_after(response):
    """Put back the Retry-After of a refusal the service itself made (its message says the same wait).

    Flask-Limiter sets Retry-After on every limited route's answer to the later of the answer's own and
    the end of its window, so "wait 30 seconds" used to come with a Retry-After of 3593.
    """
    wait = g.pop("retry_after", None)
    if wait is not None and response.status_code == 429:
        response.headers["Retry-After"] = str(wait)
    return response


def register_error_handlers(app):
    """servicekit's handlers, and 503 for an unreachable MongoDB or Redis."""
    errors.register_error_handlers(app)
    app.register_error_handler(errors.DomainError, handle_domain_error)
    # First in the list, so it runs last (Flask runs after-request hooks in reverse), after the limiter's.
    app.after_request_funcs.setdefault(None, []).insert(0, keep_retry_after)
    app.register_error_handler(PyMongoError, handle_database_error)
    app.register_error_handler(redis.ConnectionError, handle_redis_error)
    app.register_error_handler(redis.TimeoutError, handle_redis_error)
