"""Deterministic ids, so a step retried after a crash writes the same document instead of a second one."""
import hashlib

from bson import ObjectId


def derived_id(*parts):
    """An ObjectId that depends only on `parts` (e.g. an invite's id and what the document is for)."""
    return ObjectId(hashlib.sha256(":".join(map(str, parts)).encode()).digest()[:12])
