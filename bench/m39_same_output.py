"""m39: import the bench's 400 signed PDFs (``signed-400x3``) with the tree on ``PYTHONPATH``, 2
workers; print as JSON every record's stored text and metadata and 24 search result pages (file
name and score per hit), keyed by file name, to compare two trees' output:

    PYTHONPATH=/tmp/base .venv/bin/python bench/m39_same_output.py > base.json
    PYTHONPATH=. .venv/bin/python bench/m39_same_output.py > head.json

The data folder is removed at the end."""

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

FOLDER = Path.home() / ".cache/kho-bench/signed-400x3"
tmp = tempfile.mkdtemp(prefix="m39-same-", dir="/tmp")
os.environ.update(
    KHO_DATA_DIR=tmp,
    KHO_TRUST_DIR=str(FOLDER / "trust"),
    KHO_FSYNC="false",
    KHO_BROKER_URL="",
    KHO_TIKA_URL="",
)
logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
try:
    from ingest import bulk
    from kho.config import Settings
    from repository.service import open_repository
    from search import open_backend
    from search.query import Principal, Query

    settings = Settings.from_env()
    paths = sorted(FOLDER.glob("signed-*.pdf"))
    report = bulk.import_paths(paths, settings=settings, workers=2, manifest_path=Path(tmp) / "m.jsonl")
    by_id = {i.record_id: Path(i.path).name for i in report.items}
    out = {"done": report.done, "failed": report.failed, "batch": getattr(bulk, "BATCH", None)}
    from ingest.pipeline import METADATA_DERIVED, TEXT_DERIVED

    repo = open_repository(settings)
    recs = {}
    for rid, name in by_id.items():
        recs[name] = {n: json.loads(repo.get_derived(rid, n)) for n in (TEXT_DERIVED, METADATA_DERIVED)}
    out["records"] = recs
    backend = open_backend(settings.data_dir / "index")
    everyone = Principal("kt1", everything=True)
    res = {}
    for terms in (
        ("quyết", "định"),
        ("công", "văn"),
        ("kế", "hoạch"),
        ("ủy", "ban"),
        ("số",),
        ("2024",),
        ("ngân", "sách"),
        ("báo", "cáo"),
    ):
        for page in (1, 2, 3):
            r = backend.search(
                Query(principal=everyone, terms=terms, page=page, page_size=50, highlight=False)
            )
            res[" ".join(terms) + f" p{page}"] = [
                r.total,
                [(by_id.get(h.id, h.id), round(h.score, 5)) for h in r.hits],
            ]
    out["search"] = res
    backend.close()
    print(json.dumps(out, ensure_ascii=False, sort_keys=True, default=str))
finally:
    shutil.rmtree(tmp, ignore_errors=True)
