"""Index documents for the embedded-index tests: a văn bản đến of one unit, numbered ``n``."""

from __future__ import annotations

from datetime import date

from search.documents import IndexDocument


def index_doc(n: int, *, text: str, id_width: int = 6, **kw: object) -> IndexDocument:
    """Document ``doc-<n>`` (``id_width`` digits) of UNIT-A, dated 2024-01-01, with ``text``;
    any other field given in ``kw`` replaces the default."""
    fields: dict[str, object] = {
        "version": 1,
        "direction": "den",
        "owner_unit": "UNIT-A",
        "ngay_ban_hanh": date(2024, 1, 1),
        "title": f"Công văn số {n}",
        "so_ky_hieu": f"{n}/UBND-VP",
        "text": text,
        **kw,
    }
    return IndexDocument(id=f"doc-{n:0{id_width}d}", **fields)  # type: ignore[arg-type]
