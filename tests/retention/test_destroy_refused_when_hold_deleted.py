"""Review z3: a hold deleted from the store by one who can write it is not a release.

Before, ``refuse_if_held`` looked only at the hold objects: an insider who deleted
``holds/<record>/<hold id>`` (and, on S3 with object lock, lifted the gateway's legal hold, which
the same credential may do) let the next destruction go through, and nothing (fsck included)
noticed. The log still says the hold was placed and never released."""

from __future__ import annotations

from pathlib import Path

import pytest
from kho_people import People
from kho_retention import Clock, closed_file, open_kho, s3_env

from kho.errors import LegalHold
from repository.fsck import fsck
from repository.records import content_key
from retention.holds import Holds
from web.context import Kho


def _delete_hold_objects(kho: Kho, record_id: str) -> None:
    for info in list(kho.repo.store.list(f"holds/{record_id}/")):
        kho.repo.store.delete(info.key)
    assert kho.repo.holds_on(record_id) == []


def test_a_hold_deleted_from_the_store_still_refuses_destruction(kho: Kho, people: People) -> None:
    _, docs = closed_file(kho, people, docs=1)
    Holds(kho.repo).place([docs[0]], "Phục vụ điều tra", actor=people.actor("lanh_dao"))
    _delete_hold_objects(kho, docs[0])
    with pytest.raises(LegalHold) as refused:  # before: destroyed
        kho.repo.destroy(docs[0], decision="QĐ 1", actor=people.actor("quan_tri"))
    assert refused.value.code == "HOLD_MISSING" and docs[0] in refused.value.message
    assert kho.repo._load(docs[0]).state != "destroyed" and kho.repo.keys.exists(docs[0])
    found = [i for i in fsck(kho.repo, grace_seconds=0).issues if i.kind == "hold-missing"]
    assert [i.subject.split("/")[1] for i in found] == [docs[0]]  # before: fsck said nothing


def test_a_hold_on_a_file_deleted_from_the_store_still_refuses_destroying_its_documents(
    kho: Kho, people: People
) -> None:
    file, docs = closed_file(kho, people, docs=1)
    order = Holds(kho.repo).place([file.record_id], "Thanh tra hồ sơ", actor=people.actor("lanh_dao"))
    _delete_hold_objects(kho, file.record_id)
    with pytest.raises(LegalHold) as refused:  # before: destroyed
        kho.repo.destroy(docs[0], decision="QĐ 1", actor=people.actor("quan_tri"))
    assert refused.value.code == "HOLD_MISSING" and order["order_id"] in refused.value.details["holds"]


def test_a_released_hold_lets_destruction_go_on(kho: Kho, people: People) -> None:
    """Not a false refusal: a hold placed and released (both in the log) no longer holds."""
    _, docs = closed_file(kho, people, docs=1)
    holds = Holds(kho.repo)
    order = holds.place([docs[0]], "Phục vụ điều tra", actor=people.actor("lanh_dao"))
    holds.release(order["order_id"], "Kết thúc điều tra", actor=people.actor("lanh_dao"))
    assert not [i for i in fsck(kho.repo, grace_seconds=0).issues if i.kind == "hold-missing"]
    assert kho.repo.destroy(docs[0], decision="QĐ 1", actor=people.actor("quan_tri")).state == "destroyed"


def test_on_s3_with_object_lock_a_deleted_hold_and_a_lifted_gateway_hold_still_refuse(tmp_path: Path) -> None:
    kho = open_kho(s3_env(tmp_path, object_lock=True), Clock())
    try:
        from kho_people import make_people

        people = make_people(kho)
        _, docs = closed_file(kho, people, docs=1)
        record = kho.repo._load(docs[0])
        key = content_key(record.record_id, record.files[0].sha256)
        Holds(kho.repo).place([docs[0]], "Thanh tra", actor=people.actor("luu_tru"))
        _delete_hold_objects(kho, docs[0])
        kho.repo.store.set_legal_hold(key, False)  # the insider's credential may lift it
        with pytest.raises(LegalHold) as refused:  # before: destroyed
            kho.repo.destroy(docs[0], decision="QĐ 1", actor=people.actor("quan_tri"))
        assert refused.value.code == "HOLD_MISSING"
    finally:
        kho.close()


def test_a_hold_whose_event_was_deleted_too_still_refuses_destruction(kho: Kho, people: People) -> None:
    """Review r22: the insider deletes the hold object *and* the stored audit object that holds its
    ``hold:place``. The history then read through the index skipped the missing event: no hold
    open, destroyed (the chain check finds the gap, later). A record's history with an event
    gone cannot show that no hold is open: refused."""
    from repository.audit import event_key

    _, docs = closed_file(kho, people, docs=1)
    Holds(kho.repo).place([docs[0]], "Phục vụ điều tra", actor=people.actor("lanh_dao"))
    placed = [e for e in kho.repo.audit.record_events(docs[0]) if e.action == "hold:place"]
    _delete_hold_objects(kho, docs[0])
    homes = [i.key for i in kho.repo.store.list("audit/events/") if i.key <= event_key(placed[0].seq)]
    kho.repo.store.delete(homes[-1])
    kho.repo.audit._parsed.clear()  # as in another process (the CLI): none of this one's parsed objects
    assert not [e for e in kho.repo.audit.record_events(docs[0]) if e.action == "hold:place"]
    with pytest.raises(LegalHold) as refused:  # z3: destroyed
        kho.repo.destroy(docs[0], decision="QĐ 1", actor=people.actor("quan_tri"))
    assert refused.value.code == "HOLD_MISSING"
    assert kho.repo._load(docs[0]).state != "destroyed"
