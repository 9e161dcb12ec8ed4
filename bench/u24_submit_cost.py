"""u24: the index write cost of submitting (and returning) a hồ sơ of N documents, each with a
derived text: wall and CPU seconds of ``RetentionService.submit`` / ``return_file`` and the store
reads during it (the index of each document follows the archive's reach, u24), on the embedded
index or on an Elasticsearch server (``--es URL``). A local, unsynced installation in a temp
folder, removed at the end (the ES index too).

    .venv/bin/python bench/u24_submit_cost.py --documents 200 [--es http://127.0.0.1:9200] [--whole]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE / "tests" / "support"))
sys.path.insert(1, str(HERE / "bench"))


def run(documents: int, es_url: str | None, text_chars: int, whole: bool) -> dict[str, Any]:
    from count_harness import count_calls, open_kho
    from kho_submission import phong_b_file
    from kho_testing import incoming, pdf_bytes

    from repository import formats

    work = Path(tempfile.mkdtemp(prefix="u24-bench-"))
    backend = None
    try:
        kho, people = open_kho(work)
        from ingest.indexing import follow

        if es_url:
            from search.elasticsearch import ElasticsearchBackend

            backend = ElasticsearchBackend(es_url, prefix=f"kho-u24b-{uuid.uuid4().hex[:8]}", refresh=True)
            kho._backend = backend
        follow(kho.repo, kho.backend)  # (open_kho does not follow)
        if whole:  # every document indexed whole again (no on_reach: the first u24 commit)
            kho.repo.on_reach = None
        officer = people.actor("chuyen_vien_b")
        file = phong_b_file(kho, people)
        body = ("Báo cáo tình hình thực hiện nhiệm vụ năm 2015 của phòng Tổng hợp. " * 200)[:text_chars]
        ids = []
        for i in range(documents):
            doc = kho.repo.create_document(
                "den", incoming(code_number=str(1000 + i), issued_date="2015-03-02"),
                pdf_bytes(f"b-{i}"), "b.pdf", people.actor("van_thu_b"),
            )
            derived = {"parts": [{"page": 1, "text": body}], "format": "pdf"}
            kho.repo.put_derived(doc.record_id, "text.json", formats.dump_derived(derived, "text.json"))
            ids.append(doc.record_id)
        for doc_id in ids:
            file = kho.repo.add_to_file(file.record_id, doc_id, expected_version=file.version, actor=officer)
        file = kho.retention.close_file(
            file.record_id, end_date=date(2015, 12, 31), expected_version=file.version, actor=officer
        )
        out: dict[str, Any] = {"documents": documents, "whole": whole,
                               "backend": "elasticsearch" if es_url else "embedded"}
        calls = count_calls(kho.repo.store, ("get", "list"))
        indexed = [0]
        target = kho.backend
        real_index = target.index

        def counted_index(docs: Any) -> int:
            docs = list(docs)
            indexed[0] += len(docs)
            return real_index(docs)

        target.index = counted_index  # type: ignore[method-assign]
        cpu0, t0 = time.process_time(), time.perf_counter()
        file = kho.retention.submit(file.record_id, expected_version=file.version, actor=officer)
        out["submit_wall"], out["submit_cpu"] = time.perf_counter() - t0, time.process_time() - cpu0
        out["submit_reads"] = dict(calls)
        out["indexed_archive_units"] = sorted({u for i in ids for u in kho.backend.get(i).archive_units})
        out["index_calls"] = indexed[0]
        calls.clear()
        cpu0, t0 = time.process_time(), time.perf_counter()
        kho.retention.return_file(
            file.record_id, reason="Thiếu mục lục", expected_version=file.version,
            actor=people.actor("luu_tru"),
        )
        out["return_wall"], out["return_cpu"] = time.perf_counter() - t0, time.process_time() - cpu0
        out["return_reads"] = dict(calls)
        if backend is not None:
            backend.drop_all()
            backend = None
        kho.close()
        return out
    finally:
        if backend is not None:
            backend.drop_all()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--es", default=None)
    parser.add_argument("--text-chars", type=int, default=8000)
    parser.add_argument("--whole", action="store_true", help="index each document whole")
    args = parser.parse_args()
    print(json.dumps(run(args.documents, args.es, args.text_chars, args.whole)))


if __name__ == "__main__":
    main()
