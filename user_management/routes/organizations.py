"""/api/organizations: staff manage any organization (the caller's own is /api/organization)."""
from flask import Blueprint
from flask_jwt_extended import current_user

from ..controllers import organization_controller
from ..middleware.auth import auth_required
from ..middleware.request_parsing import json_body, query_args
from ..schemas import responses as out
from ..schemas.invite import PageSchema
from ..schemas.organization import OrganizationListSchema, OrganizationStatusSchema
from ..schemas.responses import OrganizationResponseSchema
from ..utils.openapi import api_doc
from ..utils.roles import STAFF_ROLES

bp = Blueprint("organizations", __name__, url_prefix="/api/organizations")


@bp.get("")
@api_doc(query=OrganizationListSchema, response=out.OrganizationListResponseSchema, auth=True, errors=(403,))
@auth_required(*STAFF_ROLES)
def list_organizations():
    """Every organization with member and pending-invite counts; search by name, filter by status."""
    args = query_args(OrganizationListSchema())
    page = organization_controller.list_organizations(args["page"], args["limit"], args.get("search"),
                                                      args.get("status"))
    return out.OrganizationListResponseSchema().dump({"organizations": page.items, "pagination": page})


@bp.get("/<organization_id>")
@api_doc(response=out.OrganizationDetailResponseSchema, auth=True, errors=(404,))
@auth_required()
def show(organization_id):
    """One organization with its counts: staff any, a member only its own."""
    organization = organization_controller.organization_detail(current_user, organization_id)
    return out.OrganizationDetailResponseSchema().dump({"organization": organization})


@bp.get("/<organization_id>/members")
@api_doc(query=PageSchema, response=out.MembersSchema, auth=True, errors=(404,))
@auth_required()
def members(organization_id):
    """Members of one organization, oldest first: staff any, a member only its own."""
    args = query_args(PageSchema())
    page = organization_controller.members_of(current_user, organization_id, args["page"], args["limit"])
    return out.MembersSchema().dump({"members": page.items, "pagination": page})


@bp.patch("/<organization_id>/status")
@api_doc(body=OrganizationStatusSchema, response=OrganizationResponseSchema, auth=True, errors=(403, 404))
@auth_required(*STAFF_ROLES)
def set_status(organization_id):
    """Deactivate or reactivate an organization: its members' sign-ins and its pending invites."""
    data = json_body(OrganizationStatusSchema())
    organization = organization_controller.set_organization_status(current_user, organization_id, data["is_active"])
    state = "reactivated" if organization.is_active else "deactivated"
    return OrganizationResponseSchema().dump({"message": f"Organization {state}", "organization": organization})
