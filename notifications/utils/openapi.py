"""notifications' OpenAPI document, served by `servicekit.openapi`; routes declare theirs with `api_doc`."""
from servicekit.contract import SERVICE_TOKEN_HEADER
from servicekit.openapi import ApiDocConfig, api_doc, init_api_docs  # noqa: F401 (api_doc)

DOCUMENT = ApiDocConfig(
    "notifications API",
    "Notifications: durable e-mail queue and real-time events (Socket.IO at /socket.io/, not described here). "
    "Every error answers `{success: false, message, errors?}`.",
    security_scheme=("serviceToken", {
        "type": "apiKey", "in": "header", "name": SERVICE_TOKEN_HEADER,
        "description": "NOTIFICATIONS_SERVICE_TOKEN, shared with user_management (service to service only)",
    }),
    rate_limited=False,  # no rate limiter here: no 429 to document
)


def init_app(app):
    """Serve the document, and outside production the Swagger UI page."""
    init_api_docs(app, DOCUMENT)
