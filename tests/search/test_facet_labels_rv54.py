"""Review rv54: a facet value is shown as its documents spell it, and only as the documents the
searcher may see spell it.

The issuing organ, the signer and the document type are counted by a key (case, tone placement
and spacing folded) and shown by a label. The embedded backend kept one label per key for the
whole index (the smallest spelling of any document), so a Thường clerk whose only match reads
"Bộ Nội vụ" was shown "BỘ NỘI VỤ", the spelling of a Mật document of their unit and of another
unit's document they may not see: the label told them such documents exist. Elasticsearch
took the label from the matches already (a sub-aggregation within the permission filter). The
label is now one of the searcher's matches' own spelling on both backends, on the few-matches
path (counted from SQLite rows) and on the many-matches path (Tantivy's aggregation)."""

from __future__ import annotations

from datetime import date

import pytest

from search.backend import SearchBackend
from search.documents import IndexDocument
from search.embedded import FACET_COUNT_MAX
from search.query import Principal, parse_query

CLERK_A = Principal("u-a", units=("UNIT-A",))

SHOWN = {"co_quan_ban_hanh": "Bộ Nội vụ", "nguoi_ky": "Nguyễn Văn An", "loai_van_ban": "Công văn"}
HIDDEN = {"co_quan_ban_hanh": "BỘ NỘI VỤ", "nguoi_ky": "NGUYỄN VĂN AN", "loai_van_ban": "CÔNG VĂN"}
"""The same keys spelled in capitals, which sort before the spellings of the visible documents."""


def _doc(doc_id: str, spelled: dict[str, str], **kw: object) -> IndexDocument:
    fields: dict[str, object] = {
        "version": 1, "direction": "den", "owner_unit": "UNIT-A", "ngay_ban_hanh": date(2024, 1, 1),
        "title": "Công văn về việc báo cáo", **spelled, **kw,
    }
    return IndexDocument(id=doc_id, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("visible", [1, FACET_COUNT_MAX + 20], ids=["few-matches", "many-matches"])
def test_a_facet_label_is_spelled_as_a_document_the_searcher_may_see(
    backend: SearchBackend, visible: int
) -> None:
    hidden = [
        _doc("h-secret", HIDDEN, do_mat=2),  # Mật, of the clerk's own unit
        _doc("h-other", HIDDEN, owner_unit="UNIT-B"),  # Thường, of another unit
    ]
    backend.index([*hidden, *(_doc(f"v{i:03d}", SHOWN) for i in range(visible))])
    result = backend.search(parse_query("báo cáo", CLERK_A, facets=tuple(SHOWN), page_size=5))
    assert result.total == visible
    for facet, label in SHOWN.items():
        assert result.facet(facet) == {label: visible}, facet
    # Who may see the hidden documents too is shown one spelling of the key, counted whole.
    everyone = backend.search(parse_query("báo cáo", Principal("kho", everything=True),
                                          facets=tuple(SHOWN), page_size=5))
    for facet in SHOWN:
        assert sum(everyone.facet(facet).values()) == visible + 2
