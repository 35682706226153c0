#!/usr/bin/env bash
# `make dev`: user_management on :3000 and notifications on :4000 with embedded defaults.
# The dev database is mongomock, in memory inside the one user_management process,
# so dev runs a single process per service and creates a bootstrap super admin.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

export APP_ENV="${APP_ENV:-development}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export BOOTSTRAP_ADMIN_EMAIL="${BOOTSTRAP_ADMIN_EMAIL:-admin@example.com}"
export BOOTSTRAP_ADMIN_PASSWORD="${BOOTSTRAP_ADMIN_PASSWORD:-Admin-Dev-Password-1}"
export NOTIFICATIONS_URL="${NOTIFICATIONS_URL:-http://127.0.0.1:4000}"
# One browser origin for the console, its e-mail links and the banner: 127.0.0.1 would be another cookie jar.
export FRONTEND_URL="${FRONTEND_URL:-http://localhost:3000}"
export OUTBOX_POLL_INTERVAL="${OUTBOX_POLL_INTERVAL:-5}"
# The web console on :3000 talks to notifications on :4000 from the browser.
export CORS_ORIGIN="${CORS_ORIGIN:-http://localhost:3000,http://127.0.0.1:3000,http://localhost:5173}"

if ! "$BIN/python" -c "import redis, os; redis.Redis.from_url(os.environ['REDIS_URL']).ping()" 2>/dev/null; then
  echo "Redis is not reachable at $REDIS_URL; start it (redis-server) or set REDIS_URL." >&2
  exit 1
fi

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

if [ -f notifications/__init__.py ]; then
  PORT=4000 "$BIN/python" -m notifications.serve &
  pids+=($!)
fi
"$BIN/gunicorn" --workers 1 --threads 8 --bind 127.0.0.1:3000 --no-control-socket 'wsgi:user_management_app' &
pids+=($!)

cat <<MSG

  web console      $FRONTEND_URL/login   (passkeys: /account/passkeys; e-mail links open here too)
  user_management  $FRONTEND_URL   (health: /health, API docs: /api/docs)
  notifications    http://localhost:4000   (emails are printed to this terminal in dev)

  Bootstrap super admin (dev only):  $BOOTSTRAP_ADMIN_EMAIL / $BOOTSTRAP_ADMIN_PASSWORD
  Another super admin:  .venv/bin/flask --app wsgi:user_management_app create-superadmin --email you@example.com
  (against the dev server's in-memory database only the bootstrap admin exists; see README)

MSG
wait -n
