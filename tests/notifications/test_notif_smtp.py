"""The sender's SMTP connections: kept open, reopened when the server drops them, several senders at once.

Every test runs against a real aiosmtpd server scripted to drop connections the
way real servers do (idle timeout, a limit of messages per connection, a crash
mid-DATA) and checks that each e-mail arrives exactly once and the dead-letter
rules still hold.
"""
import asyncio
import email
import email.policy
import smtplib
import time
from email.message import EmailMessage

import pytest

from notifications.controllers.email import get_queue
from notifications.controllers.sender import send_queued
from notifications.utils.mailer import build_message, render_job, wire_bytes
from support.smtp import RecordingSmtpHandler

# How long a connection in DATA waits for its parallel peers (ScriptedSmtpHandler(parallel=…)).
MEET_SECONDS = 15

INVITE = {"template": "invite", "context": {"link": "https://app.example.com/invite/tok-1", "inviterName": "Ada"}}


class ScriptedSmtpHandler(RecordingSmtpHandler):
    """aiosmtpd handler that records messages and connections and drops connections as told.

    `per_connection`: after this many messages on one connection, the next MAIL
    FROM is answered by `drop` ("abort": the socket closes with no reply, "421":
    the server says it is closing, then closes). `fail_in_data`: recipients whose
    first DATA loses the connection before the server replies (nothing stored).
    `parallel`: DATA waits until this many connections are in DATA at once (or
    2 s pass) and records the most seen together.
    """

    def __init__(self, per_connection=None, drop="abort", fail_in_data=(), parallel=None):
        super().__init__()
        self.sessions = []
        self.per_connection = per_connection
        self.drop = drop
        self.fail_in_data = set(fail_in_data)
        self.parallel = parallel
        self.in_data = 0
        self.most_in_data = 0
        self.all_in = None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802 - aiosmtpd's name
        """Accept the sender, or drop the connection once it carried `per_connection` messages."""
        if session not in self.sessions:
            self.sessions.append(session)
            session.carried = 0
        if self.per_connection is not None and session.carried >= self.per_connection:
            if self.drop == "421":
                await server.push("421 4.4.2 closing connection, too many messages")
            server.transport.abort()
            return "250 OK"  # never reaches the client: the transport is gone
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        """Store the message, or lose the connection for a recipient in `fail_in_data` (first time only)."""
        failing = self.fail_in_data & set(envelope.rcpt_tos)
        if failing:
            self.fail_in_data -= failing
            server.transport.abort()
            return "250 OK"  # never reaches the client
        if self.parallel:
            await self._meet()
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        session.carried += 1
        return "250 Message accepted for delivery"

    async def _meet(self):
        """Wait until `parallel` connections are in DATA together.

        The cap is only reached when the senders are not parallel (the test then fails on `most_in_data`);
        it stays under the client's SMTP_TIMEOUT that the parallel test sets, so a slow machine only waits.
        """
        if self.all_in is None:
            self.all_in = asyncio.Event()
        self.in_data += 1
        self.most_in_data = max(self.most_in_data, self.in_data)
        if self.in_data >= self.parallel:
            self.all_in.set()
        try:
            await asyncio.wait_for(self.all_in.wait(), MEET_SECONDS)
        except asyncio.TimeoutError:
            pass
        finally:
            self.in_data -= 1


@pytest.fixture
def scripted_smtp(smtp_server):
    """Start the test's SMTP server with a ScriptedSmtpHandler built from the given options."""

    def start(**options):
        smtp_server.handler = ScriptedSmtpHandler(**options)
        smtp_server.start()
        return smtp_server.handler

    return start


@pytest.fixture
def queue_emails(app):
    """Queue `count` invite e-mails to distinct recipients (plus `extra` addresses); return the addresses."""

    def queue(count, extra=()):
        addresses = [f"user{n}@example.com" for n in range(count)] + list(extra)
        with app.test_request_context():
            for n, to in enumerate(addresses):
                get_queue().enqueue({"id": f"job-{n}", "idempotencyKey": f"key-{n}", "attempts": 0, "to": to, **INVITE},
                                    f"hash-{n}")
        return addresses

    return queue


def drain(app):
    """One sender pass, as `flask send-queued` does it."""
    with app.app_context():
        return send_queued()


def recipients(handler):
    """The To: of every message received, in arrival order."""
    return [message["To"] for message in handler.messages]


def test_one_connection_carries_every_email_of_a_pass(app, scripted_smtp, queue_emails):
    """No connect, EHLO and QUIT per e-mail: a pass sends its e-mails over one connection."""
    handler = scripted_smtp()
    addresses = queue_emails(5)
    assert drain(app)["sent"] == 5
    assert sorted(recipients(handler)) == sorted(addresses)
    assert len(handler.sessions) == 1


@pytest.mark.parametrize("drop", ["abort", "421"])
def test_connection_dropped_between_emails_is_reopened_at_once(app, scripted_smtp, queue_emails, redis_client,
                                                               redis_prefix, drop):
    """A server closing the connection after two e-mails costs no retry: each e-mail arrives once, in this pass."""
    handler = scripted_smtp(per_connection=2, drop=drop)
    addresses = queue_emails(7)
    stats = drain(app)
    assert stats["sent"] == 7 and stats["retried"] == 0
    assert sorted(recipients(handler)) == sorted(addresses)
    assert len(handler.sessions) == 4
    assert redis_client.zcard(f"{redis_prefix}:email:retry") == 0
    assert redis_client.xlen(f"{redis_prefix}:email:jobs") == 0


def test_connection_lost_during_data_is_retried_and_arrives_once(app, scripted_smtp, queue_emails, redis_client,
                                                                 redis_prefix):
    """Lost mid-DATA, the server may not have the e-mail: it is retried later; the others go out on a new connection."""
    handler = scripted_smtp(fail_in_data={"user2@example.com"})
    addresses = queue_emails(5)
    stats = drain(app)
    assert stats["sent"] == 4 and stats["retried"] == 1
    ((retry,),) = [[raw for raw in redis_client.zrange(f"{redis_prefix}:email:retry", 0, -1)]]
    assert '"lastError": "SMTPServerDisconnected"' in retry
    assert "user2@example.com" not in recipients(handler)

    assert drain(app)["sent"] == 1
    assert sorted(recipients(handler)) == sorted(addresses)
    assert sum(drain(app).values()) == 0
    assert len(handler.messages) == 5


def test_refused_recipient_is_dead_and_the_connection_serves_the_next_email(app, scripted_smtp, queue_emails):
    """A 550 for one recipient dead-letters that job at once; the same connection carries the rest."""
    handler = scripted_smtp()
    addresses = queue_emails(2, extra=["nobody@refused.example", "after@example.com"])
    stats = drain(app)
    assert stats["sent"] == 3 and stats["dead"] == 1
    assert sorted(recipients(handler)) == sorted(a for a in addresses if "refused" not in a)
    assert len(handler.sessions) == 1
    with app.app_context():
        (dead,) = get_queue().dead_letters()
    assert dead["to"] == "nobody@refused.example" and dead["lastError"] == "SMTPRecipientsRefused"


def test_background_senders_send_in_parallel_each_email_once(make_app, scripted_smtp, queue_emails, monkeypatch):
    """EMAIL_SENDERS loops each hold their own connection and send at the same time; no e-mail goes out twice."""
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    handler = scripted_smtp(parallel=3, per_connection=3)
    app = make_app(EMAIL_SENDER_ENABLED=True, EMAIL_SENDERS=3, EMAIL_POLL_SECONDS=0.2,
                   SMTP_TIMEOUT=MEET_SECONDS + 10)
    sender = app.extensions["notifications_sender"]
    try:
        addresses = queue_emails(12)
        deadline = time.monotonic() + 60
        while len(handler.messages) < 12 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        assert sender.stop(timeout=10)
    assert sorted(recipients(handler)) == sorted(addresses)
    assert handler.most_in_data == 3


def reference_message(sender, to, subject, html, text):
    """The same e-mail built the modern way and written under policy.SMTP (what the sender used to send)."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["Subject"], message["From"], message["To"] = subject, sender, to
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message.as_bytes()


@pytest.mark.parametrize("subject, sender, to, wire_to", [
    ("You're invited to User Management", "User Management <no-reply@example.com>", "new.user@example.com",
     "new.user@example.com"),
    ("Ünïcödé invitation " + "with a subject long enough to be folded over several lines " * 2,
     "Zoë Équipe <no-reply@example.com>", "zoe@bücher.example", "zoe@xn--bcher-kva.example"),
])
def test_wire_bytes_parse_as_the_policy_smtp_message(app, smtp_server, subject, sender, to, wire_to):
    """The compat32 + CRLF bytes parse to the headers of a policy.SMTP message and the parts as rendered; a server takes them."""
    with app.test_request_context():
        _subject, html, text = render_job({"template": "invite", "context": INVITE["context"]})
        ours = wire_bytes(build_message(sender, to, subject, html, text))
    assert b"\n" not in ours.replace(b"\r\n", b""), "every line ends in CRLF"
    assert max(len(line) for line in ours.split(b"\r\n")) <= 998

    mine, reference = (email.message_from_bytes(raw, policy=email.policy.default)
                       for raw in (ours, reference_message(sender, to, subject, html, text)))
    for name in ("Subject", "From", "MIME-Version"):
        assert mine[name] == reference[name], name
    assert mine["Subject"] == subject
    assert mine["To"] == wire_to, "an international domain goes out in IDNA, as Flask-Mail sent it"
    assert mine["Date"] and mine["Message-ID"]
    assert [part.get_content_type() for part in mine.walk()] == [
        "multipart/mixed", "multipart/alternative", "text/plain", "text/html"]
    assert mine.get_body(("plain",)).get_content() == text
    assert mine.get_body(("html",)).get_content() == html

    smtp_server.start()
    with smtplib.SMTP("127.0.0.1", smtp_server.port, timeout=5) as client:
        client.sendmail("no-reply@example.com", ["new.user@example.com"], ours)
    (received,) = smtp_server.wait_for(1)
    assert received["Subject"] == subject and received.get_body(("plain",)).get_content() == text
