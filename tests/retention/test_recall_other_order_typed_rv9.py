"""Review rv9 of u9's ``RECALL_OTHER_ORDER``: a click finishes the record's unfinished recall
only when it carries the same order and reason, compared as ``typed_text`` gives them. Before
a9ee1eb a recall's order and reason were stored as typed (a browser on macOS sends NFD, a person
types a space at the end): the same order typed again never equalled the stored one, so the
first recall could never be finished and the document was never frozen; every click was
refused. The stored text is now read by the same rule (NFC, stripped) before the comparison;
another order is still refused."""

from __future__ import annotations

import json
import unicodedata

import pytest
from kho_people import People
from kho_testing import outgoing, pdf_bytes

from kho.errors import Conflict
from repository.records import RECALL_KEY
from retention.recall import Recalls
from web.context import Kho

ORDER, REASON = "Công văn số 15/UBND-VP ngày 01/03/2027", "Ban hành sai thẩm quyền"
RECALL_ID = "00000000000000c1"


def _stored_as_typed(kho: Kho, record_id: str) -> None:
    """An unfinished recall of a văn bản đi as the code before a9ee1eb and u8 wrote it: random id,
    version 1, no run, its texts as the browser sent them (NFD, a trailing space)."""
    body = {
        "at": "2027-03-01T03:00:00.000000Z", "by": "vanthu", "direction": "di",
        "format_version": 1, "order_ref": unicodedata.normalize("NFD", ORDER) + " ",
        "reason": unicodedata.normalize("NFD", REASON) + "\n", "recall_id": RECALL_ID,
        "record_id": record_id, "state": "recorded", "version": 1,
    }
    kho.repo.store.put_if_absent(
        f"retention/recalls/{RECALL_ID}/v000001", json.dumps(body, ensure_ascii=False).encode()
    )


@pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)
def test_an_old_unfinished_recall_stored_as_typed_is_finished_by_its_own_order(
    kho: Kho, people: People
) -> None:
    clerk = people.actor("van_thu")
    doc = kho.repo.create_document("di", outgoing(subject="Quyết định 39"), pdf_bytes("rv9"), "qd.pdf", clerk)
    _stored_as_typed(kho, doc.record_id)
    recalls = Recalls(kho.repo, kho.backend)

    with pytest.raises(Conflict) as other:  # another order: still refused, naming the first
        recalls.recall_outgoing(doc.record_id, "Quyết định số 99/QĐ-UBND", REASON, actor=clerk)
    assert other.value.code == "RECALL_OTHER_ORDER" and other.value.details["recall_id"] == RECALL_ID

    done = recalls.recall_outgoing(doc.record_id, ORDER, REASON, actor=clerk)
    assert (done["recall_id"], done["state"]) == (RECALL_ID, "frozen")
    assert kho.repo._load(doc.record_id).extra[RECALL_KEY]["recall_id"] == RECALL_ID
    assert [h["hold_id"] for h in kho.repo.holds_on(doc.record_id) if h.get("kind") == "recall"] == [
        f"recall-{RECALL_ID}"
    ]
