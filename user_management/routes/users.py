"""/api/users: account status, second-factor resets and unlocks, managed by a higher role."""
from flask import Blueprint
from flask_jwt_extended import current_user

from ..controllers import two_factor_enrollment, user_controller
from ..middleware.auth import auth_required
from ..middleware.request_parsing import json_body, query_args
from ..schemas import responses as out
from ..schemas.organization import UserListSchema, UserStatusSchema
from ..utils.openapi import api_doc
from ..utils.roles import CLIENT_ADMIN, STAFF_ROLES

bp = Blueprint("users", __name__, url_prefix="/api/users")


def _answer(message, user):
    """`{success, message, user}`."""
    return out.UserResponseSchema().dump({"message": message, "user": user})


@bp.get("")
@api_doc(query=UserListSchema, response=out.UserListResponseSchema, auth=True, errors=(403, 404))
@auth_required(*STAFF_ROLES, CLIENT_ADMIN)
def list_users():
    """Staff: every user; a client_admin: its organization's. Search, filters, newest first."""
    args = query_args(UserListSchema())
    page = user_controller.list_users(current_user, args["page"], args["limit"], args.get("search"), args.get("role"),
                                      args.get("organization_id"), args.get("status"))
    return out.UserListResponseSchema().dump({"users": page.items, "pagination": page})


@bp.patch("/<user_id>/status")
@api_doc(body=UserStatusSchema, response=out.UserResponseSchema, auth=True, errors=(403,))
@auth_required()
def set_status(user_id):
    """Deactivate or reactivate a user below the caller."""
    data = json_body(UserStatusSchema())
    user = user_controller.set_user_status(current_user, user_id, data["is_active"])
    return _answer(f"User {'reactivated' if user.is_active else 'deactivated'}", user)


@bp.post("/<user_id>/reset-two-factor")
@api_doc(response=out.UserResponseSchema, auth=True, errors=(403,))
@auth_required()
def reset_two_factor(user_id):
    """Clear the authenticator and recovery codes of a user below the caller."""
    user = two_factor_enrollment.reset_two_factor(current_user, user_id)
    return _answer("Two-factor authentication reset; the user enrolls again at next login", user)


@bp.post("/<user_id>/unlock")
@api_doc(response=out.UserResponseSchema, auth=True, errors=(403, 404))
@auth_required()
def unlock(user_id):
    """Lift the login and second-factor lockouts of a user below the caller."""
    return _answer("User unlocked", user_controller.unlock_user(current_user, user_id))
