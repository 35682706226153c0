"""Reading a JSON request body the same way in both services."""
import json

from flask import request

from .errors import BadRequest, UnsupportedMediaType


def read_json(allow_empty=False):
    """Return the parsed JSON body; 415 when it is not JSON, 400 when it is malformed.

    With `allow_empty`, a request with no body at all reads as `{}`, so a schema
    can name the missing fields instead of a bare 415.
    """
    if not request.is_json:
        if allow_empty and not request.get_data(cache=True):
            return {}
        raise UnsupportedMediaType()
    data = request.get_json(silent=True)
    if data is None or not is_unicode(data):
        raise BadRequest("Malformed JSON body")
    return data


def is_unicode(data):
    """False when a string in `data` holds an unpaired surrogate (JSON's "\\ud800"), which no UTF-8 can carry."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
