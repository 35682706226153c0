"""The user_management HTTP API of a real process, driven with `requests` (end-to-end and browser tests).

Everything goes over real HTTP; nothing here touches a database.
"""
import re
from datetime import datetime
from urllib.parse import parse_qs, urlparse

import requests

from .smtp import html_part, messages, text_part, wait_for_message

ADMIN_EMAIL = "root@example.test"
ADMIN_PASSWORD = "Quartz-Lantern-Orbit-93"
INVITEE_PASSWORD = "Lantern-Quartz-Orbit-7"
FRONTEND_URL = "http://localhost:3000"
# The browser origin tests connect Socket.IO from (listed in CORS_ORIGIN).
FRONTEND_ORIGIN = "http://localhost:5173"


def notifications_env(prefix, smtp_port, user_management_port, redis_url, service_token):
    """Environment of a notifications process: its own key prefix and channel, um's public keys, the test SMTP."""
    return {
        "APP_ENV": "development",
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"{prefix}-notif",
        "SHARED_KEY_PREFIX": prefix,
        "SOCKETIO_CHANNEL": f"{prefix}-socketio",
        "JWKS_URL": f"http://127.0.0.1:{user_management_port}/.well-known/jwks.json",
        "JWT_ISSUER": FRONTEND_URL,
        "JWT_AUDIENCE": FRONTEND_URL,
        "NOTIFICATIONS_SERVICE_TOKEN": service_token,
        "CORS_ORIGIN": FRONTEND_ORIGIN,
        "MAIL_BACKEND": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_FROM": "no-reply@example.com",
        "EMAIL_POLL_SECONDS": "0.2",
        "EMAIL_RETRY_BASE_SECONDS": "0.2",
        "EMAIL_RETRY_MAX_SECONDS": "1",
    }
HTTP_TIMEOUT = 10

SUBJECT_INVITE = "You're invited to User Management"
SUBJECT_OTP = "Your User Management sign-in code"
LINK = re.compile(r"https?://[^\s\"'<>]+")


class Api:
    """The user_management HTTP API of one process."""

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
        code = otp_code(message)
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

    def accept_invite(self, invite_token, password=INVITEE_PASSWORD, first_name="Bea", last_name="Invitee",
                      request_id=None):
        """Accept an invite (asserting 201); return the new `user` object."""
        body = {"token": invite_token, "firstName": first_name, "lastName": last_name, "password": password}
        response = self.request("POST", "/api/invites/accept", request_id=request_id, json=body)
        assert response.status_code == 201, response.text
        return response.json()["user"]

    def onboard(self, smtp, inviter_token, email, role, password=INVITEE_PASSWORD, organization_name=None):
        """Invite `email`, take the token from the e-mail it receives, accept; return (user, invite)."""
        invite = self.create_invite(inviter_token, email, role, organization_name)
        token = invite_token(wait_for_message(smtp, email, SUBJECT_INVITE))
        return self.accept_invite(token, password, first_name=role.replace("_", " ").title()), invite


def otp_code(message):
    """The 6-digit code of an OTP e-mail."""
    return re.search(r"^\s*(\d{6})\s*$", text_part(message), re.M).group(1)


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


def assert_iso_utc(timestamp):
    """An ISO-8601 UTC timestamp such as 2026-01-01T00:00:00.000Z."""
    assert isinstance(timestamp, str) and timestamp.endswith("Z"), timestamp
    datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
