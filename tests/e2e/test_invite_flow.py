"""Invite to acceptance through both services as real processes: HTTP, SMTP, Socket.IO, logs.

user_management (gunicorn, in-memory MongoDB) hands e-mails to notifications
(gunicorn, eventlet), which sends them to a real SMTP server; real-time events
travel from user_management through the Redis message queue to python-socketio
clients connected to notifications.
"""
import re
from types import SimpleNamespace

import pytest

from notifications.config import DEV_SERVICE_TOKEN
from support.api import ADMIN_EMAIL, ADMIN_PASSWORD, INVITEE_PASSWORD, SUBJECT_INVITE, Api, assert_iso_utc, invite_token
from support.processes import json_log_lines, read_log, wait_until
from support.redis_store import wait_for_idle_email_queue, wait_for_subscribers
from support.smtp import text_part, wait_for_message
from support.sockets import events, settle, wait_for_event
from user_management.config import DEV_ACCESS_SECRET, DEV_REFRESH_SECRET
from user_management.utils.signing_keys import read_keyset

pytestmark = pytest.mark.timeout(60)

INVITEE_EMAIL = "boss@acme.test"


@pytest.fixture
def stack(smtp_server, service_stack, redis_prefix, user_management_env):
    """SMTP up, one notifications process, one user_management process handing over to it."""
    smtp_server.start()
    started = service_stack()
    ((notifications_url, notifications),) = started.notifications
    return SimpleNamespace(api=Api(started.url), smtp=smtp_server, channel=f"{redis_prefix}-socketio",
                           email_queue=f"{redis_prefix}-notif", notifications_url=notifications_url,
                           notifications=notifications, user_management=started.user_management,
                           signing_keys=user_management_env["JWT_SIGNING_KEYS"])


def invite_and_accept(stack, connect):
    """The issue-4 scenario: the super admin invites a client_admin who accepts from the e-mail link."""
    api, smtp = stack.api, stack.smtp
    admin = api.login()
    inviter = connect(stack.notifications_url, admin["accessToken"])
    wait_for_subscribers(stack.channel, 1)

    invite = api.create_invite(admin["accessToken"], INVITEE_EMAIL, "client_admin", "Acme Corp")
    invite_email = wait_for_message(smtp, INVITEE_EMAIL, SUBJECT_INVITE)
    token = invite_token(invite_email)

    details = api.request("GET", f"/api/invites/details/{token}")
    assert details.status_code == 200, details.text
    user = api.accept_invite(token, INVITEE_PASSWORD, first_name="Bea", last_name="Boss")
    return dict(admin=admin, inviter=inviter, invite=invite, invite_email=invite_email, token=token,
                details=details.json()["invite"], user=user)


def sent_lines(process):
    """The sender's "email ... sent" log lines."""
    return [line for line in json_log_lines(process)
            if line.get("logger") == "notifications.controllers.sender" and " sent (" in line.get("message", "")]


def test_invite_email_link_accept_toast_and_email(stack, socket_clients):
    """Issue 4 done-when: e-mailed link → accept over HTTP → inviter's toast, status update and e-mail."""
    run = invite_and_accept(stack, socket_clients)
    admin, inviter, invite, user = run["admin"], run["inviter"], run["invite"], run["user"]
    organization_id = invite["organization"]["id"]
    assert admin["user"]["role"] == "super_admin"

    message = run["invite_email"]
    assert message["Subject"] == SUBJECT_INVITE
    assert message["From"] == "no-reply@example.com"
    assert "Acme Corp" in text_part(message) and "client_admin" in text_part(message)
    assert run["details"]["email"] == INVITEE_EMAIL and run["details"]["organizationName"] == "Acme Corp"
    assert user["email"] == INVITEE_EMAIL and user["role"] == "client_admin"
    assert user["organization"] == organization_id

    toast = wait_for_event(inviter, "notification", type="inviteAccepted")
    assert set(toast) == {"type", "message", "timestamp", "data"}
    assert toast["data"] == {"inviteId": invite["id"], "userId": user["id"], "email": INVITEE_EMAIL,
                             "role": "client_admin"}
    assert INVITEE_EMAIL in toast["message"]
    assert_iso_utc(toast["timestamp"])

    accepted = wait_for_event(inviter, "inviteStatusUpdate", inviteId=invite["id"], status="accepted")
    assert set(accepted) == {"inviteId", "email", "role", "status", "organization", "timestamp"}
    assert (accepted["email"], accepted["role"], accepted["organization"]) == (INVITEE_EMAIL, "client_admin",
                                                                               organization_id)
    assert_iso_utc(accepted["timestamp"])
    # Creating the invite was broadcast too (the inviter's socket was already connected).
    assert len(events(inviter, "inviteStatusUpdate", inviteId=invite["id"], status="pending")) == 1

    subject = "Bea Boss accepted your invitation to User Management"
    accepted_email = wait_for_message(stack.smtp, ADMIN_EMAIL, subject)
    assert INVITEE_EMAIL in text_part(accepted_email) and "Acme Corp" in text_part(accepted_email)
    assert accepted_email.get_body(("html",)) is not None

    # Exactly once: one toast, one "accepted" update, two e-mails in all.
    settle(stack.channel, inviter)
    wait_for_idle_email_queue(stack.email_queue)
    assert len(events(inviter, "notification")) == 1, inviter.received
    assert len(events(inviter, "inviteStatusUpdate", inviteId=invite["id"], status="accepted")) == 1
    assert [(m["To"], m["Subject"]) for m in stack.smtp.messages] == [(INVITEE_EMAIL, SUBJECT_INVITE),
                                                                       (ADMIN_EMAIL, subject)]
    # The link is single use.
    again = stack.api.request("POST", "/api/invites/accept", json={
        "token": run["token"], "firstName": "Eve", "lastName": "Again", "password": INVITEE_PASSWORD})
    assert again.status_code == 410, again.text


def test_no_secret_reaches_the_logs(stack, socket_clients):
    """Over the whole scenario (plus the invitee's 2FA login and a refresh), no secret is in either log."""
    run = invite_and_accept(stack, socket_clients)
    wait_for_event(run["inviter"], "notification", type="inviteAccepted")
    wait_for_message(stack.smtp, ADMIN_EMAIL, "Bea Boss accepted your invitation to User Management")
    invitee, otp, two_factor_token = stack.api.login_with_otp(stack.smtp, INVITEE_EMAIL, INVITEE_PASSWORD)
    refreshed = stack.api.request("POST", "/api/auth/refresh", json={"refreshToken": run["admin"]["refreshToken"]})
    assert refreshed.status_code == 200, refreshed.text
    # The last log lines: notifications logs each e-mail once it is sent (invite, accepted, OTP).
    assert wait_until(lambda: len(sent_lines(stack.notifications)) >= 3), sent_lines(stack.notifications)

    secrets = {
        "admin password": ADMIN_PASSWORD,
        "invitee password": INVITEE_PASSWORD,
        "admin access token": run["admin"]["accessToken"],
        "admin refresh token": run["admin"]["refreshToken"],
        "rotated access token": refreshed.json()["accessToken"],
        "rotated refresh token": refreshed.json()["refreshToken"],
        "invitee access token": invitee["accessToken"],
        "invitee refresh token": invitee["refreshToken"],
        "two-factor token": two_factor_token,
        "invite token": run["token"],
        "service token": DEV_SERVICE_TOKEN,
        "JWT access secret": DEV_ACCESS_SECRET,
        "JWT refresh secret": DEV_REFRESH_SECRET,
        # The body of the private signing key's PEM (its second line), which must never be printed.
        "JWT signing key": read_keyset(stack.signing_keys).signing_key.to_record()["privateKey"].splitlines()[1],
    }
    logs = {"user_management": read_log(stack.user_management), "notifications": read_log(stack.notifications)}
    # The scenario did run in these processes (an empty log would pass trivially).
    assert "/api/invites/accept" in logs["user_management"] and "/api/email/send" in logs["notifications"]
    for service, log in logs.items():
        leaked = [name for name, secret in secrets.items() if secret in log]
        assert not leaked, f"{service} log contains: {leaked}"
        # The 6-digit code on its own (not as part of a longer id or number).
        assert not re.search(rf"(?<![0-9A-Za-z]){otp}(?![0-9A-Za-z])", log), f"{service} log contains the OTP"
