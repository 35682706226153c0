"""The sender against a real SMTP server: delivery, retries, dead letters, no double sends."""
import json
import time

import pytest

from notifications.controllers.email import get_queue
from notifications.controllers.sender import backoff_seconds, send_queued
from support.processes import wait_until

LINK = "https://app.example.com/invite/tok-123"
INVITE = {"to": "new.user@example.com", "template": "invite", "context": {"link": LINK, "inviterName": "Ada"}}


@pytest.fixture
def queue_email(client, service_headers):
    """POST an e-mail to the API; return its job id."""

    def queue(body=INVITE, key=None):
        headers = {**service_headers, **({"Idempotency-Key": key} if key else {})}
        response = client.post("/api/email/send", json=body, headers=headers)
        assert response.status_code == 202, response.get_json()
        return response.get_json()["id"]

    return queue


def drain(app, **kwargs):
    """One sender pass, as `flask send-queued` does it."""
    with app.app_context():
        return send_queued(**kwargs)


def assert_sent_once(app, smtp_server, queue_email):
    """Send a marker e-mail through the same queue and sender; once it arrived, the first one went out once.

    The sender takes jobs in order and SMTP stores a message before it answers,
    so a second copy of the first e-mail would have arrived before the marker.
    """
    queue_email({"to": "marker@example.com", "subject": "Marker", "html": "<p>marker</p>", "text": "marker"})
    assert drain(app)["sent"] == 1
    assert [m["To"] for m in smtp_server.wait_for(2)] == [INVITE["to"], "marker@example.com"]


def parts(message):
    """Return {content type: decoded text} of a received message."""
    return {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in message.walk()
        if not part.is_multipart()
    }


def test_invite_arrives_with_html_and_text(app, runner, smtp_server, queue_email):
    """The CLI drain sends a multipart e-mail with the invite link in both parts."""
    smtp_server.start()
    queue_email()
    result = runner.invoke(args=["send-queued"])
    assert result.exit_code == 0, result.output
    assert "sent=1" in result.output
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "new.user@example.com"
    assert message["From"] == "User Management <no-reply@example.com>"
    assert "invited" in message["Subject"]
    body = parts(message)
    assert LINK in body["text/plain"]
    assert f'href="{LINK}"' in body["text/html"]
    assert "Ada" in body["text/plain"]


def test_smtp_down_then_up(app, smtp_server, queue_email, redis_client, redis_prefix):
    """A failed send is retried later and arrives once SMTP is back, exactly once."""
    queue_email()
    assert drain(app)["retried"] == 1
    assert redis_client.zcard(f"{redis_prefix}:email:retry") == 1
    smtp_server.start()
    stats = drain(app)
    assert stats["promoted"] == 1 and stats["sent"] == 1
    assert len(smtp_server.wait_for(1)) == 1
    assert sum(drain(app).values()) == 0
    assert_sent_once(app, smtp_server, queue_email)
    assert redis_client.xlen(f"{redis_prefix}:email:jobs") == 0


def test_retry_is_scheduled_with_exponential_backoff(make_app, smtp_server, redis_prefix, redis_client, service_headers):
    """The next attempt is due base * 2**(attempts-1) seconds later."""
    app = make_app(EMAIL_RETRY_BASE_SECONDS=30, EMAIL_RETRY_MAX_SECONDS=100)
    app.test_client().post("/api/email/send", json=INVITE, headers=service_headers)
    before = time.time()
    assert drain(app)["retried"] == 1
    ((raw, due),) = redis_client.zrange(f"{redis_prefix}:email:retry", 0, -1, withscores=True)
    assert before + 29 <= due <= time.time() + 31
    job = json.loads(raw)
    assert job["attempts"] == 1 and job["lastError"].startswith("ConnectionRefusedError")
    assert drain(app)["retried"] == 0, "not due yet"
    assert [backoff_seconds(n, 30, 100) for n in (1, 2, 3, 4)] == [30, 60, 100, 100]


def test_dead_letter_then_requeue_with_cli(app, runner, smtp_server, queue_email):
    """After EMAIL_MAX_ATTEMPTS failures the job is dead; the operator lists and requeues it."""
    job_id = queue_email()
    outcomes = [runner.invoke(args=["send-queued"]).output for _ in range(3)]
    assert "retried=1" in outcomes[0] and "retried=1" in outcomes[1] and "dead=1" in outcomes[2]

    listing = runner.invoke(args=["list-dead-letters"])
    assert listing.exit_code == 0
    assert job_id in listing.output and "attempts=3" in listing.output and "ConnectionRefusedError" in listing.output
    assert LINK not in listing.output, "dead-letter listings never show e-mail content"
    assert "1 dead letter(s)" in listing.output
    as_json = runner.invoke(args=["list-dead-letters", "--json"]).output.splitlines()
    assert json.loads(as_json[0])["id"] == job_id

    smtp_server.start()
    assert "requeued 0" in runner.invoke(args=["requeue-dead-letters", "--id", "nope"]).output
    assert "requeued 1" in runner.invoke(args=["requeue-dead-letters"]).output
    assert "0 dead letter(s)" in runner.invoke(args=["list-dead-letters"]).output
    assert "sent=1" in runner.invoke(args=["send-queued"]).output
    assert len(smtp_server.wait_for(1)) == 1


def test_redelivered_job_is_not_sent_twice(app, smtp_server, queue_email, redis_client, redis_prefix):
    """A job whose e-mail went out is only acknowledged when it shows up again."""
    smtp_server.start()
    queue_email(key="outbox-7")
    assert drain(app)["sent"] == 1
    assert redis_client.exists(f"{redis_prefix}:email:sent:outbox-7")
    # The same job delivered again, as after a crash between send and acknowledge
    # or a second requeue of the same dead letter.
    job = {"id": "j1", "idempotencyKey": "outbox-7", "attempts": 0, **INVITE}
    redis_client.xadd(f"{redis_prefix}:email:jobs", {"job": json.dumps(job)})
    assert drain(app)["skipped"] == 1
    assert_sent_once(app, smtp_server, queue_email)


def test_job_of_crashed_sender_is_reclaimed(make_app, smtp_server, service_headers, redis_prefix):
    """A job read by a sender that died before acknowledging is sent by another one."""
    app = make_app(EMAIL_CLAIM_IDLE_SECONDS=0.3)
    smtp_server.start()
    app.test_client().post("/api/email/send", json=INVITE, headers=service_headers)
    with app.app_context():
        queue = get_queue()
        queue.ensure_group()
        assert len(queue.read_new("crashed-worker")) == 1  # taken, never acknowledged
    assert drain(app)["sent"] == 0, "still owned by the other worker"
    # Reclaimed once it has been idle for EMAIL_CLAIM_IDLE_SECONDS.
    stats = wait_until(lambda: (stats := drain(app))["sent"] and stats, timeout=5)
    assert stats and stats["reclaimed"] == 1 and stats["sent"] == 1
    assert len(smtp_server.wait_for(1)) == 1


def test_permanent_refusal_is_dead_at_once(app, smtp_server, queue_email):
    """A 5xx for the recipient will not change with retries."""
    smtp_server.start()
    queue_email({**INVITE, "to": "someone@refused.example"})
    assert drain(app)["dead"] == 1
    with app.app_context():
        (dead,) = get_queue().dead_letters()
    assert dead["lastError"] == "SMTPRecipientsRefused" and dead["attempts"] == 0


def test_raw_email_is_sent(app, smtp_server, queue_email):
    """The subject/html/text shape goes out as given."""
    smtp_server.start()
    queue_email({"to": "a@example.com", "subject": "Weekly report", "html": "<b>Hi</b>", "text": "Hi"})
    assert drain(app)["sent"] == 1
    (message,) = smtp_server.wait_for(1)
    assert message["Subject"] == "Weekly report"
    assert parts(message) == {"text/plain": "Hi", "text/html": "<b>Hi</b>"}


def test_console_backend_prints_instead_of_sending(make_app, smtp_server, service_headers, capsys):
    """Development without SMTP: the developer sees the link on stdout."""
    app = make_app(MAIL_BACKEND="console")
    smtp_server.start()
    app.test_client().post("/api/email/send", json=INVITE, headers=service_headers)
    assert drain(app)["sent"] == 1
    assert LINK in capsys.readouterr().out
    assert smtp_server.messages == []


def test_background_sender_sends_and_stops(make_app, smtp_server, service_headers, monkeypatch):
    """The sender started by the factory delivers without a drain call and stops cleanly."""
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    smtp_server.start()
    app = make_app(EMAIL_SENDER_ENABLED=True, EMAIL_POLL_SECONDS=0.2)
    sender = app.extensions["notifications_sender"]
    try:
        response = app.test_client().post("/api/email/send", json=INVITE, headers=service_headers)
        assert response.status_code == 202
        assert len(smtp_server.wait_for(1)) == 1
    finally:
        assert sender.stop(timeout=5)
