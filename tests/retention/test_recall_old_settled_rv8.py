"""rv8 review of u8's old-recall lookup: a new recall of any document GETs every recall left at
its first version (``Recalls._legacy_open``), and every outgoing recall made before u8 stays at
version 1 for ever (208 GETs with 200 of them, u8's count). ``kho archive recall-mark``
(``Recalls.mark_earlier``) now gives each old recall of a document frozen by it its version 2,
so the lookup reads none of them; one whose document is not frozen by it stays to be finished."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kho_people import People
from kho_testing import outgoing, pdf_bytes

from repository.policy import Action
from repository.records import RECALL_KEY
from retention.recall import Recalls
from web.context import Kho

ORDER, REASON = "Công văn số 15/UBND-VP ngày 01/03/2027", "Ban hành sai thẩm quyền"


def _old_form(kho: Kho, recall_id: str, record_id: str) -> None:
    """A recall of a văn bản đi as the code before u8 wrote it: random id, version 1, no run."""
    body = {
        "at": "2027-03-01T03:00:00.000000Z", "by": "vanthu", "direction": "di",
        "format_version": 1, "order_ref": ORDER, "reason": REASON, "recall_id": recall_id,
        "record_id": record_id, "state": "recorded", "version": 1,
    }
    kho.repo.store.put_if_absent(
        f"retention/recalls/{recall_id}/v000001", json.dumps(body, ensure_ascii=False).encode()
    )


@pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)
def test_recall_mark_settles_the_old_recalls_a_new_recall_would_read(kho: Kho, people: People) -> None:
    clerk = people.actor("van_thu")
    recalls = Recalls(kho.repo, kho.backend)
    docs = [
        kho.repo.create_document(
            "di", outgoing(subject=f"Quyết định 6{n}"), pdf_bytes(f"o{n}"), "qd.pdf", clerk
        )
        for n in range(4)
    ]
    frozen, unfinished = [f"{n:016x}" for n in (0xA1, 0xA2, 0xA3)], "00000000000000b1"
    for recall_id, doc in zip(frozen, docs, strict=False):
        _old_form(kho, recall_id, doc.record_id)  # the old code placed its hold and finished
        kho.repo.place_hold(
            doc.record_id, f"recall-{recall_id}", f"Thu hồi: {ORDER}", actor=clerk, kind="recall",
            authorize=Action.RECORD_RECALL,
        )
    _old_form(kho, unfinished, docs[3].record_id)  # died before its hold: not frozen

    recalls.mark_earlier(actor=people.actor("quan_tri"))
    for recall_id, doc in zip(frozen, docs, strict=False):
        settled = recalls.recalls.latest(recall_id)
        assert (settled["version"], settled["run"], settled["state"]) == (2, None, "frozen")  # rv8: recorded
        assert settled["order_ref"] == ORDER and settled["record_id"] == doc.record_id
        assert kho.repo._load(doc.record_id).extra[RECALL_KEY]["recall_id"] == recall_id
    assert recalls.recalls.latest(unfinished)["version"] == 1
    assert recalls.mark_earlier(actor=people.actor("quan_tri")) == []  # idempotent
    assert recalls.recalls.latest(frozen[0])["version"] == 2

    # A new recall of another document reads none of the settled ones.
    read: list[str] = []
    get = kho.repo.store.get

    def counted(key: str, *args: Any, **kwargs: Any) -> Any:
        read.append(key)
        return get(key, *args, **kwargs)

    kho.repo.store.get = counted  # type: ignore[method-assign]
    other = kho.repo.create_document(
        "di", outgoing(subject="Quyết định 70"), pdf_bytes("o70"), "qd.pdf", clerk
    )
    recalls.recall_outgoing(other.record_id, ORDER, REASON, actor=clerk)
    assert not [k for k in read if any(f"/{r}/" in k for r in frozen)], read
    # The old recall whose document is not frozen is still found and finished by its next click.
    done = recalls.recall_outgoing(docs[3].record_id, ORDER, REASON, actor=clerk)
    assert done["recall_id"] == unfinished
