#!/usr/bin/env bash
# Install everything the tests need, start the real services (Ceph S3 gateway, Redis,
# Elasticsearch, Tika), run the whole suite, stop the services. Used by .ci/run.
# KHO_REQUIRE_SERVICES=1: a missing service variable is an error and a skipped test a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system.sh
bash scripts/install.sh
trap 'bash scripts/services.sh stop >/dev/null 2>&1 || true' EXIT  # also after a failed start
bash scripts/services.sh start
eval "$(bash scripts/services.sh env)"
export KHO_REQUIRE_SERVICES=1
export KHO_SHARED_DIR="${KHO_SHARED_DIR:-$(cd .. && pwd)/shared}"
.venv/bin/ruff check .
if [ $# -gt 0 ] || [ "$(nproc)" -lt 2 ]; then
  .venv/bin/pytest -q -p no:cacheprovider "$@"
  exit $?
fi
# The whole suite. tests/signatures uses no service and is CPU-bound (a quarter of the suite's
# time); the rest waits on services much of the time. On two or more cores the signature tests
# run beside the rest in their own pytest (own temporary folder), and the run fails if either does.
sig_tmp="$(mktemp -d /tmp/kho-sigtests.XXXXXX)"
.venv/bin/pytest -q -p no:cacheprovider --basetemp="$sig_tmp/t" tests/signatures >"$sig_tmp/log" 2>&1 &
sig_pid=$!
rest=0
.venv/bin/pytest -q -p no:cacheprovider --ignore=tests/signatures || rest=$?
sig=0
wait "$sig_pid" || sig=$?
echo "== tests/signatures (run beside the rest) =="
cat "$sig_tmp/log"
rm -rf "$sig_tmp"
echo "rest of the suite: exit $rest; tests/signatures: exit $sig"
[ "$rest" -eq 0 ] && [ "$sig" -eq 0 ]
