"""Invites: the role hierarchy, single use, expiry, revocation, resend, listing."""
import threading
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine

from notifications.schemas import SendEmailSchema
from servicekit.errors import wait_in_words
from user_management.models import Invite, Organization, User
from user_management.utils.roles import INVITABLE_ROLES, ROLES
from user_management.utils.timeutil import utcnow

ALL_PAIRS = [(inviter, invitee) for inviter in ROLES for invitee in ROLES]


def create(client, headers, email, role, organization_name=None):
    body = {"email": email, "role": role}
    if organization_name:
        body["organizationName"] = organization_name
    return client.post("/api/invites/create", json=body, headers=headers)


def accept(client, token, password="Fresh-Start-2024", first="Ada", last="Lovelace"):
    return client.post("/api/invites/accept",
                       json={"token": token, "firstName": first, "lastName": last, "password": password})


def token_from_email(outbox, email):
    link = outbox("invite", to=email)[-1].context["link"]
    return parse_qs(urlparse(link).query)["token"][0]


@pytest.mark.parametrize("inviter_role, invitee_role", ALL_PAIRS)
def test_role_hierarchy_decides_who_may_invite_whom(client, factory, inviter_role, invitee_role):
    inviter = factory.user(inviter_role)
    response = create(client, factory.headers(inviter), "new@example.test", invitee_role, "New Org")
    allowed = invitee_role in INVITABLE_ROLES[inviter_role]
    assert response.status_code == (201 if allowed else 403), response.json
    assert Invite.objects(email="new@example.test").count() == (1 if allowed else 0)


def test_expected_hierarchy():
    assert INVITABLE_ROLES == {
        "super_admin": ("site_admin", "operator", "client_admin"),
        "site_admin": ("operator", "client_admin"),
        "operator": ("client_admin",),
        "client_admin": ("client_user",),
        "client_user": (),
    }


def test_inviting_client_admin_creates_the_organization(client, factory, outbox):
    operator = factory.user("operator")
    response = create(client, factory.headers(operator), "Boss@Acme.test", "client_admin", "Acme Corp")
    assert response.status_code == 201
    invite = response.json["invite"]
    assert invite["email"] == "boss@acme.test" and invite["status"] == "pending"
    organization = Organization.objects.get(name="Acme Corp")
    assert invite["organization"] == {"id": str(organization.id), "name": "Acme Corp"}
    assert organization.two_factor_method == "otp"
    assert "token" not in invite and "tokenHash" not in invite


def test_client_admin_invite_needs_an_organization_name(client, factory):
    operator = factory.user("operator")
    response = create(client, factory.headers(operator), "x@acme.test", "client_admin")
    assert response.status_code == 422 and "organizationName" in response.json["errors"]


def test_organization_name_must_be_unique(client, factory):
    factory.organization(name="Acme")
    operator = factory.user("operator")
    response = create(client, factory.headers(operator), "x@acme.test", "client_admin", "ACME")
    assert response.status_code == 409


def test_client_user_joins_the_inviters_organization(client, factory):
    admin = factory.user("client_admin")
    response = create(client, factory.headers(admin), "worker@acme.test", "client_user")
    assert response.status_code == 201
    assert response.json["invite"]["organization"]["id"] == admin.organization_id


def test_invite_email_carries_a_link_with_a_long_random_token(client, app, factory, outbox):
    operator = factory.user("operator")
    create(client, factory.headers(operator), "boss@acme.test", "client_admin", "Acme")
    [email] = outbox("invite", to="boss@acme.test")
    link = email.context["link"]
    assert link.startswith(f"{app.config['FRONTEND_URL']}/accept-invite?token=")
    token = token_from_email(outbox, "boss@acme.test")
    assert len(token) >= 43
    assert Invite.objects.get(email="boss@acme.test").token_hash != token


def test_notifications_down_keeps_the_email_and_still_answers(client, factory, outbox):
    operator = factory.user("operator")
    response = create(client, factory.headers(operator), "boss@acme.test", "client_admin", "Acme")
    assert response.status_code == 201
    [email] = outbox("invite")
    assert email.status == "pending" and email.attempts == 1 and email.last_error


def test_existing_account_or_pending_invite_is_a_conflict(client, factory):
    operator = factory.user("operator")
    taken = factory.user("client_admin")
    headers = factory.headers(operator)
    assert create(client, headers, taken.email, "client_admin", "Other").status_code == 409
    assert create(client, headers, "twice@acme.test", "client_admin", "One").status_code == 201
    again = create(client, headers, "twice@acme.test", "client_admin", "Two")
    assert again.status_code == 409
    assert Organization.objects(name="Two").count() == 0


def test_expired_invite_does_not_block_a_new_one(client, factory):
    operator = factory.user("operator")
    factory.invite(operator, "client_admin", email="late@acme.test", expires_at=utcnow())
    assert create(client, factory.headers(operator), "late@acme.test", "client_admin", "Late").status_code == 201


def test_details_of_a_pending_invite(client, factory):
    operator = factory.user("operator")
    organization = factory.organization(name="Acme")
    _, token = factory.invite(operator, "client_admin", email="boss@acme.test", organization=organization)
    response = client.get(f"/api/invites/details/{token}")
    assert response.status_code == 200
    details = response.json["invite"]
    assert details["email"] == "boss@acme.test" and details["role"] == "client_admin"
    assert details["organizationName"] == "Acme" and details["invitedBy"] == operator.full_name
    assert details["expiresAt"].endswith("Z")


def test_details_unknown_expired_used_revoked(client, factory):
    operator = factory.user("operator")
    assert client.get("/api/invites/details/unknown-token").status_code == 404
    _, expired = factory.invite(operator, "client_admin", expires_at=utcnow())
    _, used = factory.invite(operator, "client_admin", status="accepted")
    _, revoked = factory.invite(operator, "client_admin", status="revoked")
    for token, word in ((expired, "expired"), (used, "used"), (revoked, "revoked")):
        response = client.get(f"/api/invites/details/{token}")
        assert response.status_code == 410 and word in response.json["message"]


def test_accept_creates_the_account_once(client, factory):
    operator = factory.user("operator")
    invite, token = factory.invite(operator, "client_admin", email="boss@acme.test")
    response = accept(client, token)
    assert response.status_code == 201
    user = User.objects.get(email="boss@acme.test")
    assert response.json["user"]["id"] == str(user.id)
    assert user.role == "client_admin" and user.organization_id == invite.reference_id("organization")
    assert invite.reload().status == "accepted" and invite.accepted_user.id == user.id
    assert client.post("/api/auth/login", json={"email": user.email, "password": "Fresh-Start-2024"}).status_code == 200
    second = accept(client, token)
    assert second.status_code == 410 and User.objects(email="boss@acme.test").count() == 1


def test_accept_expired_or_revoked_invite_is_410(client, factory):
    operator = factory.user("operator")
    _, token = factory.invite(operator, "client_admin")
    with time_machine.travel(utcnow().timestamp() + 7 * 24 * 3600 + 1):
        assert accept(client, token).status_code == 410
    _, revoked = factory.invite(operator, "client_admin", status="revoked")
    assert accept(client, revoked).status_code == 410
    assert accept(client, "no-such-token").status_code == 404
    assert User.objects(role="client_admin").count() == 0


def test_concurrent_accepts_create_exactly_one_user(app, factory):
    operator = factory.user("operator")
    _, token = factory.invite(operator, "client_admin", email="race@acme.test")
    barrier = threading.Barrier(8)
    statuses = []

    def attempt():
        with app.app_context():
            barrier.wait()
            statuses.append(accept(app.test_client(), token).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] + [410] * 7
    assert User.objects(email="race@acme.test").count() == 1


@pytest.mark.parametrize(
    "password, reason",
    [("short1A", "at least 8"), ("alllowercase1", "uppercase"), ("ALLUPPERCASE1", "lowercase"),
     ("NoDigitsHere", "digit"), ("A1a" * 50, "at most 128")],
)
def test_accept_enforces_the_password_policy(client, factory, password, reason):
    operator = factory.user("operator")
    invite, token = factory.invite(operator, "client_admin")
    response = accept(client, token, password=password)
    assert response.status_code == 422
    assert any(reason in message for message in response.json["errors"]["password"])
    assert invite.reload().status == "pending"


def test_accept_rejects_missing_names_and_unknown_fields(client, factory):
    operator = factory.user("operator")
    _, token = factory.invite(operator, "client_admin")
    response = client.post("/api/invites/accept", json={"token": token, "password": "Fresh-Start-2024",
                                                         "role": "super_admin"})
    assert response.status_code == 422
    assert {"firstName", "lastName", "role"} <= set(response.json["errors"])


@pytest.mark.parametrize("name", ["Ada\nBcc: eve@example.test", "Ada\n", "Ada\tLovelace", "A" * 101])
def test_person_names_are_one_line_and_bounded(client, factory, name):
    """Names end up in e-mail subjects: a second line or a control character is refused (servicekit.contract)."""
    invite, token = factory.invite(factory.user("operator"), "client_admin")
    response = accept(client, token, first=name)
    assert response.status_code == 422 and "firstName" in response.json["errors"]
    assert invite.reload().status == "pending"


@pytest.mark.parametrize("name", ["Acme\nCorp", "Acme\r", "O" * 121])
def test_organization_names_are_one_line_and_bounded(client, factory, name):
    response = create(client, factory.headers(factory.user("operator")), "boss@acme.test", "client_admin", name)
    assert response.status_code == 422 and "organizationName" in response.json["errors"]


def test_emails_naming_the_longest_names_pass_notifications_validation(client, factory, outbox):
    """What user_management accepts as names, notifications accepts in the e-mails that carry them."""
    operator = factory.user("operator")
    operator.update(first_name="A" * 100, last_name="B" * 100)
    response = create(client, factory.headers(operator), "boss@acme.test", "client_admin", "O" * 120)
    assert response.status_code == 201
    assert accept(client, token_from_email(outbox, "boss@acme.test"), first="C" * 100, last="D" * 100).status_code == 201
    jobs = outbox("invite") + outbox("invite-accepted")
    assert [job.template for job in jobs] == ["invite", "invite-accepted"]
    for job in jobs:
        SendEmailSchema().load({"to": job.to, "template": job.template, "context": job.context})


def test_accept_when_the_email_was_taken_meanwhile_leaves_the_invite_usable(client, factory):
    operator = factory.user("operator")
    invite, token = factory.invite(operator, "operator", email="clash@example.test")
    factory.user("operator", email="clash@example.test")
    assert accept(client, token).status_code == 409
    assert invite.reload().status == "pending"


def test_list_shows_the_callers_invites_with_status_and_pages(client, factory):
    operator = factory.user("operator")
    someone_else = factory.user("operator")
    factory.invite(operator, "client_admin", status="accepted")
    factory.invite(operator, "client_admin", status="revoked")
    factory.invite(operator, "client_admin", expires_at=utcnow())
    for _ in range(3):
        factory.invite(operator, "client_admin")
    factory.invite(someone_else, "client_admin")
    headers = factory.headers(operator)

    everything = client.get("/api/invites/list?limit=100", headers=headers).json
    assert everything["pagination"] == {"page": 1, "limit": 100, "total": 6, "pages": 1}
    statuses = sorted(invite["status"] for invite in everything["invites"])
    assert statuses == ["accepted", "expired", "pending", "pending", "pending", "revoked"]

    page = client.get("/api/invites/list?page=2&limit=4", headers=headers).json
    assert len(page["invites"]) == 2 and page["pagination"]["pages"] == 2
    for status, count in (("pending", 3), ("expired", 1), ("accepted", 1), ("revoked", 1)):
        listed = client.get(f"/api/invites/list?status={status}", headers=headers).json
        assert listed["pagination"]["total"] == count


@pytest.mark.parametrize("query", ["page=0", "limit=1000", "status=bogus", "page=abc"])
def test_list_rejects_bad_query(client, factory, query):
    operator = factory.user("operator")
    response = client.get(f"/api/invites/list?{query}", headers=factory.headers(operator))
    assert response.status_code == 422


def test_list_requires_authentication(client):
    assert client.get("/api/invites/list").status_code == 401


def test_inviter_revokes_and_the_link_dies(client, factory):
    operator = factory.user("operator")
    invite, token = factory.invite(operator, "client_admin")
    response = client.delete(f"/api/invites/{invite.id}/revoke", headers=factory.headers(operator))
    assert response.status_code == 200 and response.json["invite"]["status"] == "revoked"
    assert accept(client, token).status_code == 410
    again = client.delete(f"/api/invites/{invite.id}/revoke", headers=factory.headers(operator))
    assert again.status_code == 409


def test_higher_role_may_revoke_lower_role_may_not(client, factory):
    operator = factory.user("operator")
    site_admin = factory.user("site_admin")
    other_operator = factory.user("operator")
    invite, _ = factory.invite(operator, "client_admin")
    assert client.delete(f"/api/invites/{invite.id}/revoke", headers=factory.headers(other_operator)).status_code == 403
    assert client.delete(f"/api/invites/{invite.id}/revoke", headers=factory.headers(site_admin)).status_code == 200


def test_other_organizations_invites_are_invisible(client, factory):
    admin = factory.user("client_admin")
    stranger = factory.user("client_admin")
    invite, _ = factory.invite(admin, "client_user")
    for method, path in (("delete", "revoke"), ("post", "resend")):
        response = getattr(client, method)(f"/api/invites/{invite.id}/{path}", headers=factory.headers(stranger))
        assert response.status_code == 404
    assert invite.reload().status == "pending"


@pytest.mark.parametrize("invite_id", ["not-an-id", "6b06a47c3ec77d4034bb7315"])
def test_revoke_unknown_invite_is_404(client, factory, invite_id):
    operator = factory.user("operator")
    assert client.delete(f"/api/invites/{invite_id}/revoke", headers=factory.headers(operator)).status_code == 404


def test_resend_issues_a_new_link_and_kills_the_old(client, factory, outbox):
    operator = factory.user("operator")
    response = create(client, factory.headers(operator), "boss@acme.test", "client_admin", "Acme")
    invite_id = response.json["invite"]["id"]
    old_token = token_from_email(outbox, "boss@acme.test")
    with time_machine.travel(utcnow().timestamp() + 8 * 24 * 3600):
        resent = client.post(f"/api/invites/{invite_id}/resend", headers=factory.headers(operator))
        assert resent.status_code == 200
        assert resent.json["invite"]["status"] == "pending" and resent.json["invite"]["sendCount"] == 2
        new_token = token_from_email(outbox, "boss@acme.test")
        assert new_token != old_token
        replaced = client.get(f"/api/invites/details/{old_token}")
        assert replaced.status_code == 410 and replaced.json == {
            "success": False, "message": "This invite link was replaced by a newer one — use the most recent email"}
        assert accept(client, old_token).json["message"] == replaced.json["message"]
        assert accept(client, new_token).status_code == 201


def test_resend_of_accepted_invite_is_a_conflict(client, factory):
    operator = factory.user("operator")
    invite, _ = factory.invite(operator, "client_admin", status="accepted")
    assert client.post(f"/api/invites/{invite.id}/resend", headers=factory.headers(operator)).status_code == 409


# Security round two (issue 12): resends are limited; names fit the e-mails they end up in.


def test_resend_is_limited_per_invite(client, factory, outbox):
    """Eight immediate resends used to deliver eight e-mails to an arbitrary address; now one per minute."""
    operator = factory.user("operator")
    invite_id = create(client, factory.headers(operator), "target@example.test", "client_admin",
                       "Target Org").json["invite"]["id"]
    refused = [client.post(f"/api/invites/{invite_id}/resend", headers=factory.headers(operator)) for _ in range(8)]
    assert {response.status_code for response in refused} == {429}
    assert refused[0].headers["Retry-After"]
    wait = int(refused[0].headers["Retry-After"])
    assert 0 < wait <= 60
    assert refused[0].json["message"] == f"This invite was just sent; please wait {wait_in_words(wait)} before resending it"
    assert len(outbox("invite", to="target@example.test")) == 1
    with time_machine.travel(utcnow().timestamp() + 61):
        assert client.post(f"/api/invites/{invite_id}/resend", headers=factory.headers(operator)).status_code == 200
        assert client.post(f"/api/invites/{invite_id}/resend", headers=factory.headers(operator)).status_code == 429
    assert len(outbox("invite", to="target@example.test")) == 2


def test_resend_is_limited_per_sender(app, client, factory, outbox):
    """Many invites, each resent once, still stop at INVITE_RESENDS_PER_HOUR for one sender."""
    app.config["INVITE_RESENDS_PER_HOUR"] = 3
    operator = factory.user("operator")
    invites = [factory.invite(operator, "client_admin")[0] for _ in range(4)]
    statuses = [client.post(f"/api/invites/{invite.id}/resend", headers=factory.headers(operator)).status_code
                for invite in invites]
    assert statuses == [200, 200, 200, 429]
    other = factory.user("operator")
    spare, _ = factory.invite(other, "client_admin")
    assert client.post(f"/api/invites/{spare.id}/resend", headers=factory.headers(other)).status_code == 200


@pytest.mark.parametrize("field, value", [
    ("firstName", "Ada\r\nBcc: victim@example.test"),
    ("lastName", "Love\nlace"),
    ("firstName", "Ada\u2028Lovelace"),
    ("lastName", "   "),
    ("firstName", "A" * 101),
])
def test_accept_refuses_names_no_email_could_carry(client, factory, field, value):
    """CR/LF names were accepted (201) and then refused by notifications (422): the e-mail was never sent."""
    operator = factory.user("operator")
    _, token = factory.invite(operator, "operator")
    body = {"token": token, "firstName": "Ada", "lastName": "Lovelace", "password": "Fresh-Start-2024", field: value}
    response = client.post("/api/invites/accept", json=body)
    assert response.status_code == 422 and field in response.json["errors"]


@pytest.mark.parametrize("organization_name", ["Acme\r\nCorp", "Acme\x00", "   "])
def test_create_refuses_organization_names_no_email_could_carry(client, factory, organization_name):
    operator = factory.user("operator")
    response = create(client, factory.headers(operator), "boss@acme.test", "client_admin", organization_name)
    assert response.status_code == 422 and "organizationName" in response.json["errors"]


def test_the_longest_accepted_names_fit_the_emails_notifications_accepts(client, factory, outbox):
    """100 + 100 character names went over the e-mail's 200-character limit; one definition now serves both."""
    from notifications.schemas import SendEmailSchema

    operator = factory.user("operator")
    _, token = factory.invite(operator, "operator")
    longest = {"first": "F" * 100, "last": "L" * 100}
    assert accept(client, token, first=longest["first"], last=longest["last"]).status_code == 201
    inviter = User.objects.get(first_name=longest["first"])
    login = client.post("/api/auth/login", json={"email": inviter.email, "password": "Fresh-Start-2024"})
    headers = {"Authorization": f"Bearer {login.json['accessToken']}"}
    assert create(client, headers, "boss@acme.test", "client_admin", "O" * 120).status_code == 201
    emails = outbox("invite", to="boss@acme.test") + outbox("invite-accepted")
    assert len(emails) == 2
    for email in emails:
        SendEmailSchema().load({"to": email.to, "template": email.template, "context": email.context})
