"""The catalog marker a confirmation writes carries its format version (review r32, left open).

``complete_intake`` rewrote ``catalog/records/<id>`` (the register it numbers in) with a bare
``json.dumps``: no ``format_version``, unlike every other marker (``_write_marker``), and its
reader (``_register_entry``, the roll-forward of a killed confirmation) parsed it with
``json.loads``, so a marker of a newer format was read as if it were known. Now one writer
stamps every marker and the reader upcasts it: an old marker (no version) reads as before, a
newer one is refused with ``FORMAT_UNSUPPORTED`` and nothing is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kho_intake import confirm_intake, killed_before_numbered, register_rows
from kho_testing import CLERK, checked_by_ingest, pdf_bytes

from kho.errors import FormatUnsupported
from repository import formats
from repository.records import Repository

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats"


def _marker(repo: Repository, record_id: str) -> dict[str, object]:
    return json.loads(repo.store.get(f"catalog/records/{record_id}"))


@pytest.mark.parametrize("direction", ["den", "di"])
def test_the_marker_a_confirmation_writes_carries_its_format_version(
    repo_on: Repository, direction: str
) -> None:
    repo = repo_on
    rec = checked_by_ingest(
        repo, repo.create_intake(direction, pdf_bytes("m9-marker"), "cv.pdf", CLERK).record_id
    )
    assert _marker(repo, rec.record_id)["register"] is None  # intake: no register yet
    done = confirm_intake(repo, rec)
    marker = _marker(repo, rec.record_id)
    assert marker["register"] and done.registration is not None
    assert marker[formats.FORMAT_KEY] == formats.CATALOG_MARKER.current  # before: no version
    assert formats.upcast(formats.CATALOG_MARKER.name, marker)["kind"] == direction


def test_a_marker_of_a_newer_format_is_refused_and_nothing_is_written(repo_on: Repository) -> None:
    repo = repo_on
    rec = killed_before_numbered(repo)
    marker = _marker(repo, rec.record_id)
    newer = {**marker, formats.FORMAT_KEY: formats.CATALOG_MARKER.current + 1}
    repo.store.put(f"catalog/records/{rec.record_id}", json.dumps(newer).encode())
    with pytest.raises(FormatUnsupported) as refused:
        confirm_intake(repo, rec)  # before: read as a known marker, rolled forward
    assert refused.value.code == "FORMAT_UNSUPPORTED"
    assert "phiên bản" in refused.value.message
    assert repo._load(rec.record_id).state == "intake"  # nothing materialised
    assert repo._versions(rec.record_id) == list(range(1, rec.version + 1))
    assert [e.number for e in register_rows(repo, rec.record_id)] == [1]  # the number kept
    assert _marker(repo, rec.record_id) == newer  # the newer marker not overwritten


def test_an_unversioned_marker_of_an_older_kho_still_rolls_forward(repo_on: Repository) -> None:
    """A marker written before this change (as the v0 fixture: no version) reads as before."""
    repo = repo_on
    rec = killed_before_numbered(repo)
    old = {k: v for k, v in _marker(repo, rec.record_id).items() if k != formats.FORMAT_KEY}
    repo.store.put(f"catalog/records/{rec.record_id}", json.dumps(old).encode())
    again = confirm_intake(repo, rec)
    assert again.registration is not None and again.registration.number == 1
    assert [e.number for e in register_rows(repo, rec.record_id)] == [1]


def test_the_intake_marker_fixture_of_version_1_loads() -> None:
    path = FIXTURES / "v1" / "catalog-marker" / "confirmed-den.json"
    data = formats.loads(formats.CATALOG_MARKER.name, path.read_bytes())
    assert data["kind"] == "den" and data["register"] == "registers/000.00.18.H40/2026/den/"
