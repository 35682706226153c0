"""Requests that need MongoDB wait for this process to have prepared it, or get a 503."""
from flask import current_app, request

from ..exceptions import ServiceUnavailable
from ..utils.database import database_state

# Health checks report readiness themselves; the API document, the public keys and /metrics need no database.
EXEMPT_BLUEPRINTS = {"health", "apidocs", "well_known", None}
NOT_READY = "The database is not reachable yet; try again shortly"


def require_database():
    """before_request: prepare the database on the first request that finds it reachable."""
    if request.blueprint in EXEMPT_BLUEPRINTS:
        return
    app = current_app._get_current_object()
    if not database_state(app).try_prepare(app):
        raise ServiceUnavailable(NOT_READY)


def init_app(app):
    """Install the hook."""
    app.before_request(require_database)
