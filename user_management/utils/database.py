"""MongoDB connection through plain mongoengine.

`MONGODB_URI=mongomock://localhost/<db>` selects the in-memory mongomock client
(dev and tests); anything else is handed to pymongo unchanged.
"""
from urllib.parse import urlparse

import mongoengine
import mongomock

MOCK_SCHEME = "mongomock://"


def connect_database(uri, alias=mongoengine.DEFAULT_CONNECTION_NAME):
    """Connect mongoengine's default alias to `uri`, replacing any earlier connection."""
    mongoengine.disconnect(alias=alias)
    if uri.startswith(MOCK_SCHEME):
        db_name = urlparse(uri).path.lstrip("/") or "user_management"
        return mongoengine.connect(db=db_name, alias=alias, host="mongodb://localhost",
                                   mongo_client_class=mongomock.MongoClient, uuidRepresentation="standard")
    return mongoengine.connect(host=uri, alias=alias, uuidRepresentation="standard",
                               serverSelectionTimeoutMS=5000, tz_aware=False)


def database_is_up():
    """True when the database answers a ping."""
    try:
        mongoengine.get_db().client.admin.command("ping")
        return True
    except Exception:  # any driver error means "down" for a health check
        return False


def ensure_indexes(*documents):
    """Create the indexes declared on each document (idempotent)."""
    for document in documents:
        document.ensure_indexes()
