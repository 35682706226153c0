"""Second-factor challenges and password-reset tokens."""
from mongoengine import DateTimeField, Document, IntField, ReferenceField, StringField

from ..utils.timeutil import utcnow

LOGIN = "login"
TOTP_ENROLL = "totp_enroll"
OTP_ENROLL = "otp_enroll"
PURPOSES = (LOGIN, TOTP_ENROLL, OTP_ENROLL)

PENDING = "pending"
USED = "used"
VOID = "void"
STATUSES = (PENDING, USED, VOID)


class TwoFactorChallenge(Document):
    """One pending second-factor step, created by a successful password step (or an enrollment).

    The signed twoFactorToken only names it; this document is the authority: it
    expires, counts wrong codes, and is used or void exactly once. An email code
    is kept only as a keyed digest.
    """

    user = ReferenceField("User", required=True)
    purpose = StringField(required=True, choices=PURPOSES)
    method = StringField(required=True, choices=("otp", "totp"))
    code_hash = StringField(null=True, db_field="codeHash")
    sent_at = DateTimeField(null=True, db_field="sentAt")
    # The user's token_version at creation: logout-all or a password reset voids the challenge.
    token_version = IntField(required=True, db_field="tokenVersion")
    attempts = IntField(default=0)
    status = StringField(choices=STATUSES, default=PENDING)
    expires_at = DateTimeField(required=True, db_field="expiresAt")
    used_at = DateTimeField(null=True, db_field="usedAt")
    created_at = DateTimeField(default=utcnow, db_field="createdAt")

    meta = {
        "collection": "twofactorchallenges",
        "auto_create_index": False,
        "indexes": [
            ("user", "purpose", "status", "-created_at"),
            # Kept a day past expiry for investigation, then dropped by MongoDB.
            {"fields": ["expires_at"], "expireAfterSeconds": 24 * 3600},
        ],
    }

    @property
    def user_id(self):
        """The user's id as a string, without dereferencing."""
        ref = self._data.get("user")
        return None if ref is None else str(getattr(ref, "id", ref))

    def is_live(self, now=None):
        """True while the challenge can still be answered."""
        return self.status == PENDING and self.expires_at > (now or utcnow())

    @classmethod
    def void_pending(cls, user, purposes=PURPOSES):
        """Void every pending challenge of `user` for `purposes`; returns how many."""
        return cls.objects(user=user, status=PENDING, purpose__in=list(purposes)).update(set__status=VOID)


class PasswordResetToken(Document):
    """A single-use password-reset link, stored only as a digest."""

    user = ReferenceField("User", required=True)
    token_hash = StringField(required=True, unique=True, db_field="tokenHash")
    expires_at = DateTimeField(required=True, db_field="expiresAt")
    used_at = DateTimeField(null=True, db_field="usedAt")
    created_at = DateTimeField(default=utcnow, db_field="createdAt")

    meta = {
        "collection": "passwordresettokens",
        "auto_create_index": False,
        "indexes": ["token_hash", "user", {"fields": ["expires_at"], "expireAfterSeconds": 24 * 3600}],
    }
