"""RefreshToken: one link in a rotating chain (a "family") that starts at login."""
from mongoengine import DateTimeField, Document, ReferenceField, StringField

from ..utils.timeutil import utcnow


class RefreshToken(Document):
    """A stored refresh token, kept only as a digest.

    Each refresh rotates the token: the presented one is marked used and a new
    one joins the same family. Presenting a used or revoked token again means it
    leaked, so the whole family is revoked (RFC 9700 §4.14.2).
    """

    token_hash = StringField(required=True, unique=True, db_field="tokenHash")
    user = ReferenceField("User", required=True)
    family = StringField(required=True)
    expires_at = DateTimeField(required=True, db_field="expiresAt")
    family_expires_at = DateTimeField(required=True, db_field="familyExpiresAt")
    used_at = DateTimeField(null=True, db_field="usedAt")
    revoked_at = DateTimeField(null=True, db_field="revokedAt")
    created_at = DateTimeField(default=utcnow, db_field="createdAt")
    user_agent = StringField(max_length=512, null=True, db_field="userAgent")
    ip = StringField(max_length=64, null=True)

    meta = {
        "collection": "refreshtokens",
        "auto_create_index": False,
        "indexes": [
            "token_hash",
            "family",
            "user",
            # MongoDB drops a document once its expiresAt has passed.
            {"fields": ["expires_at"], "expireAfterSeconds": 0},
        ],
    }

    @classmethod
    def use(cls, token_hash, now=None):
        """Mark a live token used, once: the token, or None when it is unknown, used, revoked or expired."""
        now = now or utcnow()
        return cls.objects(token_hash=token_hash, used_at=None, revoked_at=None, expires_at__gt=now).modify(
            new=True, set__used_at=now
        )

    def was_replayed(self, now=None):
        """True when this unexpired token is presented again after it was rotated: it leaked.

        A token that was revoked without ever being used (logout, logout-all, deactivation) and comes
        back is a client that was signed out, not a theft: see `was_revoked`.
        """
        return self.expires_at > (now or utcnow()) and self.used_at is not None

    def was_revoked(self):
        """True when this token was revoked before it was ever used."""
        return self.revoked_at is not None and self.used_at is None

    @classmethod
    def family_is_revoked(cls, family):
        """True once any token of `family` is revoked: the whole login is over, whatever joins it later."""
        return cls.objects(family=family, revoked_at__ne=None).first() is not None

    @classmethod
    def revoke_family(cls, family, now=None):
        """Revoke every live token of a family; returns how many were revoked."""
        return cls.objects(family=family, revoked_at=None).update(set__revoked_at=now or utcnow())

    @classmethod
    def active_sessions(cls, user, now=None):
        """The user's signed-in sessions, most recently used first: dicts of id (the family), createdAt (its
        login), lastUsedAt (its latest refresh), ip and userAgent (of that refresh). Two queries."""
        now = now or utcnow()
        # Every live family has exactly one unused, unrevoked, unexpired token: its newest.
        latest = list(cls.objects(user=user, used_at=None, revoked_at=None, expires_at__gt=now).order_by("-created_at"))
        started = {row["_id"]: row["createdAt"] for row in cls.objects(
            user=user, family__in=[token.family for token in latest]).aggregate(
            [{"$group": {"_id": "$family", "createdAt": {"$min": "$createdAt"}}}])}
        return [{"id": token.family, "created_at": started.get(token.family, token.created_at),
                 "last_used_at": token.created_at, "ip": token.ip, "user_agent": token.user_agent}
                for token in latest]

    @classmethod
    def live_family_of(cls, user, family, now=None):
        """True when `family` is a signed-in session of `user`."""
        return cls.objects(user=user, family=family, used_at=None, revoked_at=None,
                           expires_at__gt=now or utcnow()).first() is not None

    @classmethod
    def revoke_all_for_user(cls, user, now=None):
        """Revoke every live token of a user; returns how many were revoked."""
        return cls.objects(user=user, revoked_at=None).update(set__revoked_at=now or utcnow())
