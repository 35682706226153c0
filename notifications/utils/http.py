"""Request parsing and service authentication used by the routes."""
import functools
import hmac

from flask import current_app, request

from ..exceptions import BadRequest, Unauthorized, UnsupportedMediaType

SERVICE_TOKEN_HEADER = "X-Service-Token"


def json_body():
    """Return the parsed JSON body, or raise UnsupportedMediaType / BadRequest."""
    if not request.is_json:
        raise UnsupportedMediaType()
    data = request.get_json(silent=True)
    if data is None:
        raise BadRequest("Malformed JSON body")
    return data


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
