"""Access-control edge cases: other organizations' ids are 404, unknown fields are refused, roles only go down."""
import importlib
import inspect
import pkgutil

import pytest
from marshmallow import Schema

import user_management.schemas as schema_package
from user_management.models import Invite, User

from support.factory import PASSWORD

FOREIGN = 404


@pytest.fixture
def tenants(factory):
    """client_admin A, and organization B's admin, member and pending invite."""
    a = factory.user("client_admin")
    b = factory.user("client_admin")
    b_member = factory.user("client_user", organization=b.organization)
    b_invite, _ = factory.invite(b, "client_user")
    return a, b, b_member, b_invite


def test_another_organizations_ids_are_404_on_every_endpoint(client, factory, tenants):
    a, b, b_member, b_invite = tenants
    headers = factory.headers(a)
    calls = [
        client.delete(f"/api/invites/{b_invite.id}/revoke", headers=headers),
        client.post(f"/api/invites/{b_invite.id}/resend", headers=headers),
        client.patch(f"/api/users/{b_member.id}/status", json={"isActive": False}, headers=headers),
        client.patch(f"/api/users/{b.id}/status", json={"isActive": False}, headers=headers),
        client.post(f"/api/users/{b_member.id}/reset-two-factor", headers=headers),
        client.post(f"/api/users/{b_member.id}/unlock", headers=headers),
        client.post(f"/api/invites/{b_invite.id}/reinvite", headers=headers),
        client.get(f"/api/users?organizationId={b.organization_id}", headers=headers),
        client.get(f"/api/organizations/{b.organization_id}", headers=headers),
        client.get(f"/api/organizations/{b.organization_id}/members", headers=headers),
        client.get(f"/api/invites/list?organizationId={b.organization_id}", headers=headers),
    ]
    assert [call.status_code for call in calls] == [FOREIGN] * len(calls)
    assert all(call.json["message"] in ("Invite not found", "User not found", "Organization not found")
               for call in calls)
    assert b_invite.reload().status == "pending" and b_invite.send_count == 1
    assert b_member.reload().is_active and b.reload().is_active


def test_another_organizations_records_never_show_in_lists(client, factory, tenants):
    a, b, b_member, b_invite = tenants
    headers = factory.headers(a)
    client.post("/api/auth/login", json={"email": b_member.email, "password": "Wrong-Password-1"})
    assert client.get("/api/invites/list", headers=headers).json["invites"] == []
    members = client.get("/api/organization/members", headers=headers).json["members"]
    assert [m["id"] for m in members] == [str(a.id)]
    assert client.get("/api/audit", query_string={"user": str(b_member.id)}, headers=headers).json["events"] == []


def test_a_member_cannot_manage_its_own_organizations_invites(client, factory):
    admin = factory.user("client_admin")
    member = factory.user("client_user", organization=admin.organization)
    invite, _ = factory.invite(admin, "client_user")
    assert client.delete(f"/api/invites/{invite.id}/revoke", headers=factory.headers(member)).status_code == 404


# Unknown fields such as role or isAdmin are refused on every body-taking endpoint.

ESCALATION = {"role": "super_admin", "isAdmin": True}
BODY_ENDPOINTS = [
    ("post", "/api/auth/login", {"email": "x@example.test", "password": "p"}, False),
    ("post", "/api/auth/refresh", {"refreshToken": "t"}, False),
    ("post", "/api/auth/logout", {"refreshToken": "t"}, False),
    ("post", "/api/auth/verify-otp", {"userId": "x", "otp": "123456"}, False),
    ("post", "/api/auth/verify-totp", {"userId": "x", "token": "123456"}, False),
    ("post", "/api/auth/verify-recovery-code", {"twoFactorToken": "t", "code": "c"}, False),
    ("post", "/api/auth/resend-otp", {"userId": "x"}, False),
    ("post", "/api/auth/totp/setup", {"currentPassword": PASSWORD}, True),
    ("post", "/api/auth/totp/confirm", {"token": "123456"}, True),
    ("post", "/api/auth/recovery-codes", {"currentPassword": PASSWORD}, True),
    ("put", "/api/auth/two-factor", {"method": "none", "currentPassword": PASSWORD}, True),
    ("post", "/api/auth/two-factor/otp/confirm", {"otp": "123456"}, True),
    ("post", "/api/auth/forgot-password", {"email": "x@example.test"}, False),
    ("post", "/api/auth/reset-password", {"token": "t", "password": "Lantern-Quartz-Orbit-7"}, False),
    ("post", "/api/auth/change-password", {"currentPassword": PASSWORD, "newPassword": "Lantern-Quartz-Orbit-7"}, True),
    ("post", "/api/invites/create", {"email": "n@example.test", "role": "site_admin"}, True),
    ("post", "/api/invites/accept", {"token": "t", "firstName": "A", "lastName": "B",
                                     "password": "Lantern-Quartz-Orbit-7"}, False),
    ("put", "/api/organization", {"name": "New name"}, True),
    ("patch", "/api/users/{other}/status", {"isActive": True}, True),
    ("patch", "/api/organizations/{org}/status", {"isActive": True}, True),
]


@pytest.mark.parametrize("method, path, body, signed_in", BODY_ENDPOINTS, ids=[e[1] for e in BODY_ENDPOINTS])
def test_unknown_fields_are_refused(client, factory, method, path, body, signed_in):
    caller = factory.user("client_admin" if path == "/api/organization" else "super_admin")
    other = factory.user("operator")
    path = path.format(other=other.id, org=factory.organization().id)
    extra = {"isAdmin": True, "organization": "x"} if "role" in body else ESCALATION
    response = getattr(client, method)(path, json={**body, **extra},
                                       headers=factory.headers(caller) if signed_in else {})
    assert response.status_code == 422, response.json
    assert set(extra) <= set(response.json["errors"])
    assert {u.role for u in User.objects} <= {"super_admin", "client_admin", "operator"}
    assert caller.reload().role in ("super_admin", "client_admin") and other.reload().role == "operator"


def test_only_the_invite_schema_has_a_role_field():
    """No request body schema besides invite creation takes a role, so no endpoint can change one."""
    with_role = []
    for info in pkgutil.iter_modules(schema_package.__path__):
        if info.name == "responses":  # what endpoints answer, not what they accept
            continue
        module = importlib.import_module(f"{schema_package.__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Schema) and cls.__module__ == module.__name__ and "Response" not in cls.__name__:
                keys = {field.data_key or name for name, field in cls().load_fields.items()}
                if keys & {"role", "isAdmin", "is_admin", "roles"}:
                    with_role.append(cls.__name__)
    # UserListSchema reads GET /api/users' query string: it filters a list by role and changes nothing.
    assert sorted(with_role) == ["InviteCreateSchema", "UserListSchema"]


@pytest.mark.parametrize("inviter, invitee, allowed", [
    ("super_admin", "super_admin", False),
    ("site_admin", "site_admin", False),
    ("site_admin", "super_admin", False),
    ("operator", "operator", False),
    ("operator", "site_admin", False),
    ("client_admin", "client_admin", False),
    ("client_admin", "operator", False),
    ("client_user", "client_user", False),
    ("super_admin", "site_admin", True),
    ("client_admin", "client_user", True),
])
def test_invites_only_go_down_the_hierarchy(client, factory, inviter, invitee, allowed):
    actor = factory.user(inviter)
    body = {"email": "new@example.test", "role": invitee}
    if invitee == "client_admin":
        body["organizationName"] = "New Org"
    response = client.post("/api/invites/create", json=body, headers=factory.headers(actor))
    assert response.status_code == (201 if allowed else 403)
    assert Invite.objects(email="new@example.test").count() == (1 if allowed else 0)


# Deactivating, unlocking and resetting a user's second factor follow one rule: only a higher role,
# and a client_admin only within its organization.

USER_ACTIONS = {
    "status": lambda client, user_id, headers: client.patch(f"/api/users/{user_id}/status",
                                                           json={"isActive": False}, headers=headers),
    "unlock": lambda client, user_id, headers: client.post(f"/api/users/{user_id}/unlock", headers=headers),
    "reset-two-factor": lambda client, user_id, headers: client.post(f"/api/users/{user_id}/reset-two-factor",
                                                                     headers=headers),
}
HIERARCHY = [
    ("super_admin", "site_admin", True),
    ("site_admin", "operator", True),
    ("operator", "client_admin", True),
    ("operator", "client_user", True),
    ("client_admin", "client_user", True),
    ("site_admin", "site_admin", False),
    ("site_admin", "super_admin", False),
    ("operator", "operator", False),
    ("operator", "site_admin", False),
    ("operator", "super_admin", False),
    ("client_user", "client_user", False),
]


@pytest.mark.parametrize("action", USER_ACTIONS)
@pytest.mark.parametrize("actor_role, target_role, allowed", HIERARCHY)
def test_only_a_higher_role_manages_a_user(client, factory, action, actor_role, target_role, allowed):
    actor = factory.user(actor_role)
    target = factory.user(target_role, organization=actor.organization)
    response = USER_ACTIONS[action](client, target.id, factory.headers(actor))
    assert response.status_code == (200 if allowed else 403), response.json
    assert target.reload().is_active is not (allowed and action == "status")


@pytest.mark.parametrize("action", USER_ACTIONS)
def test_no_one_manages_themselves_or_anyone_without_a_token(client, factory, action):
    admin = factory.user("client_admin")
    member = factory.user("client_user", organization=admin.organization)
    assert USER_ACTIONS[action](client, admin.id, factory.headers(admin)).status_code == 403
    assert USER_ACTIONS[action](client, member.id, {}).status_code == 401
    assert admin.reload().is_active and member.reload().is_active


@pytest.mark.parametrize("action", USER_ACTIONS)
@pytest.mark.parametrize("caller", ["super_admin", "client_admin"])
@pytest.mark.parametrize("user_id", ["not-an-id", "64b000000000000000000000"])
def test_an_unknown_user_is_404(client, factory, action, caller, user_id):
    response = USER_ACTIONS[action](client, user_id, factory.headers(factory.user(caller)))
    assert response.status_code == 404
    assert response.json["message"] == "User not found"
