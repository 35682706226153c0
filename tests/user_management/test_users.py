"""Deactivating and reactivating users."""
import pytest

from support.factory import PASSWORD


def set_status(client, factory, actor, target, is_active):
    return client.patch(f"/api/users/{target.id}/status", json={"isActive": is_active},
                        headers=factory.headers(actor))


@pytest.mark.parametrize(
    "actor_role, target_role, allowed",
    [
        ("super_admin", "site_admin", True),
        ("site_admin", "operator", True),
        ("operator", "client_admin", True),
        ("operator", "client_user", True),
        ("operator", "operator", False),
        ("operator", "site_admin", False),
        ("site_admin", "super_admin", False),
        ("client_user", "client_user", False),
    ],
)
def test_only_a_higher_role_changes_status(client, factory, actor_role, target_role, allowed):
    actor = factory.user(actor_role)
    target = factory.user(target_role, organization=actor.organization)
    response = set_status(client, factory, actor, target, False)
    assert response.status_code == (200 if allowed else 403)
    assert target.reload().is_active is (not allowed)


def test_client_admin_manages_its_own_organizations_users_only(client, factory):
    admin = factory.user("client_admin")
    own = factory.user("client_user", organization=admin.organization)
    foreign = factory.user("client_user")
    assert set_status(client, factory, admin, own, False).status_code == 200
    assert set_status(client, factory, admin, foreign, False).status_code == 404
    assert foreign.reload().is_active


def test_cannot_deactivate_yourself(client, factory):
    admin = factory.user("super_admin")
    assert set_status(client, factory, admin, admin, False).status_code == 403


def test_deactivation_ends_sessions_and_reactivation_allows_login(client, factory):
    boss = factory.user("site_admin")
    user = factory.user("operator")
    session = client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD}).json
    access = {"Authorization": f"Bearer {session['accessToken']}"}
    assert client.get("/api/auth/profile", headers=access).status_code == 200

    response = set_status(client, factory, boss, user, False)
    assert response.status_code == 200 and response.json["user"]["isActive"] is False
    assert client.get("/api/auth/profile", headers=access).status_code == 401
    assert client.post("/api/auth/refresh", json={"refreshToken": session["refreshToken"]}).status_code == 401
    assert client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD}).status_code == 403

    assert set_status(client, factory, boss, user, True).status_code == 200
    assert client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD}).status_code == 200


@pytest.mark.parametrize("body", [{}, {"isActive": "false"}, {"isActive": 0}, {"isActive": True, "role": "x"}])
def test_status_body_must_be_a_boolean(client, factory, body):
    boss, user = factory.user("super_admin"), factory.user("operator")
    response = client.patch(f"/api/users/{user.id}/status", json=body, headers=factory.headers(boss))
    assert response.status_code == 422


@pytest.mark.parametrize("user_id", ["nope", "6b06a47c3ec77d4034bb7315"])
def test_unknown_user_is_404(client, factory, user_id):
    boss = factory.user("super_admin")
    response = client.patch(f"/api/users/{user_id}/status", json={"isActive": False}, headers=factory.headers(boss))
    assert response.status_code == 404
