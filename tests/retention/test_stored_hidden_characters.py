"""A field stored by an earlier Kho with a character the hidden-character rule now refuses (a
C1 control from a cp1252 text read as Latin-1, a right-to-left override) does not make its
record unchangeable: the rule judges what is typed now, not what is kept unchanged. Before,
every update re-read the whole metadata, so one such character in a document of a hồ sơ stopped
the hồ sơ's closing (its page counts are written to each document), and a registered document's
frozen field could be neither kept nor corrected."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from kho_people import People
from kho_retention import closed_file

from kho.errors import ValidationFailed
from repository.records import Record
from retention.service import RETENTION_ACTOR
from web.context import Kho

C1_QUOTES = "\u0093Quy chế\u0094"  # “Quy chế” from cp1252 bytes decoded as Latin-1
OVERRIDE = "Hồ sơ \u202etuyển dụng"


def _as_stored_earlier(kho: Kho, people: People, record_id: str, **fields: str) -> Record:
    """A version written as Kho wrote it before the rule (the metadata is not read again)."""
    repo, clerk = kho.repo, people.actor("van_thu")
    current = repo._load(record_id)
    new = repo._next_version(current, clerk, metadata=replace(current.metadata, **fields))
    return repo._write_version(current, new, clerk, "record:update", {"fields": sorted(fields)})


def test_a_hoso_with_an_earlier_stored_hidden_character_still_closes(kho: Kho, people: People) -> None:
    file, ids = closed_file(kho, people, end="")
    doc = _as_stored_earlier(kho, people, ids[0], subject=f"Về việc ban hành {C1_QUOTES}")
    file = _as_stored_earlier(kho, people, file.record_id, title=OVERRIDE)
    officer = people.actor("chuyen_vien")
    closed = kho.retention.close_file(
        file.record_id, end_date=date(2015, 12, 31), expected_version=file.version, actor=officer
    )
    assert closed.state == "closed" and closed.metadata.title == OVERRIDE
    counted = kho.repo.update_metadata(  # as the closing writes a PDF's page count
        doc.record_id, {"page_amount": 3}, expected_version=doc.version, actor=RETENTION_ACTOR
    )
    assert counted.metadata.subject == f"Về việc ban hành {C1_QUOTES}" and counted.metadata.page_amount == 3


def test_a_registered_document_keeps_its_stored_field_and_refuses_a_new_hidden_one(
    kho: Kho, people: People
) -> None:
    _file, ids = closed_file(kho, people, end="", docs=1)
    doc = _as_stored_earlier(kho, people, ids[0], organ_name=f"Bộ Nội vụ {C1_QUOTES}")
    clerk = people.actor("van_thu")
    updated = kho.repo.update_metadata(
        doc.record_id, {"to_places": "Phòng Tổng hợp"}, expected_version=doc.version, actor=clerk
    )
    assert updated.metadata.to_places == "Phòng Tổng hợp"
    assert updated.metadata.organ_name == f"Bộ Nội vụ {C1_QUOTES}"
    with pytest.raises(ValidationFailed) as refused:
        kho.repo.update_metadata(
            doc.record_id, {"subject": "Về việc \u202eabc"}, expected_version=updated.version, actor=clerk
        )
    assert [e.code for e in refused.value.errors] == ["FIELD_CONTROL_CHARS"]
