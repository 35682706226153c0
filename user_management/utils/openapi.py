"""user_management's OpenAPI document: what it says of the service as a whole.

Each route declares its own contract with `api_doc` (imported from here); `servicekit.openapi`
builds the document from those declarations and serves it.
"""
from servicekit.openapi import ApiDocConfig, api_doc, init_api_docs  # noqa: F401 (api_doc)
from servicekit.swagger_ui import DOCS_CSP

from ..extensions import talisman

BEARER_AUTH = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "`Authorization: Bearer <accessToken>` from login, refresh or a finished second factor",
}
DESCRIPTION = (
    "Invite-only user management: users, roles, organizations, invites, login with JWT access tokens and "
    "rotating refresh tokens, two-factor authentication. Every error answers "
    "`{success: false, message, errors?}`; every request is rate limited per IP (429 with `Retry-After`)."
)


def init_app(app):
    """Serve the document, and outside production the Swagger UI page under its own CSP (set by Talisman)."""
    document = ApiDocConfig("user_management API", DESCRIPTION, security_scheme=("bearerAuth", BEARER_AUTH),
                            prefixes=("/api", "/health", "/.well-known"))
    init_api_docs(app, document, csp_decorator=talisman(content_security_policy=DOCS_CSP))
