"""POST /api/invites/{id}/reinvite: a revoked or expired invite sent again as a fresh invite."""
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine

from user_management.models import AuditEvent, Invite
from user_management.models import audit_event as events
from user_management.utils.timeutil import utcnow


def reinvite(client, factory, actor, invite):
    return client.post(f"/api/invites/{invite.id}/reinvite", headers=factory.headers(actor))


def latest_token(outbox, email):
    return parse_qs(urlparse(outbox("invite", to=email)[-1].context["link"]).query)["token"][0]


def test_a_revoked_invite_is_sent_again_as_a_new_invite(client, factory, outbox):
    boss = factory.user("client_admin")
    old, _ = factory.invite(boss, "client_user", email="mate@acme.test", status="revoked")
    response = reinvite(client, factory, boss, old)
    assert response.status_code == 201, response.json
    invite = response.json["invite"]
    assert invite["id"] != str(old.id) and invite["status"] == "pending" and invite["sendCount"] == 1
    assert (invite["email"], invite["role"], invite["organization"]["id"]) == ("mate@acme.test", "client_user",
                                                                               boss.organization_id)
    assert response.json["message"] in ("Invite sent again",
                                         "The invite exists; its email is queued and will be sent shortly")
    token = latest_token(outbox, "mate@acme.test")
    assert client.get(f"/api/invites/details/{token}").status_code == 200
    event = AuditEvent.objects(type=events.INVITE_REINVITED).get()
    assert event.details["previousInviteId"] == str(old.id) and event.details["inviteId"] == invite["id"]
    # Now a pending invite exists for the address: a second re-invite is a conflict.
    again = reinvite(client, factory, boss, old)
    assert again.status_code == 409 and again.json["message"] == "A pending invite for this email already exists"


def test_an_expired_client_admin_invite_keeps_its_organization(client, factory, outbox):
    operator = factory.user("operator")
    acme = factory.organization(name="Acme")
    old, _ = factory.invite(operator, "client_admin", organization=acme, expires_at=utcnow())
    with time_machine.travel(utcnow().timestamp() + 1):
        response = reinvite(client, factory, operator, old)
    assert response.status_code == 201, response.json
    assert response.json["invite"]["organization"] == {"id": str(acme.id), "name": "Acme"}
    assert Invite.objects(id=old.id).get().status == "expired"


@pytest.mark.parametrize("status", ["pending", "accepted"])
def test_a_pending_or_accepted_invite_is_a_conflict(client, factory, status):
    operator = factory.user("operator")
    invite, _ = factory.invite(operator, "client_admin", status=status)
    response = reinvite(client, factory, operator, invite)
    assert response.status_code == 409 and response.json["success"] is False
    assert response.json["message"] == f"Only a revoked or expired invite can be sent again; this one is {status}"


def test_another_organizations_invite_is_404_and_a_lower_role_is_refused(client, factory):
    boss = factory.user("client_admin")
    invite, _ = factory.invite(boss, "client_user", status="revoked")
    response = reinvite(client, factory, factory.user("client_admin"), invite)
    assert response.status_code == 404 and response.json["message"] == "Invite not found"
    mate = factory.user("client_user", organization=boss.organization)
    assert reinvite(client, factory, mate, invite).status_code == 404
    staff_invite, _ = factory.invite(factory.user("super_admin"), "site_admin", status="revoked")
    assert reinvite(client, factory, factory.user("operator"), staff_invite).status_code == 403


def test_a_deactivated_organizations_invite_is_a_conflict(client, factory):
    operator = factory.user("operator")
    invite, _ = factory.invite(operator, "client_admin", organization=factory.organization(is_active=False),
                               status="revoked")
    response = reinvite(client, factory, operator, invite)
    assert response.status_code == 409 and response.json["message"] == "This invite's organization has been deactivated"


def test_unknown_or_malformed_id_is_404(client, factory):
    operator = factory.user("operator")
    for invite_id in ("f" * 24, "nope"):
        response = client.post(f"/api/invites/{invite_id}/reinvite", headers=factory.headers(operator))
        assert response.status_code == 404 and response.json["success"] is False
