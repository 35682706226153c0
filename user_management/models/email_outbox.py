"""EmailOutbox: every email the service wants sent, kept until notifications accepts it."""
import uuid

from mongoengine import DateTimeField, DictField, Document, IntField, StringField

from ..utils.timeutil import utcnow
from .collection import collection_meta

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
DEAD = "dead"


class EmailOutbox(Document):
    """A queued email. Its id is the idempotency key notifications deduplicates on.

    The context can hold a one-time link or code, so it is cleared once the
    notifications service has accepted the email. A worker leases a job before
    handing it over; a lease that runs out lets another worker reclaim the job,
    and from then on only the new lease holder may record the outcome.
    """

    to = StringField(required=True)
    template = StringField(required=True)
    context = DictField()
    status = StringField(choices=(PENDING, SENDING, SENT, DEAD), default=PENDING)
    attempts = IntField(default=0)
    next_attempt_at = DateTimeField(default=utcnow, db_field="nextAttemptAt")
    lease_until = DateTimeField(null=True, db_field="leaseUntil")
    # Names the current lease: a worker records an outcome only while the job still carries its token.
    lease_token = StringField(null=True, db_field="leaseToken")
    last_error = StringField(null=True, db_field="lastError")
    request_id = StringField(null=True, db_field="requestId")
    # The invite this email is for, if any: the invite shows the outcome (Invite.email_status).
    invite_id = StringField(null=True, db_field="inviteId")
    created_at = DateTimeField(default=utcnow, db_field="createdAt")
    sent_at = DateTimeField(null=True, db_field="sentAt")

    meta = collection_meta("emailoutbox", ("status", "next_attempt_at"))

    @classmethod
    def lease(cls, duration, job_id=None, now=None):
        """Lease one due job (or the given one) for `duration`: the leased job, or None when none is due.

        Due means pending and past its next attempt time, or sending under a lease
        that ran out (its worker died or hangs). One atomic update, so two workers
        never hold the same lease.
        """
        now = now or utcnow()
        due = cls.objects(status=PENDING, next_attempt_at__lte=now)
        abandoned = cls.objects(status=SENDING, lease_until__lte=now)
        for queryset in (due, abandoned):
            if job_id is not None:
                queryset = queryset.filter(id=job_id)
            job = queryset.order_by("next_attempt_at").modify(
                new=True, set__status=SENDING, set__lease_until=now + duration, set__lease_token=uuid.uuid4().hex,
                inc__attempts=1,
            )
            if job is not None:
                return job
        return None

    def _while_leased(self):
        return type(self).objects(id=self.id, status=SENDING, lease_token=self.lease_token)

    def complete(self, now=None):
        """Record that notifications accepted the email and drop its context; False when this lease was lost."""
        return bool(self._while_leased().update_one(
            set__status=SENT, set__sent_at=now or utcnow(), set__context={}, set__lease_until=None,
            set__lease_token=None, set__last_error=None,
        ))

    def back_off(self, retry_at, error, dead=False):
        """Give the job back for another try at `retry_at` (or bury it when `dead`); False when this lease was lost."""
        return bool(self._while_leased().update_one(
            set__status=DEAD if dead else PENDING, set__next_attempt_at=retry_at, set__lease_until=None,
            set__lease_token=None, set__last_error=error,
        ))

    @classmethod
    def cancel(cls, job_id):
        """Stop a job that is queued but not handed over yet (its link died); True when cancelled."""
        return cls.objects(id=job_id, status=PENDING).update_one(
            set__status=DEAD, set__context={}, set__last_error="cancelled") > 0
