"""Finding one document by the id a client sent."""
from bson import ObjectId
from bson.errors import InvalidId

from ..exceptions import NotFound


def object_id(value):
    """`value` as an ObjectId, or None when it is not one (malformed, wrong type)."""
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        return None


def get_by_id(document, value):
    """The `document` with this id, or None (also for a malformed id)."""
    key = object_id(value)
    return document.objects(id=key).first() if key is not None else None


def get_or_404(document, value, message):
    """The `document` with this id, or NotFound(`message`) (also for a malformed id)."""
    found = get_by_id(document, value)
    if found is None:
        raise NotFound(message)
    return found
