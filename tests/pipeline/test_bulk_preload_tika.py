"""A bulk import's parent imports what its workers need before forking them, and not Tika's
HTTP client (``requests``, ``urllib3``: ~80 ms of CPU per run, bench/NOTES-m18.md), which only a
pipeline with a Tika URL uses; with one, the Tika extractor still reads through the real
server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_PRELOAD_SCRIPT = """
import json, sys
from ingest import bulk
from kho.config import Settings
bulk.preload(Settings.from_env())
print(json.dumps(sorted(sys.modules)))
"""

_TIKA_ONLY = ("requests", "urllib3", "ingest.text.tika")


def _preloaded_modules(tmp_path: Path) -> set[str]:
    env = {**os.environ, "KHO_DATA_DIR": str(tmp_path), "KHO_TIKA_URL": "", "KHO_BROKER_URL": ""}
    env.pop("KHO_STORE_URL", None)
    env.pop("KHO_KEYSTORE_URL", None)
    out = subprocess.run(
        [sys.executable, "-c", _PRELOAD_SCRIPT],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_bulk_preload_does_not_import_the_tika_client(tmp_path: Path) -> None:
    modules = _preloaded_modules(tmp_path)

    assert "ingest.text.extractor" in modules  # the worker's extractor is preloaded
    assert "ingest.pipeline" in modules
    assert [name for name in _TIKA_ONLY if name in modules] == []


def test_the_tika_extractor_still_reads_office_text_through_the_server() -> None:
    from ingest.text import Format, TextSettings, TextSource, get_extractor
    from ingest.text.extractor import check_file

    url = os.environ.get("KHO_TEST_TIKA_URL")
    if not url:  # under KHO_REQUIRE_SERVICES the suite refuses to start without it (conftest)
        pytest.skip("no Tika server (KHO_TEST_TIKA_URL)")
    settings = TextSettings(tika_url=url)
    extractor = get_extractor(settings)
    data = "Quyết định số 12/QĐ-UBND về việc phê duyệt kế hoạch\n".encode()

    text = extractor.extract(data, check_file(data, "qd.txt", settings))

    assert extractor.name == "tika"
    assert text.format is Format.TXT
    assert {part.source for part in text.parts} == {TextSource.TIKA}
    assert "phê duyệt kế hoạch" in " ".join(part.text for part in text.parts)
