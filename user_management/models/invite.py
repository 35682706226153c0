"""Invite: the only way an account comes into being."""
from mongoengine import DateTimeField, Document, EmailField, IntField, ReferenceField, StringField
from mongoengine.queryset.visitor import Q

from ..utils.roles import ROLES
from ..utils.timeutil import utcnow

PENDING = "pending"
ACCEPTED = "accepted"
REVOKED = "revoked"
EXPIRED = "expired"
STORED_STATUSES = (PENDING, ACCEPTED, REVOKED)

# What became of the invite's latest email: waiting in the outbox (or being retried), accepted by
# notifications, or refused for good (the outbox row is dead; resending tries again).
EMAIL_QUEUED = "queued"
EMAIL_SENT = "sent"
EMAIL_FAILED = "failed"
EMAIL_STATUSES = (EMAIL_QUEUED, EMAIL_SENT, EMAIL_FAILED)


class Invite(Document):
    """A single-use, expiring invitation for one email address and one role.

    Stored status is pending, accepted or revoked; "expired" is derived from
    `expires_at` so no sweeper is needed. The token itself is never stored,
    only its digest.
    """

    email = EmailField(required=True)
    role = StringField(required=True, choices=ROLES)
    organization = ReferenceField("Organization", null=True)
    invited_by = ReferenceField("User", required=True, db_field="invitedBy")
    token_hash = StringField(required=True, unique=True, db_field="tokenHash")
    status = StringField(choices=STORED_STATUSES, default=PENDING)
    expires_at = DateTimeField(required=True, db_field="expiresAt")
    accepted_at = DateTimeField(null=True, db_field="acceptedAt")
    accepted_user = ReferenceField("User", null=True, db_field="acceptedUser")
    revoked_at = DateTimeField(null=True, db_field="revokedAt")
    revoked_by = ReferenceField("User", null=True, db_field="revokedBy")
    send_count = IntField(default=1, db_field="sendCount")
    email_status = StringField(choices=EMAIL_STATUSES, default=EMAIL_QUEUED, db_field="emailStatus")
    # The outbox row of the latest email: only its outcome may change email_status.
    email_job = StringField(null=True, db_field="emailJob")
    last_sent_at = DateTimeField(null=True, db_field="lastSentAt")
    created_at = DateTimeField(default=utcnow, db_field="createdAt")
    updated_at = DateTimeField(default=utcnow, db_field="updatedAt")

    meta = {
        "collection": "invites",
        "indexes": ["token_hash", "email", ("invited_by", "-created_at"), "organization"],
        "ordering": ["-created_at"],
    }

    def effective_status(self, now=None):
        """Return pending, accepted, revoked or expired."""
        if self.status == PENDING and self.expires_at <= (now or utcnow()):
            return EXPIRED
        return self.status

    def is_usable(self, now=None):
        """True while the invite can still be accepted."""
        return self.effective_status(now) == PENDING

    @classmethod
    def usable_filter(cls, now=None):
        """Query filter matching invites that can still be accepted."""
        return {"status": PENDING, "expires_at__gt": now or utcnow()}

    @classmethod
    def accept(cls, token_hash, now=None):
        """Mark the usable invite of `token_hash` accepted, once: the invite, or None (of two accepts, one wins)."""
        now = now or utcnow()
        return cls.objects(token_hash=token_hash, **cls.usable_filter(now)).modify(
            new=True, set__status=ACCEPTED, set__accepted_at=now, set__updated_at=now
        )

    def reopen(self):
        """Undo an acceptance whose account could not be created, so the link works again."""
        type(self).objects(id=self.id, status=ACCEPTED).update_one(set__status=PENDING, set__accepted_at=None)

    def revoke(self, by, now=None):
        """Revoke a pending invite: the revoked invite, or None when it was not pending."""
        now = now or utcnow()
        return type(self).objects(id=self.id, status=PENDING).modify(
            new=True, set__status=REVOKED, set__revoked_at=now, set__revoked_by=by, set__updated_at=now
        )

    def renew(self, token_hash, expires_at, now=None, interval=None):
        """Give a pending (or expired) invite a new token and expiry: the renewed invite, or None when not pending.

        With `interval`, also None when the last email went out less than `interval` ago (one atomic check).
        """
        now = now or utcnow()
        queryset = type(self).objects(id=self.id, status=PENDING)
        if interval is not None:
            queryset = queryset.filter(Q(last_sent_at=None) | Q(last_sent_at__lte=now - interval))
        return queryset.modify(
            new=True, set__token_hash=token_hash, set__expires_at=expires_at, set__updated_at=now,
            set__last_sent_at=now, inc__send_count=1,
        )

    def track_email(self, job_id):
        """The invite's email is now outbox row `job_id`, queued."""
        type(self).objects(id=self.id).update_one(set__email_job=str(job_id), set__email_status=EMAIL_QUEUED)
        self.email_job, self.email_status = str(job_id), EMAIL_QUEUED

    @classmethod
    def record_email_outcome(cls, invite_id, job_id, status):
        """Set the email status of `invite_id`, unless a newer email (another outbox row) replaced `job_id`."""
        cls.objects(id=invite_id, email_job=str(job_id)).update_one(set__email_status=status)

    def reference_id(self, field):
        """Return the id of a reference field without dereferencing it."""
        ref = self._data.get(field)
        if ref is None:
            return None
        return str(getattr(ref, "id", ref))
