"""One pending invite per address, enforced by the database (a partial unique index), not by a check."""
import threading

import pytest
from mongoengine.errors import NotUniqueError

from user_management.controllers import invite_controller
from user_management.models import Invite, Organization
from user_management.utils.timeutil import utcnow

THREADS = 6


def create(client, headers, email, organization_name):
    return client.post("/api/invites/create", headers=headers,
                       json={"email": email, "role": "client_admin", "organizationName": organization_name})


def test_the_index_refuses_a_second_pending_invite(factory):
    operator = factory.user("operator")
    factory.invite(operator, "operator", email="twice@acme.test")
    with pytest.raises(NotUniqueError):
        factory.invite(operator, "operator", email="twice@acme.test")
    # Only pending ones count: revoked, accepted and replaced invites may pile up.
    factory.invite(operator, "operator", email="twice@acme.test", status="revoked")
    factory.invite(operator, "operator", email="twice@acme.test", status="accepted")
    factory.invite(operator, "operator", email="twice@acme.test", status="expired")
    assert Invite.objects(email="twice@acme.test").count() == 4


def test_the_index_is_declared_as_a_partial_unique_index(app):
    info = Invite._get_collection().index_information()["one_pending_invite_per_email"]
    assert info["unique"] is True
    assert info["partialFilterExpression"] == {"status": "pending"}
    assert list(info["key"]) == [("email", 1), ("status", 1)]


def test_concurrent_creates_for_one_address_one_wins_the_rest_409(app, factory, monkeypatch):
    """Every thread passes the pending-invite check before any inserts, so only the index can stop them."""
    operator = factory.user("operator")
    headers = factory.headers(operator)
    barrier = threading.Barrier(THREADS)
    new_token = invite_controller.new_token

    def token_after_everyone_checked():
        barrier.wait(timeout=10)
        return new_token()

    monkeypatch.setattr(invite_controller, "new_token", token_after_everyone_checked)
    responses = []

    def attempt(index):
        with app.app_context():
            responses.append(create(app.test_client(), headers, "race@acme.test", f"Race {index}"))

    threads = [threading.Thread(target=attempt, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * (THREADS - 1)
    assert {r.json["message"] for r in responses if r.status_code == 409} == {
        "A pending invite for this email already exists"}
    [invite] = Invite.objects(email="race@acme.test")
    # The losers' organizations were removed with their invites: only the winner's exists.
    assert Organization.objects(name__startswith="Race").count() == 1
    assert Organization.objects.get(name__startswith="Race").id == invite.organization.id


def test_an_expired_pending_invite_makes_way_and_is_stored_expired(client, factory):
    operator = factory.user("operator")
    headers = factory.headers(operator)
    old, _ = factory.invite(operator, "client_admin", email="late@acme.test", expires_at=utcnow())
    assert create(client, headers, "late@acme.test", "Late").status_code == 201
    assert old.reload().status == "expired"
    listed = client.get("/api/invites/list?status=expired", headers=headers).json["invites"]
    assert [invite["id"] for invite in listed] == [str(old.id)]
    # While the new invite is pending the old one cannot come back to life...
    resend = client.post(f"/api/invites/{old.id}/resend", headers=headers)
    assert resend.status_code == 409 and "pending invite" in resend.json["message"]
    # ...and once it is revoked, the old one can be sent again.
    new = Invite.objects.get(email="late@acme.test", status="pending")
    assert client.delete(f"/api/invites/{new.id}/revoke", headers=headers).status_code == 200
    again = client.post(f"/api/invites/{old.id}/resend", headers=headers)
    assert again.status_code == 200 and again.json["invite"]["status"] == "pending"
