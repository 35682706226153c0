"""MongoDB documents of the user_management service."""
from .audit_event import AuditEvent
from .email_outbox import EmailOutbox
from .invite import Invite
from .lockout import Lockout
from .lookup import get_by_id, get_or_404
from .organization import Organization
from .refresh_token import RefreshToken
from .throttle import Throttle
from .two_factor import PasswordResetToken, TwoFactorChallenge
from .user import User
from .webauthn_credential import PasskeyChallenge, WebAuthnCredential

# Every collection of the service: start-up creates their indexes, `flask sync-indexes` updates them.
DOCUMENTS = (User, Organization, Invite, RefreshToken, EmailOutbox, TwoFactorChallenge, PasswordResetToken, Throttle,
             Lockout, AuditEvent, WebAuthnCredential, PasskeyChallenge)

__all__ = [
    "DOCUMENTS",
    "AuditEvent",
    "EmailOutbox",
    "Invite",
    "Lockout",
    "Organization",
    "PasskeyChallenge",
    "PasswordResetToken",
    "RefreshToken",
    "Throttle",
    "TwoFactorChallenge",
    "User",
    "get_by_id",
    "get_or_404",
    "WebAuthnCredential",
]
