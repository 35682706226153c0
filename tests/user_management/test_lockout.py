"""Per-account lockout: growing delays, unknown emails alike, hourly cap, unlock; 2FA codes and tokens."""
import itertools

import bcrypt
import pytest

from user_management.models import AuditEvent, Lockout
from user_management.utils.timeutil import utcnow

from support.factory import PASSWORD
from support.two_factor import frozen_clock, last_otp, verify_otp, wrong

LOCKED = {"success": False, "message": "Too many failed attempts, please try again later"}
INVALID = {"success": False, "message": "Invalid email or password"}
_ips = itertools.count(1)


def attempt(client, email, password="Wrong-Password-1"):
    """One login from a fresh IP, so only the per-account rules apply (not the per-IP limit)."""
    n = next(_ips)
    return client.post("/api/auth/login", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"})


def fail(client, email, times):
    for _ in range(times):
        response = attempt(client, email)
        assert response.status_code == 401, response.json


@pytest.fixture
def operator(factory):
    return factory.user("operator", email="victim@example.test")


def test_ten_failures_lock_the_account_whatever_the_ip(client, operator):
    with frozen_clock():
        fail(client, operator.email, 10)
        locked = attempt(client, operator.email, PASSWORD)  # even the right password
        assert locked.status_code == 429 and locked.json == LOCKED
        assert locked.headers["Retry-After"] == "60"
        assert "accessToken" not in locked.json


def test_unknown_email_locks_exactly_like_a_known_one(client, operator):
    with frozen_clock():
        known = [attempt(client, operator.email) for _ in range(11)]
        unknown = [attempt(client, "nobody@example.test") for _ in range(11)]
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [401] * 10 + [429]
    assert known[0].json == unknown[0].json == INVALID
    assert known[-1].json == unknown[-1].json == LOCKED
    assert known[-1].headers["Retry-After"] == unknown[-1].headers["Retry-After"]


def test_unknown_email_is_tracked_by_a_hash_of_the_normalized_email(client):
    with frozen_clock():
        fail(client, "Nobody@Example.test", 5)
        fail(client, " nobody@example.test", 5)
        assert attempt(client, "NOBODY@example.test").status_code == 429
    keys = [lock.key for lock in Lockout.objects]
    assert len(keys) == 1 and "nobody" not in keys[0]


def test_while_locked_no_password_is_checked_for_known_or_unknown(client, operator, monkeypatch):
    with frozen_clock():
        fail(client, operator.email, 10)
        fail(client, "nobody@example.test", 10)
        calls = []
        real = bcrypt.checkpw
        monkeypatch.setattr(bcrypt, "checkpw", lambda *a: calls.append(1) or real(*a))
        assert attempt(client, operator.email, PASSWORD).status_code == 429
        assert attempt(client, "nobody@example.test").status_code == 429
    assert calls == []


def test_delays_grow_1_5_15_minutes_and_stay_at_15(client, operator):
    with frozen_clock() as clock:
        for expected in (60, 300, 900, 900):
            fail(client, operator.email, 10)
            locked = attempt(client, operator.email, PASSWORD)
            assert locked.status_code == 429 and locked.headers["Retry-After"] == str(expected)
            clock.shift(expected - 1)
            assert attempt(client, operator.email, PASSWORD).status_code == 429
            clock.shift(1)
        assert attempt(client, operator.email, PASSWORD).status_code == 200


def test_lock_ends_and_a_success_resets_the_count(client, operator):
    with frozen_clock() as clock:
        fail(client, operator.email, 10)
        clock.shift(60)
        assert attempt(client, operator.email, PASSWORD).status_code == 200
        fail(client, operator.email, 9)
        assert attempt(client, operator.email, PASSWORD).status_code == 200
        fail(client, operator.email, 9)  # 9 + 9 with a success between: never 10 in a row
        assert attempt(client, operator.email, PASSWORD).status_code == 200
        # The success also forgot the level: the next lock is 1 minute again.
        fail(client, operator.email, 10)
        assert attempt(client, operator.email).headers["Retry-After"] == "60"


def test_a_quiet_day_forgets_the_delay_level(client, operator):
    with frozen_clock() as clock:
        fail(client, operator.email, 10)
        clock.shift(60)
        fail(client, operator.email, 10)
        assert attempt(client, operator.email).headers["Retry-After"] == "300"
        clock.shift(24 * 3600 + 300)
        fail(client, operator.email, 10)
        assert attempt(client, operator.email).headers["Retry-After"] == "60"


def test_at_most_100_failures_per_account_and_hour(app, client, operator):
    app.config.update(LOCKOUT_THRESHOLD=10_000, LOGIN_MAX_FAILURES_PER_HOUR=100)
    with frozen_clock() as clock:
        fail(client, operator.email, 100)
        capped = attempt(client, operator.email, PASSWORD)
        assert capped.status_code == 429 and capped.json == LOCKED
        assert 0 < int(capped.headers["Retry-After"]) <= 3600
        clock.shift(3600)
        assert attempt(client, operator.email, PASSWORD).status_code == 200


def test_default_lock_schedule_stays_under_100_failures_an_hour(client, operator):
    """Even an attacker who retries the moment every lock ends gets far fewer than 100 guesses an hour."""
    guesses = 0
    with frozen_clock() as clock:
        start = utcnow()
        while (utcnow() - start).total_seconds() < 3600:
            response = attempt(client, operator.email)
            if response.status_code == 401:
                guesses += 1
            else:
                assert response.status_code == 429
                clock.shift(int(response.headers["Retry-After"]))
    assert guesses <= 100


def test_deactivated_account_still_answers_403_only_after_the_right_password(client, factory):
    user = factory.user("operator", is_active=False)
    assert attempt(client, user.email).status_code == 401
    assert attempt(client, user.email, PASSWORD).status_code == 403


# Unlock by a higher role.

def unlock(client, factory, actor, target):
    return client.post(f"/api/users/{target.id}/unlock", headers=factory.headers(actor))


def test_a_higher_role_unlocks_at_once(client, factory, operator):
    admin = factory.user("site_admin")
    with frozen_clock():
        fail(client, operator.email, 10)
        assert attempt(client, operator.email, PASSWORD).status_code == 429
        response = unlock(client, factory, admin, operator)
        assert response.status_code == 200 and response.json["user"]["id"] == str(operator.id)
        assert attempt(client, operator.email, PASSWORD).status_code == 200
    event = AuditEvent.objects.get(type="user.unlocked")
    assert event.actor_id == str(admin.id) and event.target_id == str(operator.id)


def test_unlock_also_lifts_the_hourly_cap(app, client, factory, operator):
    app.config.update(LOCKOUT_THRESHOLD=10_000, LOGIN_MAX_FAILURES_PER_HOUR=3)
    with frozen_clock():
        fail(client, operator.email, 3)
        assert attempt(client, operator.email, PASSWORD).status_code == 429
        assert unlock(client, factory, factory.user("super_admin"), operator).status_code == 200
        assert attempt(client, operator.email, PASSWORD).status_code == 200


def test_lock_is_audited_once_per_lock(client, operator):
    with frozen_clock():
        fail(client, operator.email, 10)
        attempt(client, operator.email)
    assert AuditEvent.objects(type="login.failure").count() == 10
    locks = AuditEvent.objects(type="account.locked")
    assert locks.count() == 1 and locks[0].target_id == str(operator.id)
    assert locks[0].details == {"scope": "login", "seconds": 60}


# The same rule for second-factor codes, invite tokens and reset tokens.

def test_ten_wrong_codes_in_a_row_lock_the_second_factor(client, factory, outbox):
    member = factory.user("client_user")
    with frozen_clock() as clock:
        for _ in range(2):  # a challenge dies after 5 wrong codes; the account count goes on
            token = attempt(client, member.email, PASSWORD).json["twoFactorToken"]
            for _ in range(5):
                assert verify_otp(client, wrong(last_otp(outbox, member)), token=token).status_code == 401
        token = attempt(client, member.email, PASSWORD).json["twoFactorToken"]
        locked = verify_otp(client, last_otp(outbox, member), token=token)
        # flask-limiter raises Retry-After to the per-IP window's end when that is later.
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 60
        assert Lockout.locked_for(f"2fa:{member.id}") == 60
        clock.shift(60)
        assert verify_otp(client, last_otp(outbox, member), token=token).status_code == 200


def test_a_right_code_resets_the_second_factor_count(client, factory, outbox):
    member = factory.user("client_user")
    with frozen_clock():
        for _ in range(3):
            token = attempt(client, member.email, PASSWORD).json["twoFactorToken"]
            for _ in range(4):
                verify_otp(client, wrong(last_otp(outbox, member)), token=token)
            assert verify_otp(client, last_otp(outbox, member), token=token).status_code == 200
    assert not Lockout.objects(key=f"2fa:{member.id}").first()


def test_guessing_invite_tokens_locks_the_client_not_everyone(client, factory):
    invite, token = factory.invite(factory.user("super_admin"), "operator")
    with frozen_clock() as clock:
        for n in range(10):
            assert client.get(f"/api/invites/details/guess-{n}").status_code == 404
        locked = client.get(f"/api/invites/details/{token}")
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 60
        accept = client.post("/api/invites/accept", json={"token": token, "firstName": "Ada", "lastName": "Lovelace",
                                                          "password": "Lantern-Quartz-Orbit-7"})
        assert accept.status_code == 429
        other = client.get(f"/api/invites/details/{token}", environ_base={"REMOTE_ADDR": "10.9.9.9"})
        assert other.status_code == 200
        clock.shift(60)
        assert client.get(f"/api/invites/details/{token}").status_code == 200


def test_wrong_invite_accepts_count_as_guesses(client):
    body = {"firstName": "Ada", "lastName": "Lovelace", "password": "Lantern-Quartz-Orbit-7"}
    with frozen_clock():
        for n in range(10):
            assert client.post("/api/invites/accept", json={"token": f"guess-{n}", **body}).status_code == 404
        assert client.post("/api/invites/accept", json={"token": "guess-x", **body}).status_code == 429


def test_guessing_reset_tokens_locks_the_client(app, client):
    app.config["RATELIMIT_PASSWORD_RESET"] = "100 per hour"
    with frozen_clock():
        for n in range(10):
            response = client.post("/api/auth/reset-password",
                                   json={"token": f"guess-{n}", "password": "Lantern-Quartz-Orbit-7"})
            assert response.status_code == 410
        locked = client.post("/api/auth/reset-password", json={"token": "x", "password": "Lantern-Quartz-Orbit-7"})
        assert locked.status_code == 429 and locked.headers["Retry-After"]


# The counter itself.

def test_failures_count_atomically_and_lock_once(app):
    now = utcnow()
    args = dict(threshold=3, delays=(60, 300), memory=app.config["LOCKOUT_MEMORY"], now=now)
    results = [Lockout.record_failure("k", **args) for _ in range(3)]
    assert results == [0, 0, 60]
    record = Lockout.objects.get(key="k")
    assert record.failures == 0 and record.level == 1
    # A worker that counted the same failures but lost the race does not lock again.
    Lockout.objects(key="k").update_one(set__failures=3)
    assert Lockout.objects(key="k", level=0).modify(set__failures=0) is None
    assert Lockout.locked_for("k", now) == 60


def test_lockout_collection_has_a_ttl_index(app):
    info = Lockout._get_collection().index_information()
    assert any(spec.get("expireAfterSeconds") == 0 and spec["key"][0][0] == "expiresAt" for spec in info.values())


def test_current_password_rechecks_count_toward_the_lockout_and_are_audited(client, factory):
    """12 wrong currentPasswords on TOTP setup, then the right one, used to give 200: now the account locks."""
    user = factory.user("operator")
    headers = factory.headers(user)

    def setup(password):
        return client.post("/api/auth/totp/setup", json={"currentPassword": password}, headers=headers)

    statuses = [setup("Wrong-Password-1").status_code for _ in range(12)]
    assert statuses[:10] == [422] * 10 and set(statuses[10:]) == {429}
    assert setup(PASSWORD).status_code == 429
    assert attempt(client, user.email, PASSWORD).status_code == 429  # the same lock as the login's
    failures = AuditEvent.objects(type="password.current_password_failure", target_id=str(user.id))
    assert failures.count() == 10 and failures.first().actor_id == str(user.id)
    assert AuditEvent.objects(type="account.locked", target_id=str(user.id)).count() == 1


@pytest.mark.parametrize("path, body", [
    ("/api/auth/change-password", {"newPassword": "Granite-Willow-Comet-58"}),
    ("/api/auth/recovery-codes", {}),
    ("/api/auth/two-factor", {"method": "none"}),
])
def test_every_current_password_check_is_counted(client, factory, path, body):
    user = factory.user("operator")
    method = client.put if path.endswith("two-factor") else client.post
    response = method(path, json={**body, "currentPassword": "Wrong-Password-1"}, headers=factory.headers(user))
    assert response.status_code == 422
    assert AuditEvent.objects(type="password.current_password_failure", target_id=str(user.id)).count() == 1
    assert Lockout.objects.count() == 1
