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

from ..models.email_outbox import DEAD, PENDING, SENDING, SENT, EmailOutbox
from .timeutil import utcnow

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_BACKOFF = timedelta(hours=1)


def queue_email(to, template, context, key=None, deliver=True):
    """Store an email in the outbox and (unless `deliver` is false) try to hand it over at once; returns the row.

    With a `key` (an ObjectId) the row's id is the key, so queueing again after a crash
    stores nothing new: the row already there is returned and delivered as usual.
    """
    request_id = g.get("request_id") if has_request_context() else None
    try:
        job = EmailOutbox(id=key, to=to, template=template, context=context, request_id=request_id).save(
            force_insert=True)
    except NotUniqueError:
        return EmailOutbox.objects.get(id=key)
    if deliver:
        deliver_now(job)
    return job


def deliver_now(job):
    """Try to hand one queued email over now; the sweeper retries when this fails."""
    claimed = _claim(job.id)
    if claimed is not None:
        _deliver(claimed)


def cancel_email(key):
    """Stop an email that was queued but not handed over yet (its link died); True when cancelled."""
    return EmailOutbox.objects(id=key, status=PENDING).update_one(
        set__status=DEAD, set__context={}, set__last_error="cancelled") > 0


def deliver_due(limit=100):
    """Hand every due outbox email to notifications; returns (sent, failed)."""
    sent = failed = 0
    for _ in range(limit):
        job = _claim()
        if job is None:
            break
        if _deliver(job):
            sent += 1
        else:
            failed += 1
    return sent, failed


def _claim(job_id=None):
    """Atomically lease one due job (or the given one), so workers never share a job."""
    now = utcnow()
    due = EmailOutbox.objects(status=PENDING, next_attempt_at__lte=now)
    expired_lease = EmailOutbox.objects(status=SENDING, lease_until__lte=now)
    for queryset in (due, expired_lease):
        if job_id is not None:
            queryset = queryset.filter(id=job_id)
        job = queryset.order_by("next_attempt_at").modify(
            new=True, set__status=SENDING, set__lease_until=now + LEASE, inc__attempts=1
        )
        if job is not None:
            return job
    return None


def _deliver(job):
    """POST one leased job to notifications and record the outcome; True when accepted."""
    config = current_app.config
    headers = {"X-Service-Token": config["NOTIFICATIONS_SERVICE_TOKEN"] or "", "Idempotency-Key": str(job.id)}
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
        accepted = response.status_code in (200, 201, 202)
        error = None if accepted else f"HTTP {response.status_code}"
    except requests.RequestException as exc:
        accepted, error = False, type(exc).__name__
    if accepted:
        job.modify(set__status=SENT, set__sent_at=utcnow(), set__context={}, set__lease_until=None, set__last_error=None)
        return True
    backoff = min(timedelta(seconds=2 ** min(job.attempts, 12)), MAX_BACKOFF)
    final = job.attempts >= config["OUTBOX_MAX_ATTEMPTS"]
    job.modify(
        set__status=DEAD if final else PENDING,
        set__next_attempt_at=utcnow() + backoff,
        set__lease_until=None,
        set__last_error=error,
    )
    log.warning("email handoff failed", extra={"outbox_id": str(job.id), "attempt": job.attempts, "error": error,
                                               "request_id": job.request_id})
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
    app.extensions["outbox_deliverer_stop"] = stop
    return thread
