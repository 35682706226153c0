"""Field types shared by the request schemas."""
from flask import current_app, has_app_context
from marshmallow import ValidationError, fields, validate

from servicekit.contract import NAME_MAX_LENGTH, name_validators

from ..utils.password_strength import DEFAULT_MIN_SCORE, strength_problems
from ..utils.passwords import MAX_LENGTH, policy_problems


class NormalizedEmail(fields.Email):
    """An email address, stripped and lower-cased before validation."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.strip().lower()
        return super()._deserialize(value, attr, data, **kwargs)


def minimum_password_score():
    """The zxcvbn score a new password must reach (PASSWORD_MIN_SCORE)."""
    return current_app.config.get("PASSWORD_MIN_SCORE", DEFAULT_MIN_SCORE) if has_app_context() else DEFAULT_MIN_SCORE


def new_password_problems(password, user_inputs=()):
    """Everything wrong with a new password: the basic policy first, then guessability."""
    return policy_problems(password) or strength_problems(password, user_inputs, minimum_password_score())


class Password(fields.String):
    """A new password: must meet the policy and not be easy to guess.

    Schemas that know whose password it is check it again with the person's
    names and email as zxcvbn user inputs.
    """

    def _deserialize(self, value, attr, data, **kwargs):
        password = super()._deserialize(value, attr, data, **kwargs)
        problems = new_password_problems(password)
        if problems:
            raise ValidationError(problems)
        return password


def name_field(data_key, required=True):
    """A person's first or last name."""
    return fields.String(required=required, data_key=data_key, validate=name_validators(NAME_MAX_LENGTH))


def given_password(data_key="password"):
    """A password presented for checking (not a new one): bounded but not policy-checked."""
    return fields.String(required=True, data_key=data_key, validate=validate.Length(min=1, max=MAX_LENGTH * 4))


class StrictBoolean(fields.Boolean):
    """A JSON boolean and nothing else: 0, 1, "true" and "false" are refused."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("Must be true or false.")
        return value
