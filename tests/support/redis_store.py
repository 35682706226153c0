"""The real Redis the suite shares: its URL, per-test key clean-up, what listens and what is queued."""
import os

import redis

from notifications.utils.queue import EmailQueue

from .processes import wait_until

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
UNREACHABLE_REDIS_URL = "redis://127.0.0.1:1/0"
IDLE_QUEUE = {"queued": 0, "scheduled": 0, "dead": 0}


def delete_redis_keys(prefix, url=REDIS_URL):
    """Remove every key whose name contains `prefix`; return how many there were."""
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"*{prefix}*", count=500))
        if keys:
            client.delete(*keys)
        return len(keys)
    finally:
        client.close()


def wait_for_subscribers(channel, count, timeout=5):
    """Wait until `count` processes listen on the Socket.IO Redis channel.

    A notifications process subscribes in the background on its first Socket.IO
    connection; an event published before that is dropped, so a test syncs here
    before it triggers one.
    """
    client = redis.Redis.from_url(REDIS_URL)
    try:
        listening = wait_until(lambda: dict(client.pubsub_numsub(channel)).get(channel.encode(), 0) >= count,
                               timeout=timeout)
        assert listening, f"fewer than {count} subscriber(s) on {channel}: {client.pubsub_numsub(channel)}"
    finally:
        client.close()


def wait_for_idle_email_queue(prefix, timeout=15):
    """Wait until notifications' e-mail queue under `prefix` holds no job (queued, waiting to retry or dead).

    A job leaves the stream only after its e-mail was accepted by SMTP (or it was
    parked for a retry or dead-lettered), so once the queue is idle every e-mail
    it will ever send has been sent: the positive barrier before "exactly once".
    """
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        queue = EmailQueue(client, prefix, idempotency_ttl=1)
        counts = wait_until(lambda: queue.counts() == IDLE_QUEUE, timeout=timeout)
        assert counts, f"e-mail queue {prefix} not idle after {timeout}s: {queue.counts()}"
    finally:
        client.close()
