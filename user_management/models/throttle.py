"""Throttle: fixed-window counters kept in MongoDB, keyed per user and action.

They live in the database (not Redis) so they hold across workers and follow the
service's own clock, which the tests move.
"""
import math

from mongoengine import DateTimeField, Document, IntField, StringField
from mongoengine.errors import NotUniqueError

from ..utils.timeutil import utcnow
from .collection import collection_meta, expires


class Throttle(Document):
    """How many times `key` happened in the window that ends at `expires_at`."""

    key = StringField(required=True, unique=True)
    count = IntField(default=0)
    expires_at = DateTimeField(required=True, db_field="expiresAt")

    meta = collection_meta("throttles", "key", expires())

    @classmethod
    def _retry_after(cls, key, now):
        current = cls.objects(key=key).first()
        if current is None:
            return 1
        return max(1, math.ceil((current.expires_at - now).total_seconds()))

    @classmethod
    def hit(cls, key, limit, window, now=None):
        """Count one event; return 0 when it was within `limit`, else seconds until the window ends."""
        now = now or utcnow()
        cls.objects(key=key, expires_at__lte=now).update_one(set__count=0, set__expires_at=now + window)
        try:
            cls.objects(key=key).update_one(upsert=True, set_on_insert__count=0, set_on_insert__expires_at=now + window)
        except NotUniqueError:  # another worker inserted it first
            pass
        if cls.objects(key=key, count__lt=limit).modify(new=True, inc__count=1) is not None:
            return 0
        return cls._retry_after(key, now)

    @classmethod
    def blocked_for(cls, key, limit, now=None):
        """Seconds until `key` may happen again (0 when it may now), without counting."""
        now = now or utcnow()
        if cls.objects(key=key, expires_at__gt=now, count__gte=limit).first() is None:
            return 0
        return cls._retry_after(key, now)
