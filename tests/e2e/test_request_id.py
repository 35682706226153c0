"""One X-Request-ID follows a request from user_management's log into notifications' log.

user_management stores the request id with the outbox row and sends it as
X-Request-ID when it hands the e-mail over, at once or later from the sweeper.
Both services log JSON lines; gunicorn's own lines are plain text and ignored.
"""
import uuid

import pytest

from support.api import ADMIN_EMAIL, INVITEE_PASSWORD, SUBJECT_INVITE, Api, invite_token
from support.processes import access_lines, free_port, json_log_lines, wait_until
from support.smtp import wait_for_message

pytestmark = pytest.mark.timeout(60)

SEND = "/api/email/send"


def request_id():
    """A fresh request id in the accepted alphabet."""
    return f"e2e-{uuid.uuid4()}"


def test_request_id_reaches_the_notifications_log(smtp_server, service_stack):
    """Create and accept an invite with X-Request-ID; each e-mail hand-over is logged under that id."""
    smtp_server.start()
    stack = service_stack()
    ((_, notifications),) = stack.notifications
    user_management = stack.user_management
    api = Api(stack.url)
    admin = api.login()

    create_id = request_id()
    response = api.request("POST", "/api/invites/create", token=admin["accessToken"], request_id=create_id,
                           json={"email": "rid@acme.test", "role": "client_admin", "organizationName": "Rid Corp"})
    assert response.status_code == 201, response.text
    assert response.headers["X-Request-ID"] == create_id
    token = invite_token(wait_for_message(smtp_server, "rid@acme.test", SUBJECT_INVITE))

    accept_id = request_id()
    api.accept_invite(token, INVITEE_PASSWORD, first_name="Rid", last_name="Dler", request_id=accept_id)
    wait_for_message(smtp_server, ADMIN_EMAIL)

    created = access_lines(user_management, "/api/invites/create", create_id)
    assert [(line["method"], line["status"]) for line in created] == [("POST", 201)]
    assert [line["status"] for line in access_lines(user_management, "/api/invites/accept", accept_id)] == [201]
    # Each request handed over exactly one e-mail, under its own id.
    handed = wait_until(lambda: access_lines(notifications, SEND, accept_id), timeout=5)
    assert [(line["method"], line["status"]) for line in handed] == [("POST", 202)]
    assert [line["status"] for line in access_lines(notifications, SEND, create_id)] == [202]
    assert len(access_lines(notifications, SEND)) == 2

    # Every app line of both logs is structured: service name and a request_id field.
    for process, service in ((user_management, "user_management"), (notifications, "notifications")):
        lines = json_log_lines(process)
        assert len(lines) >= 3, f"too few JSON lines in the {service} log"
        assert {line.get("service") for line in lines} == {service}
        assert all("request_id" in line and "level" in line and "time" in line for line in lines), lines


def test_request_id_survives_the_outbox_retry(smtp_server, notifications_server, user_management_server):
    """Notifications down during the request: the sweeper's later hand-over still carries the request's id."""
    smtp_server.start()
    port = free_port()
    url, user_management = user_management_server(f"http://127.0.0.1:{port}")
    api = Api(url)
    admin = api.login()

    create_id = request_id()
    api.create_invite(admin["accessToken"], "later@acme.test", "client_admin", "Later Corp", request_id=create_id)
    assert [line["status"] for line in access_lines(user_management, "/api/invites/create", create_id)] == [201]
    _, notifications = notifications_server(port=port)
    wait_for_message(smtp_server, "later@acme.test", SUBJECT_INVITE, timeout=15)

    handed = access_lines(notifications, SEND)
    assert [(line["request_id"], line["status"]) for line in handed] == [(create_id, 202)]
