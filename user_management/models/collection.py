"""The `meta` every document of the service declares: its collection and the indexes start-up creates."""


def collection_meta(name, *indexes, ordering=None):
    """meta for a document stored in `name` with `indexes`, built by start-up (`flask sync-indexes`), never on
    first use; `ordering` is the default sort of its queries."""
    meta = {"collection": name, "auto_create_index": False, "indexes": list(indexes)}
    if ordering:
        meta["ordering"] = list(ordering)
    return meta


def expires(after_seconds=0):
    """A TTL index: MongoDB drops the document `after_seconds` after its expires_at."""
    return {"fields": ["expires_at"], "expireAfterSeconds": after_seconds}


def newest_first(*fields):
    """One index per field, each followed by -created_at: the newest documents of one value first."""
    return [(field, "-created_at") for field in fields]
