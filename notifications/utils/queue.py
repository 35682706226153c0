"""The durable e-mail queue: a Redis Stream read by a consumer group.

Keys (P = REDIS_KEY_PREFIX):
    P:email:jobs              stream; one entry per job attempt, field `job` (JSON)
    P:email:idem:<key>        idempotency record {id, hash}, TTL EMAIL_IDEMPOTENCY_TTL_SECONDS
    P:email:sent:<key>        set once the e-mail is handed to SMTP, same TTL
    P:email:retry             sorted set of jobs waiting for their next attempt (score = due time)
    P:email:dead              list of jobs that used up their attempts (newest first)

A job leaves the stream only in one MULTI with its next home (sent marker, retry
set or dead-letter list), so a crash at any point leaves it either pending in the
stream (reclaimed with XAUTOCLAIM) or safely moved on.
"""
import json
import os
import socket
import time
import uuid

import redis

from .redis import prefixed

GROUP = "senders"

_ENQUEUE = """
local existing = redis.call('GET', KEYS[1])
if existing then return {existing, 1} end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
redis.call('XADD', KEYS[2], '*', 'job', ARGV[3])
return {ARGV[1], 0}
"""

_PROMOTE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, job in ipairs(due) do
  redis.call('XADD', KEYS[2], '*', 'job', job)
  redis.call('ZREM', KEYS[1], job)
end
return #due
"""


def consumer_name():
    """Return a consumer name unique to this process and start."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class EmailQueue:
    """Queue operations on one Redis, under one key prefix."""

    def __init__(self, client, prefix, idempotency_ttl):
        self.redis = client
        self.prefix = prefix
        self.idempotency_ttl = int(idempotency_ttl)
        self.stream = prefixed(prefix, "email", "jobs")
        self.retry_key = prefixed(prefix, "email", "retry")
        self.dead_key = prefixed(prefix, "email", "dead")
        self._enqueue = client.register_script(_ENQUEUE)
        self._promote = client.register_script(_PROMOTE)

    def idempotency_key(self, key):
        """Return the Redis key of an idempotency record."""
        return prefixed(self.prefix, "email", "idem", key)

    def sent_key(self, key):
        """Return the Redis key of a sent marker."""
        return prefixed(self.prefix, "email", "sent", key)

    def enqueue(self, job, payload_hash):
        """Queue `job` unless its idempotency key was seen; return (record, duplicate)."""
        record = json.dumps({"id": job["id"], "hash": payload_hash})
        stored, duplicate = self._enqueue(
            keys=[self.idempotency_key(job["idempotencyKey"]), self.stream],
            args=[record, self.idempotency_ttl, json.dumps(job)],
        )
        return json.loads(stored), bool(duplicate)

    def ensure_group(self):
        """Create the consumer group (and the stream) if missing."""
        try:
            self.redis.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def promote_due(self, now=None, limit=100):
        """Move retries whose time has come back into the stream; return how many."""
        return self._promote(keys=[self.retry_key, self.stream], args=[now or time.time(), limit])

    def claim_stale(self, consumer, min_idle_seconds, count=50):
        """Take over entries another consumer left pending too long; return [(entry_id, raw)]."""
        _next, entries, *_deleted = self.redis.xautoclaim(
            self.stream, GROUP, consumer, min_idle_time=int(min_idle_seconds * 1000), start_id="0-0", count=count
        )
        return [(entry_id, fields.get("job")) for entry_id, fields in entries if fields]

    def read_new(self, consumer, count=50, block_seconds=None):
        """Read entries never delivered to any consumer; return [(entry_id, raw)]."""
        block = int(block_seconds * 1000) if block_seconds else None
        response = self.redis.xreadgroup(GROUP, consumer, {self.stream: ">"}, count=count, block=block)
        return [(entry_id, fields.get("job")) for _stream, entries in response or [] for entry_id, fields in entries]

    def is_sent(self, job):
        """Return True when this job's e-mail was already handed to SMTP."""
        return bool(self.redis.exists(self.sent_key(job["idempotencyKey"])))

    def _finish(self, entry_id, pipe):
        """Acknowledge and delete the stream entry inside `pipe`, then execute it."""
        pipe.xack(self.stream, GROUP, entry_id)
        pipe.xdel(self.stream, entry_id)
        pipe.execute()

    def ack(self, entry_id):
        """Acknowledge and delete a stream entry."""
        self._finish(entry_id, self.redis.pipeline(transaction=True))

    def mark_sent(self, entry_id, job):
        """Record the job as sent, then acknowledge it, atomically."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(self.sent_key(job["idempotencyKey"]), job["id"], ex=self.idempotency_ttl)
        self._finish(entry_id, pipe)

    def schedule_retry(self, entry_id, job, due):
        """Park the job until `due` (epoch seconds) and acknowledge the entry, atomically."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.zadd(self.retry_key, {json.dumps(job): due})
        self._finish(entry_id, pipe)

    def dead_letter(self, entry_id, job):
        """Move the job to the dead-letter list and acknowledge the entry, atomically."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.lpush(self.dead_key, json.dumps(job))
        self._finish(entry_id, pipe)

    def dead_letters(self):
        """Return the dead-letter jobs, newest first."""
        return [_loads(raw) for raw in self.redis.lrange(self.dead_key, 0, -1)]

    def requeue_dead(self, job_id=None):
        """Put dead-letter jobs (all, or the one with `job_id`) back in the stream; return them."""
        requeued = []
        for raw in self.redis.lrange(self.dead_key, 0, -1):
            job = _loads(raw)
            if job_id is not None and job.get("id") != job_id:
                continue
            fresh = {k: v for k, v in job.items() if k not in {"lastError", "failedAt"}}
            fresh["attempts"] = 0
            pipe = self.redis.pipeline(transaction=True)
            # A second operator requeueing at the same time adds a twin entry;
            # the sent marker keeps it from sending the e-mail twice.
            pipe.xadd(self.stream, {"job": json.dumps(fresh)})
            pipe.lrem(self.dead_key, 1, raw)
            pipe.execute()
            requeued.append(fresh)
        return requeued

    def counts(self):
        """Return the number of jobs in the stream, waiting for a retry and dead."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.xlen(self.stream)
        pipe.zcard(self.retry_key)
        pipe.llen(self.dead_key)
        queued, scheduled, dead = pipe.execute()
        return {"queued": queued, "scheduled": scheduled, "dead": dead}


def _loads(raw):
    """Parse a stored job, keeping unreadable ones visible instead of crashing."""
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return {"id": None, "raw": raw}
