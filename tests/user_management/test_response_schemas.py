"""The response schemas are the one serializer: what they dump is exactly what the OpenAPI document describes."""
import re

import pytest
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from user_management.controllers import auth_controller, organization_controller, user_controller
from user_management.models import AuditEvent
from user_management.schemas import responses as out
from user_management.schemas.audit import AuditEventSchema, AuditListResponseSchema
from user_management.models import WebAuthnCredential
from user_management.schemas import passkeys
from user_management.schemas.keys import JwksSchema
from user_management.services import audit
from user_management.services.sessions import open_session
from user_management.utils.pagination import Page
from user_management.utils.timeutil import utcnow

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TYPES = {"string": str, "integer": int, "boolean": bool, "object": dict, "array": list}


@pytest.fixture
def document(client):
    return client.get("/api/openapi.json").get_json()


def _component(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _resolve(document, schema, value, seen):
    """Follow a $ref (noting its name in `seen`), or pick the branch of `anyOf` (null or $ref) that `value` takes."""
    if "anyOf" in schema:
        branches = [branch for branch in schema["anyOf"] if (value is None) == bool(branch.get("nullable"))]
        assert branches, f"{value!r} fits no branch of {schema}"
        schema = branches[0]
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        seen.add(name)
        schema = document["components"]["schemas"][name]
    return schema


def assert_described(document, schema, value, where, seen):
    """`value` has the documented properties only (the required ones all), of the documented types."""
    schema = _resolve(document, schema, value, seen)
    if value is None:
        assert schema.get("nullable"), f"{where} is null but not nullable"
        return
    if "type" in schema:
        assert isinstance(value, TYPES[schema["type"]]), f"{where}: {value!r} is not {schema['type']}"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if schema.get("format") == "date-time":
        assert ISO_UTC.match(value), f"{where}: {value!r}"
    if "properties" in schema and schema.get("additionalProperties") is False:
        assert set(value) <= set(schema["properties"]), f"{where} has undocumented {set(value) - set(schema['properties'])}"
        assert set(schema.get("required", ())) <= set(value), f"{where} lacks {set(schema['required']) - set(value)}"
        for key, item in value.items():
            assert_described(document, schema["properties"][key], item, f"{where}.{key}", seen)
    if schema.get("type") == "array":
        for index, item in enumerate(value):
            assert_described(document, schema["items"], item, f"{where}[{index}]", seen)


@pytest.fixture
def objects(factory):
    """One of each object the API answers with, references and all (and a staff user and an invite without them)."""
    operator = factory.user("operator")
    admin = factory.user("client_admin", last_login_at=utcnow())
    invite, _ = factory.invite(admin, "client_user")
    staff_invite, _ = factory.invite(operator, "site_admin")
    event = audit.record("user.unlocked", actor=operator, target=admin, details={"note": "test"})
    lone_event = audit.record("login.failure", details={"emailHash": "0" * 64})
    passkey = WebAuthnCredential(user=admin, credential_id="cred-1", public_key=b"\x01", name="Laptop",
                                 transports=["internal"]).save()
    signed_in = factory.user("site_admin")
    open_session(signed_in, {"ip": "127.0.0.1", "user_agent": "Browser"})
    open_session(signed_in)
    return {"passkey": passkey, "operator": operator, "admin": admin, "organization": admin.organization, "invite": invite,
            "staff_invite": staff_invite, "event": event, "lone_event": lone_event,
            "users": user_controller.list_users(operator, 1, 20),
            "organizations": organization_controller.list_organizations(1, 20),
            "sessions": auth_controller.list_sessions(signed_in)}


def _bodies(objects):
    """What each answer schema dumps, as its route gives it."""
    user, organization, invite = objects["admin"], objects["organization"], objects["invite"]
    session = {"accessToken": "access", "refreshToken": "refresh", "user": user}
    secret = {"secret": "BASE32", "otpauthUrl": "otpauth://totp/x", "qrCode": "data:image/png;base64,AA"}
    return {
        out.MessageSchema: {"message": "Logged out"},
        out.ProfileSchema: {"user": user},
        out.UserResponseSchema: {"message": "User unlocked", "user": objects["operator"]},
        out.TokensSchema: session,
        out.SessionSchema: {"requiresTwoFactor": False, "recoveryCodesRemaining": 9, **session},
        out.PasswordChangedSchema: {"message": "Password changed", **session},
        out.LoginChallengeSchema: {"requiresTwoFactor": True, "requiresTotpSetup": True, "twoFactorMethod": "totp",
                                   "userId": str(user.id), "twoFactorToken": "t", "message": "Set up"},
        out.OtpResentSchema: {"message": "Sent", "twoFactorToken": "t", "userId": str(user.id),
                              "twoFactorMethod": "otp"},
        out.TotpSecretResponseSchema: secret,
        out.RecoveryCodesSchema: {"message": "New codes", "recoveryCodes": ["a-b"]},
        out.TotpConfirmedSchema: {"message": "Enabled", "recoveryCodes": ["a-b"], "requiresTwoFactor": False,
                                  **session},
        out.TwoFactorSettingsResponseSchema: {"twoFactorMethod": None, "pendingMethod": "totp", "totpSetup": secret,
                                              "message": "Scan"},
        out.InviteResponseSchema: {"message": "Invite sent", "invite": invite},
        out.InviteDetailsResponseSchema: {"invite": invite},
        out.InviteListResponseSchema: {"invites": [invite, objects["staff_invite"]], "pagination": Page([], 1, 20, 2)},
        out.OrganizationResponseSchema: {"message": "Organization updated", "organization": organization},
        out.MembersSchema: {"members": [user], "pagination": Page([], 2, 1, 3)},
        out.UserListResponseSchema: {"users": objects["users"].items, "pagination": objects["users"]},
        out.OrganizationListResponseSchema: {"organizations": objects["organizations"].items,
                                             "pagination": objects["organizations"]},
        out.OrganizationDetailResponseSchema: {"organization": objects["organizations"].items[0]},
        out.SessionListSchema: {"sessions": objects["sessions"]},
        out.ResetTokenValidSchema: {"valid": True},
        AuditListResponseSchema: {"events": [objects["event"], objects["lone_event"]],
                                  "pagination": Page([], 1, 20, 2)},
        passkeys.PasskeyListSchema: {"passkeys": [objects["passkey"]]},
        passkeys.PasskeyResponseSchema: {"message": "Passkey added", "passkey": objects["passkey"]},
        passkeys.PasskeyOptionsSchema: {"options": {"challenge": "abc", "rpId": "localhost"}},
        passkeys.PasskeySignInOptionsSchema: {"options": {"challenge": "abc"}, "passkeyToken": "t"},
        JwksSchema: {"keys": [{"kty": "OKP", "kid": "k1", "alg": "EdDSA", "use": "sig", "crv": "Ed25519", "x": "AA"}]},
        out.HealthSchema: {"success": False, "status": "degraded", "service": "user_management",
                           "checks": {"mongodb": "up", "redis": "down"}},
        out.LivenessSchema: {"success": True, "status": "alive", "service": "user_management"},
        out.ReadinessSchema: {"success": True, "status": "ready", "service": "user_management",
                              "checks": {"mongodb": "up", "indexes": "ok", "redis": "down"}},
    }


def _answer_components(document):
    """Every component a success answer of the document uses, nested ones included."""
    found, todo = set(), []
    for operations in document["paths"].values():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            for status, answer in operation["responses"].items():
                if status.startswith("2"):
                    todo.append(answer.get("content", {}).get("application/json", {}).get("schema", {}))
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref and ref.rsplit("/", 1)[1] not in found:
                found.add(ref.rsplit("/", 1)[1])
                todo.append(document["components"]["schemas"][ref.rsplit("/", 1)[1]])
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return found


def test_every_answer_schema_dumps_what_the_document_describes(app, document, objects):
    seen = set()
    for schema, body in _bodies(objects).items():
        name = schema.__name__.removesuffix("Schema")
        dumped = schema().dump(body)
        assert_described(document, _component(name), dumped, name, seen)
        if "success" in dumped and schema is not out.HealthSchema:
            assert dumped["success"] is True
    assert _answer_components(document) <= seen, "answer schemas without a real object dumped here"


def test_the_profile_is_documented_and_dumped_by_the_same_class(client, factory, document):
    user = factory.user("client_admin")
    answer = document["paths"]["/api/auth/profile"]["get"]["responses"]["200"]["content"]["application/json"]
    assert answer["schema"] == _component("Profile")
    spec = APISpec(title="t", version="1", openapi_version=document["openapi"], plugins=[MarshmallowPlugin()])
    spec.components.schema("Profile", schema=out.ProfileSchema)
    generated = spec.to_dict()["components"]["schemas"]
    assert {name: document["components"]["schemas"][name] for name in generated} == generated
    body = client.get("/api/auth/profile", headers=factory.headers(user)).get_json()
    assert body == out.ProfileSchema().dump({"user": user.reload()})


def test_the_shapes_are_exactly_the_documented_json(app, objects):
    """Pinned: names, nulls and times (milliseconds, Z) of each object, as clients have always read them."""
    admin, operator, organization = objects["admin"], objects["operator"], objects["organization"]
    invite, event = objects["invite"], objects["event"]

    def iso(moment):
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    assert out.UserSchema().dump(admin) == {
        "id": str(admin.id), "email": admin.email, "firstName": "Client Admin", "lastName": "Tester",
        "role": "client_admin", "organization": str(organization.id), "twoFactorMethod": None,
        "totpEnabled": False, "isActive": True, "lastLoginAt": iso(admin.last_login_at),
        "createdAt": iso(admin.created_at), "updatedAt": iso(admin.updated_at),
    }
    assert out.UserSchema().dump(operator)["organization"] is None
    assert out.UserSchema().dump(operator)["lastLoginAt"] is None
    assert out.OrganizationSchema().dump(organization) == {
        "id": str(organization.id), "name": organization.name, "twoFactorMethod": "otp", "isActive": True,
        "createdAt": iso(organization.created_at), "updatedAt": iso(organization.updated_at),
    }
    assert out.InviteSchema().dump(invite) == {
        "id": str(invite.id), "email": invite.email, "role": "client_user",
        "organization": {"id": str(organization.id), "name": organization.name},
        "invitedBy": {"id": str(admin.id), "email": admin.email, "firstName": "Client Admin", "lastName": "Tester"},
        "status": "pending", "expiresAt": iso(invite.expires_at), "acceptedAt": None, "revokedAt": None,
        "sendCount": 1, "emailStatus": "queued", "createdAt": iso(invite.created_at),
    }
    assert out.InviteSchema().dump(objects["staff_invite"])["organization"] is None
    assert out.InviteDetailsSchema().dump(invite) == {
        "email": invite.email, "role": "client_user", "organizationName": organization.name,
        "invitedBy": "Client Admin Tester", "expiresAt": iso(invite.expires_at),
    }
    assert out.InviteDetailsSchema().dump(objects["staff_invite"])["organizationName"] is None
    assert AuditEventSchema().dump(event) == {
        "id": str(event.id), "type": "user.unlocked", "actor": {"id": str(operator.id), "email": operator.email},
        "target": {"id": str(admin.id), "email": admin.email}, "organization": str(organization.id),
        "ip": None, "userAgent": None, "requestId": None, "details": {"note": "test"},
        "createdAt": iso(event.created_at),
    }
    lone = AuditEventSchema().dump(AuditEvent.objects.get(id=objects["lone_event"].id))
    assert lone["actor"] is None and lone["target"] is None and lone["organization"] is None


def test_an_expired_invite_is_answered_as_expired(app, factory):
    invite, _ = factory.invite(factory.user("operator"), "site_admin", expires_at=utcnow())
    assert out.InviteSchema().dump(invite)["status"] == "expired"
