"""A real SMTP server (aiosmtpd) that a test can start and stop, and reading what it received."""
import email
import email.policy

from aiosmtpd.controller import Controller

from .processes import free_port, wait_until


class RecordingSmtpHandler:
    """aiosmtpd handler keeping every received message; refuses recipients @refused.example."""

    def __init__(self):
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        """Accept recipients, except the permanently refused domain."""
        if address.endswith("@refused.example"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        """Store the parsed message (before the 250 reply, so a sender that got it finds it stored)."""
        raw = envelope.original_content or envelope.content
        self.messages.append(email.message_from_bytes(raw, policy=email.policy.default))
        return "250 Message accepted for delivery"


class SmtpServer:
    """A real SMTP server on a fixed free port; `handler` defaults to one that records every message."""

    def __init__(self, port=None, handler=None):
        self.port = port or free_port()
        self.handler = handler or RecordingSmtpHandler()
        self.controller = None

    @property
    def messages(self):
        """Messages received so far (email.message.EmailMessage)."""
        return self.handler.messages

    def start(self):
        """Start listening; return self."""
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        """Stop listening (messages are kept)."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def wait_for(self, count, timeout=10):
        """Wait until `count` messages arrived; return all messages."""
        wait_until(lambda: len(self.messages) >= count, timeout)
        return self.messages


def messages(smtp, to=None, subject=None):
    """Messages the SMTP server received, optionally only those to `to` and/or with `subject`."""
    return [
        message for message in list(smtp.messages)
        if (to is None or message["To"] == to) and (subject is None or message["Subject"] == subject)
    ]


def wait_for_message(smtp, to, subject=None, count=1, timeout=10):
    """Wait until `count` matching messages arrived; return the last one (fail with what did arrive)."""
    found = wait_until(lambda: len(messages(smtp, to, subject)) >= count, timeout=timeout)
    received = [(m["To"], m["Subject"]) for m in smtp.messages]
    assert found, f"no {subject!r} e-mail #{count} to {to} within {timeout}s; received: {received}"
    return messages(smtp, to, subject)[count - 1]


def text_part(message):
    """The text/plain body."""
    part = message.get_body(("plain",))
    assert part is not None, "no text/plain part"
    return part.get_content()


def html_part(message):
    """The text/html body."""
    part = message.get_body(("html",))
    assert part is not None, "no text/html part"
    return part.get_content()
