"""The caller's organization: read, update (client_admin only), members."""
import pytest


def test_member_reads_its_organization(client, factory):
    user = factory.user("client_user")
    response = client.get("/api/organization", headers=factory.headers(user))
    assert response.status_code == 200
    organization = response.json["organization"]
    assert organization["id"] == user.organization_id and organization["twoFactorMethod"] == "otp"


def test_staff_have_no_organization(client, factory):
    response = client.get("/api/organization", headers=factory.headers(factory.user("super_admin")))
    assert response.status_code == 404


def test_client_admin_updates_name_and_two_factor_method(client, factory):
    admin = factory.user("client_admin")
    response = client.put("/api/organization", json={"name": "Renamed", "twoFactorMethod": "totp"},
                          headers=factory.headers(admin))
    assert response.status_code == 200
    assert response.json["organization"]["name"] == "Renamed"
    assert response.json["organization"]["twoFactorMethod"] == "totp"
    assert admin.organization.reload().two_factor_method == "totp"


@pytest.mark.parametrize("role", ["client_user", "super_admin", "operator"])
def test_only_client_admin_may_update(client, factory, role):
    response = client.put("/api/organization", json={"name": "Nope"}, headers=factory.headers(factory.user(role)))
    assert response.status_code == 403


@pytest.mark.parametrize("body", [{}, {"twoFactorMethod": "sms"}, {"name": ""}, {"name": "x", "isActive": False}])
def test_update_rejects_bad_input(client, factory, body):
    response = client.put("/api/organization", json=body, headers=factory.headers(factory.user("client_admin")))
    assert response.status_code == 422


def test_rename_to_a_taken_name_is_a_conflict(client, factory):
    factory.organization(name="Taken")
    admin = factory.user("client_admin")
    response = client.put("/api/organization", json={"name": "taken"}, headers=factory.headers(admin))
    assert response.status_code == 409


def test_members_are_paginated_and_scoped_to_the_organization(client, factory):
    admin = factory.user("client_admin")
    for _ in range(4):
        factory.user("client_user", organization=admin.organization)
    factory.user("client_user")  # another organization
    response = client.get("/api/organization/members?limit=2&page=3", headers=factory.headers(admin))
    assert response.status_code == 200
    assert response.json["pagination"] == {"page": 3, "limit": 2, "total": 5, "pages": 3}
    everyone = client.get("/api/organization/members?limit=50", headers=factory.headers(admin)).json["members"]
    assert {member["organization"] for member in everyone} == {admin.organization_id}
    assert all("password" not in member for member in everyone)
