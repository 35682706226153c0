"""Organization: the tenant that client_admin and client_user accounts belong to."""
from mongoengine import BooleanField, DateTimeField, Document, ReferenceField, StringField

from servicekit.names import ORGANIZATION_NAME_MAX_LENGTH

from ..utils.timeutil import utcnow

TWO_FACTOR_METHODS = ("otp", "totp")


class Organization(Document):
    """A client organization, created when its first client_admin is invited."""

    name = StringField(required=True, min_length=1, max_length=ORGANIZATION_NAME_MAX_LENGTH)
    # Lower-cased name, unique, so "Acme" and "acme" cannot both exist.
    name_key = StringField(required=True, unique=True, db_field="nameKey")
    two_factor_method = StringField(choices=TWO_FACTOR_METHODS, default="otp", db_field="twoFactorMethod")
    is_active = BooleanField(default=True, db_field="isActive")
    created_by = ReferenceField("User", db_field="createdBy")
    created_at = DateTimeField(default=utcnow, db_field="createdAt")
    updated_at = DateTimeField(default=utcnow, db_field="updatedAt")

    meta = {"collection": "organizations", "indexes": ["name_key"]}

    def clean(self):
        """Keep the uniqueness key in step with the display name."""
        self.name = self.name.strip()
        self.name_key = self.name.lower()
        self.updated_at = utcnow()
