"""Organization: the tenant that client_admin and client_user accounts belong to."""
from mongoengine import BooleanField, DateTimeField, Document, ReferenceField, StringField
from mongoengine.errors import NotUniqueError

from servicekit.contract import ORGANIZATION_NAME_MAX_LENGTH

from ..utils.timeutil import utcnow
from .collection import collection_meta

TWO_FACTOR_METHODS = ("otp", "totp")


class Organization(Document):
    """A client organization, created when its first client_admin is invited."""

    name = StringField(required=True, min_length=1, max_length=ORGANIZATION_NAME_MAX_LENGTH)
    # Lower-cased name, unique, so "Acme" and "acme" cannot both exist.
    name_key = StringField(required=True, unique=True, db_field="nameKey")
    two_factor_method = StringField(choices=TWO_FACTOR_METHODS, default="otp", db_field="twoFactorMethod")
    is_active = BooleanField(default=True, db_field="isActive")
    created_by = ReferenceField("User", db_field="createdBy")
    # Set while the client_admin invite that creates the organization is being written. A crash
    # leaves it set; once it has passed, a new invite may take the name over (see `take_over`).
    provisional_until = DateTimeField(null=True, db_field="provisionalUntil")
    created_at = DateTimeField(default=utcnow, db_field="createdAt")
    updated_at = DateTimeField(default=utcnow, db_field="updatedAt")

    meta = collection_meta("organizations", "name_key")

    def clean(self):
        """Keep the uniqueness key in step with the display name."""
        self.name = self.name.strip()
        self.name_key = self.name.lower()
        self.updated_at = utcnow()

    @classmethod
    def create_provisional(cls, name, created_by, until):
        """Insert a provisional organization holding `name` until `until`; None when the name is taken."""
        try:
            return cls(name=name, created_by=created_by, provisional_until=until).save(force_insert=True)
        except NotUniqueError:
            return None

    @classmethod
    def abandoned(cls, name, now):
        """The provisional organization of this name whose creation was abandoned before `now`, or None."""
        return cls.objects(name_key=name.strip().lower(), provisional_until__lte=now).first()

    def take_over(self, created_by, until):
        """Claim this abandoned provisional organization for a new invite; None when another request did first."""
        return type(self).objects(id=self.id, provisional_until=self.provisional_until).modify(
            new=True, set__provisional_until=until, set__created_by=created_by, set__updated_at=utcnow())

    def confirm(self):
        """The organization's first invite is written: it is no longer provisional (idempotent)."""
        type(self).objects(id=self.id, provisional_until__ne=None).update_one(unset__provisional_until=True)

    def discard_provisional(self):
        """Delete this organization if it is still provisional (its invite could not be written)."""
        type(self).objects(id=self.id, provisional_until__ne=None).delete()
