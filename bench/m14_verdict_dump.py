"""Every verification result of the corpus and of bench documents, for comparing two trees.

    PYTHONHASHSEED=0 .venv/bin/python bench/m14_verdict_dump.py TREE OUT.json [N]
    cmp main.json branch.json

TREE first on ``sys.path``. The fast path is active as in a worker, and ``now`` is fixed. It
writes the full ``to_dict()`` (without ``validated_at``) of every PDF of
``$KHO_SHARED_DIR/corpora/pdf`` (corpus trust store) and of the first N (default 80) documents
of ``~/.cache/kho-bench/signed-200x3``. Everything runs twice in one process, so the second
pass meets every cache warm (tampered corpus files after their good originals). Fix
``PYTHONHASHSEED``: one pyHanko message prints a Python set
(``pyhanko__form-update-ap-indirect-sneaky-trailer``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from m14_verify_cpu import CORPUS, FOLDER, worker_like


def main() -> int:
    tree, out_path = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 80
    verify = worker_like(tree)
    from ingest.signatures.trust import TrustStore

    sets = [
        (sorted(CORPUS.glob("*.pdf")), TrustStore.from_dir(CORPUS / "trust")),
        (sorted(FOLDER.glob("signed-*.pdf"))[:count], TrustStore.from_dir(FOLDER / "trust")),
    ]
    out: dict[str, object] = {}
    for number in (1, 2):
        for paths, trust in sets:
            for path in paths:
                found = verify(path.read_bytes(), trust).to_dict()
                found.pop("validated_at", None)
                out[f"{number}:{path.name}"] = found
    out_path.write_text(json.dumps(out, ensure_ascii=False, indent=1, sort_keys=True, default=str))
    print(f"{len(out)} results written to {out_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
