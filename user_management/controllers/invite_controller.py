"""Invites: create, inspect, accept (single use under concurrency), list, revoke, resend."""
import math
from datetime import timedelta

from flask import current_app
from mongoengine.errors import NotUniqueError

from ..exceptions import Conflict, Forbidden, Gone, NotFound, TooManyRequests
from ..models import Invite, Organization, Throttle, User, get_or_404
from ..models import audit_event as events
from ..models.invite import ACCEPTED, EMAIL_FAILED, EMAIL_SENT, EXPIRED, PENDING, REVOKED
from ..services import audit, lockout
from ..services.notification_client import queue_email
from ..utils.pagination import paginate
from ..utils.password_strength import check_new_password
from ..utils.passwords import hash_password
from ..utils.roles import CLIENT_ADMIN, CLIENT_USER, can_invite, is_staff, outranks
from ..utils.socket_client import broadcast_invite_status, notify_user
from ..utils.timeutil import isoformat, utcnow
from ..utils.tokens import new_token, token_digest

GONE_MESSAGES = {
    EXPIRED: "This invite has expired",
    ACCEPTED: "This invite has already been used",
    REVOKED: "This invite has been revoked",
}
ORGANIZATION_INACTIVE = "This invite's organization has been deactivated"
INVITE_NOT_FOUND = "Invite not found"


def _audit_invite(event_type, actor, invite, **details):
    audit.record(event_type, actor=actor, organization=invite.reference_id("organization") or "",
                 details={"inviteId": str(invite.id), "email": invite.email, "role": invite.role, **details})


def _invite_link(token):
    return f"{current_app.config['FRONTEND_URL']}/accept-invite?token={token}"


def _send_invite_email(invite, token, inviter):
    context = {
        "link": _invite_link(token),
        "inviterName": inviter.full_name,
        "role": invite.role,
        "expiresAt": isoformat(invite.expires_at),
    }
    if invite.organization is not None:
        context["organizationName"] = invite.organization.name
    queue_email(invite.email, "invite", context, invite=invite)


def _organization_for_new_invite(inviter, role, organization_name):
    """Return (organization, created) for an invite of `role`."""
    if role == CLIENT_ADMIN:
        name = organization_name.strip()
        if Organization.objects(name_key=name.lower()).first() is not None:
            raise Conflict("An organization with this name already exists")
        try:
            return Organization(name=name, created_by=inviter).save(), True
        except NotUniqueError:
            raise Conflict("An organization with this name already exists") from None
    if role == CLIENT_USER:
        return inviter.organization, False
    return None, False


def create_invite(inviter, email, role, organization_name=None):
    """Invite `email` as `role`; a client_admin invite creates its organization."""
    if not can_invite(inviter.role, role):
        raise Forbidden(f"A {inviter.role} cannot invite a {role}")
    if User.objects(email=email).first() is not None:
        raise Conflict("An account with this email already exists")
    if Invite.objects(email=email, **Invite.usable_filter()).first() is not None:
        raise Conflict("A pending invite for this email already exists")
    organization, created = _organization_for_new_invite(inviter, role, organization_name)
    token = new_token()
    try:
        invite = Invite(
            email=email,
            role=role,
            organization=organization,
            invited_by=inviter,
            token_hash=token_digest(token),
            expires_at=utcnow() + current_app.config["INVITE_EXPIRES"],
            last_sent_at=utcnow(),
        ).save()
    except Exception:
        if created:
            organization.delete()
        raise
    _send_invite_email(invite, token, inviter)
    invite.reload()
    broadcast_invite_status(invite)
    _audit_invite(events.INVITE_CREATED, inviter, invite)
    return invite


def _token_guard():
    return lockout.token_key("invite", audit.client_context()["ip"])


def _invite_by_token(token):
    """The invite of `token`; an unknown token counts as a guess by the client (NotFound)."""
    guard = _token_guard()
    lockout.check(guard)
    invite = Invite.objects(token_hash=token_digest(token)).first()
    if invite is None:
        lockout.record_failure(guard)
        raise NotFound(INVITE_NOT_FOUND)
    return invite


def _ensure_organization_active(invite):
    """A pending invite of a deactivated organization cannot be used until it is reactivated."""
    if invite.reference_id("organization") is None:
        return
    organization = invite.organization
    if organization is None or not organization.is_active:
        raise Gone(ORGANIZATION_INACTIVE)


def _raise_unusable(invite):
    raise Gone(GONE_MESSAGES.get(invite.effective_status(), "This invite can no longer be used"))


def _usable_invite(token):
    """The invite of `token` while it can be accepted: pending, unexpired, its organization active."""
    invite = _invite_by_token(token)
    if not invite.is_usable():
        _raise_unusable(invite)
    _ensure_organization_active(invite)
    return invite


def invite_details(token):
    """Return the invite the accept page shows (email, role, organization, inviter, expiry)."""
    return _usable_invite(token)


def accept_invite(token, first_name, last_name, password):
    """Create the invited account; of two simultaneous accepts exactly one succeeds."""
    found = _usable_invite(token)
    check_new_password(password, found.email, first_name, last_name)
    password_hash = hash_password(password, current_app.config["BCRYPT_ROUNDS"])
    invite = Invite.accept(token_digest(token))
    if invite is None:
        _raise_unusable(_invite_by_token(token))
    try:
        user = User(
            email=invite.email,
            password_hash=password_hash,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            role=invite.role,
            organization=invite.organization,
            invited_by=invite.invited_by,
        ).save()
    except Exception as exc:
        invite.reopen()
        if isinstance(exc, NotUniqueError):
            raise Conflict("An account with this email already exists") from None
        raise
    Invite.objects(id=invite.id).update_one(set__accepted_user=user)
    _announce_acceptance(invite, user)
    audit.record(events.INVITE_ACCEPTED, actor=user, target=user, organization=invite.reference_id("organization"),
                 details={"inviteId": str(invite.id), "role": invite.role,
                          "invitedBy": invite.reference_id("invited_by")})
    return user


def _announce_acceptance(invite, user):
    inviter = invite.invited_by
    if inviter is not None:
        notify_user(
            str(inviter.id),
            "inviteAccepted",
            f"{user.full_name} ({user.email}) accepted your invite",
            {"inviteId": str(invite.id), "userId": str(user.id), "email": user.email, "role": user.role},
        )
        organization = invite.organization
        context = {"name": user.full_name, "email": user.email, "role": user.role, "link": current_app.config["FRONTEND_URL"]}
        if organization is not None:
            context["organizationName"] = organization.name
        queue_email(inviter.email, "invite-accepted", context)
    broadcast_invite_status(invite)


def list_invites(user, page, limit, status=None):
    """Invites sent by `user`, newest first, optionally filtered by effective status."""
    queryset = Invite.objects(invited_by=user)
    now = utcnow()
    if status == PENDING:
        queryset = queryset.filter(status=PENDING, expires_at__gt=now)
    elif status == EXPIRED:
        queryset = queryset.filter(status=PENDING, expires_at__lte=now)
    elif status:
        queryset = queryset.filter(status=status)
    # Every row's answer names its inviter and organization: fetch them per page, not per invite.
    return paginate(queryset.order_by("-created_at"), page, limit, select_related=True)


def find_manageable_invite(actor, invite_id):
    """Return an invite `actor` may revoke or resend: its own, or one sent by a lower role.

    A client_admin manages its organization's invites; an invite of another
    organization is reported as missing so its id does not leak.
    """
    invite = get_or_404(Invite, invite_id, INVITE_NOT_FOUND)
    if invite.reference_id("invited_by") == str(actor.id):
        return invite
    if not is_staff(actor.role):
        if invite.reference_id("organization") != actor.organization_id or actor.role != CLIENT_ADMIN:
            raise NotFound(INVITE_NOT_FOUND)
        return invite
    inviter = invite.invited_by
    if inviter is None or not outranks(actor.role, inviter.role):
        raise Forbidden("Only the inviter or a higher role can manage this invite")
    return invite


def revoke_invite(actor, invite_id):
    """Revoke a pending invite; its link stops working at once."""
    invite = find_manageable_invite(actor, invite_id)
    revoked = invite.revoke(actor)
    if revoked is None:
        raise Conflict(f"Only a pending invite can be revoked; this one is {invite.effective_status()}")
    broadcast_invite_status(revoked)
    _audit_invite(events.INVITE_REVOKED, actor, revoked)
    return revoked


def email_outcome_message(invite, sent_message):
    """What to tell the inviter: `sent_message` only when notifications took the email."""
    if invite.email_status == EMAIL_SENT:
        return sent_message
    if invite.email_status == EMAIL_FAILED:
        return "The invite exists, but its email was refused; check the address and resend it"
    return "The invite exists; its email is queued and will be sent shortly"


def _wait_before_resend(invite, now):
    """Seconds until `invite` may be emailed again (INVITE_RESEND_INTERVAL after its last email), else 0."""
    if invite.last_sent_at is None:
        return 0
    remaining = (invite.last_sent_at + current_app.config["INVITE_RESEND_INTERVAL"] - now).total_seconds()
    return max(0, math.ceil(remaining))


def _resend_refused(wait):
    return TooManyRequests(f"This invite was just sent; please wait {wait} seconds before resending it",
                           retry_after=wait)


def resend_invite(actor, invite_id):
    """Issue a fresh token and expiry for a pending or expired invite; the old link dies.

    Limited per invite (one email per INVITE_RESEND_INTERVAL) and per sender (INVITE_RESENDS_PER_HOUR),
    so resending cannot turn into mail-bombing an address.
    """
    config = current_app.config
    invite = find_manageable_invite(actor, invite_id)
    if invite.status != PENDING:
        raise Conflict(f"Only a pending or expired invite can be resent; this one is {invite.effective_status()}")
    now = utcnow()
    wait = _wait_before_resend(invite, now)
    if wait:
        raise _resend_refused(wait)
    wait = Throttle.hit(f"invite-resend:{actor.id}", config["INVITE_RESENDS_PER_HOUR"], timedelta(hours=1), now)
    if wait:
        raise TooManyRequests("You have resent too many invites; please try again later", retry_after=wait)
    token = new_token()
    resent = invite.renew(token_digest(token), now + config["INVITE_EXPIRES"], now, config["INVITE_RESEND_INTERVAL"])
    if resent is None:
        invite.reload()
        if invite.status != PENDING:
            raise Conflict(f"Only a pending or expired invite can be resent; this one is {invite.effective_status()}")
        raise _resend_refused(_wait_before_resend(invite, utcnow()) or 1)
    _send_invite_email(resent, token, resent.invited_by or actor)
    resent.reload()
    broadcast_invite_status(resent)
    _audit_invite(events.INVITE_RESENT, actor, resent, sendCount=resent.send_count)
    return resent
