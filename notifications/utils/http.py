"""Request parsing and service authentication used by the routes."""
import functools
import hmac
import json

from flask import current_app, request

from ..exceptions import BadRequest, Unauthorized, UnsupportedMediaType

# B105: a header name, not a secret
SERVICE_TOKEN_HEADER = "X-Service-Token"  # nosec B105


def json_body():
    """Return the parsed JSON body, or raise UnsupportedMediaType / BadRequest."""
    if not request.is_json:
        raise UnsupportedMediaType()
    data = request.get_json(silent=True)
    if data is None or not _is_unicode(data):
        raise BadRequest("Malformed JSON body")
    return data


def _is_unicode(data):
    """False when a string in `data` holds an unpaired surrogate (JSON's "\\ud800"), which no UTF-8 can carry."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
