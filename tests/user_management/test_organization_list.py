"""GET /api/organizations (staff), /api/organizations/{id} and its members, and the invite list's filters."""
import pytest
from mongoengine.queryset import QuerySet

from user_management.utils.timeutil import utcnow


def get(client, factory, actor, path):
    return client.get(path, headers=factory.headers(actor))


def test_staff_list_organizations_with_counts_without_a_query_per_row(client, factory, app, monkeypatch):
    admin = factory.user("operator")
    acme = factory.organization(name="Acme Corp")
    boss = factory.user("client_admin", organization=acme)
    factory.user("client_user", organization=acme)
    factory.invite(boss, "client_user", organization=acme)
    factory.invite(boss, "client_user", organization=acme, expires_at=utcnow())  # expired: not counted
    factory.organization(name="Dormant", is_active=False)
    body = get(client, factory, admin, "/api/organizations").json
    rows = {row["name"]: row for row in body["organizations"]}
    assert rows["Acme Corp"]["memberCount"] == 2 and rows["Acme Corp"]["pendingInviteCount"] == 1
    assert rows["Dormant"]["memberCount"] == 0 and rows["Dormant"]["isActive"] is False
    assert rows["Acme Corp"]["createdAt"].endswith("Z") and body["pagination"]["total"] == 2
    assert [row["name"] for row in get(client, factory, admin, "/api/organizations?search=acme").json[
        "organizations"]] == ["Acme Corp"]
    assert [row["name"] for row in get(client, factory, admin, "/api/organizations?status=inactive").json[
        "organizations"]] == ["Dormant"]
    assert get(client, factory, admin, "/api/organizations?search=.").json["organizations"] == []

    for _ in range(5):
        factory.user("client_user", organization=factory.organization())
    aggregations = []
    original = QuerySet.aggregate
    monkeypatch.setattr(QuerySet, "aggregate", lambda self, *a, **k: aggregations.append(1) or original(self, *a, **k))
    assert len(get(client, factory, admin, "/api/organizations").json["organizations"]) == 7
    assert len(aggregations) == 2  # one per count, whatever the page size


@pytest.mark.parametrize("role", ["client_admin", "client_user"])
def test_members_cannot_list_organizations(client, factory, role):
    response = get(client, factory, factory.user(role), "/api/organizations")
    assert response.status_code == 403 and response.json["success"] is False


@pytest.mark.parametrize("query", ["?status=gone", "?limit=101", "?search="])
def test_bad_organization_query_is_a_json_422(client, factory, query):
    response = get(client, factory, factory.user("super_admin"), f"/api/organizations{query}")
    assert response.status_code == 422 and response.json["success"] is False


def test_organization_detail_and_members(client, factory):
    admin = factory.user("site_admin")
    boss = factory.user("client_admin")
    mate = factory.user("client_user", organization=boss.organization)
    path = f"/api/organizations/{boss.organization_id}"
    for actor in (admin, boss, mate):
        response = get(client, factory, actor, path)
        assert response.status_code == 200
        assert response.json["organization"]["memberCount"] == 2
        assert response.json["organization"]["pendingInviteCount"] == 0
        members = get(client, factory, actor, f"{path}/members?limit=1&page=2").json
        assert [member["email"] for member in members["members"]] == [mate.email]
        assert members["pagination"] == {"page": 2, "limit": 1, "total": 2, "pages": 2}


@pytest.mark.parametrize("role", ["client_admin", "client_user"])
def test_another_organization_is_404(client, factory, role):
    actor, other = factory.user(role), factory.organization()
    for path in (f"/api/organizations/{other.id}", f"/api/organizations/{other.id}/members",
                 "/api/organizations/not-an-id", f"/api/organizations/{'f' * 24}/members"):
        response = get(client, factory, actor, path)
        assert response.status_code == 404 and response.json["message"] == "Organization not found"


def test_invite_list_filters(client, factory):
    admin = factory.user("super_admin")
    first, _ = factory.invite(admin, "operator", email="first@example.test")
    factory.invite(admin, "operator", email="second@example.test")
    boss = factory.user("client_admin")
    theirs, _ = factory.invite(boss, "client_user", email="their.user@acme.test")

    def emails(actor, query):
        response = get(client, factory, actor, f"/api/invites/list{query}")
        assert response.status_code == 200, response.json
        return [invite["email"] for invite in response.json["invites"]]

    assert emails(admin, "?search=FIRST") == ["first@example.test"]
    assert emails(admin, "?search=first.example") == []  # "." is literal: it does not match the "@"
    assert set(emails(admin, "?search=example.test&status=pending")) == {"first@example.test",
                                                                         "second@example.test"}
    assert emails(admin, f"?organizationId={boss.organization_id}") == [theirs.email]
    assert emails(boss, f"?organizationId={boss.organization_id}") == [theirs.email]
    assert get(client, factory, boss, f"/api/invites/list?organizationId={factory.organization().id}"
               ).status_code == 404
    mate = factory.user("client_user", organization=boss.organization)
    assert get(client, factory, mate, f"/api/invites/list?organizationId={boss.organization_id}").status_code == 403
    assert get(client, factory, admin, "/api/invites/list?organizationId=nope").status_code == 422
