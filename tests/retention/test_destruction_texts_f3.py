"""The texts a destruction case stores as typed (the thuyết minh, the numbers of the council's
and of the destruction's quyết định): a hidden character is refused with ``FIELD_CONTROL_CHARS``
before anything is written, like every other typed text of the case (reviews, minutes,
appraisal). A quyết định cannot be recorded twice, so a bad one would stay for good."""

from __future__ import annotations

import pytest
from kho_people import People
from kho_retention import closed_file, council_ready

from kho.errors import KhoError
from retention.destruction import Destructions
from web.context import Kho

HIDDEN = ["Quyết định\x00 số 20", "Quyết định số 20\u202e", "Quyết định số 20\x07"]


def refused(call: object, *args: object, **kwargs: object) -> KhoError:
    with pytest.raises(KhoError) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    return info.value


def test_a_thuyet_minh_with_a_hidden_character_opens_no_case(kho: Kho, people: People) -> None:
    file, _ = closed_file(kho, people, notation="04.TH")
    destructions = Destructions(kho.repo, kho.accounts, kho.backend)
    for text in HIDDEN:
        error = refused(destructions.propose, [file.record_id], text, actor=people.actor("luu_tru"))
        assert error.code == "FIELD_CONTROL_CHARS" and "Bản thuyết minh" in error.message
    assert destructions.list(actor=people.actor("luu_tru")) == []


def test_a_council_decision_with_a_hidden_character_is_refused(kho: Kho, people: People) -> None:
    file, _ = closed_file(kho, people, notation="04.TH")
    destructions = Destructions(kho.repo, kho.accounts, kho.backend)
    case = destructions.propose([file.record_id], "Hồ sơ hết hạn.", actor=people.actor("luu_tru"))
    members = [people.usernames[w] for w in ("lanh_dao", "luu_tru", "chuyen_vien")]
    for ref in HIDDEN:
        error = refused(
            destructions.establish_council, case["case_id"], members, ref, actor=people.actor("lanh_dao")
        )
        assert error.code == "FIELD_CONTROL_CHARS", error.message
    [kept] = destructions.list(actor=people.actor("luu_tru"))
    assert kept["state"] == "proposed" and kept["council"] is None


def test_a_destruction_decision_with_a_hidden_character_is_refused(kho: Kho, people: People) -> None:
    file, _ = closed_file(kho, people, notation="05.TH")
    destructions, ready = council_ready(kho, people, [file.record_id])
    for ref in HIDDEN:
        error = refused(
            destructions.decide, ready["case_id"], ref, approve=True, actor=people.actor("lanh_dao")
        )
        assert error.code == "FIELD_CONTROL_CHARS", error.message
    [kept] = destructions.list(actor=people.actor("luu_tru"))
    assert kept["state"] == "reviewed" and kept.get("decision") is None
    decided = destructions.decide(
        ready["case_id"],
        "Quye\u0302\u0301t đi\u0323nh số 20/QĐ-UBND",
        approve=True,
        actor=people.actor("lanh_dao"),
    )
    assert decided["decision"]["ref"] == "Quyết định số 20/QĐ-UBND"
