"""m39: a bulk worker writes its documents' search entries in one index commit per chunk of up
to ``BATCH`` (64) files, so a large import makes a quarter of the Tantivy commits it made with
16 (each ~20 ms of CPU however few documents it holds); every file is still reported ``xong``
only after the commit that holds its entry, and each one is found by search."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ingest.bulk import import_paths
from kho.config import Settings
from search import open_backend
from search.embedded import EmbeddedBackend
from search.query import Principal, Query

FILES = 256
EVERYONE = Principal("kt1", everything=True)


def test_a_large_import_indexes_in_chunks_of_64_and_each_file_is_found(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(FILES):
        (folder / f"cv-{n:03d}.txt").write_text(
            f"Công văn số {n} về việc kiểm kê tài sản mã KK{n:03d}.\n", encoding="utf-8"
        )
    batches: list[int] = []
    real = EmbeddedBackend.index

    def counted(self: EmbeddedBackend, docs: Any, *args: Any, **kwargs: Any) -> Any:
        docs = list(docs)
        batches.append(len(docs))
        return real(self, docs, *args, **kwargs)

    monkeypatch.setattr(EmbeddedBackend, "index", counted)

    report = import_paths([folder], settings=Settings.from_env(), workers=1)

    assert (report.done, report.failed) == (FILES, 0)
    assert batches == [64] * (FILES // 64)  # was [16] * 16
    backend = open_backend(Settings.from_env().data_dir / "index")
    try:
        for n in (0, 63, 64, 255):  # the first and last file of a chunk, the last of the import
            found = backend.search(Query(principal=EVERYONE, terms=(f"KK{n:03d}",)))
            assert found.total == 1, n
    finally:
        backend.close()

