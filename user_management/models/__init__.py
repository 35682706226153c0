"""MongoDB documents of the user_management service."""
from .email_outbox import EmailOutbox
from .invite import Invite
from .organization import Organization
from .refresh_token import RefreshToken
from .throttle import Throttle
from .two_factor import PasswordResetToken, TwoFactorChallenge
from .user import User

__all__ = [
    "EmailOutbox",
    "Invite",
    "Organization",
    "PasswordResetToken",
    "RefreshToken",
    "Throttle",
    "TwoFactorChallenge",
    "User",
]
