"""A socket is authorized like an API request for as long as it lives (issue 12, item 1).

Real processes: user_management publishes each revocation on Redis; notifications ends the affected
sockets with `sessionEnded {reason: "token_revoked"}` within 2 seconds, and refuses the token afterwards.
"""
import time

import pytest
import socketio.exceptions

from support.api import Api
from support.processes import wait_until
from support.sockets import connect_socket, events, wait_for_event

pytestmark = pytest.mark.timeout(90)

PASSWORD = "Lantern-Quartz-Orbit-7"


def ended_within(client, seconds, since):
    """Assert `client` got sessionEnded (token_revoked) and was disconnected within `seconds` of `since`."""
    wait_until(lambda: not client.connected, timeout=seconds + 3)
    took = time.monotonic() - since
    assert not client.connected and took < seconds, (took, client.received)
    assert events(client, "sessionEnded", reason="token_revoked"), client.received


def refused(url, token):
    """The token opens no new socket; return the connect_error it got."""
    with pytest.raises(socketio.exceptions.ConnectionError) as refusal:
        connect_socket(url, token)
    return refusal.value.client.received


@pytest.fixture
def stack(smtp_server, notifications_server, user_management_server):
    """SMTP, notifications and user_management processes: (notifications URL, the API)."""
    smtp_server.start()
    notifications_url, _ = notifications_server()
    url, _ = user_management_server(notifications_url)
    return notifications_url, Api(url)


def test_logout_all_and_deactivations_end_open_sockets_within_2_seconds(stack, smtp_server, socket_clients):
    notifications_url, api = stack
    admin = api.login()

    # logout-all from another session ends this one's socket.
    session = api.login()
    mine = socket_clients(notifications_url, session["accessToken"])
    started = time.monotonic()
    assert api.request("POST", "/api/auth/logout-all", token=admin["accessToken"]).status_code == 200
    ended_within(mine, 2, started)
    assert refused(notifications_url, session["accessToken"]) == [
        ("connect_error", {"message": "Token revoked", "data": {"reason": "token_revoked"}})]

    # A deactivated operator stops receiving platform-wide invite updates (with invitee emails) at once.
    admin = api.login()
    operator_user, _ = api.onboard(smtp_server, admin["accessToken"], "ops@example.test", "operator", PASSWORD)
    operator = api.login("ops@example.test", PASSWORD)
    watching = socket_clients(notifications_url, operator["accessToken"])
    bystander = socket_clients(notifications_url, admin["accessToken"])
    started = time.monotonic()
    response = api.request("PATCH", f"/api/users/{operator_user['id']}/status", token=admin["accessToken"],
                           json={"isActive": False})
    assert response.status_code == 200
    ended_within(watching, 2, started)
    invite = api.create_invite(admin["accessToken"], "later@example.test", "operator")
    wait_for_event(bystander, "inviteStatusUpdate", inviteId=invite["id"])
    assert events(watching, "inviteStatusUpdate", inviteId=invite["id"]) == []
    assert refused(notifications_url, operator["accessToken"])[0][1]["data"] == {"reason": "token_revoked"}

    # Deactivating an organization ends its members' sockets.
    boss, boss_invite = api.onboard(smtp_server, admin["accessToken"], "boss@acme.test", "client_admin", PASSWORD,
                                    organization_name="Acme Corp")
    member, _, _ = api.login_with_otp(smtp_server, "boss@acme.test", PASSWORD)
    member_socket = socket_clients(notifications_url, member["accessToken"])
    started = time.monotonic()
    organization_id = boss_invite["organization"]["id"]
    response = api.request("PATCH", f"/api/organizations/{organization_id}/status", token=admin["accessToken"],
                           json={"isActive": False})
    assert response.status_code == 200
    ended_within(member_socket, 2, started)
    assert bystander.connected


def test_ending_one_session_ends_only_that_sessions_socket(stack, socket_clients):
    """DELETE /api/auth/sessions/<id>: that browser's socket gets sessionEnded (session_ended); the other stays."""
    notifications_url, api = stack
    laptop, phone = api.login(), api.login()
    laptop_socket = socket_clients(notifications_url, laptop["accessToken"])
    phone_socket = socket_clients(notifications_url, phone["accessToken"])
    sessions = api.request("GET", "/api/auth/sessions", token=phone["accessToken"]).json()["sessions"]
    assert len(sessions) == 2
    laptop_session = next(session["id"] for session in sessions if not session["current"])

    response = api.request("DELETE", f"/api/auth/sessions/{laptop_session}", token=phone["accessToken"])
    assert response.status_code == 200, response.text
    wait_until(lambda: not laptop_socket.connected, timeout=5)
    assert events(laptop_socket, "sessionEnded", reason="session_ended"), laptop_socket.received
    assert api.request("GET", "/api/auth/profile", token=laptop["accessToken"]).status_code == 401
    assert refused(notifications_url, laptop["accessToken"]) == [
        ("connect_error", {"message": "Session ended", "data": {"reason": "session_ended"}})]

    # Barrier: an event the phone must receive after the end was handled; it is still connected, not ended.
    invite = api.create_invite(phone["accessToken"], "later@example.test", "operator")
    wait_for_event(phone_socket, "inviteStatusUpdate", inviteId=invite["id"])
    assert phone_socket.connected and events(phone_socket, "sessionEnded") == []
    assert api.request("GET", "/api/auth/profile", token=phone["accessToken"]).status_code == 200
