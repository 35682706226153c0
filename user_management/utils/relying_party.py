"""The WebAuthn relying party (passkeys): configured, or derived from FRONTEND_URL."""
from urllib.parse import urlsplit


def relying_party(settings):
    """(rp_id, rp_name, origins) of passkeys: configured, or derived from FRONTEND_URL."""
    frontend = urlsplit(settings.get("FRONTEND_URL") or "")
    origins = settings.get("WEBAUTHN_ORIGINS") or [f"{frontend.scheme}://{frontend.netloc}"]
    rp_id = settings.get("WEBAUTHN_RP_ID") or (frontend.hostname or "")
    return rp_id.lower(), settings.get("WEBAUTHN_RP_NAME") or "User Management", [o.rstrip("/") for o in origins]
