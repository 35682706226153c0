"""What the two services agree on: roles, Socket.IO rooms and events, and what a valid id or name is.

user_management signs access tokens (`sub` user id, `role`, `org`), publishes events to rooms
through the Redis message queue and sends names in e-mail requests; notifications checks those
claims, joins each socket to its rooms on connect and validates the names. Both import the
definitions from here, so neither side can drift from the other.
"""
from datetime import datetime, timezone

from marshmallow import ValidationError, validate

SUPER_ADMIN = "super_admin"
SITE_ADMIN = "site_admin"
OPERATOR = "operator"
CLIENT_ADMIN = "client_admin"
CLIENT_USER = "client_user"
ROLES = (SUPER_ADMIN, SITE_ADMIN, OPERATOR, CLIENT_ADMIN, CLIENT_USER)  # highest first

# Socket.IO events, server to client.
NOTIFICATION = "notification"  # {type, message, timestamp, data}, to one user's room
INVITE_STATUS_UPDATE = "inviteStatusUpdate"  # {inviteId, email, role, status, organization, timestamp}
INVITE_ACCEPTED = "inviteAccepted"  # the `type` of the notification an inviter gets

# B105: header names, not secrets
SERVICE_TOKEN_HEADER = "X-Service-Token"  # nosec B105
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"

ID_MAX_LENGTH = 100
NAME_MAX_LENGTH = 100  # a first or a last name
FULL_NAME_MAX_LENGTH = 2 * NAME_MAX_LENGTH + 1  # "first last", as e-mails name a person
ORGANIZATION_NAME_MAX_LENGTH = 120


class FullMatch(validate.Regexp):
    """A Regexp the whole value must match: with `re.match`, `$` would let a trailing newline through.

    The pattern (also published as the OpenAPI `pattern`) is written to mean the same in JSON Schema.
    """

    def __call__(self, value):
        """Return `value`, or raise ValidationError unless the pattern matches all of it."""
        if not isinstance(value, str) or self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


# ':' separates the parts of a room name, so an id never holds one (nor a space or control character).
valid_id = FullMatch(rf"^[^:\x00-\x20\x7f]{{1,{ID_MAX_LENGTH}}}$",
                     error=f"Must be 1 to {ID_MAX_LENGTH} characters, without colons, spaces or control characters.")
# A name goes into e-mail subjects and headers: one line, no control characters (C0, DEL, C1, and the
# Unicode line and paragraph separators).
single_line = FullMatch("^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$",
                        error="Must be a single line, without control characters.")
# RFC 5321: a forward path holds at most 256 octets, angle brackets included.
EMAIL_MAX_LENGTH = 254
email_length = validate.Length(max=EMAIL_MAX_LENGTH)


def not_blank(value):
    """Refuse a name of spaces only (it would be stored empty)."""
    if isinstance(value, str) and not value.strip():
        raise ValidationError("Must not be blank.")
    return value


def is_valid_id(value):
    """True when `value` can name a user or organization in a room (see `valid_id`)."""
    try:
        valid_id(value)
    except ValidationError:
        return False
    return True


def name_validators(max_length, min_length=1):
    """Validators of a name of `min_length` to `max_length` characters, on one line, not blank."""
    return [validate.Length(min=min_length, max=max_length), single_line, not_blank]


def problems(value, validators):
    """The messages of `validators` refusing `value` (empty when it is valid), for callers outside a schema."""
    found = []
    for check in validators:
        try:
            check(value)
        except ValidationError as error:
            found += error.messages if isinstance(error.messages, list) else [str(error.messages)]
    return found


def user_room(user_id):
    """The room every socket of a user joins."""
    return f"user:{user_id}"


def role_room(role):
    """The room every socket of a role joins."""
    return f"role:{role}"


def org_room(org_id, role=None):
    """The room of an organization's users, or of its users with one role (`org:<id>:client_admin`)."""
    return f"org:{org_id}:{role}" if role else f"org:{org_id}"


def timestamp():
    """The current UTC time as event payloads carry it: ISO 8601, milliseconds, `Z`."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def notification(type_, message, data=None):
    """The payload of a `notification` event."""
    return {"type": type_, "message": message, "timestamp": timestamp(), "data": data or {}}
