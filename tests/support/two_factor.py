"""Login and second-factor calls through the Flask test client (user_management and web tests)."""
import time
from contextlib import contextmanager

import pyotp
import time_machine

from .factory import PASSWORD


def login(client, email, password=PASSWORD, **kwargs):
    """POST /api/auth/login."""
    return client.post("/api/auth/login", json={"email": email, "password": password}, **kwargs)


def bearer(access_token):
    """Authorization header for an access token."""
    return {"Authorization": f"Bearer {access_token}"}


def last_otp(outbox, user):
    """The newest code the notifications client was asked to email to `user`."""
    return outbox("otp", to=user.email)[-1].context["code"]


def wrong(code):
    """A 6-digit code that is not `code`."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _verify(client, path, field, code, token, user_id):
    """POST a second-factor code with a twoFactorToken and/or a userId."""
    ids = {"twoFactorToken": token, "userId": user_id}
    return client.post(path, json={field: code, **{key: value for key, value in ids.items() if value}})


def verify_otp(client, code, token=None, user_id=None):
    """POST /api/auth/verify-otp with a twoFactorToken or a userId."""
    return _verify(client, "/api/auth/verify-otp", "otp", code, token, user_id)


def verify_totp(client, code, token=None, user_id=None):
    """POST /api/auth/verify-totp with a twoFactorToken or a userId."""
    return _verify(client, "/api/auth/verify-totp", "token", code, token, user_id)


@contextmanager
def frozen_clock():
    """Freeze time one second into a fresh 30-second TOTP step; `.shift(seconds)` moves it."""
    start = (int(time.time()) // 30 + 1) * 30 + 1
    with time_machine.travel(start, tick=False) as traveller:
        yield traveller


def enroll_totp(client, factory, user, password=PASSWORD):
    """Enroll `user` in TOTP through the API while signed in; returns (secret, recovery codes)."""
    headers = factory.headers(user)
    setup = client.post("/api/auth/totp/setup", json={"currentPassword": password}, headers=headers)
    assert setup.status_code == 200, setup.json
    secret = setup.json["secret"]
    confirm = client.post("/api/auth/totp/confirm", json={"token": pyotp.TOTP(secret).now()}, headers=headers)
    assert confirm.status_code == 200, confirm.json
    return secret, confirm.json["recoveryCodes"]
