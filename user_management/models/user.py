"""User: an account, created only by accepting an invite (or the bootstrap admin)."""
from mongoengine import (
    BooleanField,
    DateTimeField,
    Document,
    EmailField,
    IntField,
    ListField,
    ReferenceField,
    StringField,
)

from mongoengine.queryset.visitor import Q

from servicekit.contract import NAME_MAX_LENGTH

from ..exceptions import InvalidInput
from ..utils.roles import ROLES, is_staff
from ..utils.timeutil import utcnow
from .organization import TWO_FACTOR_METHODS
from .collection import collection_meta


class User(Document):
    """An account with one role; client roles belong to exactly one organization."""

    email = EmailField(required=True, unique=True)
    password_hash = StringField(required=True, db_field="password")
    first_name = StringField(required=True, max_length=NAME_MAX_LENGTH, db_field="firstName")
    last_name = StringField(required=True, max_length=NAME_MAX_LENGTH, db_field="lastName")
    role = StringField(required=True, choices=ROLES)
    organization = ReferenceField("Organization", null=True)
    # Staff choose their own second factor; organization members follow the organization.
    two_factor_method = StringField(choices=TWO_FACTOR_METHODS, null=True, db_field="twoFactorMethod")
    # Second-factor state; none of it is ever answered (schemas.responses.UserSchema leaves it out).
    totp_secret = StringField(null=True, db_field="totpSecret")  # Fernet-encrypted
    totp_pending_secret = StringField(null=True, db_field="totpPendingSecret")  # Fernet-encrypted, until confirmed
    totp_enabled = BooleanField(default=False, db_field="totpEnabled")
    # Last accepted TOTP time step: that step and older ones are refused (no replay).
    totp_last_step = IntField(null=True, db_field="totpLastStep")
    recovery_codes = ListField(StringField(), db_field="recoveryCodes")  # digests of unused codes
    otp_verified = BooleanField(default=False, db_field="otpVerified")  # staff proved email codes arrive
    is_active = BooleanField(default=True, db_field="isActive")
    # Bumped to invalidate every access token issued before (logout-all, deactivation, reset).
    token_version = IntField(default=0, db_field="tokenVersion")
    invited_by = ReferenceField("User", null=True, db_field="invitedBy")
    last_login_at = DateTimeField(null=True, db_field="lastLoginAt")
    created_at = DateTimeField(default=utcnow, db_field="createdAt")
    updated_at = DateTimeField(default=utcnow, db_field="updatedAt")

    meta = collection_meta("users", "email", "organization", "role")

    def clean(self):
        """Enforce: staff have no organization, organization roles have one."""
        self.email = self.email.strip().lower()
        if is_staff(self.role) and self.organization is not None:
            raise InvalidInput("Staff users cannot belong to an organization")
        if not is_staff(self.role) and self.organization is None:
            raise InvalidInput(f"A {self.role} must belong to an organization")
        self.updated_at = utcnow()

    @property
    def full_name(self):
        """First and last name, for emails and invite details."""
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def organization_id(self):
        """The organization's id as a string, or None for staff (no dereference)."""
        ref = self._data.get("organization")
        if ref is None:
            return None
        return str(getattr(ref, "id", ref))

    def claim_totp_step(self, step):
        """Record `step` as the last accepted TOTP step; False when it (or a later one) was accepted already."""
        return bool(
            type(self).objects(id=self.id)
            .filter(Q(totp_last_step=None) | Q(totp_last_step__lt=step))
            .update_one(set__totp_last_step=step)
        )

    @property
    def recovery_codes_remaining(self):
        """How many recovery codes are left unused."""
        return len(self.recovery_codes)

    def burn_recovery_code(self, digest):
        """Remove one unused recovery code (by digest); False when it is not one of the user's codes."""
        return bool(type(self).objects(id=self.id, recovery_codes=digest).update_one(pull__recovery_codes=digest))
