"""Rendering of e-mail jobs, their MIME message, and their delivery over SMTP (or to the dev console)."""
import smtplib
import uuid
from email import policy
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, make_msgid, parseaddr

import jinja2
from flask import current_app, render_template

from ..exceptions import PermanentEmailError
from .html_text import html_to_text

SUBJECTS = {
    "invite": "You're invited to {product}",
    "otp": "Your {product} sign-in code",
    "password-reset": "Reset your {product} password",
    "invite-accepted": "{who} accepted your invitation to {product}",
}
TEMPLATES = tuple(SUBJECTS)

# The message is written with compat32, which outputs headers as they were set;
# policy.SMTP (the modern default for the wire) re-parses and refolds every
# header on output, which was half the CPU of a send. SMTP needs CRLF line ends:
# servers refuse bare LF.
WIRE_POLICY = policy.compat32.clone(linesep="\r\n")
# A MAIL FROM reply meaning "this connection is closing, use another": a
# server's idle timeout or its limit of messages per connection.
CLOSING = 421


def render_job(job):
    """Return (subject, html, text) for a queued job."""
    if "template" not in job:
        return job["subject"], job["html"], job.get("text") or html_to_text(job["html"])
    name, context = job["template"], dict(job.get("context") or {})
    if name not in SUBJECTS:
        raise PermanentEmailError(f"unknown template {name!r}")
    product = current_app.config["PRODUCT_NAME"]
    who = context.get("name") or context.get("email") or "Someone"
    subject = SUBJECTS[name].format(product=product, who=who)
    try:
        html = render_template(f"{name}.html", product=product, subject=subject, **context)
        text = render_template(f"{name}.txt", product=product, subject=subject, **context)
    except jinja2.TemplateError as exc:
        raise PermanentEmailError(f"template {name!r} failed to render: {type(exc).__name__}") from None
    return subject, html, text


def build_message(sender, to, subject, html, text):
    """Return a multipart e-mail: text and HTML alternatives in a multipart/mixed (the shape Flask-Mail built)."""
    for value in (sender, to, subject):
        if "\r" in value or "\n" in value:
            raise ValueError("line break in a header")
    # Both parts are base64 (utf-8), which never holds a run of "=", so the
    # boundaries need no search through the text (the email package compiles a
    # regex per part for that search: a quarter of the build).
    root = MIMEMultipart(boundary=_boundary())
    alternative = MIMEMultipart("alternative", boundary=_boundary())
    alternative.attach(MIMEText(text, "plain", "utf-8"))
    alternative.attach(MIMEText(html, "html", "utf-8"))
    root.attach(alternative)
    # A Header object knows the field name, so compat32 folds it after "Subject: ".
    root["Subject"] = subject if subject.isascii() else Header(subject, "utf-8", header_name="Subject")
    root["From"] = header_address(sender)
    root["To"] = header_address(to)
    root["Date"] = formatdate(localtime=True)
    root["Message-ID"] = make_msgid(domain=_message_id_domain())
    return root


def _boundary():
    """Return a multipart boundary in the email package's own format."""
    return f"{'=' * 15}{uuid.uuid4().int % 10**19:019d}=="


def wire_bytes(message):
    """Return the bytes of `message` as sent: written with compat32, CRLF line ends."""
    return message.as_bytes(policy=WIRE_POLICY)


def header_address(value):
    """Return "Name <addr>" or "addr" for a header: the name MIME-encoded, an international domain in IDNA."""
    name, address = parseaddr(value)
    local, _, domain = address.rpartition("@")
    if local and not domain.isascii():
        address = f"{local}@{domain.encode('idna').decode('ascii')}"
    return formataddr((name, address), charset="utf-8")


def _message_id_domain():
    """Return the domain of Message-IDs: the sender's (make_msgid's default looks up this host's name each time)."""
    return parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1].rpartition("@")[2] or "localhost"


class SmtpSession:
    """One SMTP connection, kept open from one e-mail to the next and reopened when the server dropped it.

    Not thread-safe: each sender owns one.
    """

    def __init__(self, config):
        self.server = config["MAIL_SERVER"]
        self.port = config["MAIL_PORT"]
        self.use_ssl = config["MAIL_USE_SSL"]
        self.use_tls = config["MAIL_USE_TLS"]
        self.username = config["MAIL_USERNAME"]
        self.password = config["MAIL_PASSWORD"]
        self.timeout = config["SMTP_TIMEOUT"]
        self.host = None

    def _open(self):
        """Return the open connection, connecting (EHLO, STARTTLS, AUTH) when there is none."""
        if self.host is None:
            cls = smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP
            host = cls(self.server, self.port, timeout=self.timeout)
            try:
                host.ehlo_or_helo_if_needed()
                if self.use_tls:
                    host.starttls()
                    host.ehlo_or_helo_if_needed()
                if self.username and self.password:
                    host.login(self.username, self.password)
            except BaseException:
                host.close()
                raise
            self.host = host
        return self.host

    def send(self, sender, recipients, data):
        """Send `data` (bytes) from `sender` to `recipients`; raise smtplib's exceptions as sendmail does.

        Only a connection found dead at MAIL FROM, before any of this e-mail went
        out, is reopened and the e-mail sent on the new one at once. A refusal
        resets the transaction and keeps the connection; a connection lost later
        is closed and the error propagates, so the job is retried as before (the
        server may or may not have kept the e-mail).
        """
        host = self._start_transaction(sender)
        try:
            refused = {}
            for recipient in recipients:
                code, reply = host.rcpt(recipient)
                if code not in (250, 251):
                    refused[recipient] = (code, reply)
            if len(refused) == len(recipients):
                raise smtplib.SMTPRecipientsRefused(refused)
            code, reply = host.data(data)
            if code != 250:
                raise smtplib.SMTPDataError(code, reply)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException):
            self._reset()
            raise
        except OSError:  # smtplib's disconnects and timeouts included
            self.close(quit_=False)
            raise

    def _start_transaction(self, sender):
        """MAIL FROM on a live connection (reopening a dropped one once); return the connection."""
        for retry in (False, True):
            host = self._open()
            try:
                code, reply = host.mail(sender)
            except (smtplib.SMTPServerDisconnected, OSError):
                self.close(quit_=False)
                if retry:
                    raise
                continue
            if code == 250:
                return host
            if code == CLOSING and not retry:
                self.close(quit_=False)
                continue
            self._reset()
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        raise AssertionError("unreachable")  # pragma: no cover

    def _reset(self):
        """RSET after a refused e-mail so the connection serves the next one; close it if that fails."""
        try:
            self.host.rset()
        except (smtplib.SMTPException, OSError):
            self.close(quit_=False)

    def close(self, quit_=True):
        """Close the connection (with QUIT unless it is already broken); a failing QUIT is ignored."""
        host, self.host = self.host, None
        if host is None:
            return
        try:
            if quit_:
                host.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            host.close()


def deliver(to, subject, html, text, session):
    """Build the e-mail and send it through `session` (or print it with the console backend); SMTP errors propagate."""
    config = current_app.config
    if config["MAIL_BACKEND"] == "console":
        _print_to_console(to, subject, text)
        return
    sender = config["MAIL_DEFAULT_SENDER"]
    data = wire_bytes(build_message(sender, to, subject, html, text))
    session.send(parseaddr(header_address(sender))[1], [parseaddr(header_address(to))[1]], data)


def is_permanent_smtp_error(exc):
    """Return True when the server rejected this message or recipient for good (5xx)."""
    # Auth and connection errors are the server's or our configuration's fault and
    # affect every e-mail, so they are retried; only message-specific 5xx are final.
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _msg in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPDataError) and 500 <= exc.smtp_code < 600


def _print_to_console(to, subject, text):
    """Development only: print the e-mail so the developer sees links and codes."""
    print(
        "\n".join(
            [
                "----- e-mail (MAIL_BACKEND=console) -----",
                f"To: {to}",
                f"Subject: {subject}",
                "",
                text,
                "----- end of e-mail -----",
            ]
        ),
        flush=True,
    )
