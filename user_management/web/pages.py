"""The pages: accept invite, log in, forgot and reset password, the console and the signed-in pages.

Each page is a template with its own script; the data comes from the JSON API. The pages are one table
(`PAGES`); the signed-in ones share the layout's navigation (`NAV`, filtered by role in the browser; the API
decides what each role may do). Pages and their static files are not counted against the API's per-IP budget.
An unknown path outside /api and /web/session gets the HTML "not found" page; the API keeps its JSON 404.
"""
import json
from functools import wraps

from flask import current_app, redirect, render_template, request, url_for

from servicekit.errors import handle_http_exception

from ..extensions import limiter, talisman
from ..models.audit_event import EVENT_TYPES
from ..utils.passwords import MAX_LENGTH, MIN_LENGTH
from ..utils.roles import INVITABLE_ROLES, STAFF_ROLES, RANK
from . import bp
from .security import PAGE_CSP, ensure_csrf_token

EVERYONE = "super_admin site_admin operator client_admin client_user"
STAFF = "super_admin site_admin operator"
# (endpoint, label, roles that see the link)
NAV = (
    ("web.console", "Console", EVERYONE),
    ("web.account", "Your account", EVERYONE),
    ("web.users", "Users", STAFF + " client_admin"),
    ("web.organizations", "Organizations", STAFF),
    ("web.audit", "Audit log", "super_admin site_admin client_admin"),
)
# (rule, endpoint, script, title, signed in); a page's template is web/<endpoint>.html
PAGES = (
    ("/login", "login", "login.js", "Sign in", False),
    ("/forgot-password", "forgot_password", "forgot_password.js", "Forgot your password?", False),
    ("/reset-password", "reset_password", "reset_password.js", "Choose a new password", False),
    ("/accept-invite", "accept_invite", "accept_invite.js", "Accept your invite", False),
    ("/console", "console", "console.js", "Console", True),
    ("/account", "account", "account.js", "Your account", True),
    ("/account/passkeys", "account_passkeys", "passkeys.js", "Passkeys", True),
    ("/users", "users", "users.js", "Users", True),
    ("/organizations", "organizations", "organizations.js", "Organizations", True),
    ("/organizations/<organization_id>", "organization", "organization.js", "Organization", True),
    ("/audit", "audit", "audit.js", "Audit log", True),
    ("/not-found", "not_found", None, "Page not found", False),
)
API_PREFIXES = ("/api/", "/web/session", "/web/static/", "/.well-known/")


@limiter.request_filter
def _static_asset():
    """The pages' CSS and scripts are not API calls."""
    return request.endpoint == "web.static"


def page(view):
    """A page: the pages' CSP, no caching (URLs carry one-time tokens), a CSRF cookie, no rate limit."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        response = current_app.make_response(view(*args, **kwargs))
        response.headers["Cache-Control"] = "no-store"
        return ensure_csrf_token(response)

    return limiter.exempt(talisman(content_security_policy=PAGE_CSP)(wrapper))


def render_page(template, script, signed_in=False, **context):
    """Render a page with the settings its script reads from `<body data-…>`."""
    settings = {
        "notificationsUrl": current_app.config["NOTIFICATIONS_PUBLIC_URL"],
        "passwordMinLength": MIN_LENGTH,
        "passwordMaxLength": MAX_LENGTH,
        "invitableRoles": {role: list(roles) for role, roles in INVITABLE_ROLES.items()},
        "staffRoles": list(STAFF_ROLES),
        "roleRank": RANK,
        "auditEventTypes": list(EVENT_TYPES),
    }
    return render_template(template, script=script, settings=json.dumps(settings), password_min_length=MIN_LENGTH,
                           password_max_length=MAX_LENGTH, signed_in=signed_in, nav=NAV,
                           active=request.endpoint, **context)


def _register(rule, endpoint, script, title, signed_in):
    status = 404 if endpoint == "not_found" else 200

    def view(**_path):
        return render_page(f"web/{endpoint}.html", script, signed_in=signed_in, title=title), status

    view.__name__ = endpoint
    view.__doc__ = f"The page {rule}."
    bp.add_url_rule(rule, endpoint, page(view), methods=["GET"])


for _page in PAGES:
    _register(*_page)


@bp.get("/")
@page
def home():
    """The console (which sends visitors without a session to the login page)."""
    return redirect(url_for("web.console"))


@bp.app_errorhandler(404)
def not_found(error):
    """A browser asking for an unknown page gets an HTML page with a link home; API paths keep the JSON 404."""
    wants_html = request.accept_mimetypes.accept_html and request.method == "GET"
    if not wants_html or request.path.startswith(API_PREFIXES):
        return handle_http_exception(error)
    # Talisman picks a response's CSP by the request's endpoint: answer as the not_found page would.
    request.url_rule = next(current_app.url_map.iter_rules("web.not_found"))
    return current_app.view_functions["web.not_found"]()
