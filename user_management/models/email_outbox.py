"""EmailOutbox: every email the service wants sent, kept until notifications accepts it."""
from mongoengine import DateTimeField, DictField, Document, IntField, StringField

from ..utils.timeutil import utcnow

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
DEAD = "dead"


class EmailOutbox(Document):
    """A queued email. Its id is the idempotency key notifications deduplicates on.

    The context can hold a one-time link or code, so it is cleared once the
    notifications service has accepted the email.
    """

    to = StringField(required=True)
    template = StringField(required=True)
    context = DictField()
    status = StringField(choices=(PENDING, SENDING, SENT, DEAD), default=PENDING)
    attempts = IntField(default=0)
    next_attempt_at = DateTimeField(default=utcnow, db_field="nextAttemptAt")
    lease_until = DateTimeField(null=True, db_field="leaseUntil")
    last_error = StringField(null=True, db_field="lastError")
    request_id = StringField(null=True, db_field="requestId")
    created_at = DateTimeField(default=utcnow, db_field="createdAt")
    sent_at = DateTimeField(null=True, db_field="sentAt")

    meta = {"collection": "emailoutbox", "auto_create_index": False, "indexes": [("status", "next_attempt_at")]}
