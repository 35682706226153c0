"""Passwords people can't guess; forgotten, reset and changed passwords."""
import time
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine

from user_management.controllers.user_controller import create_super_admin
from user_management.exceptions import InvalidInput
from user_management.models import Invite, PasswordResetToken, User
from user_management.utils import password_strength
from user_management.utils.timeutil import utcnow

from support.factory import PASSWORD
from support.two_factor import bearer, frozen_clock, login

NEW_PASSWORD = "Velvet-Tractor-Orbit-9"


@pytest.fixture(autouse=True)
def no_answer_floor(app):
    app.config["FORGOT_PASSWORD_MIN_SECONDS"] = 0


def named(user, first, last):
    User.objects(id=user.id).update_one(set__first_name=first, set__last_name=last)
    return user.reload()


def accept(client, token, password, first="Ada", last="Lovelace"):
    return client.post("/api/invites/accept",
                       json={"token": token, "firstName": first, "lastName": last, "password": password})


def forgot(client, email, **kwargs):
    return client.post("/api/auth/forgot-password", json={"email": email}, **kwargs)


def reset_token(outbox, user):
    link = outbox("password-reset", to=user.email)[-1].context["link"]
    return parse_qs(urlparse(link).query)["token"][0]


def reset(client, token, password=NEW_PASSWORD):
    return client.post("/api/auth/reset-password", json={"token": token, "password": password})


# Guessable passwords.

@pytest.mark.parametrize("password, words", [
    ("Password123", "very common"),
    ("Qwerty12345", "common"),
    ("Lovelace2024!", "your first or last name"),
    ("AdaLovelace1", "your first or last name"),
    ("Babbage1815!", "too easy to guess"),
])
def test_invite_accept_refuses_guessable_passwords(client, factory, password, words):
    invite, token = factory.invite(factory.user("operator"), "client_admin", email="charles.babbage@engine.test")
    response = accept(client, token, password)
    assert response.status_code == 422, password
    messages = " ".join(response.json["errors"]["password"])
    assert "too easy to guess" in messages and words in messages
    assert invite.reload().status == "pending"


@pytest.mark.parametrize("password, first, last", [
    ("Gina-Globe-2026", "Gina", "Globe"),
    ("Quartz-GLOBE-Lantern-7", "Gina", "Globe"),
    ("Mary-Orbit-Lantern-7", "Mary-Jane", "Watson"),
])
def test_a_strong_password_with_the_persons_own_name_is_refused(client, factory, password, first, last):
    """"Gina-Globe-2026" for Gina Globe scores 4 with zxcvbn and was accepted, though the form says no names."""
    _, token = factory.invite(factory.user("operator"), "client_admin")
    response = accept(client, token, password, first=first, last=last)
    assert response.status_code == 422
    assert response.json["errors"]["password"] == ["This password is too easy to guess: it contains your first or "
                                                   "last name."]
    assert accept(client, token, "Quartz-Lantern-Orbit-7", first=first, last=last).status_code == 201


def test_the_password_hint_names_the_rule_the_server_applies(client, factory):
    """The accept page's hint and the server agree: the person's first or last name is refused."""
    _, token = factory.invite(factory.user("operator"), "client_admin")
    page = client.get(f"/accept-invite?token={token}").get_data(as_text=True)
    assert "not your first or last name" in page
    assert "first or last name" in accept(client, token, "Ada-Quartz-Orbit-7").json["errors"]["password"][0]


def test_short_name_parts_are_not_refused(client, factory):
    """Two-letter names ("Al", "Li") are in too many words to refuse."""
    _, token = factory.invite(factory.user("operator"), "client_admin")
    assert accept(client, token, "Alpine-Lilac-Orbit-7", first="Al", last="Li").status_code == 201


def test_placeholder_names_of_a_super_admin_do_not_limit_its_password(app):
    """create-superadmin without names stores "Super Admin", which is nobody's name: not checked."""
    assert create_super_admin("root@example.test", "Admin-Quartz-Orbit-7").last_name == "Admin"
    with pytest.raises(InvalidInput):
        create_super_admin("grace@example.test", "Grace-Quartz-Orbit-7", "Grace", "Hopper")
    with pytest.raises(InvalidInput) as error:
        create_super_admin("ada@example.test", NEW_PASSWORD, "Ada\r\nBcc: x@example.test", "Lovelace")
    assert "firstName" in error.value.errors


def test_invite_accept_takes_a_strong_password(client, factory):
    _, token = factory.invite(factory.user("operator"), "client_admin")
    assert accept(client, token, NEW_PASSWORD).status_code == 201


def test_basic_policy_is_reported_before_guessability(client, factory):
    _, token = factory.invite(factory.user("operator"), "client_admin")
    messages = accept(client, token, "password").json["errors"]["password"]
    assert any("uppercase" in message for message in messages)
    assert not any("guess" in message for message in messages)


def test_long_passwords_are_checked_without_error(client, factory):
    for password in ("Pässwörd-9" + "ü" * 54, "xK9-" + "correct horse battery staple " * 4 + "q" * 8):
        _, token = factory.invite(factory.user("operator"), "client_admin")
        assert len(password) <= 128
        assert accept(client, token, password).status_code == 201
    _, token = factory.invite(factory.user("operator"), "client_admin")
    assert accept(client, token, "aB3" + "x" * 126).status_code == 422


def test_create_super_admin_refuses_a_guessable_password(app):
    with pytest.raises(InvalidInput) as error:
        create_super_admin("grace.hopper@example.test", "GraceHopper1", "Grace", "Hopper")
    assert "your first or last name" in " ".join(error.value.errors["password"])
    assert create_super_admin("grace.hopper@example.test", NEW_PASSWORD, "Grace", "Hopper").role == "super_admin"


# Forgot and reset.

def test_forgot_password_answers_the_same_for_known_and_unknown_emails(client, factory, outbox):
    user = factory.user("operator")
    known = forgot(client, user.email.upper())
    unknown = forgot(client, "nobody@example.test")
    assert known.status_code == unknown.status_code == 200
    assert known.json == unknown.json
    assert outbox("password-reset", to="nobody@example.test") == []
    sent = outbox("password-reset", to=user.email)
    assert len(sent) == 1
    context = sent[0].context
    assert context["firstName"] == user.first_name and context["expiresInMinutes"] == 60
    assert context["link"].startswith("http://localhost:3000/reset-password?token=")
    token = reset_token(outbox, user)
    stored = PasswordResetToken.objects.get(user=user)
    assert stored.token_hash != token and token not in stored.token_hash


def test_forgot_password_sends_nothing_to_a_deactivated_account(client, factory, outbox):
    user = factory.user("operator", is_active=False)
    assert forgot(client, user.email).status_code == 200
    assert outbox("password-reset") == []


def test_forgot_password_takes_the_same_minimum_time_either_way(app, client, factory):
    app.config["FORGOT_PASSWORD_MIN_SECONDS"] = 0.2
    user = factory.user("operator")
    for email in (user.email, "nobody@example.test"):
        started = time.perf_counter()
        assert forgot(client, email).status_code == 200
        assert time.perf_counter() - started >= 0.2


def test_forgot_password_mails_an_account_at_most_five_times_an_hour(client, factory, outbox):
    user = factory.user("operator")
    for _ in range(6):
        assert forgot(client, user.email).status_code == 200
    assert len(outbox("password-reset", to=user.email)) == 5


def test_forgot_password_is_rate_limited_per_ip(app, client):
    app.config["RATELIMIT_PASSWORD_RESET"] = "3 per hour"
    for _ in range(3):
        assert forgot(client, "nobody@example.test").status_code == 200
    assert forgot(client, "nobody@example.test").status_code == 429
    assert forgot(client, "nobody@example.test", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200


def test_reset_sets_the_password_and_ends_every_session(client, factory, outbox):
    user = factory.user("operator")
    sessions = [login(client, user.email).json for _ in range(2)]
    forgot(client, user.email)
    response = reset(client, reset_token(outbox, user))
    assert response.status_code == 200 and response.json["success"] is True
    for session in sessions:
        assert client.post("/api/auth/refresh", json={"refreshToken": session["refreshToken"]}).status_code == 401
        assert client.get("/api/auth/profile", headers=bearer(session["accessToken"])).status_code == 401
    assert login(client, user.email).status_code == 401
    assert login(client, user.email, NEW_PASSWORD).status_code == 200


def test_reset_token_works_once(client, factory, outbox):
    user = factory.user("operator")
    forgot(client, user.email)
    token = reset_token(outbox, user)
    assert reset(client, token).status_code == 200
    again = reset(client, token, "Another-Strong-Phrase-7")
    assert again.status_code == 410
    assert login(client, user.email, "Another-Strong-Phrase-7").status_code == 401


def test_reset_token_expires_after_an_hour(client, factory, outbox):
    user = factory.user("operator")
    forgot(client, user.email)
    token = reset_token(outbox, user)
    with time_machine.travel(utcnow().timestamp() + 3600 + 1):
        assert reset(client, token).status_code == 410
    assert login(client, user.email).status_code == 200


def test_unknown_reset_token_is_refused_like_a_used_one(client):
    response = reset(client, "made-up-token")
    assert response.status_code == 410 and response.json["success"] is False


def test_a_newer_reset_link_kills_the_older_one(client, factory, outbox):
    user = factory.user("operator")
    forgot(client, user.email)
    first = reset_token(outbox, user)
    forgot(client, user.email)
    second = reset_token(outbox, user)
    assert reset(client, first).status_code == 410
    assert reset(client, second).status_code == 200


def check(client, token):
    return client.post("/api/auth/reset-password/check", json={"token": token})


def test_the_reset_page_can_check_its_link_before_the_form_is_filled(client, factory, outbox):
    """A used link was refused only after the whole form was filled; now the page asks first."""
    user = factory.user("operator")
    forgot(client, user.email)
    first = reset_token(outbox, user)
    assert check(client, first).json == {"success": True, "valid": True}
    assert check(client, first).status_code == 200  # checking does not use the link up
    forgot(client, user.email)
    second = reset_token(outbox, user)
    replaced = check(client, first)
    assert replaced.status_code == 410 and replaced.json == {
        "success": False, "message": "This password reset link was already used, or a newer one was sent; request a new one"}
    assert reset(client, second).status_code == 200
    assert check(client, second).json["message"].startswith("This password reset link was already used")
    forgot(client, user.email)
    with time_machine.travel(utcnow().timestamp() + 3600 + 1):
        expired = check(client, reset_token(outbox, user))
    assert expired.status_code == 410
    assert expired.json["message"] == "This password reset link has expired; request a new one"


@pytest.mark.parametrize("body", [{}, {"token": ""}, {"token": 5}, {"token": "x" * 600}])
def test_reset_check_refuses_bad_input(client, body):
    response = client.post("/api/auth/reset-password/check", json=body)
    assert response.status_code == 422 and response.json["success"] is False


def test_unknown_reset_links_checked_count_as_guesses(client, app):
    refused = [check(client, f"made-up-{n}") for n in range(app.config["LOCKOUT_THRESHOLD"] + 1)]
    assert refused[0].status_code == 410 and refused[0].json["message"] == "This password reset link is invalid or has expired"
    assert refused[-1].status_code == 429


def test_reset_refuses_a_weak_password_and_keeps_the_link(client, factory, outbox):
    user = named(factory.user("operator", email="grace.hopper@example.test"), "Grace", "Hopper")
    forgot(client, user.email)
    token = reset_token(outbox, user)
    weak = reset(client, token, "Password123")
    assert weak.status_code == 422 and "too easy to guess" in weak.json["errors"]["password"][0]
    personal = reset(client, token, "GraceHopper2024")
    assert personal.status_code == 422 and "first or last name" in personal.json["errors"]["password"][0]
    assert reset(client, token).status_code == 200


def test_reset_for_a_deactivated_account_is_refused(client, factory, outbox):
    user = factory.user("operator")
    forgot(client, user.email)
    token = reset_token(outbox, user)
    User.objects(id=user.id).update_one(set__is_active=False)
    assert reset(client, token).status_code == 410


def test_reset_does_not_skip_the_second_factor(client, factory, outbox):
    member = factory.user("client_user")
    forgot(client, member.email)
    assert reset(client, reset_token(outbox, member)).status_code == 200
    body = login(client, member.email, NEW_PASSWORD).json
    assert body["requiresTwoFactor"] is True and "accessToken" not in body


# Change.

def change(client, headers, current=PASSWORD, new=NEW_PASSWORD):
    return client.post("/api/auth/change-password", json={"currentPassword": current, "newPassword": new},
                       headers=headers)


def test_change_password_keeps_the_caller_and_ends_other_sessions(client, factory):
    user = factory.user("operator")
    mine, other = login(client, user.email).json, login(client, user.email).json
    response = change(client, bearer(mine["accessToken"]))
    assert response.status_code == 200
    fresh = response.json
    assert fresh["accessToken"] and fresh["refreshToken"] and fresh["user"]["id"] == str(user.id)
    assert client.get("/api/auth/profile", headers=bearer(fresh["accessToken"])).status_code == 200
    assert client.post("/api/auth/refresh", json={"refreshToken": fresh["refreshToken"]}).status_code == 200
    for session in (mine, other):
        assert client.get("/api/auth/profile", headers=bearer(session["accessToken"])).status_code == 401
        assert client.post("/api/auth/refresh", json={"refreshToken": session["refreshToken"]}).status_code == 401
    assert login(client, user.email).status_code == 401
    assert login(client, user.email, NEW_PASSWORD).status_code == 200


def test_change_password_needs_the_current_password(client, factory):
    user = factory.user("operator")
    response = change(client, factory.headers(user), current="Wrong-Password-1")
    assert response.status_code == 422 and "currentPassword" in response.json["errors"]
    assert login(client, user.email).status_code == 200


@pytest.mark.parametrize("new, field_message", [
    ("Password123", "too easy to guess"),
    ("short1A", "at least 8"),
    (PASSWORD, "differ"),
])
def test_change_password_checks_the_new_one(client, factory, new, field_message):
    user = factory.user("operator")
    response = change(client, factory.headers(user), new=new)
    assert response.status_code == 422
    assert field_message in " ".join(response.json["errors"]["newPassword"])


def test_change_password_refuses_the_users_own_name(client, factory):
    user = named(factory.user("operator", email="alan.turing@example.test"), "Alan", "Turing")
    response = change(client, factory.headers(user), new="AlanTuring1912")
    assert response.status_code == 422 and "first or last name" in response.json["errors"]["newPassword"][0]


def test_change_password_requires_authentication(client):
    response = client.post("/api/auth/change-password", json={"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD})
    assert response.status_code == 401


# The guessability check runs once per request, after the link or the current password is known good.

@pytest.fixture
def zxcvbn_calls(monkeypatch):
    """The user inputs of every zxcvbn run, in order."""
    calls = []
    real = password_strength.zxcvbn

    def counting(password, user_inputs=None, **kwargs):
        calls.append(set(user_inputs or ()))
        return real(password, user_inputs=user_inputs, **kwargs)

    monkeypatch.setattr(password_strength, "zxcvbn", counting)
    return calls


@pytest.mark.parametrize("password, status", [(NEW_PASSWORD, 201), ("Qwerty12345", 422)])
def test_invite_accept_runs_zxcvbn_once_with_the_persons_words(client, factory, zxcvbn_calls, password, status):
    _, token = factory.invite(factory.user("operator"), "client_admin", email="ada.l@example.test")
    assert accept(client, token, password).status_code == status
    assert len(zxcvbn_calls) == 1 and {"ada", "lovelace", "ada.l"} <= zxcvbn_calls[0]


@pytest.mark.parametrize("password, status", [(NEW_PASSWORD, 200), ("Qwerty12345", 422)])
def test_reset_runs_zxcvbn_once_with_the_users_words(client, factory, outbox, zxcvbn_calls, password, status):
    user = named(factory.user("operator", email="grace.hopper@example.test"), "Grace", "Hopper")
    forgot(client, user.email)
    assert reset(client, reset_token(outbox, user), password).status_code == status
    assert len(zxcvbn_calls) == 1 and {"grace", "hopper"} <= zxcvbn_calls[0]


@pytest.mark.parametrize("password, status", [(NEW_PASSWORD, 200), ("Qwerty12345", 422)])
def test_change_runs_zxcvbn_once_with_the_users_words(client, factory, zxcvbn_calls, password, status):
    user = named(factory.user("operator", email="alan.turing@example.test"), "Alan", "Turing")
    assert change(client, factory.headers(user), new=password).status_code == status
    assert len(zxcvbn_calls) == 1 and {"alan", "turing"} <= zxcvbn_calls[0]


def test_a_bad_link_or_current_password_is_answered_before_any_guessability_check(client, factory, zxcvbn_calls):
    # An unknown invite token is a counted guess (404) even with a password made of the names given.
    assert accept(client, "made-up-token", "AdaLovelace1").status_code == 404
    assert reset(client, "made-up-token").status_code == 410
    user = factory.user("operator")
    assert change(client, factory.headers(user), current="Wrong-Password-1").status_code == 422
    assert zxcvbn_calls == []


def test_a_client_locked_out_of_invite_tokens_is_refused_before_the_invite_is_read(client, factory, zxcvbn_calls,
                                                                                 monkeypatch):
    _, token = factory.invite(factory.user("operator"), "client_admin")
    with frozen_clock():
        for n in range(10):
            assert accept(client, f"guess-{n}", NEW_PASSWORD).status_code == 404
        reads = []
        objects = Invite.__dict__["objects"]

        class CountingManager:
            def __get__(self, instance, owner):
                reads.append(owner)
                return objects.__get__(instance, owner)

        monkeypatch.setattr(Invite, "objects", CountingManager())
        assert accept(client, token, NEW_PASSWORD).status_code == 429
    assert reads == [] and zxcvbn_calls == []
