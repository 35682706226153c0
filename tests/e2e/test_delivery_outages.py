"""An outage of notifications or of SMTP delays an e-mail, never loses or duplicates it.

notifications down: user_management keeps the e-mail in its outbox and its sweeper
retries until notifications (started later, on the port it was configured with)
accepts it. SMTP down: notifications keeps the job in its Redis queue and retries
until the SMTP server is up.
"""
import pytest

from support.api import SUBJECT_INVITE, Api, invite_token
from support.processes import access_lines, free_port, json_log_lines, wait_until
from support.redis_store import wait_for_idle_email_queue
from support.smtp import messages, wait_for_message

pytestmark = pytest.mark.timeout(60)

INVITEE = "late@acme.test"


def warnings(process, logger, message_part):
    """JSON WARNING lines of `logger` whose message contains `message_part`."""
    return [
        line for line in json_log_lines(process)
        if line.get("level") == "WARNING" and line.get("logger") == logger and message_part in line.get("message", "")
    ]


def assert_delivered_once(smtp, api, email_queue):
    """Exactly one invite e-mail reached the invitee (nothing left in notifications' queue), and its link works."""
    wait_for_idle_email_queue(email_queue)
    assert [m["To"] for m in smtp.messages] == [INVITEE], [(m["To"], m["Subject"]) for m in smtp.messages]
    token = invite_token(messages(smtp, INVITEE, SUBJECT_INVITE)[0])
    details = api.request("GET", f"/api/invites/details/{token}")
    assert details.status_code == 200, details.text
    assert details.json()["invite"]["email"] == INVITEE


def test_invite_email_waits_in_the_outbox_until_notifications_is_up(
        smtp_server, notifications_server, user_management_server, redis_prefix):
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
    assert_delivered_once(smtp_server, api, f"{redis_prefix}-notif")
    # Handed over once: the outbox row was marked sent, not offered again and again.
    assert [line["status"] for line in access_lines(notifications, "/api/email/send")] == [202]


def test_invite_email_waits_in_the_queue_until_smtp_is_up(smtp_server, service_stack, redis_prefix):
    """SMTP down at invite time: notifications retries; the e-mail arrives once SMTP is up, exactly once."""
    stack = service_stack()  # smtp_server's port is reserved, not listening
    ((_, notifications),) = stack.notifications
    api = Api(stack.url)
    admin = api.login()

    api.create_invite(admin["accessToken"], INVITEE, "client_admin", "Late Corp")
    failed = wait_until(lambda: warnings(notifications, "notifications.controllers.sender", "failed"), timeout=5)
    assert failed, "notifications did not log a failed send"
    assert "ConnectionRefusedError" in failed[0]["message"]

    smtp_server.start()
    wait_for_message(smtp_server, INVITEE, SUBJECT_INVITE, timeout=10)
    assert_delivered_once(smtp_server, api, f"{redis_prefix}-notif")
