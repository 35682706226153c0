"""Driver of the instruction counts: one app, called through the Flask test client, run under callgrind.

    valgrind --tool=callgrind python -m bench.callgrind_driver --target profile --requests 200

Builds the app (user_management with the run's settings, or the bare-Flask baseline), makes
`--warmup` requests, then `--requests` more. `bench.instructions` runs it twice under callgrind,
with and without the measured requests, and divides the difference by their number, so start-up
and first-use costs cancel out. Every response must be a 200.
"""
import argparse
import sys

TARGETS = ("profile", "bare_flask")
ADMIN_EMAIL = "bench-admin@example.test"
ADMIN_PASSWORD = "Bench-Quartz-Lantern-Orbit-9"


def profile_client():
    """user_management as the bench serves it (settings from the environment), logged in as the bootstrap admin."""
    import user_management

    # Cost 4: the one login below would take seconds under callgrind at cost 12; the profile path never hashes.
    app = user_management.create_app(BCRYPT_ROUNDS=4, OUTBOX_POLL_INTERVAL=0)
    client = app.test_client()
    login = client.post("/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    if login.status_code != 200:
        raise SystemExit(f"login failed: {login.status_code} {login.get_data(as_text=True)[:300]}")
    headers = {"Authorization": f"Bearer {login.get_json()['accessToken']}"}
    return lambda: client.get("/api/auth/profile", headers=headers)


def bare_client():
    """The bare-Flask baseline (bench/bare_app.py)."""
    from .bare_app import app

    client = app.test_client()
    return lambda: client.get("/ping")


def main(argv=None):
    """Build, warm up, measure; exit non-zero if a response is not a 200."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", choices=TARGETS, required=True)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--requests", type=int, default=0)
    args = parser.parse_args(argv)
    request = profile_client() if args.target == "profile" else bare_client()
    for _ in range(args.warmup + args.requests):
        response = request()
        if response.status_code != 200:
            sys.exit(f"{args.target}: {response.status_code} {response.get_data(as_text=True)[:300]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
