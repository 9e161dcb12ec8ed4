"""The list of recalls names only what its reader may see (u12, rv14's "left open"): it is read
by role (lưu trữ viên, lãnh đạo), not by sight of the recalled records. No route serves it yet;
this is the service the first one will call, with real accounts on the local store and S3."""

from __future__ import annotations

import pytest
from kho_people import UNIT_B, People
from kho_testing import outgoing, pdf_bytes

from retention.recall import Recalls
from web.context import Kho

ORDER, REASON = "Quyết định số 31/QĐ-UBND ngày 02/03/2027", "Lộ phương án bảo vệ mục tiêu Alpha"


@pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)
def test_the_recall_list_names_no_record_its_reader_may_not_see(kho: Kho, people: People) -> None:
    """The văn thư (cleared Tuyệt mật) recalls a Mật văn bản đi and a Thường one. On main the
    agency's lưu trữ viên, cleared for Thường only, got both recalls, with the Mật document's
    id, the số of the order and its reason; a phòng's lưu trữ viên got them too. Now the first
    gets the Thường recall only, the phòng's none, and the lãnh đạo (cleared) both."""
    clerk = people.actor("van_thu")
    secret = kho.repo.create_document(
        "di", outgoing(subject="Phương án bảo vệ", secrecy=1), pdf_bytes("u12-mat"), "pa.pdf", clerk
    )
    plain = kho.repo.create_document(
        "di", outgoing(subject="Lịch họp"), pdf_bytes("u12-thuong"), "lh.pdf", clerk
    )
    recalls = Recalls(kho.repo, kho.backend)
    recalls.recall_outgoing(secret.record_id, ORDER, REASON, actor=clerk)
    recalls.recall_outgoing(plain.record_id, ORDER, "Sai lịch", actor=clerk)

    listed = recalls.list(actor=people.actor("luu_tru"))
    assert [r["record_id"] for r in listed] == [plain.record_id]  # main: both, the Mật one named
    assert REASON not in repr(listed)

    people.add("luu_tru_b", "Trịnh Văn Bảo", UNIT_B, ("luu_tru",), 3)
    assert recalls.list(actor=people.actor("luu_tru_b")) == []

    whole = recalls.list(actor=people.actor("lanh_dao"))
    assert sorted(r["record_id"] for r in whole) == sorted([secret.record_id, plain.record_id])
