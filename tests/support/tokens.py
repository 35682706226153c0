"""Access tokens as user_management mints them, for testing the notifications service on its own."""
import time
import uuid

import jwt

from notifications.config import DEV_ACCESS_SECRET


def mint_token(sub="user-1", role="client_user", org="org-1", type_="access", expires_in=300,
               secret=DEV_ACCESS_SECRET, algorithm="HS256", **extra):
    """Mint a token with the claims user_management puts in its access tokens."""
    now = int(time.time())
    claims = {"sub": sub, "role": role, "org": org, "type": type_, "iat": now, "exp": now + expires_in,
              "jti": uuid.uuid4().hex, **extra}
    return jwt.encode(claims, secret, algorithm=algorithm)
