"""/api/organizations: staff manage any organization (the caller's own is /api/organization)."""
from flask import Blueprint
from flask_jwt_extended import current_user

from ..controllers import organization_controller
from ..middleware.auth import auth_required
from ..middleware.request_parsing import json_body
from ..schemas.organization import OrganizationStatusSchema
from ..schemas.responses import OrganizationResponseSchema
from ..utils.openapi import api_doc
from ..utils.roles import STAFF_ROLES

bp = Blueprint("organizations", __name__, url_prefix="/api/organizations")


@bp.patch("/<organization_id>/status")
@api_doc(body=OrganizationStatusSchema, response=OrganizationResponseSchema, auth=True, errors=(403, 404))
@auth_required(*STAFF_ROLES)
def set_status(organization_id):
    """Deactivate or reactivate an organization: its members' sign-ins and its pending invites."""
    data = json_body(OrganizationStatusSchema())
    organization = organization_controller.set_organization_status(current_user, organization_id, data["is_active"])
    state = "reactivated" if organization.is_active else "deactivated"
    return OrganizationResponseSchema().dump({"message": f"Organization {state}", "organization": organization})
