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
from ..utils.mailer import SmtpSession, deliver, is_permanent_smtp_error, render_job
from ..utils.queue import consumer_name
from .email import get_queue

log = logging.getLogger(__name__)


def backoff_seconds(attempts, base, cap):
    """Return the delay before attempt `attempts + 1`: base * 2**(attempts - 1), capped."""
    return min(cap, base * (2 ** max(0, attempts - 1)))


def send_queued(consumer=None):
    """Run one pass over the queue: promote due retries, reclaim stale jobs, send new ones.

    The pass reads until the stream is empty and returns; each job is attempted
    at most once per pass, so callers (the CLI, tests) drive retries one attempt
    at a time. Returns counts by outcome.
    """
    queue = get_queue()
    consumer = consumer or consumer_name()
    session = SmtpSession(current_app.config)
    stats = Counter()
    try:
        queue.ensure_group()
        _housekeeping(queue, consumer, session, stats)
        while entries := queue.read_new(consumer):
            for entry_id, raw in entries:
                _count(stats, _process(queue, entry_id, raw, session))
    finally:
        session.close()
    return stats


def _housekeeping(queue, consumer, session, stats):
    """Move due retries back into the stream and send the jobs a crashed sender left pending."""
    stats["promoted"] += queue.promote_due()
    for entry_id, raw in queue.claim_stale(consumer, current_app.config["EMAIL_CLAIM_IDLE_SECONDS"]):
        stats["reclaimed"] += 1
        _count(stats, _process(queue, entry_id, raw, session))


def _count(stats, outcome):
    """Tally an outcome for the caller and for /metrics."""
    stats[outcome] += 1
    metrics = current_app.extensions.get("metrics")
    if metrics is not None:
        metrics.emails.labels(outcome).inc()


def _process(queue, entry_id, raw, session):
    """Send one job through `session` and move it on; return the outcome name."""
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
        deliver(job["to"], subject, html, text, session)
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
    """The background senders of one process: EMAIL_SENDERS loops, each with its own SMTP connection."""

    def __init__(self, app):
        self.app = app
        self.count = app.config["EMAIL_SENDERS"]
        self.stopping = threading.Event()
        self.stopped = threading.Event()
        self._lock = threading.Lock()
        self._running = 0

    def start(self):
        """Start the loops as background tasks of the app's async mode."""
        self._running = self.count
        for _ in range(self.count):
            socketio.start_background_task(self.run)

    def run(self):
        """One sender loop: send jobs until stop() is called; Redis outages are waited out."""
        try:
            with self.app.app_context():
                self._loop(consumer_name(), SmtpSession(self.app.config))
        finally:
            with self._lock:
                self._running -= 1
                if self._running <= 0:
                    self.stopped.set()

    def _loop(self, consumer, session):
        """Read one job at a time (so the loops share a burst), keep the connection while jobs keep coming."""
        config = self.app.config
        poll = config["EMAIL_POLL_SECONDS"]
        queue = get_queue()
        stats = Counter()
        pause, housekeeping_due = 1, 0.0
        try:
            while not self.stopping.is_set():
                try:
                    if time.monotonic() >= housekeeping_due:
                        queue.ensure_group()
                        _housekeeping(queue, consumer, session, stats)
                        housekeeping_due = time.monotonic() + poll
                    entries = queue.read_new(consumer, count=1, block_seconds=poll)
                    if not entries:
                        # Idle for a poll interval: give the connection back rather than let the server time it out.
                        session.close()
                    for entry_id, raw in entries:
                        _count(stats, _process(queue, entry_id, raw, session))
                    pause = 1
                except redis.RedisError as exc:
                    log.warning("email sender cannot reach Redis (%s), pausing %ss", type(exc).__name__, pause)
                    socketio.sleep(pause)
                    pause = min(pause * 2, 30)
        finally:
            session.close()

    def stop(self, timeout=None):
        """Ask the loops to stop after the job in hand; wait up to `timeout` seconds."""
        self.stopping.set()
        return self.stopped.wait(timeout)
