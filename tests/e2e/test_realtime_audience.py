"""Who hears about an accepted invite: the toast only for the inviter, status updates by role and organization.

Every user here is a real account made over HTTP (invite e-mailed, link followed,
accepted); client admins sign in with the e-mailed second factor, as their
organizations require by default. user_management talks to no socket itself: it
publishes on the Redis channel, and each notifications process delivers to the
clients connected to it, exactly once.
"""
from types import SimpleNamespace

import pytest

from support.api import INVITEE_PASSWORD, SUBJECT_INVITE, Api, invite_token
from support.redis_store import wait_for_subscribers
from support.smtp import wait_for_message
from support.sockets import events, settle, wait_for_event

pytestmark = pytest.mark.timeout(60)


def assert_heard_once(channel, invite, member, inviters, staff, outsiders):
    """Once `member` accepted `invite`: one toast per inviter socket, one status update per inviter and staff
    socket, no toast for staff, and nothing at all for outsiders."""
    settle(channel, *inviters, *staff, *outsiders)
    for client in inviters:
        (toast,) = events(client, "notification")
        assert toast["type"] == "inviteAccepted", client.received
        assert toast["data"] == {"inviteId": invite["id"], "userId": member["id"], "email": member["email"],
                                 "role": member["role"]}
    for client in staff:
        assert events(client, "notification") == [], client.received
    for client in (*inviters, *staff):
        (update,) = events(client, "inviteStatusUpdate")
        assert (update["inviteId"], update["status"]) == (invite["id"], "accepted"), client.received
        assert (update["organization"], update["role"]) == (invite["organization"]["id"], invite["role"])
    for client in outsiders:
        assert client.received == [], "a socket outside the invite's audience heard about it"


def test_toast_goes_to_the_inviter_only_and_status_updates_follow_role_and_organization(
        smtp_server, service_stack, socket_clients, redis_prefix):
    """Staff above the invitee get inviteStatusUpdate but no toast; another organization gets neither."""
    channel = f"{redis_prefix}-socketio"
    smtp_server.start()
    stack = service_stack()
    ((notifications_url, _),) = stack.notifications
    api = Api(stack.url)
    admin = api.login()
    admin_token = admin["accessToken"]

    # The audience: staff below the super admin, and the client admin of another organization.
    api.onboard(smtp_server, admin_token, "site@example.test", "site_admin")
    api.onboard(smtp_server, admin_token, "ops@example.test", "operator")
    other_admin, other_invite = api.onboard(smtp_server, admin_token, "boss@other.test", "client_admin",
                                            organization_name="Other Corp")
    site = api.login("site@example.test", INVITEE_PASSWORD)
    operator = api.login("ops@example.test", INVITEE_PASSWORD)
    other, _, _ = api.login_with_otp(smtp_server, "boss@other.test", INVITEE_PASSWORD)

    # Phase 1: the super admin's client_admin invite for Acme Corp is accepted.
    acme_invite = api.create_invite(admin_token, "boss@acme.test", "client_admin", "Acme Corp")
    acme_token = invite_token(wait_for_message(smtp_server, "boss@acme.test", SUBJECT_INVITE))
    sockets = SimpleNamespace(
        admin=socket_clients(notifications_url, admin_token),
        site=socket_clients(notifications_url, site["accessToken"]),
        operator=socket_clients(notifications_url, operator["accessToken"]),
        other=socket_clients(notifications_url, other["accessToken"]),
    )
    wait_for_subscribers(channel, 1)
    acme_admin = api.accept_invite(acme_token, first_name="Bea", last_name="Boss")

    assert_heard_once(channel, acme_invite, acme_admin, inviters=[sockets.admin],
                      staff=[sockets.site, sockets.operator], outsiders=[sockets.other])

    # Phase 2: the other organization's client_admin invites a client_user, who accepts.
    acme, _, _ = api.login_with_otp(smtp_server, "boss@acme.test", INVITEE_PASSWORD)
    sockets.acme = socket_clients(notifications_url, acme["accessToken"])
    user_invite = api.create_invite(other["accessToken"], "user@other.test", "client_user")
    assert user_invite["organization"]["id"] == other_invite["organization"]["id"]
    user_token = invite_token(wait_for_message(smtp_server, "user@other.test", SUBJECT_INVITE))
    # Creating it told the staff and the organization's admin; that must be in before the slate is wiped.
    for client in (sockets.other, sockets.admin, sockets.site, sockets.operator):
        wait_for_event(client, "inviteStatusUpdate", inviteId=user_invite["id"], status="pending")
    settle(channel, *vars(sockets).values())
    assert sockets.acme.received == [], "Acme's client_admin heard about another organization's invite"
    for client in vars(sockets).values():
        client.received.clear()
    member = api.accept_invite(user_token, first_name="Uma", last_name="User")

    # The inviter hears once, though it is in both the org room and (as a client_admin) a role room.
    assert_heard_once(channel, user_invite, member, inviters=[sockets.other],
                      staff=[sockets.admin, sockets.site, sockets.operator], outsiders=[sockets.acme])
    assert other_admin["organization"] == other_invite["organization"]["id"]


def test_toast_reaches_the_inviter_on_either_process(smtp_server, service_stack, socket_clients, redis_prefix):
    """Inviter on B (and in a second tab on A) gets the toast once per tab; a site_admin on A only the update."""
    channel = f"{redis_prefix}-socketio"
    smtp_server.start()
    stack = service_stack(notifications=2)  # e-mails go through A; sockets are spread over A and B
    (url_a, _), (url_b, _) = stack.notifications
    api = Api(stack.url)
    admin = api.login()
    api.onboard(smtp_server, admin["accessToken"], "site@example.test", "site_admin")
    site = api.login("site@example.test", INVITEE_PASSWORD)

    invite = api.create_invite(admin["accessToken"], "boss@acme.test", "client_admin", "Acme Corp")
    token = invite_token(wait_for_message(smtp_server, "boss@acme.test", SUBJECT_INVITE))
    inviter_on_b = socket_clients(url_b, admin["accessToken"])
    site_on_a = socket_clients(url_a, site["accessToken"])
    inviter_on_a = socket_clients(url_a, admin["accessToken"])
    wait_for_subscribers(channel, 2)

    user = api.accept_invite(token, first_name="Bea", last_name="Boss")

    assert_heard_once(channel, invite, user, inviters=[inviter_on_b, inviter_on_a], staff=[site_on_a], outsiders=[])
