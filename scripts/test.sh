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
# The whole suite, in three pytest runs at once, each with its own temporary folder; the run
# fails if any of them does. tests/signatures uses no service and is CPU-bound; the other two
# wait on services and fsyncs much of the time, so one alone leaves a core idle. The split is by
# folder: only tests/pipeline uses Redis (its own database per run all the same), every S3 bucket
# and search index a test makes has a fresh name, and every port is chosen free at run time.
runs_tmp="$(mktemp -d /tmp/kho-tests.XXXXXX)"
redis_base="${KHO_TEST_REDIS_URL%/*}"
run_part() {  # name, Redis database, pytest arguments...
  local name=$1 db=$2
  shift 2
  KHO_TEST_REDIS_URL="$redis_base/$db" \
    .venv/bin/pytest -q -p no:cacheprovider --durations=15 --basetemp="$runs_tmp/$name" "$@" \
    >"$runs_tmp/$name.log" 2>&1
}
declare -A parts=(
  [signatures]="tests/signatures"
  [store]="tests/repository tests/contract tests/search tests/retention tests/text tests/metadata tests/signing"
  [service]="tests/web tests/pipeline"
)
# Every folder of tests/ is in exactly one part: a new folder must be added above.
listed=" ${parts[*]} "
for dir in tests/*/; do
  dir=${dir%/}
  case "$dir" in tests/support|tests/fixtures) continue ;; esac
  if [[ "$listed" != *" $dir "* ]]; then
    echo "scripts/test.sh: $dir is in no part of the suite" >&2
    exit 2
  fi
done
declare -A pids=()
db=1
for name in signatures store service; do
  # shellcheck disable=SC2086  # the folders are words
  run_part "$name" "$db" ${parts[$name]} &
  pids[$name]=$!
  db=$((db + 1))
done
failed=0
for name in signatures store service; do
  status=0
  wait "${pids[$name]}" || status=$?
  echo "== ${parts[$name]} (exit $status) =="
  cat "$runs_tmp/$name.log"
  [ "$status" -eq 0 ] || failed=1
done
rm -rf "$runs_tmp"
exit "$failed"
