"""NOTES-f4: what each corpus PDF says about *who* signed, for a before/after comparison.

    .venv/bin/python bench/f4_corpus_identity.py [../shared/corpora/pdf] > after.tsv
    PYTHONPATH=/tmp/base-f4 .venv/bin/python /tmp/base-f4/bench/f4_corpus_identity.py ... > before.tsv

One line per PDF of the manifest: the file verdict, each signature's kind (personal /
organisation / unknown) and ``trusted`` (whether it may name its signer), the NĐ 30 check, the
signers the văn bản đi gate compares (``signing_people``) and the agencies ingest stores
(``signing_agencies``). Verified in process (``_verify_pdf``, fast reader, offline, at a fixed
time) so that the two runs differ only by the code. Then the counts of each kind.
"""

from __future__ import annotations

import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.pipeline import signing_agencies, signing_people
from ingest.signatures import TrustStore
from ingest.signatures._reader import CachingPdfReader
from ingest.signatures.evaluation import read_manifest
from ingest.signatures.verify import _verify_pdf

NOW = datetime(2026, 12, 4, tzinfo=UTC)


def main(base: Path) -> None:
    trust = TrustStore.from_dir(base / "trust")
    kinds: Counter[str] = Counter()
    for row in read_manifest(base / "MANIFEST.tsv"):
        path = base / row.file
        if path.suffix != ".pdf" or not path.is_file():
            continue
        result = _verify_pdf(path.read_bytes(), trust, False, NOW, CachingPdfReader)
        sigs = [
            f"{s.signer_kind.value}/{'T' if s.trusted else '-'}/{s.signer.common_name if s.signer else ''}"
            for s in result.signatures
        ]
        kinds.update(s.signer_kind.value for s in result.signatures)
        agencies = [a["cn"] or a["ou"] or a["o"] for a in signing_agencies(result.signatures)["agencies"]]
        print(
            f"{row.file}\t{result.verdict.indication.value}/{result.verdict.sub_indication}\t"
            f"nd30={result.nd30.ok}\t{sigs}\tpeople={signing_people(result.signatures)}\t"
            f"agencies={agencies}"
        )
    print("kinds:", dict(sorted(kinds.items())))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/corpora/pdf"))
