"""TOTP (RFC 6238) with pyotp; secrets encrypted at rest with Fernet.

TOTP_ENCRYPTION_KEY holds one Fernet key, or several separated by commas: the
first encrypts, every one decrypts, so a key can be rotated without re-enrolling.
"""
import base64
import io
from datetime import datetime, timezone

import pyotp
import qrcode
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

from servicekit.config import ConfigurationError

SECRET_LENGTH = 32  # base32 characters: 160 bits (RFC 4226 R6)


def encryption_keys(value):
    """Split a TOTP_ENCRYPTION_KEY value (one key, or several comma-separated for rotation)."""
    return [key.strip() for key in (value or "").split(",") if key.strip()]


def cipher_from_keys(value):
    """Build the cipher for a TOTP_ENCRYPTION_KEY value; ConfigurationError when a key is unusable."""
    keys = encryption_keys(value)
    if not keys:
        raise ConfigurationError("TOTP_ENCRYPTION_KEY must be set")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ConfigurationError(f"TOTP_ENCRYPTION_KEY is not a valid Fernet key: {exc}") from None


def _cipher():
    app = current_app._get_current_object()
    cipher = app.extensions.get("totp_cipher")
    if cipher is None:
        cipher = app.extensions["totp_cipher"] = cipher_from_keys(app.config.get("TOTP_ENCRYPTION_KEY"))
    return cipher


def new_secret():
    """Return a fresh base32 TOTP secret of 160 bits."""
    return pyotp.random_base32(SECRET_LENGTH)


def encrypt_secret(secret):
    """Encrypt a secret for storage."""
    return _cipher().encrypt(secret.encode()).decode("ascii")


def decrypt_secret(stored):
    """Decrypt a stored secret; None when it is missing or cannot be decrypted."""
    if not stored:
        return None
    try:
        return _cipher().decrypt(stored.encode("ascii")).decode()
    except InvalidToken:
        return None


def matching_step(secret, code, window=None, now=None):
    """Return the time step `code` is valid for within ±window steps of now, or None."""
    if window is None:
        window = current_app.config["TOTP_VALID_WINDOW"]
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now or datetime.now(timezone.utc))
    for step in range(current - window, current + window + 1):
        if pyotp.utils.strings_equal(code, totp.generate_otp(step)):
            return step
    return None


def provisioning_uri(secret, account_name):
    """The otpauth:// URL an authenticator app reads."""
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=current_app.config["TOTP_ISSUER"])


def qr_data_url(text):
    """A PNG QR code of `text` as a data: URL."""
    buffer = io.BytesIO()
    qrcode.make(text).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
