"""Reading a JSON request body the same way in both services."""
import json

from flask import request

from .errors import BadRequest, UnsupportedMediaType

# No request of either API nests deeper than a few levels; deeper JSON is refused before anything walks it.
MAX_JSON_DEPTH = 32


def read_json(allow_empty=False):
    """Return the parsed JSON body; 415 when it is not JSON, 400 when it is malformed.

    With `allow_empty`, a request with no body at all reads as `{}`, so a schema
    can name the missing fields instead of a bare 415.
    """
    if not request.is_json:
        if allow_empty and not request.get_data(cache=True):
            return {}
        raise UnsupportedMediaType()
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # the decoder recurses once per level: thousands of "[" exhaust the stack
        raise BadRequest(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    if data is not None and nesting_depth(data) > MAX_JSON_DEPTH:
        raise BadRequest(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    if data is None or not is_unicode(data):
        raise BadRequest("Malformed JSON body")
    return data


def nesting_depth(data):
    """How deeply lists and objects nest in `data` (a scalar is 0), walked without recursion."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def is_unicode(data):
    """False when a string in `data` holds an unpaired surrogate (JSON's "\\ud800"), which no UTF-8 can carry."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
