"""The new-password policy: the basic rules, then a guessability check with zxcvbn (offline), as NIST SP 800-63B 5.1.1.2 asks."""
import re
import threading

from flask import current_app
from zxcvbn import zxcvbn

from ..exceptions import InvalidInput
from .passwords import MAX_LENGTH, policy_problems

DEFAULT_MIN_SCORE = 3
# Parts of a person's name this long or longer may not appear in their password, whatever zxcvbn
# scores it ("Gina-Globe-2026" for Gina scores 4). Shorter parts ("Al", "Li") are too common to refuse.
MIN_NAME_PART_LENGTH = 3
NAME_MESSAGE = "This password is too easy to guess: it contains your first or last name."
# zxcvbn keeps the user inputs in a module-level dictionary; gthread workers must not interleave calls.
_lock = threading.Lock()


def user_inputs_for(email=None, first_name=None, last_name=None):
    """Words a guesser would try first for this person: names, name combinations, email parts."""
    words = []
    names = [name.strip().lower() for name in (first_name, last_name) if name and name.strip()]
    words += names
    if len(names) == 2:
        words += [names[0] + names[1], names[1] + names[0]]
    if email and "@" in email:
        local, domain = email.lower().rsplit("@", 1)
        parts = re.split(r"[^a-z0-9]+", local)
        words += [local, "".join(parts), *parts, domain.split(".")[0]]
    return [word for word in dict.fromkeys(words) if len(word) >= 2]


def name_problems(password, names=()):
    """Why `password` is refused for containing a part of one of `names` (empty when it does not)."""
    lowered = (password or "").casefold()
    parts = {part for name in names if name for part in re.split(r"[\s\-'.]+", name.casefold())}
    if any(len(part) >= MIN_NAME_PART_LENGTH and part in lowered for part in parts):
        return [NAME_MESSAGE]
    return []


def strength_problems(password, user_inputs=(), min_score=DEFAULT_MIN_SCORE):
    """Return why `password` is too easy to guess (empty when it is strong enough)."""
    if not password or len(password) > MAX_LENGTH:
        return []  # the basic policy reports length
    with _lock:
        result = zxcvbn(password, user_inputs=list(user_inputs), max_length=MAX_LENGTH)
    if result["score"] >= min_score:
        return []
    reasons = []
    if any(match.get("dictionary_name") == "user_inputs" for match in result["sequence"]):
        reasons.append("It contains your name or email address.")
    feedback = result["feedback"]
    if feedback.get("warning"):
        reasons.append(feedback["warning"].rstrip(".") + ".")
    reasons += feedback.get("suggestions") or []
    if not feedback.get("suggestions"):
        reasons.append("Use a longer passphrase of several unrelated words.")
    return ["This password is too easy to guess. " + " ".join(reasons)]


def new_password_problems(password, user_inputs=(), min_score=DEFAULT_MIN_SCORE, names=()):
    """Everything wrong with a new password: the basic policy first, the person's names, then guessability."""
    return (policy_problems(password) or name_problems(password, names)
            or strength_problems(password, user_inputs, min_score))


def check_new_password(password, email=None, first_name=None, last_name=None, field="password",
                       message="Validation failed"):
    """Raise InvalidInput on `field` unless `password` meets the policy and is not guessable from this person."""
    min_score = current_app.config.get("PASSWORD_MIN_SCORE", DEFAULT_MIN_SCORE)
    problems = new_password_problems(password, user_inputs_for(email, first_name, last_name), min_score,
                                     (first_name, last_name))
    if problems:
        raise InvalidInput(message, {field: problems})
