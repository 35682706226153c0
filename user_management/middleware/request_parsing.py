"""Read a JSON request body and validate it with a marshmallow schema."""
import json

from flask import request
from werkzeug.exceptions import UnsupportedMediaType

from ..exceptions import BadRequest


def json_body(schema):
    """Return `schema.load(body)`; 415 for a non-JSON body, 400 for malformed JSON or a non-object."""
    if not request.is_json:
        if not request.get_data(cache=True):
            data = {}
        else:
            raise UnsupportedMediaType("Content-Type must be application/json")
    else:
        data = request.get_json(silent=True)
        if data is None or not is_unicode(data):
            raise BadRequest("Malformed JSON body")
    if not isinstance(data, dict):
        raise BadRequest("The JSON body must be an object")
    return schema.load(data)


def is_unicode(data):
    """False when a string in `data` holds an unpaired surrogate (JSON's "\\ud800"), which no UTF-8 can carry."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def query_args(schema):
    """Return `schema.load(query string)`."""
    return schema.load(request.args.to_dict())
