"""A document put in another hồ sơ while a destruction runs (review a6).

The decided danh mục destroys a hồ sơ and those of its documents that sit in no other hồ sơ
(:meth:`Destructions._targets`). The targets were fixed when execution started; a chuyên viên who
put one of those documents in their own (active) hồ sơ meanwhile, between two records of the
execution or while it was interrupted, was told it was added (``file:add-document``), and the
document was then shredded anyway: their hồ sơ listed a "đã hủy" row, a document no decision
named. Now each document is checked again just before it is destroyed, under the destruction's
claim (``claims/destroying/<id>``), and adding a document looks for that claim after writing its
link: a document added in time is kept, one added too late is refused (409
``RECORD_BEING_DESTROYED``).

The interleavings are made deterministic by acting from the execution's own hooks (the step hook
``on_step``, and the real store's ``put_if_absent`` of the "đã hủy" row)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from kho_people import PASSWORD, People
from kho_retention import closed_file, council_ready

from kho.errors import Conflict
from repository.records import Record, destroyed_key
from retention.destruction import Destructions
from web.context import Kho

pytestmark = pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)


def _decided(kho: Kho, people: People, file: Record) -> dict[str, Any]:
    d, case = council_ready(kho, people, [file.record_id])
    return d.decide(case["case_id"], "QĐ 10/QĐ-UBND", approve=True, actor=people.actor("lanh_dao"))


def _add(kho: Kho, people: People, file_id: str, document_id: str) -> Record:
    current = kho.repo._load(file_id)
    return kho.repo.add_to_file(
        file_id, document_id, expected_version=current.version, actor=people.actor("chuyen_vien")
    )


def test_a_document_added_to_another_file_during_the_execution_is_kept(kho: Kho, people: People) -> None:
    file, docs = closed_file(kho, people)
    mine, _ = closed_file(kho, people, notation="02.TCCB", end="", docs=0)  # active, being built
    case = _decided(kho, people, file)
    added: list[Record] = []

    def meanwhile(_: str, step: str) -> None:
        if step == f"destroyed:{docs[0]}":  # the first document is gone, the second is next
            added.append(_add(kho, people, mine.record_id, docs[1]))

    d = Destructions(kho.repo, kho.accounts, kho.backend, on_step=meanwhile)
    done = d.execute(case["case_id"], PASSWORD, actor=people.actor("luu_tru"))
    assert done["state"] == "done" and added and docs[1] in added[0].documents
    assert kho.repo.keys.exists(docs[1])  # before: shredded, though the hồ sơ "02.TCCB" holds it
    assert kho.repo._load(docs[1]).state == "active"
    assert not kho.repo.keys.exists(docs[0]) and not kho.repo.keys.exists(file.record_id)
    assert kho.repo.get(docs[1], actor=people.actor("chuyen_vien")).metadata is not None
    assert list(kho.repo.store.list("claims/destroying/")) == []
    [kept] = [e for e in kho.repo.audit.events() if e.action == "destruction:keep"]
    assert kept.details["document_id"] == docs[1] and kept.details["file_ids"] == [mine.record_id]


def test_a_document_added_while_its_key_is_being_destroyed_is_refused(kho: Kho, people: People) -> None:
    """The narrow window: the document was checked (in no other hồ sơ) and its "đã hủy" row is
    being written when the chuyên viên adds it. Refused with a code; the hồ sơ does not list a
    document that is then destroyed."""
    file, docs = closed_file(kho, people)
    mine, _ = closed_file(kho, people, notation="02.TCCB", end="", docs=0)
    case = _decided(kho, people, file)
    store = kho.repo.store
    real: Callable[[str, bytes], Any] = store.put_if_absent
    outcome: list[Any] = []

    def hooked(key: str, data: bytes) -> Any:
        if key == destroyed_key(docs[1]) and not outcome:
            try:
                outcome.append(_add(kho, people, mine.record_id, docs[1]))
            except Conflict as exc:
                outcome.append(exc)
        return real(key, data)

    store.put_if_absent = hooked  # type: ignore[method-assign]
    d = Destructions(kho.repo, kho.accounts, kho.backend)
    assert d.execute(case["case_id"], PASSWORD, actor=people.actor("luu_tru"))["state"] == "done"
    [refused] = outcome
    assert isinstance(refused, Conflict), refused  # before: added, then shredded under the hồ sơ
    assert refused.code == "RECORD_BEING_DESTROYED" and refused.http_status == 409
    assert "đang được hủy" in refused.message and refused.details["record_id"] == docs[1]
    assert docs[1] not in kho.repo._load(mine.record_id).documents
    assert kho.repo.files_of(docs[1]) == [file.record_id]  # no link left by the refused add
    assert not kho.repo.keys.exists(docs[1])


def test_a_destroyed_document_is_not_added_to_a_file(kho: Kho, people: People) -> None:
    """Sequentially: a "đã hủy" row was put in an active hồ sơ (it listed a destroyed document)."""
    _, docs = closed_file(kho, people, docs=1)
    mine, _ = closed_file(kho, people, notation="02.TCCB", end="", docs=0)
    kho.repo.destroy(docs[0], decision="QĐ 12/QĐ-UBND", actor=people.actor("quan_tri"))
    with pytest.raises(Conflict) as refused:
        _add(kho, people, mine.record_id, docs[0])
    assert refused.value.code == "RECORD_DESTROYED"
    assert kho.repo._load(mine.record_id).documents == ()
