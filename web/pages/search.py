"""Tìm kiếm: one box, filters, highlighted snippets, facets with Vietnamese labels, columns to
show, saved searches and exports (PDF/DOCX/XLSX) of what the person may see."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, flash, redirect, request, url_for

from kho.digits import ascii_int_or
from kho.timeutil import to_vn
from repository.policy import Action, search_scope
from repository.saved_searches import MAX_NAME, SavedSearches
from repository.vocabulary import Secrecy, Urgency
from search.labels import FACET_LABELS, VERDICT_LABELS, value_label
from search.query import MAX_PAGE_SIZE, QueryInvalid
from web import worklists
from web.heads import FileHeaders, attachment, file_response, file_route
from web.pages import search_export
from web.pages.common import (
    actor,
    current_account,
    kho,
    login_required,
    page,
)

bp = Blueprint("search", __name__, url_prefix="/search")

NOT_FILTERS = ("q", "page", "year", "cols", "format", "name", "page_size", "sort", "csrf_token")


def unit_names() -> dict[str, str]:
    """Unit id -> name, for the unit filter (people choose and read names, not ids)."""
    return worklists.unit_names(kho())


def hoso_names(who: Any, ids: Any) -> dict[str, str]:
    """Hồ sơ id -> "số ký hiệu — tiêu đề" for the hồ sơ ``who`` may see
    (:func:`web.worklists.hoso_names`)."""
    return worklists.hoso_names(kho().repo, who, ids)


def request_filters(args: Any) -> dict[str, Any]:
    """The filters in a request's arguments (empty values dropped)."""
    out: dict[str, Any] = {}
    for key in args:
        if key in NOT_FILTERS:
            continue
        if key.endswith(("_from", "_to")):
            value = (args.get(key) or "").strip()
            if value:
                out[key] = value
        else:
            values = [v for v in args.getlist(key) if v.strip()]
            if values:
                out[key] = values
    return out


def run_query(
    text: str,
    filters: dict[str, Any],
    page_number: int,
    page_size: int,
    who: Any = None,
    facets: tuple[str, ...] = (),
) -> Any:
    """The search as ``who`` (default: the person logged in); facets only when asked."""
    from search.query import Principal, filters_from_mapping, parse_query

    query = parse_query(
        text,
        Principal.from_scope(search_scope((who or actor()).as_principal)),
        filters=filters_from_mapping(filters),
        page=page_number,
        page_size=page_size,
        facets=facets,
    )
    return checked(kho().backend.search(query), who or actor())


def checked(result: Any, who: Any) -> Any:
    """The hits of ``result`` that ``who`` may see now (:func:`web.worklists.shown_hits`)."""
    from web.worklists import shown_hits

    return shown_hits(kho().repo, who, result)


def _values(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def saved_searches() -> SavedSearches:
    return SavedSearches(kho().repo)


@bp.get("")
@login_required
def index() -> Response:
    from search.query import FACETS

    who = actor()
    service = kho().repo
    service.authorize(who, Action.SEARCH)
    text = request.args.get("q", "")
    filters = request_filters(request.args)
    columns = search_export.chosen_columns(request.args.getlist("cols"))
    result = None
    if text.strip() or filters:
        result = run_query(
            text, filters, max(1, ascii_int_or(request.args.get("page"), 1, max_digits=9)), 20, facets=FACETS
        )
        service.audit_search(who, text, result.total, filters)

    names = unit_names()
    shown_hoso = [v for k, vs in filters.items() if k == "ho_so" for v in _values(vs)]
    if result is not None:
        shown_hoso += [v.value for f in result.facets if f.name == "ho_so" for v in f.values[:10]]
    hoso = hoso_names(who, shown_hoso)

    def with_filter(name: str, value: str) -> str:
        pairs = [(k, v) for k in request.args for v in request.args.getlist(k) if k != "page"]
        if (name, value) not in pairs:
            pairs.append((name, value))
        return "?" + urlencode(pairs)

    def page_link(number: int) -> str:
        pairs = [(k, v) for k in request.args for v in request.args.getlist(k) if k != "page"]
        return "?" + urlencode([*pairs, ("page", str(number))])

    def export_link(fmt: str) -> str:
        pairs = [(k, v) for k in request.args for v in request.args.getlist(k) if k != "page"]
        return url_for("search.export", fmt=fmt) + "?" + urlencode(pairs)

    return page(
        "search.html",
        q=text,
        filters=filters,
        result=result,
        facet_labels=FACET_LABELS,
        value_label=lambda facet, value: value_label(facet, value, names, hoso),
        units=sorted(names.items(), key=lambda item: item[1]),
        with_filter=with_filter,
        page_link=page_link,
        export_link=export_link,
        columns=columns,
        all_columns=search_export.COLUMNS,
        cell=search_export.cell,
        saved=saved_searches().list(actor=who),
        saved_link=lambda s: url_for("search.index") + "?" + urlencode(s.params()),
        name_max=MAX_NAME,
        urgencies=list(Urgency),
        secrecies=list(Secrecy),
        verdicts=VERDICT_LABELS,
        active=[(k, v) for k, vs in filters.items() for v in (vs if isinstance(vs, list) else [vs])],
    )


def export_results(who: Any, full_name: str, args: Any, fmt: str) -> tuple[bytes, str]:
    """The results of the search in ``args`` (up to EXPORT_MAX, the person's permission filter
    applied by the index) with the chosen columns, as ``fmt``; audited as ``search:export``.
    Shared by the page and the API."""
    if fmt not in search_export.FORMATS:
        raise QueryInvalid(
            "Định dạng xuất không hỗ trợ: chọn PDF, DOCX hoặc XLSX.", code="EXPORT_FORMAT_INVALID"
        )
    service = kho().repo
    service.authorize(who, Action.SEARCH)
    text = args.get("q", "")
    filters = request_filters(args)
    hits: list[Any] = []
    total = 0
    number = 1
    while len(hits) < search_export.EXPORT_MAX:
        result = run_query(text, filters, number, MAX_PAGE_SIZE, who)
        total = result.total
        hits.extend(result.hits)
        if not result.has_next or not result.hits:
            break
        number += 1
    hits = hits[: search_export.EXPORT_MAX]
    now = to_vn(service.clock()).strftime("%d/%m/%Y %H:%M")
    names = unit_names() if "unit" in filters else None
    hoso = hoso_names(who, _values(filters["ho_so"])) if "ho_so" in filters else None
    described = "; ".join(
        f"{FACET_LABELS.get(k, k)}: " + ", ".join(value_label(k, v, names, hoso) for v in _values(vs))
        for k, vs in filters.items()
    )
    service.audit_export(  # (before the file is built: a HEAD stops here, kho.head)
        who, "search", {"format": fmt, "query": text, "filters": filters, "rows": len(hits), "total": total}
    )
    table = search_export.build_table(
        hits, args.getlist("cols"), query=text, filters=described, total=total, by=full_name, at=now,
    )
    data = search_export.WRITERS[fmt](table)
    return data, search_export.FORMATS[fmt]


@bp.get("/export.<fmt>")
@login_required
@file_route(lambda stop, fmt: _export_headers(fmt))
def export(fmt: str) -> Response:
    """The results with the chosen columns as PDF, DOCX or XLSX."""
    data, _media_type = export_results(actor(), current_account().full_name, request.args, fmt)
    return file_response(data, _export_headers(fmt))


def _export_headers(fmt: str) -> FileHeaders:
    return FileHeaders(search_export.FORMATS[fmt], attachment(f"ket-qua-tim-kiem.{fmt}"))


@bp.post("/saved")
@login_required
def save() -> Response:
    who = actor()
    filters = request_filters(request.form)
    filters.pop("csrf_token", None)
    filters = {k: (v if isinstance(v, list) else [v]) for k, v in filters.items()}
    form = request.form
    saved = saved_searches().save(
        form.get("name", ""), form.get("q", ""), filters, form.getlist("cols"), actor=who
    )
    flash(f"Đã lưu câu tìm kiếm “{saved.name}”.", "ok")
    return redirect(url_for("search.index") + "?" + urlencode(saved.params()))  # type: ignore[return-value]


@bp.post("/saved/<search_id>/delete")
@login_required
def delete_saved(search_id: str) -> Response:
    saved_searches().delete(search_id, actor=actor())
    flash("Đã xóa câu tìm kiếm đã lưu.", "ok")
    return redirect(url_for("search.index"))  # type: ignore[return-value]
