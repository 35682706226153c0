"""MongoDB connection through plain mongoengine, and whether this process is ready to use it.

`MONGODB_URI=mongomock://localhost/<db>` selects the in-memory mongomock client
(dev and tests); anything else is handed to pymongo unchanged. The client connects
lazily, so a worker starts while MongoDB is down: it answers 503 until MongoDB is
reachable, and prepares the database (indexes, the bootstrap admin) on its first
successful contact.
"""
import logging
import threading
import time
from urllib.parse import urlparse

import mongoengine
import mongomock
import pymongo
from pymongo.errors import ConnectionFailure, PyMongoError

from .indexes import ensure_indexes

log = logging.getLogger(__name__)

MOCK_SCHEME = "mongomock://"
EXTENSION_KEY = "database"
# Seconds a health check waits for MongoDB's answer.
PING_TIMEOUT = 2.0
# After a failed preparation, requests get a 503 without another attempt for this long.
RETRY_INTERVAL = 1.0
# While MongoDB stays unreachable, the warning is repeated at most this often.
LOG_INTERVAL = 30.0


def connect_database(uri, alias=mongoengine.DEFAULT_CONNECTION_NAME, server_selection_timeout_ms=5000):
    """Connect mongoengine's default alias to `uri`, replacing any earlier connection; never blocks."""
    mongoengine.disconnect(alias=alias)
    if uri.startswith(MOCK_SCHEME):
        db_name = urlparse(uri).path.lstrip("/") or "user_management"
        return mongoengine.connect(db=db_name, alias=alias, host="mongodb://localhost",
                                   mongo_client_class=mongomock.MongoClient, uuidRepresentation="standard")
    return mongoengine.connect(host=uri, alias=alias, uuidRepresentation="standard", connect=False,
                               serverSelectionTimeoutMS=server_selection_timeout_ms, tz_aware=False)


def database_is_up(timeout=PING_TIMEOUT):
    """True when the database answers a ping within `timeout` seconds."""
    try:
        with pymongo.timeout(timeout):
            mongoengine.get_db().client.admin.command("ping")
        return True
    except Exception:  # any driver error means "down" for a health check
        return False


class DatabaseState:
    """This process's view of MongoDB: prepared yet (indexes, bootstrap), and which indexes were refused."""

    def __init__(self, documents, prepare=()):
        self.documents = tuple(documents)
        self.prepare_steps = tuple(prepare)
        self.prepared = False
        self.index_problems = []
        self._lock = threading.Lock()
        self._next_attempt = 0.0
        self._next_log = 0.0

    def try_prepare(self, app, now=False):
        """Prepare the database once; True when done. Driver errors are logged, never raised.

        After a failure, attempts wait RETRY_INTERVAL unless `now` (MongoDB just answered a ping).
        """
        if self.prepared:
            return True
        if (time.monotonic() < self._next_attempt and not now) or not self._lock.acquire(blocking=False):
            return False
        try:
            if not self.prepared:
                self._prepare(app)
        except PyMongoError as exc:  # unreachable, no primary, refused credentials: not ready, retried
            now = time.monotonic()
            self._next_attempt = now + RETRY_INTERVAL
            if now >= self._next_log:
                self._next_log = now + LOG_INTERVAL
                log.warning(f"MongoDB not usable yet ({type(exc).__name__}); answering 503 and retrying",
                            extra={"error": type(exc).__name__})
        finally:
            self._lock.release()
        return self.prepared

    def _prepare(self, app):
        with app.app_context():
            self.index_problems = ensure_indexes(self.documents)
            for step in self.prepare_steps:
                step()
        self.prepared = True
        log.info("database prepared", extra={"index_problems": len(self.index_problems)})

    def index_status(self):
        """"ok", "pending" (not prepared yet) or "conflict" (see the log for the fix)."""
        if not self.prepared:
            return "pending"
        return "conflict" if self.index_problems else "ok"


def init_app(app, documents, prepare=()):
    """Attach the readiness state to `app` and try to prepare the database now (no failure if it is down)."""
    state = app.extensions[EXTENSION_KEY] = DatabaseState(documents, prepare)
    state.try_prepare(app)
    return state


def database_state(app):
    """The app's DatabaseState."""
    return app.extensions[EXTENSION_KEY]


def is_unavailable_error(error):
    """True for a driver error that means MongoDB cannot be reached (or has no primary) right now."""
    return isinstance(error, ConnectionFailure) or (isinstance(error, PyMongoError) and error.timeout)
