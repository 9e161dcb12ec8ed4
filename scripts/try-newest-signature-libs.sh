#!/usr/bin/env bash
# Install the newest pyHanko, pyhanko-certvalidator and asn1crypto into a scratch venv and
# run the differential signature tests (fast path vs stock pyHanko, parser, name memo,
# fuzzer) and the corpus comparison. If all pass, move the pins in constraints.txt.
#   scripts/try-newest-signature-libs.sh [SCRATCH_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=${1:-$(mktemp -d /tmp/kho-newest-sig.XXXXXX)}
PY=${PYTHON:-python3}
"$PY" -m venv "$scratch"
"$scratch/bin/python" -m pip install --quiet --upgrade pip
"$scratch/bin/python" -m pip install --quiet -e ".[test]"
"$scratch/bin/python" -m pip install --quiet --upgrade pyhanko pyhanko-certvalidator asn1crypto
"$scratch/bin/python" -m pip list 2>/dev/null | grep -Ei '^(pyhanko|pyhanko-certvalidator|asn1crypto) '
export KHO_SHARED_DIR=${KHO_SHARED_DIR:-$(cd .. && pwd)/shared}
"$scratch/bin/pytest" -q -p no:cacheprovider \
  tests/signatures/test_sig_fast_diff.py tests/signatures/test_sig_objparse.py \
  tests/signatures/test_sig_names.py tests/signatures/test_sig_certs.py \
  tests/signatures/test_sig_fuzz.py tests/signatures/test_sig_document_checks.py \
  tests/signatures/test_sig_properties.py tests/signatures/test_sig_xmp.py
"$scratch/bin/python" bench/eval_signatures.py "$KHO_SHARED_DIR/corpora/pdf/MANIFEST.tsv" --compare
echo "newest libraries pass the differential tests: update constraints.txt"
