"""/api/users: account status managed by a higher role."""
from flask import Blueprint, jsonify
from flask_jwt_extended import current_user

from ..controllers import user_controller
from ..middleware.auth import auth_required
from ..middleware.request_parsing import json_body
from ..schemas.organization import UserStatusSchema

bp = Blueprint("users", __name__, url_prefix="/api/users")


@bp.patch("/<user_id>/status")
@auth_required()
def set_status(user_id):
    """Deactivate or reactivate a user below the caller."""
    data = json_body(UserStatusSchema())
    user = user_controller.set_user_status(current_user, user_id, data["is_active"])
    state = "reactivated" if user.is_active else "deactivated"
    return jsonify(success=True, message=f"User {state}", user=user.to_dict())
