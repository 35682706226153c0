"""Request parsing and service authentication used by the routes."""
import functools
import hmac

from flask import current_app, request

from servicekit.contract import SERVICE_TOKEN_HEADER
from servicekit.requests import read_json

from ..exceptions import Unauthorized


def json_body():
    """Return the parsed JSON body, or raise UnsupportedMediaType / BadRequest."""
    return read_json()


def require_service_token(view):
    """Allow the view only with the right X-Service-Token header."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        supplied = request.headers.get(SERVICE_TOKEN_HEADER, "")
        expected = current_app.config["NOTIFICATIONS_SERVICE_TOKEN"]
        if not hmac.compare_digest(supplied.encode(), expected.encode()):
            raise Unauthorized("Invalid service token")
        return view(*args, **kwargs)

    return wrapper
