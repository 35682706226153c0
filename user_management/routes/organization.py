"""/api/organization: the caller's organization and its members."""
from flask import Blueprint
from flask_jwt_extended import current_user

from ..controllers import organization_controller
from ..middleware.auth import auth_required
from ..middleware.request_parsing import json_body, query_args
from ..schemas import responses as out
from ..utils.openapi import api_doc
from ..schemas.invite import PageSchema
from ..schemas.organization import OrganizationUpdateSchema
from ..utils.roles import CLIENT_ADMIN

bp = Blueprint("organization", __name__, url_prefix="/api/organization")


@bp.get("")
@api_doc(response=out.OrganizationResponseSchema, auth=True, errors=(404,))
@auth_required()
def show():
    """The caller's organization."""
    organization = organization_controller.organization_of(current_user)
    return out.OrganizationResponseSchema().dump({"organization": organization})


@bp.put("")
@api_doc(body=OrganizationUpdateSchema, response=out.OrganizationResponseSchema, auth=True, errors=(403, 404, 409))
@auth_required(CLIENT_ADMIN)
def update():
    """Rename the organization or change its second-factor method."""
    data = json_body(OrganizationUpdateSchema())
    organization = organization_controller.update_organization(
        current_user, data.get("name"), data.get("two_factor_method")
    )
    return out.OrganizationResponseSchema().dump({"message": "Organization updated", "organization": organization})


@bp.get("/members")
@api_doc(query=PageSchema, response=out.MembersSchema, auth=True, errors=(404,))
@auth_required()
def members():
    """Members of the caller's organization."""
    args = query_args(PageSchema())
    page = organization_controller.list_members(current_user, args["page"], args["limit"])
    return out.MembersSchema().dump({"members": page.items, "pagination": page})
