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
.venv/bin/pytest -q -p no:cacheprovider "$@"
