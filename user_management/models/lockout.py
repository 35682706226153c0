"""Lockout: consecutive failures per key, locking with growing delays.

Kept in MongoDB (like Throttle) so every worker shares it and it follows the
service's clock. Each change is one conditional update, so parallel failures
from several workers count exactly and only one of them applies a lock.
"""
import math
from datetime import timedelta

from mongoengine import DateTimeField, Document, IntField, StringField
from mongoengine.errors import NotUniqueError
from pymongo.errors import DuplicateKeyError

from ..utils.timeutil import utcnow
from .collection import collection_meta, expires


class Lockout(Document):
    """Failures of `key` since its last success or lock, and the locks it earned so far."""

    key = StringField(required=True, unique=True)
    failures = IntField(default=0)
    # Locks applied so far; picks the next delay, so delays grow.
    level = IntField(default=0)
    locked_until = DateTimeField(null=True, db_field="lockedUntil")
    # Forgotten (count and level) this long after the last failure; the TTL index removes it.
    expires_at = DateTimeField(required=True, db_field="expiresAt")

    meta = collection_meta("lockouts", "key", expires())

    @classmethod
    def locked_for(cls, key, now=None):
        """Seconds until `key` is unlocked; 0 when it is not locked."""
        now = now or utcnow()
        current = cls.objects(key=key, locked_until__gt=now).first()
        if current is None:
            return 0
        return max(1, math.ceil((current.locked_until - now).total_seconds()))

    @classmethod
    def record_failure(cls, key, threshold, delays, memory, now=None):
        """Count one failure; return the lock in seconds when this failure locked `key`, else 0."""
        now = now or utcnow()
        # A record past its memory starts over (the TTL monitor only runs once a minute).
        cls.objects(key=key, expires_at__lte=now).update_one(set__failures=0, set__level=0, set__locked_until=None)
        current = None
        for _ in range(2):  # two workers inserting the first failure at once: the loser retries
            try:
                current = cls.objects(key=key).modify(
                    upsert=True, new=True, inc__failures=1, set_on_insert__level=0,
                    set__expires_at=now + memory,
                )
                break
            except (NotUniqueError, DuplicateKeyError):
                continue
        if current is None or current.failures < threshold:
            return 0
        delay = delays[min(current.level, len(delays) - 1)]
        # Only the worker that still sees this level applies the lock.
        locked = cls.objects(key=key, level=current.level, failures__gte=threshold).modify(
            new=True, set__failures=0, inc__level=1, set__locked_until=now + _seconds(delay),
            set__expires_at=now + max(memory, _seconds(delay)),
        )
        return delay if locked is not None else 0

    @classmethod
    def clear(cls, *keys):
        """Forget failures, level and lock of `keys` (a success, or an unlock by a higher role)."""
        cls.objects(key__in=list(keys)).delete()


def _seconds(value):
    return timedelta(seconds=value)
