"""Client for the notifications service's email endpoint, behind a MongoDB outbox.

Every email is first written to the outbox, then handed to notifications. When
notifications is down the row stays pending and a later sweep (the in-process
deliverer or `flask deliver-outbox`) retries with exponential backoff, so a
dependency outage delays an email but never loses it. The outbox id travels as
the `Idempotency-Key`, so a retry after a lost response is not sent twice.
"""
import logging
import threading
from datetime import timedelta

import requests
from flask import current_app, g, has_request_context
from mongoengine.errors import NotUniqueError

from servicekit.contract import IDEMPOTENCY_KEY_HEADER, SERVICE_TOKEN_HEADER

from ..models import EmailOutbox, Invite
from ..models.email_outbox import DEAD
from ..models.invite import EMAIL_FAILED, EMAIL_SENT
from ..utils.timeutil import utcnow

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_BACKOFF = timedelta(hours=1)
# Answers of notifications that no retry can change: the email itself is refused (validation,
# idempotency key reused for another email, too large). Anything else (5xx, 429, a wrong service
# token, no answer) may pass later and is retried.
REFUSED_FOR_GOOD = {400, 409, 413, 415, 422}


def queue_email(to, template, context, key=None, deliver=True, invite=None):
    """Store an email in the outbox and (unless `deliver` is false) try to hand it over at once; returns the row.

    With a `key` (an ObjectId) the row's id is the key, so queueing again after a crash
    stores nothing new: the row already there is returned and delivered as usual. With `invite`,
    the invite tracks this email's outcome (queued, sent, failed).
    """
    request_id = g.get("request_id") if has_request_context() else None
    try:
        job = EmailOutbox(id=key, to=to, template=template, context=context, request_id=request_id,
                          invite_id=str(invite.id) if invite is not None else None).save(force_insert=True)
    except NotUniqueError:
        return EmailOutbox.objects.get(id=key)
    if invite is not None:
        invite.track_email(job.id)
    if deliver:
        deliver_now(job)
    return job


def deliver_now(job):
    """Try to hand one queued email over now; the sweeper retries when this fails."""
    leased = EmailOutbox.lease(LEASE, job_id=job.id)
    if leased is not None:
        _deliver(leased)


def cancel_email(key):
    """Stop an email that was queued but not handed over yet (its link died); True when cancelled."""
    return EmailOutbox.cancel(key)


def deliver_due(limit=100):
    """Hand every due outbox email to notifications; returns (sent, failed)."""
    sent = failed = 0
    for _ in range(limit):
        job = EmailOutbox.lease(LEASE)
        if job is None:
            break
        if _deliver(job):
            sent += 1
        else:
            failed += 1
    return sent, failed


def dead_emails(limit=1000):
    """Summaries of the dead outbox rows, newest first: who, which template, why; never the context."""
    return [
        {"id": str(job.id), "to": job.to, "template": job.template, "attempts": job.attempts,
         "lastError": job.last_error, "inviteId": job.invite_id, "createdAt": job.created_at.isoformat()}
        for job in EmailOutbox.objects(status=DEAD).order_by("-created_at").limit(limit)
    ]


def _hand_over(job):
    """POST one job to notifications: (None, False) when accepted, else (what went wrong, whether it is for good)."""
    config = current_app.config
    headers = {SERVICE_TOKEN_HEADER: config["NOTIFICATIONS_SERVICE_TOKEN"] or "",
               IDEMPOTENCY_KEY_HEADER: str(job.id)}
    if job.request_id:
        headers["X-Request-ID"] = job.request_id
    try:
        # B113: timeout=NOTIFICATIONS_TIMEOUT below
        response = requests.post(  # nosec B113
            f"{config['NOTIFICATIONS_URL']}/api/email/send",
            json={"to": job.to, "template": job.template, "context": job.context},
            headers=headers,
            timeout=config["NOTIFICATIONS_TIMEOUT"],
        )
    except requests.RequestException as exc:
        return type(exc).__name__, False
    if response.status_code in (200, 201, 202):
        return None, False
    return f"HTTP {response.status_code}", response.status_code in REFUSED_FOR_GOOD


def _deliver(job):
    """Hand one leased job over and record the outcome under its lease; True when notifications accepted it.

    A worker whose lease ran out meanwhile records nothing: the job belongs to
    whoever reclaimed it (and the shared Idempotency-Key stops a second send).
    """
    error, for_good = _hand_over(job)
    extra = {"outbox_id": str(job.id), "attempt": job.attempts, "error": error, "request_id": job.request_id}
    if error is None:
        if not job.complete():
            log.info("outbox lease lost before the handoff was recorded", extra=extra)
        elif job.invite_id:
            Invite.record_email_outcome(job.invite_id, job.id, EMAIL_SENT)
        return True
    backoff = min(timedelta(seconds=2 ** min(job.attempts, 12)), MAX_BACKOFF)
    dead = for_good or job.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]
    if not job.back_off(utcnow() + backoff, error, dead=dead):
        log.info("outbox lease lost before the failure was recorded", extra=extra)
    elif dead and job.invite_id:
        Invite.record_email_outcome(job.invite_id, job.id, EMAIL_FAILED)
    log.warning("email refused for good" if for_good else "email handoff failed", extra=extra)
    return False


def start_outbox_deliverer(app):
    """Start a daemon thread that sweeps the outbox every OUTBOX_POLL_INTERVAL seconds."""
    interval = app.config["OUTBOX_POLL_INTERVAL"]
    if interval <= 0:
        return None
    stop = threading.Event()

    def run():
        while not stop.wait(interval):
            with app.app_context():
                try:
                    deliver_due()
                except Exception:  # keep sweeping; the next pass retries
                    log.exception("outbox sweep failed")

    thread = threading.Thread(target=run, name="outbox-deliverer", daemon=True)
    thread.start()
    return thread
