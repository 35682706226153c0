"""The pages: accept invite, log in, forgot and reset password, console.

Each page is a template with its own script; the data comes from the JSON API.
Pages and their static files are not counted against the API's per-IP budget.
"""
import json
from functools import wraps

from flask import current_app, redirect, render_template, request, url_for

from ..extensions import limiter, talisman
from ..utils.passwords import MAX_LENGTH, MIN_LENGTH
from ..utils.roles import INVITABLE_ROLES
from . import bp
from .security import PAGE_CSP, ensure_csrf_token


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


def render_page(template, script, **context):
    """Render a page with the settings its script reads from `<body data-…>`."""
    settings = {
        "notificationsUrl": current_app.config["NOTIFICATIONS_PUBLIC_URL"],
        "passwordMinLength": MIN_LENGTH,
        "passwordMaxLength": MAX_LENGTH,
        "invitableRoles": {role: list(roles) for role, roles in INVITABLE_ROLES.items()},
    }
    return render_template(template, script=script, settings=json.dumps(settings), password_min_length=MIN_LENGTH,
                           password_max_length=MAX_LENGTH, **context)


@bp.get("/")
@page
def home():
    """The console (which sends visitors without a session to the login page)."""
    return redirect(url_for("web.console"))


@bp.get("/login")
@page
def login():
    """Email and password, then the second factor the account needs."""
    return render_page("web/login.html", "login.js", title="Sign in")


@bp.get("/forgot-password")
@page
def forgot_password():
    """Ask for a reset link."""
    return render_page("web/forgot_password.html", "forgot_password.js", title="Forgot your password?")


@bp.get("/reset-password")
@page
def reset_password():
    """The reset link of the password-reset email: choose a new password."""
    return render_page("web/reset_password.html", "reset_password.js", title="Choose a new password")


@bp.get("/accept-invite")
@page
def accept_invite():
    """The link of the invite email: who invited you, to what; create the account."""
    return render_page("web/accept_invite.html", "accept_invite.js", title="Accept your invite")


@bp.get("/console")
@page
def console():
    """Profile, invites, organization, members and audit log of the signed-in user."""
    return render_page("web/console.html", "console.js", title="Console")
