"""Free texts have a length limit (review f3, left open): a 3,000-character receipt reference,
quyết định, organ name or note was accepted and stored (only the request body limit applied).

One rule beside the hidden-character one, in :func:`repository.vocabulary.typed_text`: a maximum
per kind of text (:class:`repository.vocabulary.TextKind`: one-line references and names 200,
notes and reasons 1,000, texts that are documents of their own 20,000), refused with
``FIELD_TOO_LONG`` and a Vietnamese message naming the field and the limit, before anything is
written, on every path the rule already guarded (and the agency catalogue's organ name)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from kho_people import People, submit_with_note
from kho_retention import closed_file, council_ready
from kho_testing import incoming

from kho.errors import ValidationFailed
from repository import vocabulary
from repository.saved_searches import SavedSearches
from repository.vocabulary import typed_text
from retention.destruction import Destructions
from retention.sip import Transfers
from web.context import Kho

LONG = "Biên bản số 03/BB-LTLS ngày 05/3/2026 " * 80  # 3,040 characters, as f3 found accepted
NOT_RECORDS = ("accounts/", "units/", "tokens/", "token-index/", "audit", "catalog/", "notifications/")


def _too_long(error: ValidationFailed, field: str, label: str, limit: int) -> None:
    assert [(e.field, e.code) for e in error.errors] == [(field, "FIELD_TOO_LONG")]
    message = error.errors[0].message
    assert message == unicodedata.normalize("NFC", message)
    assert label in message and f"{limit} ký tự" in message


@pytest.mark.parametrize(
    ("kind", "line_breaks", "limit"),
    [(None, False, 200), (None, True, 1000), ("DOCUMENT", True, 20000)],
)
def test_the_rule_takes_the_limit_and_refuses_one_character_more(
    kind: str | None, line_breaks: bool, limit: int
) -> None:
    """(The kinds looked up here: the module before them still loads, its tests fail one by one.)"""
    text_kind = getattr(vocabulary, "TextKind")[kind] if kind else None  # noqa: B009
    exact = "ệ" * limit
    assert typed_text(f"  {exact}  ", "f", "Trường", line_breaks=line_breaks, kind=text_kind) == exact
    decomposed = "e\u0323\u0302" * limit  # NFC first: the limit counts what is stored
    assert typed_text(decomposed, "f", "Trường", line_breaks=line_breaks, kind=text_kind) == exact
    with pytest.raises(ValidationFailed) as refused:
        typed_text(exact + "a", "f", "Trường", line_breaks=line_breaks, kind=text_kind)
    _too_long(refused.value, "f", "Trường", limit)
    assert f"dài {limit + 1} ký tự" in refused.value.errors[0].message


def test_a_receipt_reference_of_3000_characters_is_refused_through_the_api(
    kho: Kho, people: People, client: FlaskClient, tmp_path: Path
) -> None:
    file, _ = closed_file(kho, people, notation="01.VP", maintenance="Vĩnh viễn", docs=1)
    done = Transfers(kho.repo).export(file.record_id, tmp_path / "out", actor=people.actor("luu_tru"))
    url = f"/api/retention/transfers/{done['transfer_id']}/receipt"
    answer = client.post(url, json={"reference": LONG}, headers=people.headers("luu_tru"))
    assert answer.status_code == 422, answer.get_data(as_text=True)[:300]  # before: 200, stored
    error = answer.json["error"]
    assert error["code"] == "FIELD_TOO_LONG"  # the stable code for machines
    assert error["details"]["errors"][0] == {
        "field": "reference",
        "code": "FIELD_TOO_LONG",
        "message": f"“Số, ngày của biên bản giao nhận” dài {len(LONG.strip())} ký tự,"
        " vượt quá giới hạn 200 ký tự.",
    }
    [transfer] = Transfers(kho.repo).list(actor=people.actor("luu_tru"))
    assert transfer["state"] == "exported" and transfer["receipt"] is None
    answer = client.post(url, json={"reference": "Biên bản số 03/BB-LTLS"}, headers=people.headers("luu_tru"))
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]


def test_a_quyet_dinh_of_3000_characters_is_refused_and_the_case_kept(kho: Kho, people: People) -> None:
    file, _ = closed_file(kho, people, notation="05.TH")
    destructions, ready = council_ready(kho, people, [file.record_id])
    with pytest.raises(ValidationFailed) as refused:
        destructions.decide(ready["case_id"], LONG, approve=True, actor=people.actor("lanh_dao"))
    _too_long(refused.value, "decision_ref", "Số, ngày của quyết định", 200)
    [kept] = destructions.list(actor=people.actor("luu_tru"))
    assert kept["state"] == "reviewed" and kept.get("decision") is None


def test_a_thuyet_minh_is_a_document_its_long_text_is_taken_up_to_its_limit(kho: Kho, people: People) -> None:
    file, _ = closed_file(kho, people, notation="04.TH")
    destructions = Destructions(kho.repo, kho.accounts, kho.backend)
    with pytest.raises(ValidationFailed) as refused:
        destructions.propose([file.record_id], "x" * 20001, actor=people.actor("luu_tru"))
    _too_long(refused.value, "explanation", "Bản thuyết minh", 20000)
    assert destructions.list(actor=people.actor("luu_tru")) == []
    case = destructions.propose([file.record_id], LONG, actor=people.actor("luu_tru"))
    assert case["state"] == "proposed"  # 3,000 characters of thuyết minh: a document, taken


def test_an_organ_name_of_3000_characters_is_refused(kho: Kho, people: People) -> None:
    with pytest.raises(ValidationFailed) as refused:
        kho.repo.add_agency("000.00.00.G22", "Văn phòng Chính phủ " * 150, people.actor("quan_tri"))
    _too_long(refused.value, "name", "Tên cơ quan, tổ chức", 200)
    assert not kho.repo.store.exists("catalog/agencies/000.00.00.G22.json")


def test_notes_and_reasons_of_3000_characters_are_refused_and_nothing_is_written(
    kho: Kho, people: People
) -> None:
    clerk = people.actor("van_thu")
    doc = kho.repo.create_document("den", incoming(code_number="77"), None, None, clerk)
    with pytest.raises(ValidationFailed) as refused:
        submit_with_note(people, doc.record_id, LONG)
    _too_long(refused.value, "note", "Ý kiến, ghi chú", 1000)
    assert kho.handling.steps(doc.record_id) == []
    with pytest.raises(ValidationFailed) as refused:
        kho.repo.place_hold(doc.record_id, "hold-1", LONG, actor=people.actor("luu_tru"))
    _too_long(refused.value, "reason", "Lý do phong tỏa", 1000)
    assert not kho.repo.holds_on(doc.record_id)
    before = [i.key for i in kho.repo.store.list("") if not i.key.startswith(NOT_RECORDS)]
    with pytest.raises(ValidationFailed) as refused:
        kho.repo.create_document("den", incoming(code_number="78"), None, None, clerk, duplicate_reason=LONG)
    _too_long(refused.value, "duplicate_reason", "Lý do vào sổ văn bản trùng", 1000)
    assert [i.key for i in kho.repo.store.list("") if not i.key.startswith(NOT_RECORDS)] == before
    with pytest.raises(ValidationFailed) as refused:
        SavedSearches(kho.repo).save("Văn bản đến " * 30, "ubnd", {}, [], actor=people.actor("chuyen_vien"))
    _too_long(refused.value, "name", "Tên câu tìm kiếm", 200)


def test_a_recall_order_of_3000_characters_is_refused_through_the_api(
    kho: Kho, people: People, client: FlaskClient
) -> None:
    doc = kho.repo.create_document("den", incoming(code_number="79"), None, None, people.actor("van_thu"))
    answer = client.post(
        f"/api/records/{doc.record_id}/recall",
        json={"order_ref": LONG, "reason": "Văn bản ban hành sai thẩm quyền"},
        headers=people.headers("van_thu"),
    )
    assert answer.status_code == 422, answer.get_data(as_text=True)[:300]
    [error] = answer.json["error"]["details"]["errors"]
    assert error["field"] == "order_ref" and error["code"] == "FIELD_TOO_LONG"
    assert kho.repo.get(doc.record_id, actor=people.actor("van_thu")).state == "active"
