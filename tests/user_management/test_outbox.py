"""The email outbox: nothing is lost when notifications is down, nothing is sent twice."""
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine

from user_management.models import EmailOutbox
from user_management.services.notification_client import LEASE, deliver_due, queue_email
from user_management.utils.timeutil import utcnow


class Recorder:
    """A stand-in notifications HTTP endpoint that records what it receives."""

    def __init__(self):
        self.requests = []
        self.status = 202
        self.answer = None  # when set, called per request; returns the status to answer

    def handler(self):
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                recorder.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(recorder.answer() if recorder.answer else recorder.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"success": true}')

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def notifications_stub(app):
    recorder = Recorder()
    server = ThreadingHTTPServer(("127.0.0.1", 0), recorder.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["NOTIFICATIONS_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield recorder
    server.shutdown()


def test_email_is_handed_over_at_once_with_credentials(app, notifications_stub):
    job = queue_email("someone@example.test", "invite", {"link": "https://x/accept-invite?token=abc"})
    [request] = notifications_stub.requests
    assert request["path"] == "/api/email/send"
    assert request["headers"]["X-Service-Token"] == app.config["NOTIFICATIONS_SERVICE_TOKEN"]
    assert request["headers"]["Idempotency-Key"] == str(job.id)
    assert request["body"] == {"to": "someone@example.test", "template": "invite",
                               "context": {"link": "https://x/accept-invite?token=abc"}}
    job.reload()
    assert job.status == "sent" and job.context == {}  # the one-time link does not linger


def test_failed_handoff_is_retried_with_backoff_until_accepted(app, notifications_stub):
    notifications_stub.status = 503
    job = queue_email("someone@example.test", "otp", {"code": "123456"})
    job.reload()
    assert job.status == "pending" and job.attempts == 1 and job.last_error == "HTTP 503"
    assert deliver_due() == (0, 0)  # not due yet: backoff
    notifications_stub.status = 202
    with time_machine.travel(utcnow().timestamp() + 5):
        assert deliver_due() == (1, 0)
    job.reload()
    assert job.status == "sent" and job.attempts == 2
    keys = {request["headers"]["Idempotency-Key"] for request in notifications_stub.requests}
    assert keys == {str(job.id)}  # a retry carries the same key, so notifications sends it once


def test_unreachable_notifications_keeps_the_email(app):
    job = queue_email("someone@example.test", "invite", {"link": "x"})
    job.reload()
    assert job.status == "pending" and job.context == {"link": "x"}


def test_job_gives_up_into_dead_after_max_attempts(app):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 2
    job = queue_email("someone@example.test", "invite", {"link": "x"})
    with time_machine.travel(utcnow().timestamp() + 3600):
        deliver_due()
    assert job.reload().status == "dead" and job.attempts == 2


def test_a_leased_job_is_not_taken_twice_but_an_abandoned_lease_is(app):
    job = EmailOutbox(to="a@example.test", template="invite", context={}).save()
    EmailOutbox.objects(id=job.id).update_one(set__status="sending", set__lease_until=utcnow() + timedelta(seconds=60))
    assert deliver_due() == (0, 0)
    with time_machine.travel(utcnow().timestamp() + 120):
        assert deliver_due() == (0, 1)  # reclaimed after the lease ran out (notifications still down)


def test_a_stale_lease_can_neither_complete_nor_back_off_the_job_another_worker_reclaimed(app):
    job = EmailOutbox(to="a@example.test", template="otp", context={"code": "123456"}).save()
    stale = EmailOutbox.lease(LEASE)  # worker A, whose handoff then hangs past its lease
    with time_machine.travel(utcnow().timestamp() + LEASE.total_seconds() + 1):
        fresh = EmailOutbox.lease(LEASE)  # worker B reclaims the job
        assert fresh.id == stale.id == job.id
        assert stale.back_off(utcnow() + timedelta(seconds=2), "ReadTimeout") is False
        assert stale.complete() is False
        assert fresh.complete() is True
        assert stale.back_off(utcnow() + timedelta(seconds=2), "ReadTimeout") is False
    job.reload()
    assert (job.status, job.attempts, job.last_error, job.context) == ("sent", 2, None, {})


def test_a_worker_whose_lease_ran_out_does_not_requeue_an_email_another_worker_sent(app, notifications_stub):
    """Worker A's handoff hangs past its lease; B reclaims and sends; A's late failure must not queue it again."""
    app.config["NOTIFICATIONS_TIMEOUT"] = 30  # A waits for the stub, which answers when the test says so
    arrived, release = threading.Event(), threading.Event()
    answers = iter([503, 202])

    def answer():
        status = next(answers)
        if status == 503:  # A's request: hold it until B is done
            arrived.set()
            release.wait(30)
        return status

    notifications_stub.answer = answer
    job = EmailOutbox(to="a@example.test", template="invite", context={"link": "x"}).save()
    outcome = {}

    def worker_a():
        with app.app_context():
            outcome["a"] = deliver_due()

    thread = threading.Thread(target=worker_a)
    thread.start()
    try:
        assert arrived.wait(30)
        with time_machine.travel(utcnow().timestamp() + LEASE.total_seconds() + 1):
            assert deliver_due() == (1, 0)  # worker B
    finally:
        release.set()
        thread.join(30)
    assert outcome["a"] == (0, 1)
    job.reload()
    assert job.status == "sent" and job.attempts == 2 and job.context == {}
    assert deliver_due() == (0, 0)


def test_deliver_outbox_command(app, runner, notifications_stub):
    notifications_stub.status = 500
    queue_email("someone@example.test", "invite", {"link": "x"})
    notifications_stub.status = 202
    with time_machine.travel(utcnow().timestamp() + 5):
        result = runner.invoke(args=["deliver-outbox"])
    assert result.exit_code == 0 and "sent=1" in result.output


# Security round two (issue 12, item 7): a refused e-mail is never reported as sent.


def test_an_email_notifications_refuses_goes_dead_at_once(app, notifications_stub):
    """A 422 will never turn into a 202: no retries, the row is dead and listed by `flask list-dead-emails`."""
    notifications_stub.status = 422
    job = queue_email("someone@example.test", "invite", {"link": "https://x/accept-invite?token=abc"})
    job.reload()
    assert job.status == "dead" and job.attempts == 1 and job.last_error == "HTTP 422"
    with time_machine.travel(utcnow().timestamp() + 3600):
        assert deliver_due() == (0, 0)
    assert len(notifications_stub.requests) == 1
    listing = app.test_cli_runner().invoke(args=["list-dead-emails"])
    assert str(job.id) in listing.output and "HTTP 422" in listing.output and "token=abc" not in listing.output


def test_a_refused_invite_email_shows_on_the_invite_and_a_resend_sends_it(app, client, factory, notifications_stub):
    """The API said "Invite sent" while notifications refused the e-mail; now the invite carries emailStatus."""
    operator = factory.user("operator")
    headers = factory.headers(operator)
    notifications_stub.status = 422
    created = client.post("/api/invites/create", json={"email": "boss@acme.test", "role": "client_admin",
                                                       "organizationName": "Acme"}, headers=headers)
    assert created.status_code == 201
    assert created.json["invite"]["emailStatus"] == "failed" and "sent" not in created.json["message"].lower()
    listed = client.get("/api/invites/list", headers=headers).json["invites"]
    assert [invite["emailStatus"] for invite in listed] == ["failed"]
    notifications_stub.status = 202
    with time_machine.travel(utcnow().timestamp() + 61):
        resent = client.post(f"/api/invites/{created.json['invite']['id']}/resend", headers=factory.headers(operator))
    assert resent.status_code == 200
    assert resent.json["invite"]["emailStatus"] == "sent" and resent.json["message"] == "Invite resent"


def test_a_retried_email_shows_queued_until_notifications_takes_it(app, client, factory, notifications_stub):
    operator = factory.user("operator")
    notifications_stub.status = 503
    created = client.post("/api/invites/create", json={"email": "boss@acme.test", "role": "client_admin",
                                                       "organizationName": "Acme"}, headers=factory.headers(operator))
    assert created.json["invite"]["emailStatus"] == "queued" and "queued" in created.json["message"]
    notifications_stub.status = 202
    with time_machine.travel(utcnow().timestamp() + 5):
        assert deliver_due() == (1, 0)
    invite = client.get("/api/invites/list", headers=factory.headers(operator)).json["invites"][0]
    assert invite["emailStatus"] == "sent"
