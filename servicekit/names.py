"""What a valid person name, organization name and e-mail address is: one definition both services apply.

user_management refuses at input what notifications would refuse in an e-mail, so an accepted name
always fits the e-mail it ends up in: no control characters or line breaks, and lengths that add up
("first last" is at most two names and a space).
"""
import re

from marshmallow import ValidationError, validate

PERSON_NAME_MAX_LENGTH = 100
FULL_NAME_MAX_LENGTH = 2 * PERSON_NAME_MAX_LENGTH + 1
ORGANIZATION_NAME_MAX_LENGTH = 120
# RFC 5321: a forward path holds at most 256 octets, angle brackets included.
EMAIL_MAX_LENGTH = 254

# C0 controls (CR, LF, TAB, NUL, ...), DEL, C1 controls, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
CONTROL_MESSAGE = "Must not contain control characters or line breaks."
BLANK_MESSAGE = "Must not be blank."


def no_control_characters(value):
    """marshmallow validator: refuse control characters and line breaks."""
    if _CONTROL.search(value):
        raise ValidationError(CONTROL_MESSAGE)


def not_blank(value):
    """marshmallow validator: refuse a value of spaces only."""
    if not value.strip():
        raise ValidationError(BLANK_MESSAGE)


def _text(max_length):
    return [validate.Length(min=1, max=max_length), not_blank, no_control_characters]


PERSON_NAME = _text(PERSON_NAME_MAX_LENGTH)
FULL_NAME = _text(FULL_NAME_MAX_LENGTH)
ORGANIZATION_NAME = _text(ORGANIZATION_NAME_MAX_LENGTH)
EMAIL_LENGTH = validate.Length(max=EMAIL_MAX_LENGTH)


def problems(value, validators):
    """The messages of `validators` refusing `value` (empty when it is valid), for callers outside a schema."""
    found = []
    for check in validators:
        try:
            check(value)
        except ValidationError as error:
            found += error.messages if isinstance(error.messages, list) else [str(error.messages)]
    return found
