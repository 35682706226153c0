#!/usr/bin/env bash
# The busy-machine check (docs/testing.md): run the tests RUNS times in a row (default 3) while one
# CPU-bound process per core keeps every core busy; stop at the first failure.
#
#   scripts/busy_check.sh                              # the whole suite
#   scripts/busy_check.sh tests/e2e tests/notifications  # some suites (any pytest arguments)
#   RUNS=5 scripts/busy_check.sh tests/e2e
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
PYTHON=${PYTHON:-.venv/bin/python}
CORES=$(nproc)

hogs=()
stop_hogs() {
  for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${hogs[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_hogs EXIT

for _ in $(seq "$CORES"); do
  yes >/dev/null &
  hogs+=("$!")
done
echo "busy check: ${#hogs[@]} busy loop(s) on $CORES core(s); $RUNS run(s) of: pytest $*"

for run in $(seq "$RUNS"); do
  started=$SECONDS
  echo "busy check: run $run of $RUNS starts (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  if ! "$PYTHON" -m pytest -q -p no:cacheprovider -x "$@"; then
    echo "busy check: run $run of $RUNS FAILED after $((SECONDS - started)) s"
    exit 1
  fi
  echo "busy check: run $run of $RUNS passed in $((SECONDS - started)) s"
done
echo "busy check: all $RUNS runs passed with every core busy"
