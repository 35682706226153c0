"""The sender: takes jobs from the queue, renders and sends them, retries, dead-letters."""
import json
import logging
import threading
import time
from collections import Counter

import redis
from flask import current_app

from ..exceptions import PermanentEmailError
from ..extensions import socketio
from ..utils.mailer import build_message, deliver, is_permanent_smtp_error, render_job
from ..utils.queue import consumer_name
from .email import get_queue

log = logging.getLogger(__name__)


def backoff_seconds(attempts, base, cap):
    """Return the delay before attempt `attempts + 1`: base * 2**(attempts - 1), capped."""
    return min(cap, base * (2 ** max(0, attempts - 1)))


def send_queued(consumer=None, block_seconds=None):
    """Run one pass over the queue: promote due retries, reclaim stale jobs, send new ones.

    Without `block_seconds` the pass reads until the stream is empty and returns;
    each job is attempted at most once per pass, so callers (the CLI, tests)
    drive retries one attempt at a time. Returns counts by outcome.
    """
    config = current_app.config
    queue = get_queue()
    consumer = consumer or consumer_name()
    stats = Counter()
    queue.ensure_group()
    stats["promoted"] += queue.promote_due()
    for entry_id, raw in queue.claim_stale(consumer, config["EMAIL_CLAIM_IDLE_SECONDS"]):
        stats["reclaimed"] += 1
        _count(stats, _process(queue, entry_id, raw))
    while True:
        entries = queue.read_new(consumer, block_seconds=block_seconds)
        for entry_id, raw in entries:
            _count(stats, _process(queue, entry_id, raw))
        if block_seconds or not entries:
            return stats


def _count(stats, outcome):
    """Tally an outcome for the caller and for /metrics."""
    stats[outcome] += 1
    metrics = current_app.extensions.get("metrics")
    if metrics is not None:
        metrics.emails.labels(outcome).inc()


def _process(queue, entry_id, raw):
    """Send one job and move it on; return the outcome name."""
    config = current_app.config
    try:
        job = json.loads(raw)
        job_id = job["id"]
    except (TypeError, ValueError, KeyError):
        queue.dead_letter(entry_id, {"id": None, "raw": raw, "lastError": "unreadable job", "failedAt": time.time()})
        log.error("email job in entry %s unreadable, dead-lettered", entry_id)
        return "dead"
    if queue.is_sent(job):
        # Sent by an earlier delivery of the same job (or the same key); only acknowledge.
        queue.ack(entry_id)
        return "skipped"
    try:
        subject, html, text = render_job(job)
        deliver(build_message(job["to"], subject, html, text))
    except PermanentEmailError as exc:
        return _dead(queue, entry_id, job, exc.message)
    except Exception as exc:  # noqa: BLE001 - any failure of a send is retried, the loop must live on
        error = _describe(exc)
        if is_permanent_smtp_error(exc):
            return _dead(queue, entry_id, job, error)
        job["attempts"] = job.get("attempts", 0) + 1
        job["lastError"] = error
        if job["attempts"] >= config["EMAIL_MAX_ATTEMPTS"]:
            return _dead(queue, entry_id, job, error)
        delay = backoff_seconds(job["attempts"], config["EMAIL_RETRY_BASE_SECONDS"], config["EMAIL_RETRY_MAX_SECONDS"])
        queue.schedule_retry(entry_id, job, time.time() + delay)
        log.warning("email %s attempt %d failed (%s), retry in %.0fs", job_id, job["attempts"], error, delay)
        return "retried"
    queue.mark_sent(entry_id, job)
    log.info("email %s sent (%s)", job_id, job.get("template", "raw"))
    return "sent"


def _dead(queue, entry_id, job, error):
    """Dead-letter a job with its last error; return the outcome name."""
    job["lastError"] = error
    job["failedAt"] = time.time()
    queue.dead_letter(entry_id, job)
    log.error("email %s dead-lettered after %s attempt(s): %s", job.get("id"), job.get("attempts"), error)
    return "dead"


def _describe(exc):
    """Describe a send failure without message content: class and SMTP code."""
    code = getattr(exc, "smtp_code", None)
    return f"{type(exc).__name__}{f' {code}' if code else ''}"


class Sender:
    """The background sender of one process."""

    def __init__(self, app):
        self.app = app
        self.consumer = consumer_name()
        self.stopping = threading.Event()
        self.stopped = threading.Event()

    def run(self):
        """Send jobs until stop() is called; Redis outages are waited out."""
        pause = 1
        with self.app.app_context():
            while not self.stopping.is_set():
                try:
                    send_queued(self.consumer, block_seconds=self.app.config["EMAIL_POLL_SECONDS"])
                    pause = 1
                except redis.RedisError as exc:
                    log.warning("email sender cannot reach Redis (%s), pausing %ss", type(exc).__name__, pause)
                    socketio.sleep(pause)
                    pause = min(pause * 2, 30)
        self.stopped.set()

    def stop(self, timeout=None):
        """Ask the loop to stop after the job in hand; wait up to `timeout` seconds."""
        self.stopping.set()
        return self.stopped.wait(timeout)
