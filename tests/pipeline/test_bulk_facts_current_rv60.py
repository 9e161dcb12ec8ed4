"""Review rv60 of m55: a bulk import names a record it created as the record is when it ends.

m55 has the worker hand over the facts of each record it created, taken from the version the
pipeline wrote last, so the importing process no longer reads the record to ask the access
policy whether the importer may see its id (rv29). A worker holds a record's last version from
its last step until its whole chunk (up to 64 files, seconds to minutes of OCR) is indexed, and
anyone may change the record meanwhile: a quản trị grants it to the importer's unit, a văn thư
registers it as Mật. The handed-over facts then decided on the record as it was: a record the
importer may now see was left out of the report and the manifest, and a Mật record's id was
written for a Thường reader. Before m55 the importer read it at the decision and got both right.

The change is made by another person at the last moment of a chunk (``flush_index``, before
the worker hands over its results), with the real pipeline, store and CLI, one worker (in
this process) and two (forked), on the local store and on the S3 gateway.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from kho_people import AGENCY, UNIT_B, People, make_people
from kho_testing import incoming_signed, s3_options_or_skip, s3_store_env

from ingest.pipeline import Pipeline
from kho.config import Settings
from repository.records import SYSTEM, Repository
from repository.vocabulary import Secrecy
from web.cli import main
from web.context import Kho

FILES = 4


def _grant_to_unit_b(repo: Repository, record_id: str) -> None:
    """A quản trị's grant: phòng B may now see the record."""
    repo.grant(record_id, units=(UNIT_B,), actor=SYSTEM)


def _register_as_mat(repo: Repository, record_id: str) -> None:
    """The agency's văn thư registers the intake as Mật: a Thường reader may no longer see it."""
    current = repo.get(record_id, actor=SYSTEM)
    seed = int(current.files[0].original_name.removesuffix(".pdf").split("-")[-1])  # qd-<seed>.pdf
    md = incoming_signed(seed, secrecy=int(Secrecy.MAT))
    repo.complete_intake(record_id, md, expected_version=current.version, actor=SYSTEM)


CHANGES: dict[str, tuple[Callable[[Repository, str], None], str, bool]] = {
    # change, importer, whether the importer sees the records once changed
    "granted-to-the-importers-unit": (_grant_to_unit_b, "van_thu_b", True),
    "registered-mat": (_register_as_mat, "van_thu_thuong", False),
}


def _changed_before_the_hand_over(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[Repository, str], None]
) -> None:
    """Someone else changes the records of a worker's chunk as the chunk ends: stored and
    checked, waiting for the chunk's index commit, their facts not yet handed over."""
    real = Pipeline.flush_index

    def flush_index(self: Pipeline) -> Any:
        for status, _, _ in self._deferred:
            assert status.record_id is not None
            change(self.repo, status.record_id)
        return real(self)

    monkeypatch.setattr(Pipeline, "flush_index", flush_index)


@pytest.mark.parametrize("store", ["local", pytest.param("s3", marks=pytest.mark.s3)])
@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("changed", sorted(CHANGES))
def test_the_report_and_manifest_name_a_created_record_as_it_is_at_the_end(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, signed_folder: Path,
    store: str, workers: str, changed: str,
) -> None:
    if store == "s3":
        for key, value in s3_store_env(s3_options_or_skip(), f"rv60{workers}{changed[:3]}").items():
            monkeypatch.setenv(key, value)
    change, importer, sees = CHANGES[changed]
    folder = tmp_path / "in"
    folder.mkdir()
    for source in sorted(signed_folder.iterdir())[:FILES]:
        (folder / source.name).write_bytes(source.read_bytes())
    kho = Kho(Settings.from_env(), follow_index=False)
    people: People = make_people(kho)
    people.add("van_thu_thuong", "Vũ Thị Thường", AGENCY, ["van_thu"], int(Secrecy.THUONG))
    monkeypatch.setenv("KHO_TOKEN_FILE", str(tmp_path / "tokens.json"))
    monkeypatch.setenv("KHO_TOKEN", people.tokens[importer])
    _changed_before_the_hand_over(monkeypatch, change)
    manifest = tmp_path / "manifest.jsonl"

    result = CliRunner().invoke(main, [
        "ingest", "files", str(folder), "--workers", workers, "--manifest", str(manifest), "--json",
    ])

    assert result.exit_code == 0, result.output
    items = json.loads(result.output)["items"]
    assert len(items) == FILES and all(i["state"] == "xong" for i in items), items
    records = sorted(kho.repo.record_ids())
    assert len(records) == FILES
    reported = sorted(i["record_id"] for i in items if i["record_id"])
    written = sorted(
        e["record_id"] for e in map(json.loads, manifest.read_text().splitlines()) if e["record_id"]
    )
    expected = records if sees else []
    assert reported == expected, (changed, reported)
    assert written == expected, (changed, written)
    kho.close()
