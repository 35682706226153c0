"""A stand-in for notifications' POST /api/email/send while scenarios 1 and 2 run.

Invite tokens exist only in the invite email, so the bench points
user_management's NOTIFICATIONS_URL here, answers 202 like notifications does,
and keeps each email's context to read the accept links from.
"""
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802 - http.server's naming
        """Record the email and accept it."""
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            self.server.emails.append(json.loads(body))
        except ValueError:
            pass
        reply = json.dumps({"id": uuid.uuid4().hex, "duplicate": False}).encode()
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        """Quiet."""


class EmailCapture:
    """A threaded HTTP server on 127.0.0.1 that records posted emails."""

    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.emails = []
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        """Base URL to use as NOTIFICATIONS_URL."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self):
        """Serve in a daemon thread."""
        self.thread.start()
        return self

    def stop(self):
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()

    def invite_tokens(self):
        """{email: token} from every invite email received so far."""
        tokens = {}
        for email in self.server.emails:
            context = email.get("context") or {}
            link = context.get("inviteLink") or context.get("link")
            if email.get("template") == "invite" and link:
                token = parse_qs(urlparse(link).query).get("token", [None])[0]
                if token:
                    tokens[email["to"]] = token
        return tokens
