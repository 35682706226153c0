"""/api/auth/passkeys and /api/auth/passkey: register, list, rename and remove passkeys; sign in with one."""
from flask import Blueprint
from flask_jwt_extended import current_user

from ..controllers import passkey_controller
from ..extensions import limiter
from ..middleware.auth import auth_required
from ..middleware.request_parsing import json_body
from ..schemas import passkeys as schemas
from ..schemas import responses as out
from ..utils.openapi import api_doc
from .auth import _limit, client_info, login_failure_limit, two_factor_limit

bp = Blueprint("passkeys", __name__, url_prefix="/api/auth")


@bp.get("/passkeys")
@api_doc(response=schemas.PasskeyListSchema, auth=True)
@auth_required()
def list_passkeys():
    """The caller's passkeys: name, when added, when last used."""
    passkeys = passkey_controller.passkeys_of(current_user)
    return schemas.PasskeyListSchema().dump({"passkeys": passkeys})


@bp.post("/passkeys/register/options")
@api_doc(body=schemas.PasskeyRegistrationOptionsSchema, response=schemas.PasskeyOptionsSchema, auth=True,
         errors=(409,))
@auth_required()
@limiter.limit(_limit("RATELIMIT_PASSWORD_CHANGE"))
def registration_options():
    """Start registering a passkey (after the password): options for navigator.credentials.create()."""
    data = json_body(schemas.PasskeyRegistrationOptionsSchema())
    options = passkey_controller.registration_options(current_user, data["current_password"])
    return schemas.PasskeyOptionsSchema().dump({"options": options})


@bp.post("/passkeys")
@api_doc(body=schemas.PasskeyRegistrationSchema, response=schemas.PasskeyResponseSchema, status=201, auth=True,
         errors=(409,))
@auth_required()
@two_factor_limit
def register():
    """Finish registering a passkey with the authenticator's answer."""
    data = json_body(schemas.PasskeyRegistrationSchema())
    passkey = passkey_controller.register(current_user, data["credential"], data["name"])
    return schemas.PasskeyResponseSchema().dump({"message": "Passkey added", "passkey": passkey}), 201


@bp.patch("/passkeys/<passkey_id>")
@api_doc(body=schemas.PasskeyRenameSchema, response=schemas.PasskeyResponseSchema, auth=True)
@auth_required()
def rename(passkey_id):
    """Rename one of the caller's passkeys."""
    data = json_body(schemas.PasskeyRenameSchema())
    passkey = passkey_controller.rename(current_user, passkey_id, data["name"])
    return schemas.PasskeyResponseSchema().dump({"message": "Passkey renamed", "passkey": passkey})


@bp.delete("/passkeys/<passkey_id>")
@api_doc(body=schemas.PasskeyRemovalSchema, response=out.MessageSchema, auth=True, errors=(409,))
@auth_required()
@limiter.limit(_limit("RATELIMIT_PASSWORD_CHANGE"))
def remove(passkey_id):
    """Remove one of the caller's passkeys (after the password); never the last second factor a policy needs."""
    data = json_body(schemas.PasskeyRemovalSchema())
    passkey_controller.remove(current_user, passkey_id, data["current_password"])
    return out.MessageSchema().dump({"message": "Passkey removed"})


@bp.post("/passkey/options")
@api_doc(body=schemas.PasskeyLoginOptionsSchema, response=schemas.PasskeyOptionsSchema, errors=(401, 409))
@two_factor_limit
def second_factor_options():
    """Second step of a login with a passkey: options for navigator.credentials.get()."""
    data = json_body(schemas.PasskeyLoginOptionsSchema())
    return schemas.PasskeyOptionsSchema().dump({"options": passkey_controller.second_factor_options(data["two_factor_token"])})


@bp.post("/verify-passkey")
@api_doc(body=schemas.VerifyPasskeySchema, response=out.SessionSchema, errors=(401,))
@two_factor_limit
def verify_passkey():
    """Finish a login with a passkey (it satisfies any organization policy)."""
    data = json_body(schemas.VerifyPasskeySchema())
    session = passkey_controller.verify_second_factor(data["two_factor_token"], data["credential"], client_info())
    return out.SessionSchema().dump(session)


@bp.post("/passkey/login/options")
@api_doc(response=schemas.PasskeySignInOptionsSchema)
def sign_in_options():
    """Passwordless sign-in: options for navigator.credentials.get() and the passkeyToken that binds them."""
    return schemas.PasskeySignInOptionsSchema().dump(passkey_controller.sign_in_options())


@bp.post("/passkey/login")
@api_doc(body=schemas.PasskeySignInSchema, response=out.SessionSchema, errors=(401, 403))
@login_failure_limit
def sign_in():
    """Sign in with a discoverable passkey alone (no email, no password)."""
    data = json_body(schemas.PasskeySignInSchema())
    session = passkey_controller.sign_in(data["passkey_token"], data["credential"], client_info())
    return out.SessionSchema().dump(session)
