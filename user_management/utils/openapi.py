"""The OpenAPI document of user_management (`GET /api/openapi.json`) and, outside production, `/api/docs`.

Routes declare their contract with `@api_doc(...)` right under their `@bp.<method>(...)` line;
see `servicekit.openapi` for what is generated from it.
"""
from servicekit.openapi import DOCS_CSP, ApiDocConfig, api_doc, init_api_docs, undocumented_routes

from ..extensions import talisman

__all__ = ["api_doc", "init_app", "undocumented_routes"]

BEARER_SCHEME = ("bearerAuth", {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "`Authorization: Bearer <accessToken>` from login, refresh or a finished second factor",
})
DESCRIPTION = (
    "Invite-only user management: users, roles, organizations, invites, login with JWT access tokens and "
    "rotating refresh tokens, two-factor authentication. Every error answers "
    "`{success: false, message, errors?}`; every request is rate limited per IP (429 with `Retry-After`)."
)


def init_app(app):
    """Serve the document; the interactive page only when not in production."""
    config = ApiDocConfig(title="user_management API", version="1.0.0", description=DESCRIPTION,
                          security_scheme=BEARER_SCHEME, rate_limited=True,
                          prefixes=("/api", "/health", "/.well-known"))
    interactive = app.config["ENV_NAME"] != "production"
    init_api_docs(app, config, interactive=interactive,
                  csp_decorator=talisman(content_security_policy=DOCS_CSP))
