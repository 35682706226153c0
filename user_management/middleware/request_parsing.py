"""Read a JSON request body and validate it with a marshmallow schema."""
from flask import request

from servicekit.requests import read_json

from ..exceptions import BadRequest


def json_body(schema):
    """Return `schema.load(body)`; 415 for a non-JSON body, 400 for malformed JSON or a non-object."""
    data = read_json(allow_empty=True)
    if not isinstance(data, dict):
        raise BadRequest("The JSON body must be an object")
    return schema.load(data)


def query_args(schema):
    """Return `schema.load(query string)`."""
    return schema.load(request.args.to_dict())
