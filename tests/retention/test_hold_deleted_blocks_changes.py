"""A hold deleted from the store still blocks every change a hold blocks, not only destruction.

z3 made destruction refuse (``HOLD_MISSING``) when the record's history names a hold that was
placed, never released, and whose object the store no longer holds. The other checks still
asked the store alone: an insider with the store's credentials who deleted
``holds/<record>/<hold id>`` could then have the record edited, moved to another unit, its hồ sơ
changed, its retention changed and its grants changed, with nothing refused."""

from __future__ import annotations

from datetime import date

import pytest
from kho_people import UNIT_B, People
from kho_retention import closed_file

from kho.errors import LegalHold
from retention.holds import Holds
from web.context import Kho


def _delete_hold_objects(kho: Kho, record_id: str) -> None:
    for info in list(kho.repo.store.list(f"holds/{record_id}/")):
        kho.repo.store.delete(info.key)
    assert kho.repo.holds_on(record_id) == []


def test_a_deleted_hold_on_a_document_still_refuses_its_edits_move_and_grants(
    kho: Kho, people: People
) -> None:
    _, docs = closed_file(kho, people, end="", docs=1)
    Holds(kho.repo).place([docs[0]], "Phục vụ điều tra", actor=people.actor("lanh_dao"))
    _delete_hold_objects(kho, docs[0])
    before = kho.repo._load(docs[0]).version
    clerk = people.actor("van_thu")
    for changes in ({"subject": "Đổi trích yếu"}, {"unit": UNIT_B}):  # an edit, a move
        with pytest.raises(LegalHold) as refused:  # before: a new version written
            kho.repo.update_metadata(docs[0], changes, expected_version=before, actor=clerk)
        assert refused.value.code == "HOLD_MISSING" and docs[0] in refused.value.message
    with pytest.raises(LegalHold) as refused:
        kho.repo.grant(docs[0], users=("someone",), actor=people.actor("quan_tri"))
    assert refused.value.code == "HOLD_MISSING"
    assert kho.repo._load(docs[0]).version == before  # nothing written


def test_a_deleted_hold_on_a_file_still_refuses_editing_it_and_its_documents(
    kho: Kho, people: People
) -> None:
    file, docs = closed_file(kho, people, end="", docs=2)
    Holds(kho.repo).place([file.record_id], "Thanh tra hồ sơ", actor=people.actor("lanh_dao"))
    _delete_hold_objects(kho, file.record_id)
    officer = people.actor("chuyen_vien")
    current = kho.repo._load(file.record_id)
    with pytest.raises(LegalHold) as refused:  # a retention change of the hồ sơ
        kho.repo.update_metadata(file.record_id, {"maintenance": "10 năm"},
                                 expected_version=current.version, actor=officer)
    assert refused.value.code == "HOLD_MISSING"
    with pytest.raises(LegalHold):  # taking a document out of it
        kho.repo.remove_from_file(file.record_id, docs[0], expected_version=current.version,
                                  actor=officer, reason="Không thuộc hồ sơ")
    doc = kho.repo._load(docs[1])
    with pytest.raises(LegalHold):  # a document in the held hồ sơ
        kho.repo.update_metadata(docs[1], {"subject": "Đổi"}, expected_version=doc.version,
                                 actor=people.actor("van_thu"))
    with pytest.raises(LegalHold) as refused:  # closing it (before: closed)
        kho.retention.close_file(file.record_id, end_date=date(2015, 12, 31),
                                 expected_version=current.version, actor=officer)
    assert refused.value.code == "HOLD_MISSING"
    assert kho.repo._load(file.record_id).version == current.version


def test_a_held_file_is_neither_closed_nor_reopened(kho: Kho, people: People) -> None:
    """Closing and reopening are hồ sơ edits (README: a hold blocks them); transition_file
    asked no hold at all, so a held hồ sơ was closed and reopened."""
    file, _ = closed_file(kho, people, docs=1)  # closed
    Holds(kho.repo).place([file.record_id], "Thanh tra hồ sơ", actor=people.actor("lanh_dao"))
    with pytest.raises(LegalHold) as refused:
        kho.retention.reopen_file(file.record_id, reason="Bổ sung", expected_version=file.version,
                                  actor=people.actor("chuyen_vien"))
    assert refused.value.code == "LEGAL_HOLD"
    _delete_hold_objects(kho, file.record_id)
    with pytest.raises(LegalHold) as refused:
        kho.retention.reopen_file(file.record_id, reason="Bổ sung", expected_version=file.version,
                                  actor=people.actor("chuyen_vien"))
    assert refused.value.code == "HOLD_MISSING"
    assert kho.repo._load(file.record_id).state == "closed"


def test_a_hold_placed_and_released_lets_changes_go_on(kho: Kho, people: People) -> None:
    """Not a false refusal: a hold released through Kho (its event in the log) no longer holds."""
    _, docs = closed_file(kho, people, end="", docs=1)
    holds = Holds(kho.repo)
    order = holds.place([docs[0]], "Phục vụ điều tra", actor=people.actor("lanh_dao"))
    holds.release(order["order_id"], "Kết thúc điều tra", actor=people.actor("lanh_dao"))
    doc = kho.repo._load(docs[0])
    changed = kho.repo.update_metadata(docs[0], {"subject": "Đổi trích yếu"},
                                       expected_version=doc.version, actor=people.actor("van_thu"))
    assert changed.version == doc.version + 1


def test_a_deleted_hold_is_released_by_its_authority_and_changes_go_on(kho: Kho, people: People) -> None:
    """The way out: the hold order (not deleted) is released as usual by who may lift it; the
    missing object's release is audited (``object_missing``) and the record can change again.
    Before, ``release_hold`` found no object, wrote no event, and the log's hold stayed open."""
    _, docs = closed_file(kho, people, end="", docs=1)
    holds = Holds(kho.repo)
    order = holds.place([docs[0]], "Phục vụ điều tra", actor=people.actor("lanh_dao"))
    _delete_hold_objects(kho, docs[0])
    holds.release(order["order_id"], "Kết thúc điều tra", actor=people.actor("lanh_dao"))
    [released] = [e for e in kho.repo.audit.record_events(docs[0]) if e.action == "hold:release"]
    assert released.details["object_missing"] is True
    doc = kho.repo._load(docs[0])
    changed = kho.repo.update_metadata(docs[0], {"subject": "Đổi trích yếu"},
                                       expected_version=doc.version, actor=people.actor("van_thu"))
    assert changed.version == doc.version + 1
