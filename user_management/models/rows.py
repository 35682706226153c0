"""Projected raw documents for the list endpoints: one page read as pymongo dicts, no Documents built.

A `Row` carries only the fields a list answers, under the Document's attribute names (not the stored
camelCase ones), with the Document's defaults for fields a stored document lacks, so the response
schemas dump a row exactly as they dump the Document. Reference fields stay ids (ObjectId); the list
resolves the few it names in one query per collection (`rows_by_id`).
"""
from .invite import effective_status
from .lookup import object_id
from .organization import Organization
from .user import User

_MISSING = object()
# A user's answered fields (schemas.responses.UserSchema): never a secret.
USER_FIELDS = ("id", "email", "first_name", "last_name", "role", "organization", "two_factor_method", "totp_enabled",
               "is_active", "last_login_at", "created_at", "updated_at")
# What a listed invite answers (schemas.responses.InviteSchema).
INVITE_LIST_FIELDS = ("id", "email", "role", "organization", "invited_by", "status", "expires_at", "accepted_at",
                      "revoked_at", "send_count", "email_status", "created_at")
# The caller's own account adds the count of recovery codes left (the digests are read, never answered).
ACCOUNT_FIELDS = (*USER_FIELDS, "recovery_codes")


class Row:
    """One raw document's projected fields as attributes."""

    def __init__(self, **values):
        self.__dict__.update(values)


class UserRow(Row):
    """A user in a list: `organization_id` as UserSchema reads it."""

    @property
    def organization_id(self):
        return None if self.organization is None else str(self.organization)


class AccountRow(UserRow):
    """The signed-in user's own account: also how many recovery codes are left (AccountSchema)."""

    @property
    def recovery_codes_remaining(self):
        return len(self.recovery_codes or ())


class InviteRow(Row):
    """An invite in a list: its effective status as InviteSchema reads it."""

    def effective_status(self, now=None):
        return effective_status(self.status, self.expires_at, now)


def _spec(document, names):
    fields = document._fields
    return [(name, fields[name].db_field, fields[name].default) for name in names]


def _row(raw, spec, row_class):
    values = {}
    for name, key, default in spec:
        value = raw.get(key, _MISSING)
        values[name] = (default() if callable(default) else default) if value is _MISSING else value
    return row_class(**values)


def rows(queryset, names, row_class=Row):
    """The documents of `queryset` as `row_class` objects with the attributes `names` (one projected query)."""
    spec = _spec(queryset._document, names)
    return [_row(raw, spec, row_class) for raw in queryset.only(*names).as_pymongo()]


def user_rows(queryset):
    """The users of `queryset` as UserRows with the answered fields (one projected query)."""
    return rows(queryset, USER_FIELDS, UserRow)


def invite_rows(page_set):
    """A page of invites as projected rows; their inviters and organizations in one query per collection."""
    invites = rows(page_set, INVITE_LIST_FIELDS, InviteRow)
    organizations = rows_by_id(Organization, (invite.organization for invite in invites), ("name",))
    inviters = rows_by_id(User, (invite.invited_by for invite in invites), ("email", "first_name", "last_name"))
    for invite in invites:
        invite.organization = organizations.get(invite.organization)
        invite.invited_by = inviters.get(invite.invited_by)
    return invites


def account_row(user_id):
    """The signed-in user's answered fields as an AccountRow, or None (also for a malformed id): one find_one."""
    key = object_id(user_id)
    spec = _spec(User, ACCOUNT_FIELDS)
    raw = User._get_collection().find_one({"_id": key}, {db_field: 1 for _, db_field, _ in spec}) if key is not None else None
    return _row(raw, spec, AccountRow) if raw is not None else None


def rows_by_id(document, ids, names):
    """{id: Row} of the `document`s with these ids (None ids skipped), in one projected query."""
    wanted = {key for key in ids if key is not None}
    if not wanted:
        return {}
    return {row.id: row for row in rows(document.objects(id__in=list(wanted)), ("id", *names))}
