"""Paging never repeats or skips an item, even when many share one timestamp.

A real MongoDB returns documents whose sort keys tie in no particular order, and may
return them differently for each page's query; mongomock sorts stably and would hide a
missing tiebreaker. `shuffled_ties` makes mongomock behave like the server: every
query sees the collection in a new random order before sorting.
"""
import random
from datetime import timedelta

import mongomock.collection
import pytest

from user_management.models import AuditEvent, Invite, User
from user_management.utils.timeutil import utcnow

COUNT = 23
PAGE = 5


@pytest.fixture
def shuffled_ties(monkeypatch):
    """Every mongomock query iterates the collection in a fresh random order (so ties come back shuffled)."""
    shuffle = random.Random(1234).shuffle
    iterate = mongomock.collection.Collection._iter_documents

    def shuffled(self, filter):
        documents = list(iterate(self, filter))
        shuffle(documents)
        return iter(documents)

    monkeypatch.setattr(mongomock.collection.Collection, "_iter_documents", shuffled)


def pages(client, path, key, headers):
    """Every id of every page of a list endpoint, in the order served."""
    seen = []
    page = 1
    while True:
        response = client.get(f"{path}?page={page}&limit={PAGE}", headers=headers)
        assert response.status_code == 200, response.json
        seen += [item["id"] for item in response.json[key]]
        if page >= response.json["pagination"]["pages"]:
            return seen
        page += 1


def test_the_store_really_returns_ties_in_a_different_order_each_time(app, factory, shuffled_ties):
    """Without a tiebreaker two identical queries disagree: the test store is as unhelpful as the server."""
    organization = factory.organization()
    moment = utcnow()
    for _ in range(COUNT):
        factory.user("client_user", organization=organization, created_at=moment)
    orders = {tuple(u.id for u in User.objects(organization=organization).order_by("created_at")) for _ in range(5)}
    assert len(orders) > 1


def test_members_page_through_without_repeats_or_gaps(client, factory, shuffled_ties):
    admin = factory.user("client_admin")
    moment = utcnow()
    members = [factory.user("client_user", organization=admin.organization, created_at=moment) for _ in range(COUNT)]
    admin.update(set__created_at=moment)
    seen = pages(client, "/api/organization/members", "members", factory.headers(admin))
    expected = {str(user.id) for user in members} | {str(admin.id)}
    assert len(seen) == len(set(seen)) == len(expected)
    assert set(seen) == expected
    # Oldest first, then by id: the same order on every run.
    assert seen == sorted(expected)


def test_invites_page_through_without_repeats_or_gaps(client, factory, shuffled_ties):
    operator = factory.user("operator")
    moment = utcnow()
    invites = [factory.invite(operator, "client_admin", created_at=moment)[0] for _ in range(COUNT)]
    seen = pages(client, "/api/invites/list", "invites", factory.headers(operator))
    assert len(seen) == len(set(seen)) == COUNT
    assert set(seen) == {str(invite.id) for invite in invites}
    assert seen == sorted(seen, reverse=True)  # newest first, then by id


def test_audit_events_page_through_without_repeats_or_gaps(client, app, factory, shuffled_ties):
    admin = factory.user("super_admin")
    moment = utcnow()
    for index in range(COUNT):
        AuditEvent(type="login.success", actor_id=str(admin.id), details={"n": index}, created_at=moment,
                   expires_at=moment + timedelta(days=1)).save()
    seen = pages(client, "/api/audit", "events", factory.headers(admin))
    assert len(seen) == len(set(seen)) == COUNT
    assert set(seen) == {str(event.id) for event in AuditEvent.objects}


def test_without_the_tiebreaker_the_same_paging_repeats_and_skips(app, factory, shuffled_ties):
    """The failure the tiebreaker prevents, shown on the raw query: pages overlap and miss items."""
    operator = factory.user("operator")
    moment = utcnow()
    for _ in range(COUNT):
        factory.invite(operator, "client_admin", created_at=moment)
    attempts = []
    for _ in range(5):
        seen = []
        for page in range(0, COUNT, PAGE):
            seen += [i.id for i in Invite.objects(invited_by=operator).order_by("-created_at").skip(page).limit(PAGE)]
        attempts.append(len(set(seen)))
    assert min(attempts) < COUNT
