"""Second-factor challenges and password-reset tokens."""
from mongoengine import DateTimeField, Document, IntField, ReferenceField, StringField
from mongoengine.queryset.visitor import Q

from ..utils.timeutil import utcnow
from .collection import collection_meta, expires

LOGIN = "login"
TOTP_ENROLL = "totp_enroll"
OTP_ENROLL = "otp_enroll"
PURPOSES = (LOGIN, TOTP_ENROLL, OTP_ENROLL)

PENDING = "pending"
USED = "used"
VOID = "void"
STATUSES = (PENDING, USED, VOID)
# Seconds a used or expired challenge or reset token is kept for investigation before MongoDB drops it.
KEPT_AFTER_EXPIRY = 24 * 3600


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
    # Who passed the password step: the `userId` form of the second step is honoured only from this client.
    client_ip = StringField(null=True, max_length=64, db_field="clientIp")
    client_agent = StringField(null=True, max_length=512, db_field="clientAgent")
    # A login's authenticator enrollment: set once the emailed code proved the account's address.
    email_proven_at = DateTimeField(null=True, db_field="emailProvenAt")
    status = StringField(choices=STATUSES, default=PENDING)
    expires_at = DateTimeField(required=True, db_field="expiresAt")
    used_at = DateTimeField(null=True, db_field="usedAt")
    created_at = DateTimeField(default=utcnow, db_field="createdAt")

    meta = collection_meta("twofactorchallenges", ("user", "purpose", "status", "-created_at"),
                           expires(KEPT_AFTER_EXPIRY))

    @property
    def user_id(self):
        """The user's id as a string, without dereferencing."""
        ref = self._data.get("user")
        return None if ref is None else str(getattr(ref, "id", ref))

    def is_live(self, now=None):
        """True while the challenge can still be answered."""
        return self.status == PENDING and self.expires_at > (now or utcnow())

    def spent(self, maximum):
        """True once `maximum` attempts are counted (as this copy last saw them)."""
        return self.attempts >= maximum

    def reserve_attempt(self, maximum, now=None):
        """Count one attempt before any code is looked at: the updated challenge, or None when it is not answerable.

        Of parallel guesses at most `maximum` get an attempt. When the refusal is
        because the attempts are spent, this copy learns the count and the challenge is voided.
        """
        reserved = type(self).objects(
            id=self.id, status=PENDING, attempts__lt=maximum, expires_at__gt=now or utcnow()
        ).modify(new=True, inc__attempts=1)
        if reserved is None:
            current = type(self).objects(id=self.id).only("attempts").first()
            self.attempts = current.attempts if current is not None else 0
            self.void_if_spent(maximum)
        return reserved

    def is_from(self, ip, user_agent):
        """True when the request comes from the client that passed the password step."""
        return self.client_ip == ip and self.client_agent == user_agent

    def prove_email(self, now=None):
        """Record that the emailed code of this pending challenge was given; False when it is not pending."""
        return bool(type(self).objects(id=self.id, status=PENDING).update_one(set__email_proven_at=now or utcnow()))

    def void_if_spent(self, maximum):
        """Void the challenge when this copy's attempts reached `maximum`; True when they had."""
        if not self.spent(maximum):
            return False
        self.void()
        return True

    def void(self):
        """Close a pending challenge for good; True when this call closed it."""
        return bool(type(self).objects(id=self.id, status=PENDING).update_one(set__status=VOID))

    def complete(self, now=None):
        """Mark the pending challenge used; False when it was not pending any more (of two right answers, one wins)."""
        used = type(self).objects(id=self.id, status=PENDING).modify(
            new=True, set__status=USED, set__used_at=now or utcnow()
        )
        return used is not None

    def set_code(self, code_hash, now=None):
        """Store the digest of the code just sent for this challenge."""
        self.modify(set__code_hash=code_hash, set__sent_at=now or utcnow())

    def resend_code(self, code_hash, expires_in, interval, now=None):
        """Replace the code of a pending challenge unless one went out within `interval`: the updated challenge, or None."""
        now = now or utcnow()
        return (
            type(self).objects(id=self.id, status=PENDING)
            .filter(Q(sent_at=None) | Q(sent_at__lte=now - interval))
            .modify(new=True, set__code_hash=code_hash, set__sent_at=now, set__expires_at=now + expires_in)
        )

    @classmethod
    def void_pending(cls, user, purposes=PURPOSES):
        """Void every pending challenge of `user` for `purposes`; returns how many."""
        return cls.objects(user=user, status=PENDING, purpose__in=list(purposes)).update(set__status=VOID)

    @classmethod
    def newest_pending(cls, user, purposes, now=None):
        """The newest live challenge of `user` for one of `purposes`, or None."""
        return (
            cls.objects(user=user, purpose__in=list(purposes), status=PENDING, expires_at__gt=now or utcnow())
            .order_by("-created_at")
            .first()
        )


class PasswordResetToken(Document):
    """A single-use password-reset link, stored only as a digest."""

    user = ReferenceField("User", required=True)
    token_hash = StringField(required=True, unique=True, db_field="tokenHash")
    expires_at = DateTimeField(required=True, db_field="expiresAt")
    used_at = DateTimeField(null=True, db_field="usedAt")
    created_at = DateTimeField(default=utcnow, db_field="createdAt")

    meta = collection_meta("passwordresettokens", "token_hash", "user", expires(KEPT_AFTER_EXPIRY))
