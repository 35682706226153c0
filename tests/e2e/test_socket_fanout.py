"""Two notifications processes (eventlet) on one Socket.IO channel: the Redis message queue end to end.

user_management talks to neither process's sockets: it publishes on the channel, and
each process delivers to the clients connected to it, exactly once.
"""
import time

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
SETTLE = 0.7


def test_toast_reaches_the_inviter_on_either_process(
        smtp_server, notifications_server, user_management_server, socket_clients, redis_prefix):
    """Inviter on B (and in a second tab on A) gets the toast once per tab; a site_admin on A only the update."""
    smtp_server.start()
    url_a, _ = notifications_server("eventlet")
    url_b, _ = notifications_server("eventlet")
    url, _ = user_management_server(url_a)  # e-mails go through A; sockets are spread over A and B
    api = Api(url)
    admin = api.login()
    api.onboard(smtp_server, admin["accessToken"], "site@example.test", "site_admin", PASSWORD)
    site = api.login("site@example.test", PASSWORD)

    invite = api.create_invite(admin["accessToken"], "boss@acme.test", "client_admin", "Acme Corp")
    token = invite_token(wait_for_message(smtp_server, "boss@acme.test", SUBJECT_INVITE))
    inviter_on_b = socket_clients(url_b, admin["accessToken"])
    site_on_a = socket_clients(url_a, site["accessToken"])
    inviter_on_a = socket_clients(url_a, admin["accessToken"])
    wait_for_subscribers(f"{redis_prefix}-socketio", 2)

    user = api.accept_invite(token, PASSWORD, first_name="Bea", last_name="Boss")

    expected = {"inviteId": invite["id"], "userId": user["id"], "email": "boss@acme.test", "role": "client_admin"}
    for client in (inviter_on_b, inviter_on_a):
        assert wait_for_event(client, "notification", type="inviteAccepted")["data"] == expected
    for client in (inviter_on_b, inviter_on_a, site_on_a):
        wait_for_event(client, "inviteStatusUpdate", inviteId=invite["id"], status="accepted")
    time.sleep(SETTLE)
    for client in (inviter_on_b, inviter_on_a):
        assert len(events(client, "notification")) == 1, client.received
    assert events(site_on_a, "notification") == [], site_on_a.received
    for client in (inviter_on_b, inviter_on_a, site_on_a):
        assert len(events(client, "inviteStatusUpdate", inviteId=invite["id"])) == 1, client.received
