"""/api/users: account status, second-factor resets and unlocks, managed by a higher role."""
from flask import Blueprint
from flask_jwt_extended import current_user

from ..controllers import two_factor_enrollment, user_controller
from ..middleware.auth import auth_required
from ..middleware.request_parsing import json_body
from ..schemas import responses as out
from ..schemas.organization import UserStatusSchema
from ..utils.openapi import api_doc

bp = Blueprint("users", __name__, url_prefix="/api/users")


def _answer(message, user):
    """`{success, message, user}`."""
    return out.UserResponseSchema().dump({"message": message, "user": user})


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
