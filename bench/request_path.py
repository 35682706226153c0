"""Micro-benchmark of the authenticated request path, in process: the app's cost per request over bare Flask's.

    .venv/bin/python -m bench.request_path [--requests 2000] [--rounds 5]

Builds user_management as the tests do (mongomock, the real Redis under a throw-away key prefix, the rate
limiter ON as deployed, a budget high enough never to answer 429, logs at WARNING) and calls, through the Flask test client,
GET /api/auth/profile and GET /api/invites/list (20 invites) with a valid access token, interleaved with
bench.bare_app's GET /ping. Prints the median CPU time per request of each and the ratio bare / app (1.0: as
cheap as bare Flask). Wall time on a shared machine is noisy: compare ratios from one run, not absolute times.
"""
import argparse
import logging
import statistics
import time
import uuid

import redis


def build(prefix):
    from flask_jwt_extended import create_access_token

    from bench.bare_app import app as bare
    from user_management import create_app
    from user_management.config import TestingConfig
    from user_management.models import Invite, User
    from user_management.utils.passwords import hash_password
    from user_management.utils.timeutil import utcnow

    app = create_app(TestingConfig, MONGODB_URI=f"mongomock://localhost/bench_{prefix}",
                     REDIS_URL="redis://127.0.0.1:6379/0", REDIS_KEY_PREFIX=prefix, SHARED_KEY_PREFIX=prefix,
                     SOCKETIO_CHANNEL=f"{prefix}-socketio", RATELIMIT_ENABLED=True,
                     RATELIMIT_API="1000000 per hour", RATELIMIT_USER="1000000 per hour")
    with app.app_context():
        user = User(email="bench@example.test", password_hash=hash_password("x" * 12, 4), first_name="Bench",
                    last_name="User", role="super_admin").save()
        for number in range(20):
            Invite(email=f"invitee-{number}@example.test", role="operator", invited_by=user,
                   token_hash=uuid.uuid4().hex, expires_at=utcnow() + app.config["INVITE_EXPIRES"]).save()
        headers = {"Authorization": f"Bearer {create_access_token(identity=user)}"}
    return app.test_client(), bare.test_client(), headers


def per_request(call, requests):
    # CPU time of this process: waiting on Redis (a round trip costs the server, not the app) and other
    # processes on a busy machine are left out.
    started = time.process_time()
    for _ in range(requests):
        call()
    return (time.process_time() - started) / requests


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    prefix = f"bench-{uuid.uuid4().hex[:10]}"
    try:
        client, bare, headers = build(prefix)
        logging.getLogger().setLevel(logging.WARNING)  # the access line costs the same with or without the app
        calls = {
            "bare": lambda: bare.get("/ping"),
            "profile": lambda: client.get("/api/auth/profile", headers=headers),
            "invites": lambda: client.get("/api/invites/list?limit=20", headers=headers),
        }
        for name, call in calls.items():  # warm up, and check each answers
            assert call().status_code == 200, name
        times = {name: [] for name in calls}
        for _ in range(args.rounds):
            for name, call in calls.items():
                requests = args.requests if name != "invites" else max(1, args.requests // 10)
                times[name].append(per_request(call, requests))
        medians = {name: statistics.median(values) for name, values in times.items()}
        for name, median in medians.items():
            print(f"{name:8} {median * 1e6:9.1f} µs/request   bare/app {medians['bare'] / median:.3f}")
    finally:
        store = redis.Redis.from_url("redis://127.0.0.1:6379/0")
        keys = list(store.scan_iter(match=f"*{prefix}*", count=500))
        if keys:
            store.delete(*keys)


if __name__ == "__main__":
    main()
