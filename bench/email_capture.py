"""A stand-in for notifications' POST /api/email/send while scenarios 1 and 2 run.

Invite tokens exist only in the invite email, so the bench points
user_management's NOTIFICATIONS_URL here, answers 202 like notifications does,
and keeps each email's context to read the accept links from.
"""
import json
import uuid
from urllib.parse import parse_qs, urlparse

from tests.support.http_server import LocalServer, QuietHandler


class _Handler(QuietHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802 - http.server's naming
        """Record the email and accept it."""
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            self.server.emails.append(json.loads(body))
        except ValueError:
            pass
        self.reply_json(202, {"id": uuid.uuid4().hex, "duplicate": False})


class EmailCapture(LocalServer):
    """A threaded HTTP server on 127.0.0.1 that records posted emails."""

    def __init__(self):
        super().__init__(_Handler)
        self.httpd.emails = []

    @property
    def url(self):
        """Base URL to use as NOTIFICATIONS_URL."""
        return self.base_url

    def invite_tokens(self):
        """{email: token} from every invite email received so far."""
        tokens = {}
        for email in self.httpd.emails:
            context = email.get("context") or {}
            link = context.get("inviteLink") or context.get("link")
            if email.get("template") == "invite" and link:
                token = parse_qs(urlparse(link).query).get("token", [None])[0]
                if token:
                    tokens[email["to"]] = token
        return tokens
