"""Rendering of e-mail jobs and their delivery through Flask-Mail (or the dev console)."""
import smtplib

import jinja2
from flask import current_app, render_template
from flask_mail import Connection, Message

from ..exceptions import PermanentEmailError
from .html_text import html_to_text

SUBJECTS = {
    "invite": "You're invited to {product}",
    "otp": "Your {product} sign-in code",
    "password-reset": "Reset your {product} password",
    "invite-accepted": "{who} accepted your invitation to {product}",
}
TEMPLATES = tuple(SUBJECTS)


class SmtpConnection(Connection):
    """Flask-Mail's connection with a socket timeout and a forgiving QUIT."""

    def __init__(self, mail_state, timeout):
        super().__init__(mail_state)
        self.timeout = timeout

    def configure_host(self):
        """Open the SMTP session; Flask-Mail's own has no timeout, so a hung server would hang the sender."""
        state = self.mail
        cls = smtplib.SMTP_SSL if state.use_ssl else smtplib.SMTP
        host = cls(state.server, state.port, timeout=self.timeout)
        host.set_debuglevel(int(state.debug))
        if state.use_tls:
            host.starttls()
        if state.username and state.password:
            host.login(state.username, state.password)
        return host

    def __exit__(self, exc_type, exc_value, tb):
        """Close the session; a failing QUIT after the message was accepted is not a failed send."""
        if self.host is None:
            return
        try:
            self.host.quit()
        except (smtplib.SMTPException, OSError):
            # Raising here would retry, and so duplicate, an e-mail the server already accepted.
            self.host.close()


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


def build_message(to, subject, html, text):
    """Return a multipart (text + HTML) Flask-Mail message."""
    return Message(
        subject=subject,
        recipients=[to],
        body=text,
        html=html,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
    )


def deliver(message):
    """Send `message` with the configured backend; SMTP errors propagate to the caller."""
    if current_app.config["MAIL_BACKEND"] == "console":
        _print_to_console(message)
        return
    state = current_app.extensions["mail"]
    with SmtpConnection(state, current_app.config["SMTP_TIMEOUT"]) as connection:
        connection.send(message)


def is_permanent_smtp_error(exc):
    """Return True when the server rejected this message or recipient for good (5xx)."""
    # Auth and connection errors are the server's or our configuration's fault and
    # affect every e-mail, so they are retried; only message-specific 5xx are final.
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _msg in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPDataError) and 500 <= exc.smtp_code < 600


def _print_to_console(message):
    """Development only: print the e-mail so the developer sees links and codes."""
    print(
        "\n".join(
            [
                "----- e-mail (MAIL_BACKEND=console) -----",
                f"To: {', '.join(message.recipients)}",
                f"Subject: {message.subject}",
                "",
                message.body,
                "----- end of e-mail -----",
            ]
        ),
        flush=True,
    )
