"""A crash between any two writes of accepting or creating an invite blocks nothing; the retry succeeds.

`crash` stands in for a worker dying mid-request: after the first `n` writes reach the
database, every later write fails (pymongo's AutoReconnect), so nothing the request
would still have written, rollback attempts included, gets written. Each test first
counts the writes of an undisturbed run, then crashes after each of them in turn, lets
RECOVERY_LEASE pass, retries, and checks the end state a user depends on.
"""
from urllib.parse import parse_qs, urlparse

import mongomock.collection
import pytest
import time_machine
from pymongo.errors import AutoReconnect

from user_management.models import AuditEvent, EmailOutbox, Invite, Organization, User
from user_management.models.audit_event import INVITE_ACCEPTED
from user_management.utils.timeutil import utcnow

WRITES = ("insert_one", "insert_many", "update_one", "update_many", "replace_one", "delete_one", "delete_many",
          "find_one_and_update", "find_one_and_replace", "find_one_and_delete", "bulk_write")
FIRST_PASSWORD = "Fresh-Start-2024"
RETRY_PASSWORD = "Second-Wind-2025"


class Crash:
    """Counts database writes; after `allow(n)`, every write past the n-th fails as if the process had died."""

    def __init__(self):
        self.count = 0
        self.limit = None

    def allow(self, limit):
        """Let `limit` more writes through, then fail every write."""
        self.count, self.limit = 0, limit

    def off(self):
        """Stop failing (the process was restarted); keep counting."""
        self.count, self.limit = 0, None

    def guard(self, name, method):
        """Wrap one Collection write method."""

        def write(collection, *args, **kwargs):
            if self.limit is not None and self.count >= self.limit:
                raise AutoReconnect(f"injected crash before write {self.count + 1} ({name})")
            result = method(collection, *args, **kwargs)
            self.count += 1
            return result

        return write


@pytest.fixture
def crash(monkeypatch):
    """The write counter and crash switch, wrapped around every mongomock write."""
    switch = Crash()
    for name in WRITES:
        monkeypatch.setattr(mongomock.collection.Collection, name, switch.guard(name, getattr(mongomock.collection.Collection, name)))
    return switch


def after_the_lease(app):
    """Travel past RECOVERY_LEASE, as a retry a while after the crash would."""
    return time_machine.travel(utcnow().timestamp() + app.config["RECOVERY_LEASE"].total_seconds() + 1, tick=True)


def accept(client, token, password):
    return client.post("/api/invites/accept",
                       json={"token": token, "firstName": "Ada", "lastName": "Lovelace", "password": password})


def create(client, headers, email, organization_name="Acme"):
    return client.post("/api/invites/create", headers=headers,
                       json={"email": email, "role": "client_admin", "organizationName": organization_name})


def live_invite_emails(email):
    """Invite emails to `email` that were not cancelled (a cancelled one belonged to a discarded draft)."""
    return [row for row in EmailOutbox.objects(to=email, template="invite").order_by("created_at")
            if row.last_error != "cancelled"]


def token_of(row):
    return parse_qs(urlparse(row.context["link"]).query)["token"][0]


def writes_of(crash, action):
    """How many writes `action` makes when nothing fails."""
    crash.off()
    action()
    return crash.count


# --- accepting ---------------------------------------------------------------------------------

def test_accept_makes_several_writes(client, factory, crash):
    """The premise: accepting is several writes (invite, user, email, audit, ...), not one."""
    operator = factory.user("operator")
    _, token = factory.invite(operator, "client_admin", email="count@acme.test")
    assert writes_of(crash, lambda: accept(client, token, FIRST_PASSWORD)) >= 5


def test_a_crash_between_any_two_writes_of_accept_is_finished_by_a_retry(app, client, factory, crash):
    operator = factory.user("operator")
    _, probe = factory.invite(operator, "client_admin", email="probe@acme.test")
    total = writes_of(crash, lambda: accept(client, probe, FIRST_PASSWORD))
    for written in range(total):
        email = f"crash-{written}@acme.test"
        invite, token = factory.invite(operator, "client_admin", email=email)
        crash.allow(written)
        first = accept(client, token, FIRST_PASSWORD)
        crash.off()
        assert first.status_code == 503, (written, first.json)  # a JSON 503, never a 500

        with after_the_lease(app):
            retry = accept(client, token, RETRY_PASSWORD)
            assert retry.status_code == 201, (written, retry.json)
            again = accept(client, token, RETRY_PASSWORD)
            assert again.status_code == 410, (written, again.json)

        [user] = User.objects(email=email)
        assert retry.json["user"]["id"] == str(user.id) == str(invite.id)
        assert user.organization_id == invite.reference_id("organization")
        login = client.post("/api/auth/login", json={"email": email, "password": RETRY_PASSWORD})
        assert login.status_code == 200, (written, login.json)
        invite.reload()
        assert invite.status == "accepted" and invite.accepted_user.id == user.id
        assert invite.pending_account is None  # the stored password hash is gone
        accepted_emails = EmailOutbox.objects(to=operator.email, template="invite-accepted", context__email=email)
        assert accepted_emails.count() == 1, written
        audit = AuditEvent.objects(type=INVITE_ACCEPTED, target_id=str(user.id))
        assert audit.count() == 1, written


def test_a_retry_right_after_a_crash_waits_for_the_lease(app, client, factory, crash):
    """Until RECOVERY_LEASE passes, a crashed acceptance looks like one in progress: 410, nothing written."""
    operator = factory.user("operator")
    _, token = factory.invite(operator, "client_admin", email="soon@acme.test")
    crash.allow(1)  # the invite is accepted, the user not yet created
    assert accept(client, token, FIRST_PASSWORD).status_code == 503
    crash.off()
    early = accept(client, token, RETRY_PASSWORD)
    assert early.status_code == 410 and "try again in a minute" in early.json["message"]
    assert User.objects(email="soon@acme.test").count() == 0
    assert client.get(f"/api/invites/details/{token}").status_code == 410
    with after_the_lease(app):
        # The accept page (which asks for the details first) offers the retry too.
        assert client.get(f"/api/invites/details/{token}").status_code == 200
        assert accept(client, token, RETRY_PASSWORD).status_code == 201


def test_an_acceptance_in_progress_cannot_be_taken_over(app, client, factory, crash):
    """Before the lease passes a second accept does not race the first: exactly one account, the first's password."""
    operator = factory.user("operator")
    invite, token = factory.invite(operator, "client_admin", email="slow@acme.test")
    crash.allow(1)
    accept(client, token, FIRST_PASSWORD)
    crash.off()
    assert accept(client, token, RETRY_PASSWORD).status_code == 410
    assert invite.reload().pending_account is not None


# --- creating a client_admin invite (organization, then invite) --------------------------------

def test_a_crash_between_any_two_writes_of_create_blocks_no_retry(app, client, factory, crash):
    operator = factory.user("operator")
    headers = factory.headers(operator)
    total = writes_of(crash, lambda: create(client, headers, "probe@acme.test", "Probe Corp"))
    assert total >= 5
    for written in range(total):
        email, name = f"boss-{written}@acme.test", f"Crash Corp {written}"
        crash.allow(written)
        first = create(client, headers, email, name)
        crash.off()
        assert first.status_code == 503, (written, first.json)

        with after_the_lease(app):
            retry = create(client, headers, email, name)
            if retry.status_code == 409:
                # Only once the invite was confirmed (its email already queued) is a retry a duplicate.
                assert retry.json["message"] == "A pending invite for this email already exists", written
            else:
                assert retry.status_code == 201, (written, retry.json)

            [invite] = Invite.objects(email=email)  # one invite: a draft left by the crash was discarded
            assert invite.status == "pending" and invite.draft_until is None, written
            [organization] = Organization.objects(name_key=name.lower())
            assert invite.reference_id("organization") == str(organization.id), written
            [email_row] = live_invite_emails(email)  # the discarded draft's email was cancelled
            accepted = accept(client, token_of(email_row), FIRST_PASSWORD)
            assert accepted.status_code == 201, (written, accepted.json)
        assert User.objects.get(email=email).organization_id == str(organization.id)
        assert organization.reload().provisional_until is None, written


def test_an_abandoned_organization_is_taken_over_by_another_address(app, client, factory, crash):
    """The name an abandoned creation held is free again for a different invitee once the lease passes."""
    operator = factory.user("operator")
    headers = factory.headers(operator)
    crash.allow(2)  # retire_expired, organization inserted; the invite never written
    assert create(client, headers, "first@acme.test", "Phoenix").status_code == 503
    crash.off()
    assert create(client, headers, "second@acme.test", "Phoenix").status_code == 409  # still within the lease
    with after_the_lease(app):
        response = create(client, headers, "second@acme.test", "Phoenix")
    assert response.status_code == 201, response.json
    assert Organization.objects(name_key="phoenix").count() == 1
    assert response.json["invite"]["organization"]["name"] == "Phoenix"


def test_an_organization_in_use_is_never_taken_over(app, client, factory):
    """A provisional organization whose invite went out (crash before confirming it) keeps its name."""
    operator = factory.user("operator")
    response = create(client, factory.headers(operator), "kept@acme.test", "Keeper")
    assert response.status_code == 201
    organization = Organization.objects.get(name_key="keeper")
    organization.update(set__provisional_until=utcnow())  # as if the confirmation had been lost
    with after_the_lease(app):
        again = create(client, factory.headers(operator), "other@acme.test", "Keeper")
    assert again.status_code == 409
    assert Invite.objects.get(email="kept@acme.test").reference_id("organization") == str(organization.id)


def test_a_draft_invite_cannot_be_accepted(client, factory):
    """An invite whose email was not confirmed queued is not usable (the link of a crashed create)."""
    operator = factory.user("operator")
    _, token = factory.invite(operator, "client_admin", email="draft@acme.test", draft_until=utcnow())
    assert client.get(f"/api/invites/details/{token}").status_code == 410
    assert accept(client, token, FIRST_PASSWORD).status_code == 410
    assert User.objects(email="draft@acme.test").count() == 0
