"""The security audit log: what is recorded, never a secret, who reads what, filters, retention."""
import json
from datetime import timedelta

import pytest
import time_machine

from user_management.models import AuditEvent, Organization
from user_management.schemas.audit import AuditEventSchema
from user_management.services import audit
from user_management.utils.timeutil import utcnow

from support.factory import PASSWORD
from support.two_factor import bearer, frozen_clock, last_otp, login, verify_otp, wrong

NEW_PASSWORD = "Velvet-Tractor-Orbit-9"


def events(client, factory, caller, **params):
    return client.get("/api/audit", query_string=params, headers=factory.headers(caller))


def types():
    return [event.type for event in AuditEvent.objects.order_by("created_at", "id")]


def test_login_success_and_failure_carry_client_and_request(client, factory):
    user = factory.user("operator")
    client.post("/api/auth/login", json={"email": user.email, "password": "Wrong-Password-1"},
                headers={"User-Agent": "probe/1.0", "X-Request-ID": "req-audit-1"},
                environ_base={"REMOTE_ADDR": "10.2.3.4"})
    ok = client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    failure, success = AuditEvent.objects.order_by("created_at", "id")
    assert (failure.type, failure.target_id, failure.actor_id) == ("login.failure", str(user.id), None)
    assert (failure.ip, failure.user_agent, failure.request_id) == ("10.2.3.4", "probe/1.0", "req-audit-1")
    assert success.type == "login.success" and success.actor_id == success.target_id == str(user.id)
    assert success.request_id == ok.headers["X-Request-ID"]


def test_unknown_email_failure_keeps_only_a_hash(client):
    client.post("/api/auth/login", json={"email": "nobody@example.test", "password": "Wrong-Password-1"})
    event = AuditEvent.objects.get()
    assert event.target_id is None and "nobody" not in json.dumps(AuditEventSchema().dump(event))
    assert len(event.details["emailHash"]) == 64


def test_every_flow_is_recorded_and_no_secret_ever_is(client, factory, outbox):
    admin = factory.user("super_admin")
    member = factory.user("client_admin")
    # second factor: one wrong code, then the right one
    challenge = login(client, member.email).json["twoFactorToken"]
    code = last_otp(outbox, member)
    verify_otp(client, wrong(code), token=challenge)
    session = verify_otp(client, code, token=challenge).json
    # refresh reuse
    rotated = client.post("/api/auth/refresh", json={"refreshToken": session["refreshToken"]}).json
    client.post("/api/auth/refresh", json={"refreshToken": session["refreshToken"]})
    # organization method, invites, users
    headers = factory.headers(member)
    client.put("/api/organization", json={"twoFactorMethod": "totp"}, headers=headers)
    invite = client.post("/api/invites/create", json={"email": "new@example.test", "role": "client_user"},
                         headers=headers).json["invite"]
    with time_machine.travel(utcnow().timestamp() + 61):  # one e-mail per invite and minute
        client.post(f"/api/invites/{invite['id']}/resend", headers=factory.headers(member))
    client.delete(f"/api/invites/{invite['id']}/revoke", headers=headers)
    _, token = factory.invite(admin, "operator")
    accepted = client.post("/api/invites/accept", json={"token": token, "firstName": "Ada", "lastName": "Lovelace",
                                                       "password": NEW_PASSWORD}).json["user"]
    client.patch(f"/api/users/{accepted['id']}/status", json={"isActive": False}, headers=factory.headers(admin))
    client.patch(f"/api/users/{accepted['id']}/status", json={"isActive": True}, headers=factory.headers(admin))
    client.post(f"/api/users/{member.id}/reset-two-factor", headers=factory.headers(admin))
    # passwords and logout-all
    operator = factory.user("operator")
    changed = client.post("/api/auth/change-password", json={"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD},
                          headers=factory.headers(operator)).json
    client.post("/api/auth/logout-all", headers=bearer(changed["accessToken"]))

    recorded = set(types())
    assert {"two_factor.failure", "two_factor.success", "login.success", "refresh_token.reuse_detected",
            "organization.two_factor_method_changed", "invite.created", "invite.resent", "invite.revoked",
            "invite.accepted", "user.deactivated", "user.reactivated", "two_factor.reset", "password.changed",
            "logout.all"} <= recorded
    dumped = json.dumps(AuditEventSchema(many=True).dump(AuditEvent.objects))
    for secret in (PASSWORD, NEW_PASSWORD, code, token, session["refreshToken"], session["accessToken"],
                   rotated["refreshToken"], changed["accessToken"]):
        assert secret not in dumped
    assert AuditEvent.objects.get(type="organization.two_factor_method_changed").details == {"from": "otp", "to": "totp"}
    revoked = AuditEvent.objects.get(type="invite.revoked")
    assert revoked.organization_id == member.organization_id and revoked.details["email"] == "new@example.test"


def test_password_reset_is_recorded(app, client, factory, outbox):
    app.config["FORGOT_PASSWORD_MIN_SECONDS"] = 0
    user = factory.user("operator")
    client.post("/api/auth/forgot-password", json={"email": user.email})
    link = outbox("password-reset", to=user.email)[-1].context["link"]
    token = link.split("token=")[1]
    assert client.post("/api/auth/reset-password", json={"token": token, "password": NEW_PASSWORD}).status_code == 200
    event = AuditEvent.objects.get(type="password.reset")
    assert event.target_id == str(user.id) and token not in json.dumps(AuditEventSchema().dump(event))


def test_record_works_outside_a_request(app):
    event = audit.record("user.unlocked", details={"password": "x", "note": "cli"})
    assert event.ip is None and event.user_agent is None and event.request_id is None
    assert event.details == {"note": "cli"}


def test_a_failing_write_does_not_fail_the_action(client, factory, monkeypatch):
    user = factory.user("operator")
    monkeypatch.setattr(AuditEvent, "save", lambda self, *a, **k: (_ for _ in ()).throw(RuntimeError("db down")))
    assert login(client, user.email).status_code == 200


# Who reads what.

@pytest.fixture
def two_orgs(client, factory):
    """Failed logins of one member in each of two organizations, and of a staff user."""
    a, b = factory.user("client_admin"), factory.user("client_admin")
    a_member = factory.user("client_user", organization=a.organization)
    b_member = factory.user("client_user", organization=b.organization)
    staff = factory.user("operator")
    for user in (a_member, b_member, staff):
        login(client, user.email, "Wrong-Password-1")
    return a, b, a_member, b_member, staff


@pytest.mark.parametrize("role", ["super_admin", "site_admin"])
def test_super_and_site_admins_read_everything(client, factory, two_orgs, role):
    response = events(client, factory, factory.user(role))
    assert response.status_code == 200 and response.json["success"] is True
    assert response.json["pagination"] == {"page": 1, "limit": 20, "total": 3, "pages": 1}


def test_client_admin_reads_its_organization_only(client, factory, two_orgs):
    a, b, a_member, b_member, _ = two_orgs
    body = events(client, factory, a).json
    assert [e["target"]["id"] for e in body["events"]] == [str(a_member.id)]
    assert all(e["organization"] == a.organization_id for e in body["events"])
    # Asking for another organization's user finds nothing rather than an error.
    assert events(client, factory, a, user=str(b_member.id)).json["events"] == []


@pytest.mark.parametrize("role", ["operator", "client_user"])
def test_other_roles_are_refused(client, factory, role):
    assert events(client, factory, factory.user(role)).status_code == 403


def test_anonymous_is_401(client):
    assert client.get("/api/audit").status_code == 401


# Filters, pages, shape.

def test_filters_by_type_user_and_time(client, factory):
    admin = factory.user("super_admin")
    user, other = factory.user("operator"), factory.user("operator")
    with time_machine.travel("2030-01-01T10:00:00Z", tick=False) as clock:
        login(client, user.email, "Wrong-Password-1")
        clock.shift(3600)
        login(client, user.email)
        clock.shift(3600)
        login(client, other.email)
        assert [e["type"] for e in events(client, factory, admin, user=str(user.id)).json["events"]] == [
            "login.success", "login.failure"]
        assert events(client, factory, admin, type="login.failure").json["pagination"]["total"] == 1
        window = events(client, factory, admin, **{"from": "2030-01-01T10:30:00Z", "to": "2030-01-01T11:30:00Z"})
        assert [e["target"]["id"] for e in window.json["events"]] == [str(user.id)]
        offset = events(client, factory, admin, **{"from": "2030-01-01T12:30:00+01:00"})  # 11:30Z
        assert [e["target"]["id"] for e in offset.json["events"]] == [str(other.id)]


def test_pages_like_the_invite_list(client, factory):
    admin = factory.user("super_admin")
    user = factory.user("operator")
    for _ in range(5):
        login(client, user.email, "Wrong-Password-1", environ_base={"REMOTE_ADDR": "10.0.0.1"})
    body = events(client, factory, admin, page=2, limit=2).json
    assert body["pagination"] == {"page": 2, "limit": 2, "total": 5, "pages": 3} and len(body["events"]) == 2
    event = body["events"][0]
    assert set(event) == {"id", "type", "actor", "target", "organization", "ip", "userAgent", "requestId",
                          "details", "createdAt"}


@pytest.mark.parametrize("params", [
    {"type": "nonsense"}, {"from": "yesterday"}, {"to": "2030-13-01T00:00:00Z"}, {"limit": 0}, {"page": "x"},
    {"from": "2030-01-02T00:00:00Z", "to": "2030-01-01T00:00:00Z"}, {"unknown": "1"},
])
def test_bad_query_is_422(client, factory, params):
    assert events(client, factory, factory.user("super_admin"), **params).status_code == 422


# Retention.

def test_events_expire_after_the_retention(app, client, factory):
    admin = factory.user("super_admin")
    login(client, factory.user("operator").email, "Wrong-Password-1")
    event = AuditEvent.objects.get()
    assert event.expires_at - event.created_at == timedelta(days=365)
    app.config["AUDIT_RETENTION_DAYS"] = 1
    with frozen_clock() as clock:
        login(client, factory.user("operator").email, "Wrong-Password-1")
        clock.shift(2 * 24 * 3600)
        listed = events(client, factory, admin).json["events"]
        assert len(listed) == 1 and listed[0]["id"] == str(event.id)


def test_audit_collection_has_a_ttl_index(app):
    info = AuditEvent._get_collection().index_information()
    assert any(spec.get("expireAfterSeconds") == 0 and spec["key"][0][0] == "expiresAt" for spec in info.values())


def test_a_client_admin_sees_staff_actors_only_as_a_role(client, factory):
    """A client_admin's audit view showed staff members' email, IP and user agent (issue 12, item 11)."""
    operator = factory.user("operator")
    created = client.post("/api/invites/create", json={"email": "boss@acme.test", "role": "client_admin",
                                                       "organizationName": "Acme"},
                          headers={**factory.headers(operator), "User-Agent": "staff-browser/1.0"},
                          environ_base={"REMOTE_ADDR": "10.9.8.7"}).json["invite"]
    organization = Organization.objects.get(id=created["organization"]["id"])
    boss = factory.user("client_admin", organization=organization)
    colleague = factory.user("client_user", organization=organization)
    client.post("/api/auth/login", json={"email": colleague.email, "password": "Wrong-Password-1"},
                headers={"User-Agent": "colleague/2.0"})
    events = client.get("/api/audit", headers=factory.headers(boss)).json["events"]
    by_type = {event["type"]: event for event in events}
    staff_event = by_type["invite.created"]
    assert staff_event["actor"] == {"id": None, "email": None, "role": "operator"}
    assert staff_event["ip"] is None and staff_event["userAgent"] is None
    assert operator.email not in json.dumps(events) and str(operator.id) not in json.dumps(events)
    member_event = by_type["login.failure"]
    assert member_event["target"] == {"id": str(colleague.id), "email": colleague.email}
    assert member_event["userAgent"] == "colleague/2.0"
    # Staff still see everything.
    admin_view = client.get("/api/audit", headers=factory.headers(factory.user("super_admin"))).json["events"]
    staff_seen = next(event for event in admin_view if event["type"] == "invite.created")
    assert staff_seen["actor"] == {"id": str(operator.id), "email": operator.email}
    assert staff_seen["ip"] == "10.9.8.7" and staff_seen["userAgent"] == "staff-browser/1.0"
