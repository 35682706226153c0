"""The models' own state transitions: each is one conditional update, so parallel callers cannot double-spend."""
from datetime import timedelta

import pytest

from user_management.exceptions import NotFound
from user_management.models import TwoFactorChallenge, get_by_id, get_or_404
from user_management.models.two_factor import LOGIN, PENDING, USED, VOID
from user_management.utils.timeutil import utcnow

MAXIMUM = 3


@pytest.fixture
def challenge(factory):
    user = factory.user("operator")
    return TwoFactorChallenge(user=user, purpose=LOGIN, method="otp", token_version=user.token_version,
                              expires_at=utcnow() + timedelta(minutes=10)).save()


def test_a_challenge_gives_out_its_attempts_once_then_is_void(challenge):
    reserved = [challenge.reserve_attempt(MAXIMUM) for _ in range(MAXIMUM)]
    assert [copy.attempts for copy in reserved] == [1, 2, 3]
    assert challenge.reserve_attempt(MAXIMUM) is None
    assert challenge.spent(MAXIMUM)
    assert challenge.reload().status == VOID


def test_a_wrong_answer_does_not_void_the_challenge_while_a_later_attempt_is_still_being_checked(challenge):
    wrong, last = challenge.reserve_attempt(MAXIMUM), None
    for _ in range(MAXIMUM - 1):
        last = challenge.reserve_attempt(MAXIMUM)
    assert wrong.void_if_spent(MAXIMUM) is False  # it counted attempt 1 of 3
    assert last.complete() is True  # the last attempt, with the right code, still gets through
    assert challenge.reload().status == USED


def test_of_two_right_answers_one_completes_the_challenge(challenge):
    assert challenge.complete() is True
    assert challenge.complete() is False
    assert challenge.void() is False and challenge.reload().status == USED


def test_an_expired_challenge_reserves_no_attempt(challenge):
    assert challenge.reserve_attempt(MAXIMUM, now=challenge.expires_at) is None
    assert challenge.reload().status == PENDING and challenge.attempts == 0


def test_a_totp_step_is_claimed_once_and_never_an_older_one(factory):
    user = factory.user("operator")
    assert user.claim_totp_step(100) is True
    assert user.claim_totp_step(100) is False
    assert user.claim_totp_step(99) is False
    assert user.claim_totp_step(101) is True


def test_a_recovery_code_burns_once(factory):
    user = factory.user("operator", recovery_codes=["digest-a", "digest-b"])
    assert user.burn_recovery_code("digest-a") is True
    assert user.burn_recovery_code("digest-a") is False
    assert user.reload().recovery_codes == ["digest-b"]


@pytest.mark.parametrize("value", ["not-an-id", None, 42, "0" * 24])
def test_get_or_404_answers_not_found_for_a_malformed_or_unknown_id(app, value):
    assert get_by_id(TwoFactorChallenge, value) is None
    with pytest.raises(NotFound, match="Challenge not found"):
        get_or_404(TwoFactorChallenge, value, "Challenge not found")


def test_get_or_404_returns_the_document(challenge):
    assert get_or_404(TwoFactorChallenge, str(challenge.id), "Challenge not found") == challenge
