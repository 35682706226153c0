"""/api/auth: login, refresh, logout, profile."""
from flask import Blueprint, current_app, jsonify, request
from flask_jwt_extended import current_user

from ..controllers import auth_controller
from ..extensions import limiter
from ..middleware.auth import auth_required
from ..middleware.request_parsing import json_body
from ..schemas.auth import LoginSchema, RefreshTokenSchema

bp = Blueprint("auth", __name__, url_prefix="/api/auth")


def client_info():
    """Who is calling, for the session record."""
    return {"ip": request.remote_addr, "user_agent": (request.user_agent.string or "")[:512]}


def _login_failure_limit():
    return current_app.config["RATELIMIT_LOGIN_FAILURES"]


@bp.post("/login")
@limiter.limit(_login_failure_limit, deduct_when=lambda response: response.status_code == 401,
               error_message="Too many failed login attempts, please try again later")
def login():
    """Exchange email and password for tokens."""
    data = json_body(LoginSchema())
    session = auth_controller.login(data["email"], data["password"], client_info())
    return jsonify(success=True, requiresTwoFactor=False, **session)


@bp.post("/refresh")
def refresh():
    """Rotate a refresh token into a new access and refresh token."""
    data = json_body(RefreshTokenSchema())
    session = auth_controller.refresh(data["refresh_token"], client_info())
    return jsonify(success=True, **session)


@bp.post("/logout")
def logout():
    """Revoke the session a refresh token belongs to."""
    data = json_body(RefreshTokenSchema())
    auth_controller.logout(data["refresh_token"])
    return jsonify(success=True, message="Logged out")


@bp.post("/logout-all")
@auth_required()
def logout_all():
    """Revoke every session of the caller."""
    auth_controller.logout_all(current_user)
    return jsonify(success=True, message="Every session has been signed out")


@bp.get("/profile")
@auth_required()
def profile():
    """The caller's account, without secrets."""
    return jsonify(success=True, user=current_user.to_dict())
