"""Field types shared by the schemas."""
from marshmallow import ValidationError, fields, validate

from servicekit.contract import NAME_MAX_LENGTH, email_length, name_validators

from ..utils.passwords import MAX_LENGTH, policy_problems
from ..utils.timeutil import isoformat


class NormalizedEmail(fields.Email):
    """An email address, stripped and lower-cased before validation, no longer than an SMTP path allows."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(email_length)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.strip().lower()
        return super()._deserialize(value, attr, data, **kwargs)


class Password(fields.String):
    """A new password's length and character classes (the controller, knowing whose it is, checks guessability)."""

    def _deserialize(self, value, attr, data, **kwargs):
        password = super()._deserialize(value, attr, data, **kwargs)
        problems = policy_problems(password)
        if problems:
            raise ValidationError(problems)
        return password


def name_field(data_key, required=True):
    """A person's first or last name."""
    return fields.String(required=required, data_key=data_key, validate=name_validators(NAME_MAX_LENGTH))


def object_id_field(data_key, **kwargs):
    """An id a client sends in a query string (24 hex digits)."""
    return fields.String(data_key=data_key, validate=validate.Regexp(r"^[0-9a-fA-F]{24}$", error="Must be an id"),
                         **kwargs)


def search_field(description):
    """A case-insensitive search text (matched literally, never as a pattern)."""
    return fields.String(validate=validate.Length(min=1, max=100), metadata={"description": description})


def given_password(data_key="password"):
    """A password presented for checking (not a new one): bounded but not policy-checked."""
    return fields.String(required=True, data_key=data_key, validate=validate.Length(min=1, max=MAX_LENGTH * 4))


class StrictBoolean(fields.Boolean):
    """A JSON boolean and nothing else: 0, 1, "true" and "false" are refused."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("Must be true or false.")
        return value


class Timestamp(fields.DateTime):
    """A stored naive-UTC time, answered as `utils.timeutil.isoformat` writes it (`…T12:00:00.000Z`)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return isoformat(value)
