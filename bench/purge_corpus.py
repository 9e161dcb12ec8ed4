"""The index corpus of the purge benchmarks (``a14_purge_cost.py``, ``bench_purge_wait.py`` had
a copy each): ``n`` documents of ~1,500 characters of Vietnamese text, the middle one holding
:data:`SECRET` (to be replaced by its "đã hủy" row), the same words for the same seed.

Imported by the benchmarks' child interpreters, which put their side's tree first on
``sys.path`` and this folder last: :class:`search.documents.IndexDocument` is the side's."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date
from typing import Any

SECRET = "thuốcnổbímật"
WORDS = (  # noqa: SIM905 (the sentence as a14 and s10 wrote it)
    "quyết định ban hành quy chế quản lý văn bản điện tử hồ sơ lưu trữ cơ quan đơn vị"
    " thực hiện triển khai kế hoạch báo cáo công văn thông báo tỉnh huyện xã").split()


def corpus(n: int, *, kinds: bool = False) -> tuple[list[Any], Callable[..., Any]]:
    """(the ``n`` documents, the builder of document ``i`` with fields changed); with
    ``kinds`` each document has a ``loai_van_ban`` drawn from three (the facets' field)."""
    from search.documents import IndexDocument

    rng = random.Random(7)

    def text(i: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(300)) + f" số {i}"

    def doc(i: int, **kw: Any) -> Any:
        base: dict[str, Any] = dict(
            version=1, direction="den", owner_unit="UNIT-A", ngay_ban_hanh=date(2024, 1, 1),
            title=f"Công văn {i}", so_ky_hieu=f"{i}/UBND-VP", text=text(i),
        )
        if kinds:
            base["loai_van_ban"] = rng.choice(["Công văn", "Quyết định", "Thông báo"])
        base.update(kw)
        return IndexDocument(id=f"doc-{i:06d}", **base)

    docs = [doc(i) for i in range(n)]
    docs[n // 2] = doc(n // 2, text=f"Nội dung mật {SECRET}")
    return docs, doc
