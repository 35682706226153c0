"""Writing the revocation records user_management writes (servicekit.revocation), for tests of notifications alone."""
import redis

from servicekit import revocation

REDIS_URL = "redis://127.0.0.1:6379/0"


def grant(prefix, user_id, tv=0, active=True, organization_active=True, ttl=300, url=REDIS_URL):
    """Write the record of `user_id` as user_management does at login (or after a change, with other values)."""
    client = redis.Redis.from_url(url)
    try:
        revocation.write(client, prefix, user_id, revocation.UserState(tv, active, organization_active), ttl)
    finally:
        client.close()


def announce(prefix, user_id, url=REDIS_URL):
    """Announce a change of `user_id`'s record, as user_management does after writing it."""
    client = redis.Redis.from_url(url)
    try:
        revocation.announce(client, prefix, user_id)
    finally:
        client.close()
