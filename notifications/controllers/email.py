"""Accepting e-mail jobs into the durable queue, and the queue's operator actions."""
import hashlib
import json
import time
import uuid

import redis
from flask import current_app

from ..exceptions import Conflict, InvalidInput, ServiceUnavailable
from ..schemas import IDEMPOTENCY_KEY
from ..utils.queue import EmailQueue
from ..utils.redis import get_redis


def get_queue(app=None):
    """Return the e-mail queue of `app` (default: the current app)."""
    app = app or current_app
    return EmailQueue(get_redis(app), app.config["REDIS_KEY_PREFIX"], app.config["EMAIL_IDEMPOTENCY_TTL_SECONDS"])


def payload_hash(email):
    """Return a stable digest of a validated e-mail request."""
    return hashlib.sha256(json.dumps(email, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def enqueue_email(email, idempotency_key=None):
    """Durably queue a validated e-mail; return {"id", "duplicate"}.

    A repeated idempotency key returns the first job's id without queueing again;
    the same key with a different e-mail is a Conflict.
    """
    if idempotency_key is None:
        idempotency_key = uuid.uuid4().hex
    elif not IDEMPOTENCY_KEY.match(idempotency_key):
        raise InvalidInput(
            "Invalid Idempotency-Key",
            {"Idempotency-Key": ["Use 1 to 200 characters from A-Z a-z 0-9 . _ : -"]},
        )
    digest = payload_hash(email)
    job = {
        "id": uuid.uuid4().hex,
        "idempotencyKey": idempotency_key,
        "attempts": 0,
        "createdAt": time.time(),
        **email,
    }
    try:
        record, duplicate = get_queue().enqueue(job, digest)
    except redis.RedisError:
        raise ServiceUnavailable("E-mail queue unavailable, try again later") from None
    if duplicate and record.get("hash") != digest:
        raise Conflict("Idempotency-Key was already used for a different e-mail")
    metrics = current_app.extensions.get("metrics")
    if metrics is not None and not duplicate:
        metrics.emails.labels("queued").inc()
    return {"id": record["id"], "duplicate": duplicate}


def list_dead_letters():
    """Return the dead-letter jobs, newest first."""
    return get_queue().dead_letters()


def requeue_dead_letters(job_id=None):
    """Send dead-letter jobs (all, or one by id) back to the queue; return them."""
    return get_queue().requeue_dead(job_id)
