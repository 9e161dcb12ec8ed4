#!/usr/bin/env bash
# Install Kho into .venv (Python packages only). Used by both README commands.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -c constraints.txt -e ".[test]"
# Kho's own bytecode (pip compiles the libraries it installs, not an editable project's source):
# where PYTHONDONTWRITEBYTECODE is set, every `kho` command would otherwise compile the modules
# it imports (a cold `kho verify` +0.1 s of CPU). Stale files are recompiled as usual.
.venv/bin/python -m compileall -q kho repository ingest search web retention >/dev/null
# axe-core (accessibility rules) for the browser tests, from npm into a cache outside the tree;
# without npm or the registry the browser test still runs and says axe was not checked.
AXE_DIR=${KHO_AXE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kho/axe}
if [ ! -f "$AXE_DIR/node_modules/axe-core/axe.min.js" ] && command -v npm >/dev/null 2>&1; then
  mkdir -p "$AXE_DIR"
  npm install --silent --no-audit --no-fund --prefix "$AXE_DIR" axe-core@4 >/dev/null 2>&1 \
    || echo "install.sh: axe-core not installed (npm unreachable); accessibility checks will be skipped" >&2
fi
# The independent E-ARK validator (eark-validator from PyPI) in its own environment, so its pins
# never meet Kho's; retention/sip.py runs it (retention/eark/launcher.py keeps it offline).
EARK_DIR=${KHO_EARK_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kho/eark-validator}
if [ ! -x "$EARK_DIR/bin/eark-validator" ]; then
  "$PY" -m venv "$EARK_DIR"
  "$EARK_DIR/bin/python" -m pip install --quiet "eark-validator==1.1.3"
fi
