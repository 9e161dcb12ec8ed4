"""Tìm kiếm: one box, highlighted snippets, facets with Vietnamese labels."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, request

from repository.policy import Action, search_scope
from repository.vocabulary import Secrecy, Urgency
from web.pages.common import DIRECTION_LABELS, VERDICT_LABELS, actor, kho, login_required, page

bp = Blueprint("search", __name__, url_prefix="/search")

FACET_LABELS = {
    "direction": "Loại bản ghi",
    "loai_van_ban": "Loại văn bản",
    "co_quan_ban_hanh": "Cơ quan ban hành",
    "do_khan": "Độ khẩn",
    "do_mat": "Độ mật",
    "signature_verdict": "Chữ ký số",
    "retention_state": "Trạng thái lưu trữ",
    "nguoi_ky": "Người ký",
    "ho_so": "Hồ sơ",
    "year": "Năm",
}
RETENTION_LABELS = {"active": "Đang hiện hành", "archived": "Đã nộp lưu", "destroyed": "Đã hủy"}


def value_label(facet: str, value: str) -> str:
    """A facet value as people read it (codes never shown raw)."""
    if facet == "direction":
        return DIRECTION_LABELS.get(value, value)
    if facet == "do_khan" and value.isdigit() and int(value) in Urgency._value2member_map_:
        return Urgency(int(value)).label
    if facet == "do_mat" and value.isdigit() and int(value) in Secrecy._value2member_map_:
        return Secrecy(int(value)).label
    if facet == "signature_verdict":
        return VERDICT_LABELS.get(value, value)
    if facet == "retention_state":
        return RETENTION_LABELS.get(value, value)
    return value


@bp.get("")
@login_required
def index() -> Response:
    from search.query import FACETS, Principal, filters_from_mapping, parse_query

    who = actor()
    service = kho().repo
    service.authorize(who, Action.SEARCH)
    text = request.args.get("q", "")
    filters: dict[str, Any] = {
        k: (request.args.get(k) if k.endswith(("_from", "_to")) else request.args.getlist(k))
        for k in request.args
        if k not in ("q", "page", "year")
    }
    filters = {k: v for k, v in filters.items() if v}
    result = None
    if text.strip() or filters:
        query = parse_query(
            text,
            Principal.from_scope(search_scope(who.as_principal)),
            filters=filters_from_mapping(filters),
            page=max(1, request.args.get("page", 1, type=int) or 1),
            page_size=20,
            facets=FACETS,
        )
        result = kho().backend.search(query)
        service.audit_search(who, text, result.total, filters)

    def with_filter(name: str, value: str) -> str:
        pairs = [(k, v) for k in request.args for v in request.args.getlist(k) if k != "page"]
        if (name, value) not in pairs:
            pairs.append((name, value))
        return "?" + urlencode(pairs)

    def page_link(number: int) -> str:
        pairs = [(k, v) for k in request.args for v in request.args.getlist(k) if k != "page"]
        return "?" + urlencode([*pairs, ("page", str(number))])

    return page(
        "search.html",
        q=text,
        result=result,
        facet_labels=FACET_LABELS,
        value_label=value_label,
        with_filter=with_filter,
        page_link=page_link,
        active=[(k, v) for k, vs in filters.items() for v in (vs if isinstance(vs, list) else [vs])],
    )
