"""Invites: create, inspect, accept (single use under concurrency), list, revoke, resend."""
import logging
import math
from datetime import timedelta

from flask import current_app
from mongoengine.errors import NotUniqueError
from mongoengine.queryset.visitor import Q

from servicekit.contract import INVITE_ACCEPTED

from ..exceptions import Conflict, Forbidden, Gone, NotFound, TooManyRequests, wait_in_words
from ..models import Invite, Organization, Throttle, User, get_or_404
from ..models import audit_event as events
from ..models.invite import ACCEPTED, EMAIL_FAILED, EMAIL_SENT, EXPIRED, PENDING, REVOKED, PendingAccount
from ..models.rows import invite_rows
from ..services import audit, lockout
from ..services.notification_client import cancel_email, deliver_now, queue_email
from ..services.organizations import find_visible_organization
from ..utils.ids import derived_id
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
LINK_REPLACED = "This invite link was replaced by a newer one — use the most recent email"
ACCEPTANCE_IN_PROGRESS = "This invite has already been used (if your attempt failed, try again in a minute)"
PENDING_INVITE_EXISTS = "A pending invite for this email already exists"
ORGANIZATION_EXISTS = "An organization with this name already exists"

log = logging.getLogger(__name__)


def _audit_invite(event_type, actor, invite, **details):
    audit.record(event_type, actor=actor, organization=invite.reference_id("organization") or "",
                 details={"inviteId": str(invite.id), "email": invite.email, "role": invite.role, **details})


def _invite_link(token):
    return f"{current_app.config['FRONTEND_URL']}/accept-invite?token={token}"


def _invite_email_context(invite, token, inviter):
    context = {
        "link": _invite_link(token),
        "inviterName": inviter.full_name,
        "role": invite.role,
        "expiresAt": isoformat(invite.expires_at),
    }
    if invite.organization is not None:
        context["organizationName"] = invite.organization.name
    return context


def _send_invite_email(invite, token, inviter):
    queue_email(invite.email, "invite", _invite_email_context(invite, token, inviter), invite=invite)


def _creation_email_key(invite):
    """The outbox id of an invite's first email, so a discarded draft's email can be cancelled."""
    return derived_id(invite.id, "invite-email")


def _organization_for_new_invite(inviter, role, organization_name, now):
    """Return (organization, created) for an invite of `role`.

    A client_admin invite creates its organization, provisional until the invite is
    written. A provisional one that a crash abandoned (no member, no live invite) is
    taken over by the next invite naming it.
    """
    if role == CLIENT_ADMIN:
        name = organization_name.strip()
        until = now + current_app.config["RECOVERY_LEASE"]
        organization = Organization.create_provisional(name, inviter, until)
        if organization is None:
            abandoned = Organization.abandoned(name, now)
            if abandoned is None or _organization_in_use(abandoned):
                raise Conflict(ORGANIZATION_EXISTS)
            organization = abandoned.take_over(inviter, until)
            if organization is None:
                raise Conflict(ORGANIZATION_EXISTS)
            _discard_drafts(Invite.abandoned_drafts(until, organization=organization))
        return organization, True
    if role == CLIENT_USER:
        return inviter.organization, False
    return None, False


def _organization_in_use(organization):
    """True when anyone belongs to the organization or holds one of its invites (drafts aside)."""
    if User.objects(organization=organization).first() is not None:
        return True
    return Invite.objects(organization=organization, status__in=(PENDING, ACCEPTED), draft_until=None).first() is not None


def _discard_drafts(drafts):
    """Delete abandoned drafts and cancel their emails if they were not handed over yet."""
    for draft in drafts:
        if draft.discard():
            cancel_email(_creation_email_key(draft))
            log.info("abandoned invite draft discarded", extra={"invite_id": str(draft.id)})


def _ensure_invitable(email, now):
    """Conflict when `email` has an account or a pending invite; expired invites and abandoned drafts make way."""
    if User.objects(email=email).first() is not None:
        raise Conflict("An account with this email already exists")
    Invite.retire_expired(email, now)
    _discard_drafts(Invite.abandoned_drafts(now, email=email))
    if Invite.objects(email=email, status=PENDING).first() is not None:
        raise Conflict(PENDING_INVITE_EXISTS)


def create_invite(inviter, email, role, organization_name=None):
    """Invite `email` as `role`; a client_admin invite creates its organization.

    Writes, in this order: the organization (provisional), the invite (a draft), its
    email in the outbox, the audit event, then the invite and the organization are
    confirmed and the email handed over. A crash before the confirmation leaves drafts
    that a retry discards once RECOVERY_LEASE has passed; after it, the invite is out.
    """
    if not can_invite(inviter.role, role):
        raise Forbidden(f"A {inviter.role} cannot invite a {role}")
    now = utcnow()
    _ensure_invitable(email, now)
    organization, created = _organization_for_new_invite(inviter, role, organization_name, now)
    return _issue_invite(inviter, email, role, organization, created, now, events.INVITE_CREATED)


def _issue_invite(inviter, email, role, organization, created, now, event_type, **details):
    """Write a new invite (a draft), queue its email, audit `event_type`, then publish it and hand the email over."""
    token = new_token()
    try:
        invite = Invite(
            email=email,
            role=role,
            organization=organization,
            invited_by=inviter,
            token_hash=token_digest(token),
            expires_at=now + current_app.config["INVITE_EXPIRES"],
            draft_until=now + current_app.config["RECOVERY_LEASE"],
            last_sent_at=now,
        ).save(force_insert=True)
    except NotUniqueError:
        # The unique index on pending invites: another request invited this address first.
        if created:
            organization.discard_provisional()
        raise Conflict(PENDING_INVITE_EXISTS) from None
    except Exception:
        if created:
            organization.discard_provisional()
        raise
    email_job = queue_email(invite.email, "invite", _invite_email_context(invite, token, inviter),
                            key=_creation_email_key(invite), deliver=False, invite=invite)
    _audit_invite(event_type, inviter, invite, **details)
    invite.publish()
    if created:
        organization.confirm()
    deliver_now(email_job)
    invite.reload()
    broadcast_invite_status(invite)
    return invite


def reinvite(actor, invite_id):
    """Send a revoked or expired invite again as a new invite: new link, full validity, same email, role and
    organization. Conflict while the invite (or another for its address) is pending, or once it was accepted."""
    invite = find_manageable_invite(actor, invite_id)
    status = invite.effective_status()
    if status not in (REVOKED, EXPIRED):
        raise Conflict(f"Only a revoked or expired invite can be sent again; this one is {status}")
    if not can_invite(actor.role, invite.role):
        raise Forbidden(f"A {actor.role} cannot invite a {invite.role}")
    organization = None
    if invite.reference_id("organization") is not None:
        organization = invite.organization
        if organization is None or not organization.is_active:
            raise Conflict(ORGANIZATION_INACTIVE)
    now = utcnow()
    _ensure_invitable(invite.email, now)
    return _issue_invite(actor, invite.email, invite.role, organization, False, now, events.INVITE_REINVITED,
                         previousInviteId=str(invite.id))


def _token_guard():
    return lockout.token_key("invite", audit.client_context()["ip"])


def _invite_by_token(token):
    """The invite of `token`; an unknown token counts as a guess by the client (NotFound)."""
    guard = _token_guard()
    lockout.check(guard)
    digest = token_digest(token)
    invite = Invite.objects(token_hash=digest).first()
    if invite is None:
        # A link a resend replaced is a real link, not a guess: say what happened.
        if Invite.objects(superseded_token_hashes=digest).first() is not None:
            raise Gone(LINK_REPLACED)
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


def invite_details(token):
    """Return the invite the accept page shows (email, role, organization, inviter, expiry)."""
    invite = _invite_by_token(token)
    # An acceptance a crash left unfinished can be retried from the same link, so it shows too.
    if not (invite.is_usable() or invite.acceptance_abandoned(utcnow())):
        _raise_unusable(invite)
    _ensure_organization_active(invite)
    return invite


def accept_invite(token, first_name, last_name, password):
    """Create the invited account; of two simultaneous accepts exactly one succeeds.

    Accepting stores the new account on the invite (the commit point), then creates the
    user with the invite's id, queues the inviter's email and the audit event under ids
    derived from the invite, and finally drops the stored account. Every step after the
    commit is idempotent, so after a crash a retry with the same token (once
    RECOVERY_LEASE has passed) finishes the work with its own password and names.
    """
    found = _invite_by_token(token)
    now = utcnow()
    if found.status == ACCEPTED and found.pending_account is not None:
        if not found.acceptance_abandoned(now):
            raise Gone(ACCEPTANCE_IN_PROGRESS)
    elif not found.is_usable(now):
        _raise_unusable(found)
    _ensure_organization_active(found)
    check_new_password(password, found.email, first_name, last_name)
    account = PendingAccount(
        password_hash=hash_password(password, current_app.config["BCRYPT_ROUNDS"]),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        lease_until=now + current_app.config["RECOVERY_LEASE"],
    )
    if found.status == ACCEPTED:
        invite = found.take_over_acceptance(account)
        if invite is None:
            raise Gone(ACCEPTANCE_IN_PROGRESS)
    else:
        invite = Invite.accept(token_digest(token), account, now)
        if invite is None:
            latest = _invite_by_token(token)
            if latest.status == ACCEPTED and latest.pending_account is not None:
                raise Gone(ACCEPTANCE_IN_PROGRESS)
            _raise_unusable(latest)
    return _finish_acceptance(invite)


def _finish_acceptance(invite):
    """Create the account an accepted invite holds, announce and audit it; safe to run again."""
    user = _create_invited_user(invite)
    organization = invite.organization
    if organization is not None:
        organization.confirm()
    audit.record(events.INVITE_ACCEPTED, actor=user, target=user, organization=invite.reference_id("organization"),
                 details={"inviteId": str(invite.id), "role": invite.role,
                          "invitedBy": invite.reference_id("invited_by")},
                 event_id=derived_id(invite.id, events.INVITE_ACCEPTED))
    _announce_acceptance(invite, user)
    invite.complete_acceptance(user)
    return user


def _create_invited_user(invite):
    """Insert the user (id = the invite's id); a retry updates the one an earlier attempt inserted."""
    account = invite.pending_account
    try:
        return User(
            id=invite.id,
            email=invite.email,
            password_hash=account.password_hash,
            first_name=account.first_name,
            last_name=account.last_name,
            role=invite.role,
            organization=invite.organization,
            invited_by=invite.invited_by,
        ).save(force_insert=True)
    except NotUniqueError:
        if User.objects(id=invite.id).first() is None:
            invite.reopen()
            raise Conflict("An account with this email already exists") from None
    except Exception:
        invite.reopen()
        raise
    User.objects(id=invite.id).update_one(set__password_hash=account.password_hash,
                                          set__first_name=account.first_name, set__last_name=account.last_name,
                                          set__updated_at=utcnow())
    return User.objects.get(id=invite.id)


def _announce_acceptance(invite, user):
    inviter = invite.invited_by
    if inviter is not None:
        notify_user(
            str(inviter.id),
            INVITE_ACCEPTED,
            f"{user.full_name} ({user.email}) accepted your invite",
            {"inviteId": str(invite.id), "userId": str(user.id), "email": user.email, "role": user.role},
        )
        organization = invite.organization
        context = {"name": user.full_name, "email": user.email, "role": user.role, "link": current_app.config["FRONTEND_URL"]}
        if organization is not None:
            context["organizationName"] = organization.name
        queue_email(inviter.email, "invite-accepted", context, key=derived_id(invite.id, "invite-accepted"))
    broadcast_invite_status(invite)


def _invites_in_view(user, organization_id):
    """Invites sent by `user`; with `organization_id`, every invite of that organization.

    Staff may name any organization, a client_admin only its own (another answers NotFound).
    """
    if organization_id is None:
        return Invite.objects(invited_by=user)
    if user.role == CLIENT_USER:
        raise Forbidden("Your role does not allow this")
    return Invite.objects(organization=find_visible_organization(user, organization_id))


def list_invites(user, page, limit, status=None, search=None, organization_id=None):
    """Invites sent by `user` (or of one organization), newest first, filtered by effective status and email."""
    queryset = _invites_in_view(user, organization_id)
    if search:
        queryset = queryset.filter(email__icontains=search)
    now = utcnow()
    if status == PENDING:
        queryset = queryset.filter(status=PENDING, expires_at__gt=now)
    elif status == EXPIRED:
        queryset = queryset.filter(Q(status=EXPIRED) | Q(status=PENDING, expires_at__lte=now))
    elif status:
        queryset = queryset.filter(status=status)
    # _id breaks ties: invites created in the same millisecond keep one order from page to page.
    return paginate(queryset.order_by("-created_at", "-id"), page, limit, read=invite_rows)


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
    return TooManyRequests(f"This invite was just sent; please wait {wait_in_words(wait)} before resending it",
                           retry_after=wait)


def _not_resendable(invite):
    return Conflict(f"Only a pending or expired invite can be resent; this one is {invite.effective_status()}")


def resend_invite(actor, invite_id):
    """Issue a fresh token and expiry for a pending or expired invite; the old link dies.

    Limited per invite (one email per INVITE_RESEND_INTERVAL) and per sender (INVITE_RESENDS_PER_HOUR),
    so resending cannot turn into mail-bombing an address.
    """
    config = current_app.config
    invite = find_manageable_invite(actor, invite_id)
    if invite.status not in (PENDING, EXPIRED):
        raise _not_resendable(invite)
    now = utcnow()
    wait = _wait_before_resend(invite, now)
    if wait:
        raise _resend_refused(wait)
    wait = Throttle.hit(f"invite-resend:{actor.id}", config["INVITE_RESENDS_PER_HOUR"], timedelta(hours=1), now)
    if wait:
        raise TooManyRequests(f"You have resent too many invites; please try again in {wait_in_words(wait)}",
                              retry_after=wait)
    token = new_token()
    try:
        resent = invite.renew(token_digest(token), now + config["INVITE_EXPIRES"], now,
                              config["INVITE_RESEND_INTERVAL"])
    except NotUniqueError:
        raise Conflict(PENDING_INVITE_EXISTS) from None
    if resent is None:
        invite.reload()
        if invite.status not in (PENDING, EXPIRED):
            raise _not_resendable(invite)
        raise _resend_refused(_wait_before_resend(invite, utcnow()) or 1)
    _send_invite_email(resent, token, resent.invited_by or actor)
    resent.reload()
    broadcast_invite_status(resent)
    _audit_invite(events.INVITE_RESENT, actor, resent, sendCount=resent.send_count)
    return resent
