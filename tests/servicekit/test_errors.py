"""servicekit.errors: each domain exception answers its status with the one error shape."""
import pytest
from flask import Flask

from servicekit import errors

EXPECTED = [
    (errors.BadRequest, 400, "Bad request"),
    (errors.Unauthorized, 401, "Authentication required"),
    (errors.Forbidden, 403, "You are not allowed to do this"),
    (errors.NotFound, 404, "Not found"),
    (errors.Conflict, 409, "Conflict"),
    (errors.Gone, 410, "This link is no longer valid"),
    (errors.UnsupportedMediaType, 415, "Content-Type must be application/json"),
    (errors.InvalidInput, 422, "Validation failed"),
    (errors.TooManyRequests, 429, "Too many requests, please try again later"),
    (errors.ServiceUnavailable, 503, "Service temporarily unavailable"),
    (errors.DomainError, 400, "Request failed"),
]


class InvalidToken(errors.Unauthorized):
    """A service's own subclass: keeps its base's status, brings its own message."""

    default_message = "Invalid token"


def answer(error):
    """Status, JSON body and headers the handlers give `error` raised in a view."""
    app = Flask(__name__)
    errors.register_error_handlers(app)

    @app.get("/")
    def view():
        raise error

    response = app.test_client().get("/")
    return response.status_code, response.get_json(), response.headers


@pytest.mark.parametrize("cls, status, message", EXPECTED, ids=[cls.__name__ for cls, _, _ in EXPECTED])
def test_each_domain_error_has_its_status_and_default_message(cls, status, message):
    assert answer(cls())[:2] == (status, {"success": False, "message": message})


def test_subclass_keeps_the_status_and_a_message_and_errors_pass_through():
    assert answer(InvalidToken())[:2] == (401, {"success": False, "message": "Invalid token"})
    assert answer(errors.InvalidInput("Bad field", {"email": ["Not an email."]}))[:2] == (
        422, {"success": False, "message": "Bad field", "errors": {"email": ["Not an email."]}})


def test_too_many_requests_says_when_to_retry():
    status, _, headers = answer(errors.TooManyRequests(retry_after=12.7))
    assert status == 429 and headers["Retry-After"] == "12"


@pytest.mark.parametrize("seconds, words", [
    (1, "1 second"), (30, "30 seconds"), (59, "59 seconds"), (60, "about 1 minute"), (119, "about 1 minute"),
    (3593, "about 59 minutes"), (3600, "about 1 hour"), (5400, "about 1 hour and 30 minutes"),
    (7260, "about 2 hours and 1 minute"), (0, "1 second"),
])
def test_a_wait_in_words_never_says_more_than_retry_after(seconds, words):
    assert errors.wait_in_words(seconds) == words
