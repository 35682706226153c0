"""Deactivating and reactivating users."""
import pytest

from support.factory import PASSWORD


def set_status(client, factory, actor, target, is_active):
    return client.patch(f"/api/users/{target.id}/status", json={"isActive": is_active},
                        headers=factory.headers(actor))


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
