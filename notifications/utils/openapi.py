"""notifications' OpenAPI document as a whole; `servicekit.openapi` builds and serves it.

The routes import `api_doc` from here and declare their own contract with it.
"""
from servicekit.contract import SERVICE_TOKEN_HEADER
from servicekit.openapi import ApiDocConfig, api_doc, init_api_docs  # noqa: F401 (api_doc)

DOCUMENT = ApiDocConfig(
    title="notifications API",
    description=(
        "Notifications: durable e-mail queue and real-time events (Socket.IO at /socket.io/, not described here). "
        "Every error answers `{success: false, message, errors?}`."
    ),
    security_scheme=("serviceToken", {
        "type": "apiKey", "in": "header", "name": SERVICE_TOKEN_HEADER,
        "description": "NOTIFICATIONS_SERVICE_TOKEN, shared with user_management (service to service only)",
    }),
    rate_limited=False,
)


def init_app(app):
    """Serve the document, and the Swagger UI page outside production."""
    init_api_docs(app, DOCUMENT)
