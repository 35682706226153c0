"""The OpenAPI document of notifications (`GET /api/openapi.json`) and, outside production, `/api/docs`.

Routes declare their contract with `@api_doc(...)` right under their `@bp.<method>(...)` line;
see `servicekit.openapi` for what is generated from it.
"""
from servicekit.openapi import ApiDocConfig, api_doc, init_api_docs, undocumented_routes

__all__ = ["api_doc", "init_app", "undocumented_routes"]

SERVICE_TOKEN_SCHEME = ("serviceToken", {
    "type": "apiKey",
    "in": "header",
    "name": "X-Service-Token",
    "description": "NOTIFICATIONS_SERVICE_TOKEN, shared with user_management (service to service only)",
})
DESCRIPTION = (
    "Notifications: durable e-mail queue and real-time events (Socket.IO at /socket.io/, not described here). "
    "Every error answers `{success: false, message, errors?}`."
)


def init_app(app):
    """Serve the document; the interactive page only when not in production."""
    config = ApiDocConfig(title="notifications API", version="1.0.0", description=DESCRIPTION,
                          security_scheme=SERVICE_TOKEN_SCHEME, rate_limited=False)
    init_api_docs(app, config, interactive=app.config["ENV_NAME"] != "production")
