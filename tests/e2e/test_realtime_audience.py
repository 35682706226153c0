"""Who hears about an accepted invite: the toast only for the inviter, status updates by role and organization.

Every user here is a real account made over HTTP (invite e-mailed, link followed,
accepted); client admins sign in with the e-mailed second factor, as their
organizations require by default.
"""
import time
from types import SimpleNamespace

import pytest

from e2e.helpers import (
    SUBJECT_INVITE,
    Api,
    events,
    invite_token,
    wait_for_event,
    wait_for_message,
    wait_for_subscribers,
)

pytestmark = pytest.mark.timeout(60)

PASSWORD = "Lantern-Quartz-Orbit-7"
SETTLE = 0.7  # seconds to wait for an event that must NOT arrive, after later events did


def test_toast_goes_to_the_inviter_only_and_status_updates_follow_role_and_organization(
        smtp_server, notifications_server, user_management_server, socket_clients, redis_prefix):
    """Staff above the invitee get inviteStatusUpdate but no toast; another organization gets neither."""
    smtp_server.start()
    notifications_url, _ = notifications_server()
    url, _ = user_management_server(notifications_url)
    api = Api(url)
    admin = api.login()
    admin_token = admin["accessToken"]

    # The audience: staff below the super admin, and the client admin of another organization.
    api.onboard(smtp_server, admin_token, "site@example.test", "site_admin", PASSWORD)
    api.onboard(smtp_server, admin_token, "ops@example.test", "operator", PASSWORD)
    other_admin, other_invite = api.onboard(smtp_server, admin_token, "boss@other.test", "client_admin", PASSWORD,
                                            organization_name="Other Corp")
    site = api.login("site@example.test", PASSWORD)
    operator = api.login("ops@example.test", PASSWORD)
    other, _, _ = api.login_with_otp(smtp_server, "boss@other.test", PASSWORD)

    # Phase 1: the super admin's client_admin invite for Acme Corp is accepted.
    acme_invite = api.create_invite(admin_token, "boss@acme.test", "client_admin", "Acme Corp")
    acme_token = invite_token(wait_for_message(smtp_server, "boss@acme.test", SUBJECT_INVITE))
    sockets = SimpleNamespace(
        admin=socket_clients(notifications_url, admin_token),
        site=socket_clients(notifications_url, site["accessToken"]),
        operator=socket_clients(notifications_url, operator["accessToken"]),
        other=socket_clients(notifications_url, other["accessToken"]),
    )
    wait_for_subscribers(f"{redis_prefix}-socketio", 1)
    acme_admin = api.accept_invite(acme_token, PASSWORD, first_name="Bea", last_name="Boss")

    toast = wait_for_event(sockets.admin, "notification", type="inviteAccepted")
    assert toast["data"] == {"inviteId": acme_invite["id"], "userId": acme_admin["id"], "email": "boss@acme.test",
                             "role": "client_admin"}
    for client in (sockets.admin, sockets.site, sockets.operator):
        update = wait_for_event(client, "inviteStatusUpdate", inviteId=acme_invite["id"], status="accepted")
        assert update["organization"] == acme_invite["organization"]["id"] and update["role"] == "client_admin"
    time.sleep(SETTLE)
    assert len(events(sockets.admin, "notification")) == 1, sockets.admin.received
    assert events(sockets.site, "notification") == [], sockets.site.received
    assert events(sockets.operator, "notification") == [], sockets.operator.received
    for client in (sockets.admin, sockets.site, sockets.operator):
        assert len(events(client, "inviteStatusUpdate", inviteId=acme_invite["id"])) == 1, client.received
    assert sockets.other.received == [], "another organization's client_admin heard about Acme's invite"

    # Phase 2: the other organization's client_admin invites a client_user, who accepts.
    acme, _, _ = api.login_with_otp(smtp_server, "boss@acme.test", PASSWORD)
    sockets.acme = socket_clients(notifications_url, acme["accessToken"])
    user_invite = api.create_invite(other["accessToken"], "user@other.test", "client_user")
    assert user_invite["organization"]["id"] == other_invite["organization"]["id"]
    user_token = invite_token(wait_for_message(smtp_server, "user@other.test", SUBJECT_INVITE))
    for client in vars(sockets).values():
        client.received.clear()
    member = api.accept_invite(user_token, PASSWORD, first_name="Uma", last_name="User")

    toast = wait_for_event(sockets.other, "notification", type="inviteAccepted")
    assert toast["data"] == {"inviteId": user_invite["id"], "userId": member["id"], "email": "user@other.test",
                             "role": "client_user"}
    for client in (sockets.other, sockets.admin, sockets.site, sockets.operator):
        update = wait_for_event(client, "inviteStatusUpdate", inviteId=user_invite["id"], status="accepted")
        assert update["organization"] == other_invite["organization"]["id"] and update["role"] == "client_user"
    time.sleep(SETTLE)
    # The inviter hears once, though it is in both the org room and (as a client_admin) a role room.
    assert len(events(sockets.other, "notification")) == 1, sockets.other.received
    assert len(events(sockets.other, "inviteStatusUpdate")) == 1, sockets.other.received
    for client in (sockets.admin, sockets.site, sockets.operator):
        assert events(client, "notification") == [], client.received
        assert len(events(client, "inviteStatusUpdate")) == 1, client.received
    assert sockets.acme.received == [], "Acme's client_admin heard about another organization's invite"
    assert other_admin["organization"] == other_invite["organization"]["id"]
