"""The lists read projected raw rows, and answer exactly what dumping the full Documents answers."""
import json
from datetime import timedelta

from user_management.models import AuditEvent, Invite, User
from user_management.models import audit_event as events
from user_management.schemas.audit import AuditEventSchema
from user_management.schemas.responses import InviteSchema, UserSchema
from user_management.services import audit
from user_management.utils.timeutil import utcnow


def as_json(value):
    return json.loads(json.dumps(value))


def documents_dump(schema, documents):
    return as_json(schema(many=True).dump(documents))


def test_the_invite_list_answers_what_the_documents_answer(client, factory):
    staff = factory.user("super_admin", email="boss@example.test")
    organization = factory.organization()
    factory.invite(staff, "client_admin", organization=organization)
    factory.invite(staff, "operator", expires_at=utcnow() - timedelta(days=1))
    revoked, _ = factory.invite(staff, "site_admin")
    Invite.objects(id=revoked.id).update_one(set__status="revoked", set__revoked_at=utcnow(), set__send_count=3)
    Invite._get_collection().update_one({"_id": revoked.id}, {"$unset": {"emailStatus": 1}})  # an older document
    answer = client.get("/api/invites/list?limit=50", headers=factory.headers(staff))
    assert answer.status_code == 200
    documents = list(Invite.objects(invited_by=staff).order_by("-created_at", "-id").select_related())
    assert answer.json["invites"] == documents_dump(InviteSchema, documents)
    assert {invite["status"] for invite in answer.json["invites"]} == {"pending", "expired", "revoked"}
    assert {invite["emailStatus"] for invite in answer.json["invites"]} == {"queued"}  # the default, as before


def test_the_member_list_answers_what_the_documents_answer(client, factory):
    admin = factory.user("client_admin")
    organization = admin.organization
    factory.user("client_user", organization=organization, totp_enabled=True, last_login_at=utcnow())
    factory.user("client_user", organization=organization, is_active=False, two_factor_method="totp")
    User._get_collection().update_one({"_id": admin.id}, {"$unset": {"isActive": 1, "totpEnabled": 1}})
    answer = client.get("/api/organization/members?limit=50", headers=factory.headers(admin))
    assert answer.status_code == 200
    documents = list(User.objects(organization=organization).order_by("created_at", "id"))
    assert answer.json["members"] == documents_dump(UserSchema, documents)
    assert all("password" not in json.dumps(member).lower() for member in answer.json["members"])


def test_the_audit_list_answers_what_the_documents_answer_redactions_included(app, client, factory):
    staff = factory.user("super_admin")
    admin = factory.user("client_admin")
    with app.test_request_context(headers={"User-Agent": "pytest"}):
        audit.record(events.USER_DEACTIVATED, actor=staff, target=admin, details={"reason": "test"})
        audit.record(events.INVITE_CREATED, actor=admin, target=admin)
    for viewer in (staff, admin):
        answer = client.get("/api/audit?limit=50", headers=factory.headers(viewer))
        assert answer.status_code == 200
        query = AuditEvent.objects(expires_at__gt=utcnow())
        if viewer is admin:
            query = query.filter(organization_id=admin.organization_id)
        expected = documents_dump(AuditEventSchema, list(query.order_by("-created_at", "-id")))
        if viewer is admin:  # what the redaction of outsiders makes of the staff actor
            for event in expected:
                if event["actor"] and event["actor"]["id"] == str(staff.id):
                    event["actor"] = {"id": None, "email": None, "role": "super_admin"}
                    event["ip"] = event["userAgent"] = None
        assert answer.json["events"] == expected


def test_the_profile_answers_what_the_document_answers(client, factory):
    user = factory.user("client_user", totp_enabled=True, last_login_at=utcnow())
    answer = client.get("/api/auth/profile", headers=factory.headers(user))
    assert answer.json == {"success": True, "user": as_json(UserSchema().dump(User.objects.get(id=user.id)))}


def test_the_user_list_answers_what_the_documents_answer(client, factory):
    staff = factory.user("super_admin")
    member = factory.user("client_user", totp_enabled=True, last_login_at=utcnow())
    factory.user("operator", is_active=False)
    answer = client.get("/api/users?limit=50", headers=factory.headers(staff))
    assert answer.status_code == 200
    documents = list(User.objects.order_by("-created_at", "-id"))
    expected = documents_dump(UserSchema, documents)
    for user in expected:
        user["locked"] = False
        user["organizationName"] = member.organization.name if user["id"] == str(member.id) else None
    assert answer.json["users"] == expected
