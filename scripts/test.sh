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
# The whole suite, in seven pytest runs at once, each with its own temporary folder and Redis
# database; the run fails if any of them does. Six, not one per core: with four the two cores
# were busy 60 % of the run (20 CPU-minutes in 16.5 minutes, session 25), the parts waiting on
# fsyncs, services and subprocesses the rest of the time. In the first six-part run the store part
# ended at 6:17, signatures and service at 12:35 and 12:42: the write-group kill tests, the verify
# agent's and the browser tests moved to the store part. tests/signatures uses no service and is CPU-bound;
# the others wait on services, subprocesses and fsyncs part of the time, so a core left idle by
# one is taken by another. The parts are weighed to finish together (bench/NOTES-q1.md: per-file
# times, and how far each part had got 21 min into a four-part run); a part lists folders or
# single test files (tests/web/test_api_schema.py and test_cli_verify_agent.py, ~150 s, run with
# the repository part: the web part ended last in two CI runs, 12:15 and 13:18; the route fuzz
# table, tests/web/test_fuzz_routes.py, ~70 s of CPU since it builds every kind of object, too:
# in the twenty-third session's run the store part ended last, 17:13, the repository part
# first, 13:47; in the twenty-fifth session's timing run, 12:15 of the store part against 9:06 of
# the signatures part, so the write-group kill tests, ~40-70 s, and the verify agent's, ~20 s,
# moved to the signatures part; in the twenty-sixth session's CI, 15:04, the service part ended
# last at 13:49 and the repository part first at 11:40, so the locked-out auditor's and the
# backup command's web tests, ~40 s and ~30 s, run with the repository part; that run took
# 15:06, every part 738-820 s and the two cores 63 % busy, so the rest of tests/web runs as two
# parts, by file name, seven in all; in the twenty-seventh session's CI, 17:13 with a helper's
# tests beside it, the retention part ended last at 15:26 and the second web part first at 7:57,
# so the retention files named before test_destroyed, ~25 % of its time, run with that web part;
# in the twenty-eighth session's full run, 16:07 with a helper beside it, retention ended at
# 967 s and the second web part at 639 s, so the split moved on to test_dossier: the five
# destruction files, ~150 s, moved over; in the thirty-third session's run the retention part
# ended last, 1162 s, and store at 1035 s, which then lost ~45 CPU-s of fresh interpreters in
# test_write_group's kill loop (u14): the four recall reruns, ~120 s mostly spent waiting for
# Elasticsearch's retention-lease sync, run with store).
# Only tests/pipeline uses Redis (its own
# database per run all the same), every S3 bucket and search index a test makes has a fresh name,
# and every port is chosen free at run time.
runs_tmp="$(mktemp -d /tmp/kho-tests.XXXXXX)"
# Each part's log, JUnit XML (every test's time) and wall/CPU seconds stay after the run, in
# bench/out/test-timings/<UTC time>/ (not in git); the end of the run prints their summary
# (scripts/test_timings.py: each part's totals, the 15 heaviest test files), to start from.
timings="${KHO_TEST_TIMINGS_DIR:-bench/out/test-timings/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$timings"
redis_base="${KHO_TEST_REDIS_URL%/*}"
run_part() {  # name, Redis database, pytest arguments...
  local name=$1 db=$2 TIMEFORMAT='%R %U %S'  # wall, user and system seconds, children included
  shift 2
  { time KHO_TEST_REDIS_URL="$redis_base/$db" \
    .venv/bin/pytest -q -p no:cacheprovider --durations=15 --basetemp="$runs_tmp/$name" \
    --junitxml="$timings/$name.xml" "$@" >"$timings/$name.log" 2>&1; } 2>"$timings/$name.time"
}
web_files() {  # tests/web but the files another part runs, in two halves by name below
  find tests/web -name 'test_*.py' ! -name test_api_schema.py ! -name test_cli_verify_agent.py \
    ! -name test_fuzz_routes.py ! -name 'test_browser*.py' ! -name test_audit_acknowledge_locked_out.py \
    ! -name test_backup_cli.py | sort
}
retention_early() {  # the retention files run with the second web part (see above)
  find tests/retention -name 'test_*.py' | sort | awk -F/ '$3 < "test_dossier"'
}
retention_waits() {  # the recall reruns that wait out Elasticsearch's lease sync, run with store
  printf '%s\n' tests/retention/test_recall_resume_race_u7.py tests/retention/test_recall_resumed_rv6.py
}
retention_late() {
  find tests/retention -name 'test_*.py' | sort | awk -F/ '$3 >= "test_dossier"' | grep -vxF -f <(retention_waits)
}
order=(signatures repository store service service2 pipeline retention)
declare -A parts=(
  [signatures]="tests/signatures"
  [repository]="$(find tests/repository -name 'test_*.py' ! -name test_write_group.py | sort | tr '\n' ' ') tests/web/test_audit_acknowledge_locked_out.py tests/web/test_backup_cli.py"
  [store]="tests/search tests/text tests/contract tests/metadata tests/signing tests/repository/test_write_group.py tests/web/test_cli_verify_agent.py $(find tests/web -name 'test_browser*.py' | sort | tr '\n' ' ') $(retention_waits | tr '\n' ' ')"
  [service]="$(web_files | awk -F/ '$3 < "test_m"' | tr '\n' ' ')"
  [service2]="$(web_files | awk -F/ '$3 >= "test_m"' | tr '\n' ' ') $(retention_early | tr '\n' ' ')"
  [pipeline]="tests/pipeline tests/web/test_api_schema.py tests/web/test_fuzz_routes.py"
  [retention]="$(retention_late | tr '\n' ' ')"
)
# Every test file of tests/ is in exactly one part: a new folder or a file taken out of a listed
# folder must be added above, and a file listed on its own must not also be under a listed folder.
test_files() { find "$@" -type f \( -name 'test_*.py' -o -name '*_test.py' \) | sort; }
listed=""
for name in "${order[@]}"; do
  for entry in ${parts[$name]}; do
    if [ ! -e "$entry" ]; then
      echo "scripts/test.sh: $entry (part $name) does not exist" >&2
      exit 2
    fi
    listed+="$(test_files "$entry")"$'\n'
  done
done
twice=$(printf '%s' "$listed" | sed '/^$/d' | sort | uniq -d)
left_out=$(comm -23 <(test_files tests | grep -v -e '^tests/support/' -e '^tests/fixtures/') \
  <(printf '%s' "$listed" | sed '/^$/d' | sort -u))
if [ -n "$twice" ] || [ -n "$left_out" ]; then
  [ -z "$twice" ] || echo "scripts/test.sh: in two parts of the suite:"$'\n'"$twice" >&2
  [ -z "$left_out" ] || echo "scripts/test.sh: in no part of the suite:"$'\n'"$left_out" >&2
  exit 2
fi
declare -A pids=()
db=1
for name in "${order[@]}"; do
  # shellcheck disable=SC2086  # the folders and files are words
  run_part "$name" "$db" ${parts[$name]} &
  pids[$name]=$!
  db=$((db + 1))
done
failed=0
for name in "${order[@]}"; do
  status=0
  wait "${pids[$name]}" || status=$?
  echo "== $name: ${parts[$name]} (exit $status) =="
  cat "$timings/$name.log"
  [ "$status" -eq 0 ] || failed=1
done
rm -rf "$runs_tmp"
python3 scripts/test_timings.py "$timings" 15 || true  # a summary, never the run's verdict
exit "$failed"
