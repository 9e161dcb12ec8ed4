"""``kho search``: the same search as the web UI, on the command line (``--json`` for machines).

Registered under ``kho``, whose context object (``click`` ``obj``) supplies who searches: its
``search_identity()`` returns the logged-in person's :class:`Principal` (generated from the
access policy) and a callback that audits the search, and its ``shown_hits(result)`` keeps the
hits the store lets that person see now (the index can lag the store). Search itself never
decides identity and never reads the store.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import date
from typing import Any

import click

from kho.cli_int import AsciiInt
from kho.errors import KhoError
from search import open_backend
from search.query import FACETS, SearchResult, Sort, filters_from_mapping, parse_query


def _json_default(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def result_to_dict(result: SearchResult) -> dict[str, Any]:
    """A result as a person gets it (the REST API, ``kho search --json``).

    No hit carries its relevance score: BM25 weighs a word by the documents of the whole index
    that hold it, hidden ones too, so the number tells whether documents the person may not see
    contain the words searched (a visible hit's score halved when five Tuyệt mật documents of
    another unit with the same words were indexed). The order of the hits is the ranking."""
    data = asdict(result)
    data["pages"] = result.pages
    for hit, raw in zip(result.hits, data["hits"], strict=True):
        del raw["score"]
        raw["highlights"] = [
            {"field": h.field, "text": h.text, "spans": [list(s) for s in h.spans],
             "marked": h.marked(html=False, open_tag="«", close_tag="»")}
            for h in hit.highlights
        ]
    return data


@click.command("search")
@click.argument("text", nargs=-1)
@click.option("--direction", multiple=True, type=click.Choice(["den", "di", "hoso"]))
@click.option("--loai", "loai_van_ban", multiple=True, help="Loại văn bản.")
@click.option("--co-quan", "co_quan_ban_hanh", multiple=True, help="Cơ quan ban hành.")
@click.option("--nguoi-ky", multiple=True)
@click.option("--do-khan", multiple=True, type=AsciiInt(0, 3))
@click.option("--do-mat", multiple=True, type=AsciiInt(0, 3))
@click.option("--chu-ky", "signature_verdict", multiple=True, help="Kết quả kiểm tra chữ ký.")
@click.option("--ho-so", multiple=True)
@click.option("--don-vi", "unit", multiple=True, help="Đơn vị sở hữu văn bản (mã định danh).")
@click.option("--luu-tru", "retention_state", multiple=True, help="Trạng thái lưu trữ.")
@click.option("--ban-hanh-tu", "ngay_ban_hanh_from", help="Ngày ban hành từ (dd/mm/yyyy).")
@click.option("--ban-hanh-den", "ngay_ban_hanh_to")
@click.option("--den-tu", "ngay_den_from", help="Ngày đến từ (dd/mm/yyyy).")
@click.option("--den-den", "ngay_den_to")
@click.option("--sort", type=click.Choice([s.value for s in Sort]), default=Sort.RELEVANCE.value)
@click.option("--page", type=AsciiInt(), default=1)
@click.option("--page-size", type=AsciiInt(), default=20)
@click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON.")
@click.pass_context
def search_command(click_ctx: click.Context, text: tuple[str, ...], sort: str, page: int,
                   page_size: int, as_json: bool, **filter_values: Any) -> None:
    """Tìm văn bản (có hoặc không dấu, theo số/ký hiệu, cụm từ trong dấu ngoặc kép)."""
    try:
        principal, audit = click_ctx.obj.search_identity()
        typed = " ".join(text)
        query = parse_query(
            typed, principal,
            filters=filters_from_mapping(filter_values), sort=sort, page=page, page_size=page_size,
            facets=FACETS,
        )
        with open_backend() as backend:
            result = backend.search(query)
        # Only the hits the store lets the person see now: the index is derived and can miss
        # an update (secrecy raised, unit moved while an index write failed).
        result = click_ctx.obj.shown_hits(result)
        audit(typed, result.total, {k: v for k, v in filter_values.items() if v})
    except KhoError as exc:
        if as_json:
            click.echo(json.dumps({"error": exc.to_dict()}, ensure_ascii=False))
        else:
            click.echo(f"Lỗi [{exc.code}]: {exc.message}", err=True)
        sys.exit(2)
    if as_json:
        click.echo(json.dumps(result_to_dict(result), ensure_ascii=False, default=_json_default))
        return
    click.echo(f"{result.total} kết quả — trang {result.page}/{result.pages}")
    for n, hit in enumerate(result.hits, start=result.page_size * (result.page - 1) + 1):
        when = hit.ngay_ban_hanh.strftime("%d/%m/%Y") if hit.ngay_ban_hanh else ""
        click.echo(f"{n:>4}. {hit.so_ky_hieu or '—'}  {when}  {hit.title or hit.trich_yeu}")
        for h in hit.highlights:
            if h.field == "text":
                click.echo("      " + h.marked("«", "»", html=False))
    shown = [f for f in result.facets if f.values]
    if not shown:
        return
    from search.labels import facet_line

    units, hoso = _facet_names(click_ctx.obj, result)
    for facet in shown:
        counts = [(v.value, v.count) for v in facet.values[:FACET_VALUES_SHOWN]]
        click.echo("  " + facet_line(facet.name, counts, units, hoso))


FACET_VALUES_SHOWN = 8
"""Values of each facet printed (the most frequent first)."""


def _facet_names(obj: Any, result: SearchResult) -> tuple[dict[str, str], dict[str, str]]:
    """Names of the units and hồ sơ counted in the facets, from ``kho``'s ``facet_names`` (the
    unit list; the hồ sơ the person may see, read through the access policy); a context
    without one (search alone, no store) leaves the ids as they are."""
    names = getattr(obj, "facet_names", None)
    if names is None:
        return {}, {}
    wanted = {
        f.name: [v.value for v in f.values[:FACET_VALUES_SHOWN]]
        for f in result.facets if f.name in ("unit", "ho_so") and f.values
    }
    if not wanted:
        return {}, {}
    return names(wanted.get("unit", []), wanted.get("ho_so", []))
