"""An outage of notifications or of SMTP delays an e-mail, never loses or duplicates it.

notifications down: user_management keeps the e-mail in its outbox and its sweeper
retries until notifications (started later, on the port it was configured with)
accepts it. SMTP down: notifications keeps the job in its Redis queue and retries
until the SMTP server is up.
"""
import time

import pytest

from e2e.helpers import (
    SUBJECT_INVITE,
    Api,
    access_lines,
    invite_token,
    json_log_lines,
    messages,
    wait_for_message,
)
from support.processes import free_port, wait_until

pytestmark = pytest.mark.timeout(60)

INVITEE = "late@acme.test"
SETTLE = 1.5  # several outbox sweeps (0.3 s) and sender polls (0.2 s): time for a duplicate to show up


def warnings(process, logger, message_part):
    """JSON WARNING lines of `logger` whose message contains `message_part`."""
    return [
        line for line in json_log_lines(process)
        if line.get("level") == "WARNING" and line.get("logger") == logger and message_part in line.get("message", "")
    ]


def assert_delivered_once(smtp, api):
    """Exactly one invite e-mail reached the invitee, and its link works."""
    time.sleep(SETTLE)
    assert [m["To"] for m in smtp.messages] == [INVITEE], [(m["To"], m["Subject"]) for m in smtp.messages]
    token = invite_token(messages(smtp, INVITEE, SUBJECT_INVITE)[0])
    details = api.request("GET", f"/api/invites/details/{token}")
    assert details.status_code == 200, details.text
    assert details.json()["invite"]["email"] == INVITEE


def test_invite_email_waits_in_the_outbox_until_notifications_is_up(
        smtp_server, notifications_server, user_management_server):
    """Notifications down at invite time: 201 anyway; the sweeper delivers once it is up, exactly once."""
    smtp_server.start()
    port = free_port()  # nothing listens here yet
    url, user_management = user_management_server(f"http://127.0.0.1:{port}")
    api = Api(url)
    admin = api.login()

    invite = api.create_invite(admin["accessToken"], INVITEE, "client_admin", "Late Corp")
    assert invite["status"] == "pending" and invite["email"] == INVITEE
    # The first hand-over really failed (so what follows is the outbox's retry, not the first try).
    failed = wait_until(lambda: warnings(user_management, "user_management.services.notification_client",
                                         "email handoff failed"), timeout=5)
    assert failed, "user_management did not log the failed hand-over"
    assert failed[0]["attempt"] == 1 and failed[0]["error"] == "ConnectionError"
    assert smtp_server.messages == []

    _, notifications = notifications_server(port=port)
    wait_for_message(smtp_server, INVITEE, SUBJECT_INVITE, timeout=15)
    assert_delivered_once(smtp_server, api)
    # Handed over once: the outbox row was marked sent, not offered again and again.
    assert [line["status"] for line in access_lines(notifications, "/api/email/send")] == [202]


def test_invite_email_waits_in_the_queue_until_smtp_is_up(smtp_server, notifications_server, user_management_server):
    """SMTP down at invite time: notifications retries; the e-mail arrives once SMTP is up, exactly once."""
    notifications_url, notifications = notifications_server()  # smtp_server's port is reserved, not listening
    url, _ = user_management_server(notifications_url)
    api = Api(url)
    admin = api.login()

    api.create_invite(admin["accessToken"], INVITEE, "client_admin", "Late Corp")
    failed = wait_until(lambda: warnings(notifications, "notifications.controllers.sender", "failed"), timeout=5)
    assert failed, "notifications did not log a failed send"
    assert "ConnectionRefusedError" in failed[0]["message"]

    smtp_server.start()
    wait_for_message(smtp_server, INVITEE, SUBJECT_INVITE, timeout=10)
    assert_delivered_once(smtp_server, api)
