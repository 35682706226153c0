"""Passkeys: a user's WebAuthn credentials, and the single-use challenges of their ceremonies."""
from mongoengine import (BinaryField, BooleanField, DateTimeField, Document, IntField, ListField, ObjectIdField,
                         ReferenceField, StringField)
from mongoengine.queryset.visitor import Q

from ..utils.timeutil import utcnow
from .collection import collection_meta, expires

REGISTER = "register"
SECOND_FACTOR = "second_factor"
SIGN_IN = "sign_in"
CEREMONIES = (REGISTER, SECOND_FACTOR, SIGN_IN)
NAME_MAX_LENGTH = 64


class WebAuthnCredential(Document):
    """One passkey: its public key (COSE), the signature counter its authenticator reported, a name."""

    user = ReferenceField("User", required=True)
    credential_id = StringField(required=True, unique=True, db_field="credentialId")  # base64url
    public_key = BinaryField(required=True, db_field="publicKey")
    # 0 for authenticators that keep no counter (most synced passkeys); otherwise it must grow.
    sign_count = IntField(default=0, db_field="signCount")
    transports = ListField(StringField())
    aaguid = StringField(null=True)
    device_type = StringField(null=True, db_field="deviceType")  # single_device or multi_device
    backed_up = BooleanField(default=False, db_field="backedUp")
    name = StringField(required=True, max_length=NAME_MAX_LENGTH)
    created_at = DateTimeField(default=utcnow, db_field="createdAt")
    last_used_at = DateTimeField(null=True, db_field="lastUsedAt")

    meta = collection_meta("webauthn_credentials", "user", "credential_id", ordering=["created_at"])

    @property
    def user_id(self):
        """The owner's id as a string, without dereferencing."""
        ref = self._data.get("user")
        return None if ref is None else str(getattr(ref, "id", ref))

    def record_use(self, new_sign_count, now=None):
        """Store a use; False when the counter did not grow (a cloned authenticator or a replayed assertion).

        One conditional update, so two simultaneous uses of one assertion cannot both pass.
        """
        now = now or utcnow()
        if new_sign_count == 0:
            query = WebAuthnCredential.objects(id=self.id, sign_count=0)
        else:
            query = WebAuthnCredential.objects(id=self.id, sign_count__lt=new_sign_count)
        return bool(query.update_one(set__sign_count=new_sign_count, set__last_used_at=now))


class PasskeyChallenge(Document):
    """The challenge of one ceremony, bound to who asked for it: a user (registration), a pending login
    (second factor) or the digest of a passkeyToken handed to the caller (passwordless sign-in)."""

    ceremony = StringField(required=True, choices=CEREMONIES)
    challenge = StringField(required=True, unique=True)  # base64url, as it comes back in clientDataJSON
    user = ReferenceField("User", null=True)
    login_challenge_id = ObjectIdField(null=True, db_field="loginChallengeId")
    session_hash = StringField(null=True, db_field="sessionHash")
    expires_at = DateTimeField(required=True, db_field="expiresAt")
    used_at = DateTimeField(null=True, db_field="usedAt")
    created_at = DateTimeField(default=utcnow, db_field="createdAt")

    meta = collection_meta("passkey_challenges", "challenge", expires(3600))

    @classmethod
    def claim(cls, challenge, ceremony, **binding):
        """Use the live challenge `challenge` of `ceremony` bound to `binding`, once; None when there is none."""
        if not isinstance(challenge, str) or not challenge:
            return None
        now = utcnow()
        return cls.objects(challenge=challenge, ceremony=ceremony, used_at=None, expires_at__gt=now,
                           **binding).modify(new=True, set__used_at=now)

    @classmethod
    def void_for_login(cls, login_challenge_id):
        """Void the unused second-factor challenges of a pending login (a new one replaces them)."""
        return cls.objects(Q(login_challenge_id=login_challenge_id) & Q(used_at=None)).update(set__used_at=utcnow())
