"""Writing the revocation records user_management writes (servicekit.revocation), for tests of notifications alone."""
import time
import uuid

import jwt
import redis

from notifications.config import DEV_ACCESS_SECRET
from servicekit import revocation

REDIS_URL = "redis://127.0.0.1:6379/0"


def mint_token(sub="user-1", role="client_user", org="org-1", type_="access", expires_in=300,
               secret=DEV_ACCESS_SECRET, algorithm="HS256", tv=0, **extra):
    """Mint a token with the claims user_management puts in its access tokens."""
    now = int(time.time())
    claims = {"sub": sub, "role": role, "org": org, "type": type_, "iat": now, "exp": now + expires_in,
              "jti": uuid.uuid4().hex, "tv": tv, **extra}
    return jwt.encode(claims, secret, algorithm=algorithm)


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
