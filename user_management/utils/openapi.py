"""user_management's OpenAPI document as a whole; `servicekit.openapi` builds and serves it.

The routes import `api_doc` from here and declare their own contract with it.
"""
from servicekit.openapi import DOCS_CSP, ApiDocConfig, api_doc, init_api_docs  # noqa: F401 (api_doc)

from ..extensions import talisman

DOCUMENT = ApiDocConfig(
    title="user_management API",
    description=(
        "Invite-only user management: users, roles, organizations, invites, login with JWT access tokens and "
        "rotating refresh tokens, two-factor authentication. Every error answers "
        "`{success: false, message, errors?}`; every request is rate limited per IP (429 with `Retry-After`)."
    ),
    security_scheme=("bearerAuth", {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "`Authorization: Bearer <accessToken>` from login, refresh or a finished second factor",
    }),
)


def init_app(app):
    """Serve the document, and the Swagger UI page outside production under its own CSP (through Talisman)."""
    init_api_docs(app, DOCUMENT, csp_decorator=talisman(content_security_policy=DOCS_CSP))
