"""Helpers for end-to-end test bodies: the user_management HTTP API, received e-mails, process logs.

Everything goes over real HTTP to real processes; nothing here touches a database.
"""
import json
import re
from datetime import datetime
from urllib.parse import parse_qs, urlparse

import redis
import requests

from support.processes import read_log, wait_until

ADMIN_EMAIL = "root@example.test"
ADMIN_PASSWORD = "Quartz-Lantern-Orbit-93"
FRONTEND_URL = "http://localhost:3000"
HTTP_TIMEOUT = 10
REDIS_URL = "redis://127.0.0.1:6379/0"

SUBJECT_INVITE = "You're invited to User Management"
SUBJECT_OTP = "Your User Management sign-in code"
LINK = re.compile(r"https?://[^\s\"'<>]+")


class Api:
    """The user_management HTTP API of one process, driven with `requests`."""

    def __init__(self, url):
        self.url = url

    def request(self, method, path, token=None, request_id=None, **kwargs):
        """Send one request; `token` becomes the Bearer header, `request_id` the X-Request-ID."""
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if request_id:
            headers["X-Request-ID"] = request_id
        return requests.request(method, f"{self.url}{path}", headers=headers, timeout=HTTP_TIMEOUT, **kwargs)

    def login(self, email=ADMIN_EMAIL, password=ADMIN_PASSWORD):
        """Log in a user without a second factor; return the body (accessToken, refreshToken, user)."""
        response = self.request("POST", "/api/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["requiresTwoFactor"] is False, body
        assert body["accessToken"] and body["refreshToken"]
        return body

    def login_with_otp(self, smtp, email, password, timeout=10):
        """Log in a user whose organization requires the e-mailed code; return (session body, code, challenge)."""
        already = len(messages(smtp, to=email, subject=SUBJECT_OTP))
        response = self.request("POST", "/api/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        challenge = response.json()
        assert challenge["requiresTwoFactor"] is True, challenge
        assert "accessToken" not in challenge
        message = wait_for_message(smtp, email, SUBJECT_OTP, count=already + 1, timeout=timeout)
        code = re.search(r"^\s*(\d{6})\s*$", text_part(message), re.M).group(1)
        response = self.request("POST", "/api/auth/verify-otp",
                                json={"twoFactorToken": challenge["twoFactorToken"], "otp": code})
        assert response.status_code == 200, response.text
        return response.json(), code, challenge["twoFactorToken"]

    def create_invite(self, token, email, role, organization_name=None, request_id=None):
        """Create an invite (asserting 201); return the `invite` object."""
        body = {"email": email, "role": role}
        if organization_name is not None:
            body["organizationName"] = organization_name
        response = self.request("POST", "/api/invites/create", token=token, request_id=request_id, json=body)
        assert response.status_code == 201, response.text
        return response.json()["invite"]

    def accept_invite(self, invite_token, password, first_name="Bea", last_name="Invitee", request_id=None):
        """Accept an invite (asserting 201); return the new `user` object."""
        body = {"token": invite_token, "firstName": first_name, "lastName": last_name, "password": password}
        response = self.request("POST", "/api/invites/accept", request_id=request_id, json=body)
        assert response.status_code == 201, response.text
        return response.json()["user"]

    def onboard(self, smtp, inviter_token, email, role, password, organization_name=None):
        """Invite `email`, take the token from the e-mail it receives, accept; return (user, invite)."""
        invite = self.create_invite(inviter_token, email, role, organization_name)
        token = invite_token(wait_for_message(smtp, email, SUBJECT_INVITE))
        return self.accept_invite(token, password, first_name=role.replace("_", " ").title()), invite


# --- received e-mails ------------------------------------------------------------------------


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


def invite_token(message):
    """The token of the accept link, checked to be the same FRONTEND_URL/accept-invite link in both parts."""
    # The sender wraps the multipart/alternative (text + HTML) in a multipart/mixed.
    assert {"text/plain", "text/html"} <= {part.get_content_type() for part in message.walk()}
    assert not list(message.iter_attachments())
    text_links = set(LINK.findall(text_part(message)))
    html_links = set(LINK.findall(html_part(message)))
    assert len(text_links) == 1, text_links
    assert html_links == text_links, (html_links, text_links)
    link = text_links.pop()
    parsed = urlparse(link)
    expected = urlparse(FRONTEND_URL)
    assert (parsed.scheme, parsed.netloc, parsed.path) == (expected.scheme, expected.netloc, "/accept-invite"), link
    query = parse_qs(parsed.query)
    assert list(query) == ["token"] and len(query["token"]) == 1, link
    token = query["token"][0]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token), token  # 32 random bytes, urlsafe base64
    return token


# --- Socket.IO clients --------------------------------------------------------------------------


def events(client, name, **match):
    """Payloads of `name` events the client received whose fields equal `match`."""
    return [
        data for event, data in list(client.received)
        if event == name and all(data.get(key) == value for key, value in match.items())
    ]


def wait_for_event(client, name, timeout=10, **match):
    """Wait for one `name` event matching `match`; return its payload (fail with what did arrive)."""
    found = wait_until(lambda: events(client, name, **match), timeout=timeout)
    assert found, f"no {name} {match} within {timeout}s; received: {client.received}"
    return found[0]


def assert_iso_utc(timestamp):
    """An ISO-8601 UTC timestamp such as 2026-01-01T00:00:00.000Z."""
    assert isinstance(timestamp, str) and timestamp.endswith("Z"), timestamp
    datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


# --- process logs -----------------------------------------------------------------------------


def json_log_lines(process):
    """Every complete log line that starts with "{", parsed; a line that is not valid JSON fails the test."""
    text = read_log(process)
    lines = text.split("\n")[:-1]  # the last piece may be a line still being written
    parsed = []
    for line in lines:
        if line.startswith("{"):
            try:
                parsed.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise AssertionError(f"log line is not JSON ({exc}): {line!r}") from None
    return parsed


def access_lines(process, path=None, request_id=None):
    """JSON access-log lines, optionally for one route pattern and/or request id."""
    return [
        line for line in json_log_lines(process)
        if line.get("logger") == "access"
        and (path is None or line.get("path") == path)
        and (request_id is None or line.get("request_id") == request_id)
    ]


def wait_for_subscribers(channel, count, timeout=5):
    """Wait until `count` processes listen on the Socket.IO Redis channel.

    A notifications process subscribes in the background on its first Socket.IO
    connection; an event published before that is dropped, so a test syncs here
    before it triggers one.
    """
    client = redis.Redis.from_url(REDIS_URL)
    try:
        listening = wait_until(lambda: dict(client.pubsub_numsub(channel)).get(channel.encode(), 0) >= count,
                               timeout=timeout)
        assert listening, f"fewer than {count} subscriber(s) on {channel}: {client.pubsub_numsub(channel)}"
    finally:
        client.close()
