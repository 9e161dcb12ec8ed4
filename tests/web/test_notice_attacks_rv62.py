"""rv62: who is told of a record nobody can open (m62's ``notice_recipients``), attacked.

m62 made ``notify_operators`` read the unit tree (``accounts.units()``) and every keeper's
principal (``principal_of``, which reads the tree for a lãnh đạo or lưu trữ viên) before it
told anyone, inside the one ``try`` whose failure answers "nobody told" (``{"*": code}``). A
unit rolled back in the store (its newest version deleted: a broken backup restored, a hand in
the store) makes every read of the tree refuse with ``UNIT_ROLLED_BACK`` (review s20): since
m62 a fixity run that finds an unopenable record then tells nobody, not even the quản trị who
restores it, where before m62 the quản trị was told (only the lưu trữ viên, whose principal
needs the tree, failed). An alert that cannot be delivered to some must not hide what it is
about from the rest. Now: without the tree, each record is told as if its unit had no one
above it (its own unit's văn thư still, no head above), and a person whose principal cannot be
read is reported failed alone. Real installation, local store, sealed, real fixity runs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from kho_people import AGENCY, UNIT_B, People
from kho_testing import incoming, pdf_bytes

from repository.records import Record, version_key
from retention.operations import notify_operators, run_fixity
from web.context import Kho

UNIT_C = "000.02.18.H40"


def _damaged(kho: Kho, people: People, number: str) -> Record:
    record = kho.repo.create_document(
        "den", incoming(code_number=number), pdf_bytes(f"rv62-{number}"), "x.pdf", people.actor("van_thu_b")
    )
    assert kho.repo.facts(record).unit == UNIT_B
    path = Path(kho.settings.data_dir) / "store" / "objects" / version_key(record.record_id, record.version)
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 0x01]))
    return record


def _roll_back_a_unit(kho: Kho, people: People) -> None:
    """Phòng C made, then renamed; its newest version deleted from the store (the log names it)."""
    admin = kho.accounts.get(people.usernames["quan_tri"])
    kho.accounts.create_unit(UNIT_C, "Phòng Kế hoạch", "pkh", AGENCY, admin)
    kho.accounts.update_unit(UNIT_C, name="Phòng Kế hoạch - Tài chính", actor=admin)
    folder = Path(kho.settings.data_dir) / "store" / "objects" / "units" / UNIT_C
    newest = sorted(folder.iterdir())[-1]
    newest.unlink()


@pytest.mark.sealed
def test_a_unit_rolled_back_does_not_silence_the_notice_of_an_unopenable_record(
    kho: Kho, people: People
) -> None:
    record = _damaged(kho, people, "6291")
    _roll_back_a_unit(kho, people)
    fresh = Kho(kho.settings)
    try:
        with pytest.raises(Exception) as refused:  # the tree is refused, as review s20 wants
            fresh.accounts.units()
        assert getattr(refused.value, "code", "") == "UNIT_ROLLED_BACK"
        report = run_fixity(
            fresh.repo, fresh.settings, people.actor("quan_tri"), today=date(2026, 12, 7), period_days=1
        )
        told = {
            who
            for who, name in people.usernames.items()
            for n in fresh.accounts.notifications(name)
            if n.kind == "fixity" and record.record_id in n.message
        }
        notified, failed = notify_operators(
            fresh.repo, fresh.settings, "fixity", lambda ids: " ".join(ids), records=[record.record_id]
        )
    finally:
        fresh.close()
    assert record.record_id in str(report)
    # main since m62: nobody (the whole notice failed with UNIT_ROLLED_BACK); before m62 the
    # quản trị was told. Phòng B's văn thư is its keeper (no lưu trữ viên there): told too.
    assert told == {"quan_tri", "van_thu_b"}
    # the people the tree decides for are said not told, with the refusal's code, one by one
    names = people.usernames
    assert sorted(notified) == sorted([names["quan_tri"], names["van_thu_b"]])
    assert failed == {names["luu_tru"]: "UNIT_ROLLED_BACK", names["lanh_dao"]: "UNIT_ROLLED_BACK"}
