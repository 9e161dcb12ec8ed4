"""A visible document's duplicate flag does not tell of a hidden twin (rv29, rv26's open item).

The agency received a Mật document 4477/BNV-VP and, later, the same số, ký hiệu, cơ quan and
năm as a Thường document (registered again with a reason: registration never makes a duplicate
without one, and told the văn thư no more than that the number they typed is taken). Both sit
in one hồ sơ. The closing report shown to a chuyên viên cleared Thường flagged the Thường
document ``DOCUMENT_DUPLICATE`` "trùng với một văn bản khác trong hồ sơ": that a document they may
not see carries its number. Now the flag goes to the hidden twin, unnamed (the same codes, the
same count, nothing blocks), and the văn thư cleared for both still gets it on the Thường one.
"""

from __future__ import annotations

from flask.testing import FlaskClient
from kho_files import new_file
from kho_people import People
from kho_testing import incoming

from web.context import Kho


def _twins_in_a_file(kho: Kho, people: People, number: str, *, first_secrecy: int) -> tuple[str, str, str]:
    """(hồ sơ, first document, its twin registered again with a reason), in that order in it."""
    clerk = people.actor("van_thu")
    hoso = new_file(kho, clerk, "07.KS", "Hồ sơ khảo sát tuyến cầu", "Đỗ Thị Khuê")
    first = kho.repo.create_document(
        "den", incoming(code_number=number, secrecy=first_secrecy), None, None, clerk
    )
    again = kho.repo.create_document(
        "den", incoming(code_number=number), None, None, clerk, duplicate_reason="Bản gửi lại"
    )
    version = kho.repo.add_to_file(
        hoso.record_id, first.record_id, expected_version=hoso.version, actor=clerk
    ).version
    kho.repo.add_to_file(hoso.record_id, again.record_id, expected_version=version, actor=clerk)
    return hoso.record_id, first.record_id, again.record_id


def test_a_visible_document_is_not_flagged_for_its_hidden_twin(
    kho: Kho, people: People, client: FlaskClient
) -> None:
    hoso, secret, plain = _twins_in_a_file(kho, people, "4477", first_secrecy=2)
    url = f"/api/files/{hoso}/closing?end_date=2026-04-01"
    whole = client.get(url, headers=people.headers("van_thu")).json  # cleared Tuyệt mật
    shown = client.get(url, headers=people.headers("chuyen_vien")).json  # cleared Thường

    def duplicates(report: dict) -> list[dict]:
        return [f for f in report["findings"] if f["code"] == "DOCUMENT_DUPLICATE"]

    assert [f["record_id"] for f in duplicates(whole)] == [plain]
    # Not the Thường document (its only twin is hidden); one flag, on nobody they can name.
    assert [f["record_id"] for f in duplicates(shown)] == [None], shown
    assert all(f["record_id"] != plain for f in duplicates(shown))
    assert sorted((f["code"], f["blocking"]) for f in shown["findings"]) == sorted(
        (f["code"], f["blocking"]) for f in whole["findings"]
    )
    assert shown["blocked"] == whole["blocked"]
    assert secret not in str(shown)


def test_two_visible_twins_are_still_flagged(kho: Kho, people: People, client: FlaskClient) -> None:
    """The flag itself is kept where the reader sees both (the hidden-twin rule takes nothing
    else away)."""
    hoso, _first, again = _twins_in_a_file(kho, people, "4480", first_secrecy=0)
    url = f"/api/files/{hoso}/closing?end_date=2026-04-01"
    shown = client.get(url, headers=people.headers("chuyen_vien")).json
    flagged = [f["record_id"] for f in shown["findings"] if f["code"] == "DOCUMENT_DUPLICATE"]
    assert flagged == [again]
