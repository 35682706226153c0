"""GET /api/users: staff see everyone, a client_admin its organization; search, filters, paging."""
import pytest

from user_management.services import lockout
from user_management.utils.timeutil import utcnow

from support.factory import PASSWORD


def listed(client, factory, actor, query=""):
    response = client.get(f"/api/users{query}", headers=factory.headers(actor))
    assert response.status_code == 200, response.json
    return response.json


def emails(body):
    return [user["email"] for user in body["users"]]


def test_staff_list_every_user_with_organization_name_and_lock(client, factory):
    admin = factory.user("super_admin")
    member = factory.user("client_user", email="bea.member@acme.test")
    body = listed(client, factory, admin)
    assert {admin.email, member.email} <= set(emails(body))
    row = next(user for user in body["users"] if user["email"] == member.email)
    assert row["organizationName"] == member.organization.name and row["locked"] is False
    assert row["createdAt"].endswith("Z") and "password" not in row and "totpSecret" not in row
    assert body["pagination"] == {"page": 1, "limit": 20, "total": 2, "pages": 1}
    staff_row = next(user for user in body["users"] if user["email"] == admin.email)
    assert staff_row["organizationName"] is None


def test_search_role_organization_and_status_filters(client, factory, app):
    admin = factory.user("site_admin")
    acme = factory.organization(name="Acme")
    boss = factory.user("client_admin", organization=acme, email="boss@acme.test")
    worker = factory.user("client_user", organization=acme, email="w.orker@acme.test")
    other = factory.user("client_user", email="someone@else.test")
    gone = factory.user("operator", email="gone@example.test", is_active=False)
    assert set(emails(listed(client, factory, admin, "?search=ACME"))) == {boss.email, worker.email}
    assert emails(listed(client, factory, admin, "?search=w.o")) == [worker.email]  # "." is not a wildcard
    assert emails(listed(client, factory, admin, "?search=(")) == []  # regex characters are escaped
    assert set(emails(listed(client, factory, admin, "?search=Client"))) >= {worker.email, other.email}
    assert emails(listed(client, factory, admin, "?role=client_admin")) == [boss.email]
    assert set(emails(listed(client, factory, admin, f"?organizationId={acme.id}"))) == {boss.email, worker.email}
    assert emails(listed(client, factory, admin, "?status=inactive")) == [gone.email]
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        lockout.record_login_failure(worker.email)
    assert lockout.locked_user_ids([(worker.id, worker.email)], utcnow()) == {str(worker.id)}
    locked_rows = listed(client, factory, admin, "?status=locked")["users"]
    assert emails({"users": locked_rows}) == [worker.email] and locked_rows[0]["locked"] is True
    active_rows = listed(client, factory, admin, "?status=active")["users"]
    active = emails({"users": active_rows})
    assert worker.email not in active and gone.email not in active and boss.email in active
    assert not any(row["locked"] for row in active_rows)
    row = listed(client, factory, admin, f"?search={worker.email}")["users"][0]
    assert row["locked"] is True


def test_client_admin_sees_only_its_organization(client, factory):
    boss = factory.user("client_admin")
    mate = factory.user("client_user", organization=boss.organization)
    stranger = factory.user("client_user")
    assert set(emails(listed(client, factory, boss))) == {boss.email, mate.email}
    assert set(emails(listed(client, factory, boss, f"?organizationId={boss.organization_id}"))) == {boss.email,
                                                                                                     mate.email}
    response = client.get(f"/api/users?organizationId={stranger.organization_id}", headers=factory.headers(boss))
    assert response.status_code == 404 and response.json["success"] is False


def test_client_user_is_refused(client, factory):
    response = client.get("/api/users", headers=factory.headers(factory.user("client_user")))
    assert response.status_code == 403 and response.json["success"] is False


def test_unknown_organization_is_404_for_staff(client, factory):
    response = client.get("/api/users?organizationId=" + "a" * 24, headers=factory.headers(factory.user("operator")))
    assert response.status_code == 404


@pytest.mark.parametrize("query", ["?status=gone", "?role=king", "?organizationId=xyz", "?limit=0", "?page=x",
                                   "?search=" + "x" * 101])
def test_bad_query_is_a_json_4xx(client, factory, query):
    response = client.get(f"/api/users{query}", headers=factory.headers(factory.user("super_admin")))
    assert response.status_code == 422 and response.json["success"] is False


def test_paging_is_stable(client, factory):
    admin = factory.user("super_admin")
    for _ in range(7):
        factory.user("operator")
    seen = []
    for page in (1, 2, 3):
        seen += emails(listed(client, factory, admin, f"?limit=3&page={page}"))
    assert len(seen) == 8 == len(set(seen))
