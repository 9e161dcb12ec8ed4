"""m42: the text step's and the metadata step's answers on every document of
``/work/shared/corpora/`` and on the bench's 400 signed PDFs, as JSON, to compare two trees
(the half of NOTES-m42's same-output check that ``bench/m39_same_output.py`` does not do):

    PYTHONPATH=/tmp/base .venv/bin/python bench/m42_same_metadata.py > base.json
    PYTHONPATH=. .venv/bin/python bench/m42_same_metadata.py > head.json

Each PDF (the corpus's 52+ and the bench's 400): the bomb guard's answer (passed, or the error's
code and details), the extracted text's digest and ``extract_metadata`` of it; each text of
``corpora/meta/records.jsonl`` and ``corpora/ir/corpus.jsonl``: ``extract_metadata`` of it.
Native extraction (no Tika), default limits. Nothing is written to disk."""

import hashlib
import json
import os
import sys
from pathlib import Path

os.environ["KHO_TIKA_URL"] = ""
SHARED = Path(os.environ.get("KHO_SHARED_DIR", "/work/shared")) / "corpora"
BENCH = Path.home() / ".cache/kho-bench/signed-400x3"

from ingest.metadata import extract_metadata  # noqa: E402
from ingest.text.extractor import extract_text  # noqa: E402
from ingest.text.guards import check_pdf_streams  # noqa: E402
from ingest.text.settings import TextSettings  # noqa: E402


def _meta(text: str) -> str:
    return repr(extract_metadata(text))


def _pdf(path: Path, settings: TextSettings) -> dict[str, str]:
    data = path.read_bytes()
    out: dict[str, str] = {}
    try:
        check_pdf_streams(data, settings)
        out["guard"] = "passed"
    except Exception as exc:  # the answer is what is compared
        out["guard"] = f"{type(exc).__name__}:{getattr(exc, 'code', '')}:{getattr(exc, 'details', '')}"
    try:
        text = extract_text(data, path.name, settings=settings).text
    except Exception as exc:
        out["text"] = f"{type(exc).__name__}:{getattr(exc, 'code', '')}"
        return out
    out["text"] = hashlib.sha256(text.encode()).hexdigest()
    out["metadata"] = _meta(text)
    return out


def main() -> None:
    settings = TextSettings.from_env()
    result: dict[str, object] = {}
    pdfs = sorted((SHARED / "pdf").glob("*.pdf")) + sorted(BENCH.glob("signed-*.pdf"))
    for path in pdfs:
        result[f"pdf:{path.name}"] = _pdf(path, settings)
    for name in ("meta/records.jsonl", "ir/corpus.jsonl"):
        for line in (SHARED / name).read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            result[f"{name}:{record['id']}"] = _meta(record["text"])
    json.dump(result, sys.stdout, ensure_ascii=False, sort_keys=True, indent=0)
    print(f"{len(pdfs)} PDFs, {len(result) - len(pdfs)} texts", file=sys.stderr)


if __name__ == "__main__":
    main()
