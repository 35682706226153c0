"""Staff deactivate and reactivate an organization: sign-ins, tokens and pending invites."""
import pytest

from user_management.models import AuditEvent, RefreshToken

from support.two_factor import bearer, last_otp, login, verify_otp

NEW_PASSWORD = "Lantern-Quartz-Orbit-7"


def set_org_status(client, factory, actor, organization_id, is_active):
    return client.patch(f"/api/organizations/{organization_id}/status", json={"isActive": is_active},
                        headers=factory.headers(actor))


def member_session(client, outbox, user):
    challenge = login(client, user.email)
    assert challenge.status_code == 200, challenge.json
    response = verify_otp(client, last_otp(outbox, user), token=challenge.json["twoFactorToken"])
    assert response.status_code == 200, response.json
    return response.json


def accept(client, token):
    return client.post("/api/invites/accept",
                       json={"token": token, "firstName": "Ada", "lastName": "Lovelace", "password": NEW_PASSWORD})


@pytest.fixture
def org(factory):
    return factory.organization()


def test_deactivation_stops_members_and_invites_and_reactivation_restores_them(client, factory, outbox, org):
    staff = factory.user("operator")
    admin = factory.user("client_admin", organization=org)
    member = factory.user("client_user", organization=org)
    session = member_session(client, outbox, member)
    _, token = factory.invite(admin, "client_user")

    response = set_org_status(client, factory, staff, org.id, False)
    assert response.status_code == 200
    assert response.json["organization"]["isActive"] is False and response.json["message"] == "Organization deactivated"

    refused = login(client, member.email)
    assert refused.status_code == 403 and "accessToken" not in refused.json
    assert login(client, member.email, "Wrong-Password-1").status_code == 401  # no hint without the password
    assert client.get("/api/auth/profile", headers=bearer(session["accessToken"])).status_code == 401
    assert client.post("/api/auth/refresh", json={"refreshToken": session["refreshToken"]}).status_code == 401
    assert client.get(f"/api/invites/details/{token}").status_code == 410
    assert accept(client, token).status_code == 410

    assert set_org_status(client, factory, staff, org.id, True).json["organization"]["isActive"] is True
    assert member_session(client, outbox, member)["accessToken"]
    assert client.get(f"/api/invites/details/{token}").status_code == 200
    assert accept(client, token).status_code == 201
    # Sessions ended by the deactivation stay ended.
    assert client.post("/api/auth/refresh", json={"refreshToken": session["refreshToken"]}).status_code == 401


def test_access_tokens_die_even_without_a_refresh(client, factory, org):
    member = factory.user("client_admin", organization=org)
    headers = factory.headers(member)
    assert client.get("/api/organization", headers=headers).status_code == 200
    set_org_status(client, factory, factory.user("site_admin"), org.id, False)
    assert client.get("/api/organization", headers=headers).status_code == 401
    set_org_status(client, factory, factory.user("site_admin"), org.id, True)
    # Deactivation ended the member's sessions for good (its refresh tokens too): reactivation means a new login.
    assert client.get("/api/organization", headers=headers).status_code == 401
    assert client.get("/api/organization", headers=factory.headers(member)).status_code == 200


def test_deactivation_revokes_the_members_refresh_tokens(client, factory, outbox, org):
    member = factory.user("client_user", organization=org)
    member_session(client, outbox, member)
    set_org_status(client, factory, factory.user("super_admin"), org.id, False)
    assert RefreshToken.objects(user=member, revoked_at=None).count() == 0


def test_a_second_factor_started_before_deactivation_cannot_finish(client, factory, outbox, org):
    member = factory.user("client_user", organization=org)
    challenge = login(client, member.email).json
    set_org_status(client, factory, factory.user("operator"), org.id, False)
    response = verify_otp(client, last_otp(outbox, member), token=challenge["twoFactorToken"])
    assert response.status_code == 403 and "accessToken" not in response.json


def test_other_organizations_and_staff_are_untouched(client, factory, outbox, org):
    other = factory.user("client_user")
    staff = factory.user("operator")
    set_org_status(client, factory, staff, org.id, False)
    assert member_session(client, outbox, other)["accessToken"]
    assert login(client, staff.email).status_code == 200


@pytest.mark.parametrize("role", ["client_admin", "client_user"])
def test_only_staff_change_an_organizations_status(client, factory, org, role):
    actor = factory.user(role, organization=org)
    assert set_org_status(client, factory, actor, org.id, False).status_code == 403
    assert org.reload().is_active is True


@pytest.mark.parametrize("role", ["super_admin", "site_admin", "operator"])
def test_every_staff_role_may(client, factory, org, role):
    assert set_org_status(client, factory, factory.user(role), org.id, False).status_code == 200


def test_unknown_or_malformed_organization_is_404(client, factory):
    staff = factory.user("operator")
    assert set_org_status(client, factory, staff, "64b000000000000000000000", False).status_code == 404
    assert set_org_status(client, factory, staff, "nope", False).status_code == 404


@pytest.mark.parametrize("body", [{}, {"isActive": "false"}, {"isActive": 0}, {"isActive": False, "name": "x"}])
def test_bad_bodies_are_422(client, factory, org, body):
    response = client.patch(f"/api/organizations/{org.id}/status", json=body,
                            headers=factory.headers(factory.user("operator")))
    assert response.status_code == 422


def test_needs_an_access_token(client, org):
    assert client.patch(f"/api/organizations/{org.id}/status", json={"isActive": False}).status_code == 401


def test_status_changes_are_audited(client, factory, org):
    staff = factory.user("operator")
    set_org_status(client, factory, staff, org.id, False)
    set_org_status(client, factory, staff, org.id, True)
    types = [e.type for e in AuditEvent.objects(organization_id=str(org.id)).order_by("created_at", "id")]
    assert types == ["organization.deactivated", "organization.reactivated"]
    assert AuditEvent.objects(type="organization.deactivated").first().actor_id == str(staff.id)
