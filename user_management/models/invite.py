"""Invite: the only way an account comes into being."""
from mongoengine import (
    DateTimeField,
    Document,
    EmailField,
    EmbeddedDocument,
    EmbeddedDocumentField,
    IntField,
    ListField,
    ReferenceField,
    StringField,
)
from mongoengine.queryset.visitor import Q

from ..utils.roles import ROLES
from ..utils.timeutil import utcnow

PENDING = "pending"
ACCEPTED = "accepted"
REVOKED = "revoked"
EXPIRED = "expired"
# "expired" is stored only when a newer invite replaces an expired one (see `retire_expired`).
STORED_STATUSES = (PENDING, ACCEPTED, REVOKED, EXPIRED)


def effective_status(status, expires_at, now=None):
    """pending, accepted, revoked or expired: a stored pending invite past `expires_at` is expired."""
    if status == PENDING and expires_at <= (now or utcnow()):
        return EXPIRED
    return status


class PendingAccount(EmbeddedDocument):
    """The account an acceptance is creating, kept on the invite until the user exists.

    A crash between accepting the invite and creating its user leaves this behind; once
    `lease_until` has passed, a retry with the same token finishes the work.
    """

    password_hash = StringField(required=True, db_field="password")
    first_name = StringField(required=True, db_field="firstName")
    last_name = StringField(required=True, db_field="lastName")
    lease_until = DateTimeField(required=True, db_field="leaseUntil")

# What became of the invite's latest email: waiting in the outbox (or being retried), accepted by
# notifications, or refused for good (the outbox row is dead; resending tries again).
EMAIL_QUEUED = "queued"
EMAIL_SENT = "sent"
EMAIL_FAILED = "failed"
EMAIL_STATUSES = (EMAIL_QUEUED, EMAIL_SENT, EMAIL_FAILED)


class Invite(Document):
    """A single-use, expiring invitation for one email address and one role.

    Stored status is pending, accepted or revoked; "expired" is derived from
    `expires_at` so no sweeper is needed (stored only by `retire_expired`). The token itself is never stored,
    only its digest.
    """

    email = EmailField(required=True)
    role = StringField(required=True, choices=ROLES)
    organization = ReferenceField("Organization", null=True)
    invited_by = ReferenceField("User", required=True, db_field="invitedBy")
    token_hash = StringField(required=True, unique=True, db_field="tokenHash")
    # Digests of the links a resend replaced, so such a link is told apart from a wrong one.
    superseded_token_hashes = ListField(StringField(), db_field="supersededTokenHashes")
    status = StringField(choices=STORED_STATUSES, default=PENDING)
    expires_at = DateTimeField(required=True, db_field="expiresAt")
    accepted_at = DateTimeField(null=True, db_field="acceptedAt")
    accepted_user = ReferenceField("User", null=True, db_field="acceptedUser")
    # Set from acceptance until the account exists (the user's id is the invite's id).
    pending_account = EmbeddedDocumentField(PendingAccount, null=True, db_field="pendingAccount")
    # Set while the invite is being written and its email queued; a draft cannot be accepted.
    # A crash leaves it set; once it has passed, a new invite for the address discards the draft.
    draft_until = DateTimeField(null=True, db_field="draftUntil")
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
        "auto_create_index": False,
        "indexes": [
            "token_hash",
            "superseded_token_hashes",
            "email",
            ("invited_by", "-created_at"),
            "organization",
            # The database, not a check-then-insert, keeps one pending invite per address.
            {"fields": ["email", "status"], "unique": True, "partialFilterExpression": {"status": PENDING},
             "name": "one_pending_invite_per_email"},
        ],
        "ordering": ["-created_at"],
    }

    def effective_status(self, now=None):
        """Return pending, accepted, revoked or expired."""
        return effective_status(self.status, self.expires_at, now)

    def is_usable(self, now=None):
        """True while the invite can still be accepted: pending, unexpired, and its email queued."""
        return self.effective_status(now) == PENDING and self.draft_until is None

    @classmethod
    def usable_filter(cls, now=None):
        """Query filter matching invites that can still be accepted."""
        return {"status": PENDING, "expires_at__gt": now or utcnow(), "draft_until": None}

    @classmethod
    def retire_expired(cls, email, now):
        """Store "expired" on this address's expired pending invites, so they make way for a new one."""
        cls.objects(email=email, status=PENDING, expires_at__lte=now).update(set__status=EXPIRED, set__updated_at=now)

    @classmethod
    def abandoned_drafts(cls, now, **filters):
        """Drafts whose writing was abandoned (a crash) before `now`, optionally filtered."""
        return list(cls.objects(status=PENDING, draft_until__lte=now, **filters))

    def discard(self):
        """Delete this abandoned draft; False when it was completed or discarded meanwhile."""
        return type(self).objects(id=self.id, status=PENDING, draft_until=self.draft_until).delete() > 0

    def publish(self):
        """The invite's email is queued: it is no longer a draft and can be accepted."""
        type(self).objects(id=self.id).update_one(unset__draft_until=True)
        self.draft_until = None

    def acceptance_abandoned(self, now):
        """True when an acceptance was committed but its account not finished, and its lease has passed."""
        return self.status == ACCEPTED and self.pending_account is not None and self.pending_account.lease_until <= now

    def take_over_acceptance(self, account):
        """Finish an abandoned acceptance with `account`; None when another retry took it first."""
        return type(self).objects(
            id=self.id, status=ACCEPTED, pending_account__lease_until=self.pending_account.lease_until
        ).modify(new=True, set__pending_account=account)

    def complete_acceptance(self, user):
        """The account exists: link it and forget the pending account (password hash included)."""
        type(self).objects(id=self.id, status=ACCEPTED).update_one(set__accepted_user=user,
                                                                   unset__pending_account=True)

    @classmethod
    def accept(cls, token_hash, account, now=None):
        """Accept the usable invite of `token_hash`, once, storing the `account` (a PendingAccount) it is creating.

        The invite, or None when it is not usable (of two accepts, one wins).
        """
        now = now or utcnow()
        return cls.objects(token_hash=token_hash, **cls.usable_filter(now)).modify(
            new=True, set__status=ACCEPTED, set__accepted_at=now, set__updated_at=now, set__pending_account=account
        )

    def reopen(self):
        """Undo an acceptance whose account could not be created, so the link works again."""
        type(self).objects(id=self.id, status=ACCEPTED, pending_account__ne=None).update_one(
            set__status=PENDING, unset__accepted_at=True, unset__pending_account=True)

    def revoke(self, by, now=None):
        """Revoke a pending invite: the revoked invite, or None when it was not pending."""
        now = now or utcnow()
        return type(self).objects(id=self.id, status=PENDING).modify(
            new=True, set__status=REVOKED, set__revoked_at=now, set__revoked_by=by, set__updated_at=now
        )

    def renew(self, token_hash, expires_at, now=None, interval=None):
        """Give a pending or expired invite a new token and expiry: the renewed invite, or None when neither.

        An invite a newer one replaced is stored "expired"; renewing makes it pending again,
        which the unique index refuses (NotUniqueError) while another invite for the address is pending.
        With `interval`, also None when the last email went out less than `interval` ago (one atomic check).
        """
        now = now or utcnow()
        # Also None when another resend replaced the token meanwhile: the replaced one is remembered exactly.
        queryset = type(self).objects(id=self.id, status__in=(PENDING, EXPIRED), token_hash=self.token_hash)
        if interval is not None:
            queryset = queryset.filter(Q(last_sent_at=None) | Q(last_sent_at__lte=now - interval))
        return queryset.modify(
            new=True, set__status=PENDING, set__token_hash=token_hash, set__expires_at=expires_at,
            set__updated_at=now, set__last_sent_at=now, unset__draft_until=True, inc__send_count=1,
            push__superseded_token_hashes=self.token_hash,
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
