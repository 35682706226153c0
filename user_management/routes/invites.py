"""/api/invites: create, details, accept, list, revoke, resend."""
from flask import Blueprint
from flask_jwt_extended import current_user

from ..controllers import invite_controller
from ..middleware.auth import auth_required
from ..middleware.request_parsing import json_body, query_args
from ..schemas import responses as out
from ..utils.openapi import api_doc
from ..schemas.invite import InviteAcceptSchema, InviteCreateSchema, InviteListSchema

bp = Blueprint("invites", __name__, url_prefix="/api/invites")


def _answer(message, invite):
    """`{success, message, invite}`."""
    return out.InviteResponseSchema().dump({"message": message, "invite": invite})


@bp.post("/create")
@api_doc(body=InviteCreateSchema, response=out.InviteResponseSchema, status=201, auth=True, errors=(403, 409))
@auth_required()
def create():
    """Invite someone to a role the caller may invite."""
    data = json_body(InviteCreateSchema())
    invite = invite_controller.create_invite(current_user, data["email"], data["role"], data.get("organization_name"))
    return _answer(invite_controller.email_outcome_message(invite, "Invite sent"), invite), 201


@bp.get("/details/<token>")
@api_doc(response=out.InviteDetailsResponseSchema, errors=(410,))
def details(token):
    """What an invite link is for, before accepting it."""
    return out.InviteDetailsResponseSchema().dump({"invite": invite_controller.invite_details(token)})


@bp.post("/accept")
@api_doc(body=InviteAcceptSchema, response=out.UserResponseSchema, status=201, errors=(404, 409, 410))
def accept():
    """Create the account an invite is for."""
    data = json_body(InviteAcceptSchema())
    user = invite_controller.accept_invite(data["token"], data["first_name"], data["last_name"], data["password"])
    return out.UserResponseSchema().dump({"message": "Account created; you can now log in", "user": user}), 201


@bp.get("/list")
@api_doc(query=InviteListSchema, response=out.InviteListResponseSchema, auth=True, errors=(403, 404))
@auth_required()
def list_sent():
    """Invites the caller sent, with their status."""
    args = query_args(InviteListSchema())
    page = invite_controller.list_invites(current_user, args["page"], args["limit"], args.get("status"),
                                          args.get("search"), args.get("organization_id"))
    return out.InviteListResponseSchema().dump({"invites": page.items, "pagination": page})


@bp.delete("/<invite_id>/revoke")
@api_doc(response=out.InviteResponseSchema, auth=True, errors=(403, 409))
@auth_required()
def revoke(invite_id):
    """Revoke a pending invite."""
    return _answer("Invite revoked", invite_controller.revoke_invite(current_user, invite_id))


@bp.post("/<invite_id>/resend")
@api_doc(response=out.InviteResponseSchema, auth=True, errors=(403, 409, 429))
@auth_required()
def resend(invite_id):
    """Send a pending or expired invite again with a new link (limited per invite and per sender)."""
    invite = invite_controller.resend_invite(current_user, invite_id)
    return _answer(invite_controller.email_outcome_message(invite, "Invite resent"), invite)


@bp.post("/<invite_id>/reinvite")
@api_doc(response=out.InviteResponseSchema, status=201, auth=True, errors=(403, 404, 409))
@auth_required()
def reinvite(invite_id):
    """Invite the address of a revoked or expired invite again: a new invite, link and expiry."""
    invite = invite_controller.reinvite(current_user, invite_id)
    return _answer(invite_controller.email_outcome_message(invite, "Invite sent again"), invite), 201
