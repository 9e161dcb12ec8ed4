"""One contract every search backend passes (embedded always, Elasticsearch given its URL)."""

from __future__ import annotations

from datetime import date

import pytest

from search.analysis import fold
from search.backend import SearchBackend
from search.documents import IndexDocument
from search.query import (
    FACETS,
    DateInvalid,
    DateRange,
    Filters,
    Principal,
    QueryInvalid,
    Sort,
    parse_query,
)
from search.reindex import consistency_check, reindex

AUDITOR = Principal("kt1", everything=True)  # Kho's own checks: every document
ADMIN = Principal("qt1")  # a quản trị manages accounts, not content: no unit, no grant
CLERK_A = Principal("u-a", units=("UNIT-A",))
CLERK_A_CLEARED = Principal("u-a2", units=("UNIT-A",), max_secrecy=2)
CLERK_B = Principal("u-b", units=("UNIT-B",))
SECRET_READER = Principal("u-secret", units=("UNIT-C",), max_secrecy=3)
UNCLEARED_GRANTEE = Principal("u-secret", units=("UNIT-C",), max_secrecy=1)


def doc(doc_id: str, **kw: object) -> IndexDocument:
    base: dict[str, object] = {
        "version": 1, "direction": "den", "owner_unit": "UNIT-A", "ngay_ban_hanh": date(2024, 1, 1),
    }
    base.update(kw)
    return IndexDocument(id=doc_id, **base)  # type: ignore[arg-type]


DOCS = [
    doc("d-exact", title="Quyết định ban hành quy chế văn bản điện tử", so_ky_hieu="123/QĐ-UBND",
        loai_van_ban="Quyết định", co_quan_ban_hanh="UBND tỉnh Hòa Bình", nguoi_ky="Nguyễn Văn An",
        trich_yeu="Ban hành quy chế quản lý văn bản điện tử",
        text="Điều 1. Ban hành kèm theo Quyết định này quy chế quản lý văn bản điện tử.",
        ngay_ban_hanh=date(2024, 3, 15), do_khan=1, signature_verdict="valid",
        retention_state="active", ho_so=("HS-1",), direction="di"),
    doc("d-plain", title="quyet dinh ban hanh quy che van ban dien tu (ban khong dau)",
        so_ky_hieu="45/QĐ-SNV", loai_van_ban="Quyết định", co_quan_ban_hanh="Sở Nội vụ",
        text="quyet dinh nay ban hanh quy che van ban dien tu cho so noi vu",
        ngay_ban_hanh=date(2023, 6, 1), signature_verdict="invalid", retention_state="active"),
    doc("d-cites", title="Công văn triển khai", so_ky_hieu="77/UBND-VP", loai_van_ban="Công văn",
        co_quan_ban_hanh="UBND tỉnh Hòa Bình",
        text="Thực hiện Quyết định số 123/QĐ-UBND, đề nghị các sở triển khai.",
        cites=("123/QĐ-UBND",), ngay_ban_hanh=date(2024, 5, 2), ngay_den=date(2024, 5, 6),
        do_khan=2, signature_verdict="valid", retention_state="hold", ho_so=("HS-1", "HS-2")),
    doc("d-tone", title="Hoà giải ở cơ sở", so_ky_hieu="05/KH-UBND", loai_van_ban="Kế hoạch",
        co_quan_ban_hanh="UBND huyện Kim Bôi", text="Kế hoạch hoà giải; giữ gìn sức khoẻ cộng đồng.",
        ngay_ban_hanh=date(2022, 11, 30), ngay_den=date(2022, 12, 5), nguoi_ky="Trần Thị Bình"),
    doc("d-scatter", title="Báo cáo", so_ky_hieu="9/BC-UBND", loai_van_ban="Báo cáo",
        text="Quy định về văn bản; quy chế làm việc của ban chỉ đạo.", ngay_ban_hanh=date(2021, 2, 3)),
    doc("d-unit-b", title="Quyết định ban hành quy chế văn bản điện tử của đơn vị B",
        so_ky_hieu="200/QĐ-UBND", loai_van_ban="Quyết định", owner_unit="UNIT-B",
        co_quan_ban_hanh="Sở Tài chính", text="Quy chế văn bản điện tử nội bộ đơn vị B.",
        cites=("123/QĐ-UBND",), ngay_ban_hanh=date(2024, 8, 8), signature_verdict="valid",
        retention_state="destroyed_pending", nguoi_ky="Lê Văn Cường"),
    doc("d-secret", title="Quyết định mật về quy chế văn bản điện tử", so_ky_hieu="300/QĐ-UBND",
        loai_van_ban="Quyết định", owner_unit="UNIT-A", do_mat=2, co_quan_ban_hanh="Bộ Quốc phòng",
        text="Nội dung mật: quy chế văn bản điện tử đặc biệt.", grant_users=("u-secret",),
        ngay_ban_hanh=date(2024, 9, 9), nguoi_ky="Phạm Văn Dũng"),
    doc("d-granted", title="Thông báo kết luận", so_ky_hieu="12/TB-STC", loai_van_ban="Thông báo",
        owner_unit="UNIT-B", grant_units=("UNIT-A",), text="Thông báo về quy chế chi tiêu nội bộ.",
        ngay_ban_hanh=date(2020, 4, 4), direction="hoso", do_khan=3),
]


@pytest.fixture
def loaded(backend: SearchBackend) -> SearchBackend:
    assert backend.index(DOCS) == len(DOCS)
    return backend


def search(backend: SearchBackend, typed: str, principal: Principal = AUDITOR, **kw: object):
    """A search that asks for every facet (as the web page and the API do)."""
    kw.setdefault("facets", FACETS)
    return backend.search(parse_query(typed, principal, **kw))  # type: ignore[arg-type]


# --- Vietnamese text ----------------------------------------------------------------------------


def test_with_and_without_diacritics_find_the_same_documents_exact_first(loaded):
    accented = search(loaded, "Quyết định ban hành quy chế văn bản điện tử")
    stripped = search(loaded, "quyet dinh ban hanh quy che van ban dien tu")
    assert set(accented.ids) == set(stripped.ids)
    assert accented.ids[0] == "d-exact"
    assert accented.ids.index("d-exact") < accented.ids.index("d-plain")


def test_stripped_query_prefers_the_undiacritised_document(loaded):
    stripped = search(loaded, "quyet dinh ban hanh quy che van ban dien tu khong dau")
    assert stripped.ids[0] == "d-plain"


def test_tone_mark_placement_variants_match(loaded):
    for typed in ("hòa giải", "hoà giải", "HOÀ GIẢI", "sức khỏe", "sức khoẻ"):
        assert search(loaded, typed).ids[0] == "d-tone", typed


def test_d_with_stroke_folds_to_d(loaded):
    assert "d-exact" in search(loaded, "dien tu").ids
    assert "d-tone" in search(loaded, "cong dong").ids


# --- số/ký hiệu -------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["123/QĐ-UBND", "123/qd-ubnd", "123/QD-UBND", "số 123/QĐ-UBND"])
def test_so_ky_hieu_lookup_puts_that_document_first(loaded, typed):
    result = search(loaded, typed)
    assert result.ids[0] == "d-exact"
    assert "d-cites" in result.ids  # mentions it in the body, ranked after


def test_so_ky_hieu_with_leading_zero(loaded):
    assert search(loaded, "5/kh-ubnd").ids[0] == "d-tone"


# --- phrases ---------------------------------------------------------------------------------------


def test_phrase_requires_adjacent_words(loaded):
    ids = search(loaded, '"quy chế văn bản"').ids
    assert "d-exact" in ids and "d-plain" in ids
    assert "d-scatter" not in ids
    assert set(search(loaded, '"quy che van ban"').ids) == set(ids)


def test_phrase_and_words_combine(loaded):
    ids = search(loaded, '"văn bản điện tử" nội bộ').ids
    assert ids[0] == "d-unit-b"


# --- filters, facets, sorts, paging ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(direction=("di",)), {"d-exact"}),
        (Filters(direction=("hoso",)), {"d-granted"}),
        (Filters(loai_van_ban=("quyết định",)), {"d-exact", "d-plain", "d-unit-b", "d-secret"}),
        (Filters(co_quan_ban_hanh=("UBND tỉnh Hoà Bình",)), {"d-exact", "d-cites"}),
        (Filters(ngay_ban_hanh=DateRange(date(2024, 1, 1), date(2024, 5, 31))),
         {"d-exact", "d-cites"}),
        (Filters(ngay_den=DateRange(date(2023, 1, 1), None)), {"d-cites"}),
        (Filters(do_khan=(2, 3)), {"d-cites", "d-granted"}),
        (Filters(do_mat=(2,)), {"d-secret"}),
        (Filters(signature_verdict=("invalid",)), {"d-plain"}),
        (Filters(ho_so=("HS-1",)), {"d-exact", "d-cites"}),
        (Filters(ho_so=("HS-2",)), {"d-cites"}),
        (Filters(retention_state=("hold",)), {"d-cites"}),
        (Filters(nguoi_ky=("nguyễn văn an",)), {"d-exact"}),
        (Filters(unit=("UNIT-B",)), {"d-unit-b", "d-granted"}),
        (Filters(unit=("UNIT-A", "UNIT-B")), {d.id for d in DOCS}),
        (Filters(unit=("UNIT-Z",)), set()),
        (Filters(unit=("UNIT-B",), direction=("hoso",)), {"d-granted"}),
        (Filters(direction=("den",), signature_verdict=("valid",)), {"d-cites", "d-unit-b"}),
    ],
)
def test_every_filter(loaded, filters, expected):
    result = search(loaded, "", filters=filters)
    assert set(result.ids) == expected
    assert result.total == len(expected)


def test_unit_filter_is_the_owner_unit_and_keeps_the_permission_filter(loaded):
    # d-granted belongs to UNIT-B and is shared with UNIT-A: a UNIT-A clerk filtering by
    # UNIT-B sees it, never d-unit-b; filtering by their own unit does not bring in shared ones.
    assert set(search(loaded, "", CLERK_A, filters=Filters(unit=("UNIT-B",))).ids) == {"d-granted"}
    own = search(loaded, "quy chế", CLERK_A, filters=Filters(unit=("UNIT-A",)))
    assert "d-granted" not in own.ids and "d-unit-b" not in own.ids
    assert set(own.ids) <= {"d-exact", "d-plain", "d-cites", "d-tone", "d-scatter"}
    assert own.total == len(own.ids) > 0


def test_filters_apply_to_text_queries_too(loaded):
    result = search(loaded, "quy chế", filters=Filters(loai_van_ban=("Công văn",)))
    assert result.ids == []
    assert result.total == 0


def test_facet_counts(loaded):
    result = search(loaded, '"văn bản điện tử"')
    assert set(result.ids) == {"d-exact", "d-plain", "d-unit-b", "d-secret"}
    assert result.total == 4
    assert result.facet("loai_van_ban") == {"Quyết định": 4}
    assert result.facet("direction") == {"den": 3, "di": 1}
    assert result.facet("year") == {"2024": 3, "2023": 1}
    assert result.facet("ho_so") == {"HS-1": 1}
    assert result.facet("do_mat") == {"0": 3, "2": 1}
    assert result.facet("co_quan_ban_hanh") == {
        "UBND tỉnh Hòa Bình": 1, "Sở Nội vụ": 1, "Sở Tài chính": 1, "Bộ Quốc phòng": 1}
    assert result.facet("unit") == {"UNIT-A": 3, "UNIT-B": 1}


def test_unit_facet_counts_owner_units_within_the_searchers_sight(loaded):
    """The đơn vị facet counts each match once, under its owner unit (not the units it is
    shared with), over what the searcher may see; it narrows with the unit filter."""
    everything = search(loaded, "")
    assert sum(everything.facet("unit").values()) == everything.total
    assert set(everything.facet("unit")) == {d.owner_unit for d in DOCS}
    mine = search(loaded, "", CLERK_A)
    shared = search(loaded, "", CLERK_A, filters=Filters(unit=("UNIT-B",)))
    assert mine.facet("unit")["UNIT-B"] == shared.total == 1  # d-granted only, never d-unit-b
    assert sum(mine.facet("unit").values()) == mine.total
    assert search(loaded, "", CLERK_A, filters=Filters(unit=("UNIT-A",))).facet("unit") == {
        "UNIT-A": mine.facet("unit")["UNIT-A"]}
    assert search(loaded, "", CLERK_B).facet("unit") == {"UNIT-B": 2}


def test_sort_by_date_and_number(loaded):
    by_date = search(loaded, "", sort=Sort.DATE_DESC).ids
    assert by_date[:3] == ["d-secret", "d-unit-b", "d-cites"]
    assert search(loaded, "", sort=Sort.DATE_ASC).ids[0] == "d-granted"
    by_number = search(loaded, "", sort=Sort.NUMBER_ASC).ids
    assert by_number[:3] == ["d-tone", "d-scatter", "d-granted"]
    assert search(loaded, "", sort="number_desc").ids[0] == "d-secret"


def test_deep_paging_covers_every_document_once(backend):
    many = [doc(f"p-{i:03d}", title=f"Báo cáo tuần số {i}", text="báo cáo công tác văn thư",
                so_ky_hieu=f"{i + 1}/BC-VP", ngay_ban_hanh=date(2024, 1, 1 + i % 28))
            for i in range(130)]
    backend.index(many)
    seen: list[str] = []
    page = 1
    while True:
        result = search(backend, "báo cáo văn thư", page=page, page_size=9, sort=Sort.NUMBER_ASC)
        assert result.total == 130
        seen += result.ids
        if not result.has_next:
            break
        page += 1
    assert page == result.pages == 15
    assert seen == [f"p-{i:03d}" for i in range(130)]
    past = search(backend, "báo cáo văn thư", page=40, page_size=9)
    assert past.hits == () and past.total == 130


def test_highlights_mark_the_original_words(loaded):
    result = search(loaded, "quy che dien tu")
    (top,) = [hit for hit in result.hits if hit.id == "d-exact"]
    marked = {h.field: h.marked("[", "]", html=False) for h in top.highlights}
    assert "[quy chế]" in marked["title"] or "[Quy chế]" in marked["title"] or (
        "[quy]" in marked["title"] and "[chế]" in marked["title"]
    )
    assert "[điện]" in marked["text"] or "[điện tử]" in marked["text"]


def test_highlight_html_is_escaped(backend):
    backend.index([doc("x", title="<script>alert(1)</script> quy chế")])
    (hl,) = [h for h in search(backend, "quy chế").hits[0].highlights if h.field == "title"]
    assert "<script>" not in hl.marked()
    assert "<mark>quy</mark>" in hl.marked()


def test_related_documents_both_ways(loaded):
    rel = loaded.related("d-cites", AUDITOR)
    assert [h.id for h in rel.cites] == ["d-exact"]
    assert {h.id for h in loaded.related("d-exact", AUDITOR).cited_by} == {"d-cites", "d-unit-b"}


# --- permissions ---------------------------------------------------------------------------------


def test_unit_scoping_grants_and_confidential_results(loaded):
    everything = {d.id for d in DOCS}
    assert set(search(loaded, "").ids) == everything
    assert set(search(loaded, "", ADMIN).ids) == set()
    a = set(search(loaded, "", CLERK_A).ids)
    assert a == {"d-exact", "d-plain", "d-cites", "d-tone", "d-scatter", "d-granted"}
    # Cleared for Tối mật, the same unit's Tối mật document appears; a grant never lifts the
    # clearance requirement.
    assert set(search(loaded, "", CLERK_A_CLEARED).ids) == a | {"d-secret"}
    b = set(search(loaded, "", CLERK_B).ids)
    assert b == {"d-unit-b", "d-granted"}
    assert set(search(loaded, "", SECRET_READER).ids) == {"d-secret"}
    assert set(search(loaded, "", UNCLEARED_GRANTEE).ids) == set()


def test_facets_are_counted_only_when_asked(loaded):
    assert backend_search(loaded, "quy chế").facets == ()
    asked = backend_search(loaded, "quy chế", facets=("direction",))
    assert [f.name for f in asked.facets] == ["direction"] and asked.facet("direction")
    assert backend_search(loaded, "quy chế").total == asked.total


def backend_search(backend: SearchBackend, typed: str, **kw: object):
    """A search as the caller wrote it (no facets unless asked)."""
    return backend.search(parse_query(typed, AUDITOR, **kw))  # type: ignore[arg-type]


def test_counts_and_facets_never_reveal_hidden_documents(loaded):
    result = search(loaded, '"văn bản điện tử"', CLERK_A)
    assert set(result.ids) == {"d-exact", "d-plain"}
    assert result.total == 2
    assert result.facet("loai_van_ban") == {"Quyết định": 2}
    assert result.facet("co_quan_ban_hanh") == {"UBND tỉnh Hòa Bình": 1, "Sở Nội vụ": 1}
    assert result.facet("do_mat") == {"0": 2}
    assert result.facet("year") == {"2024": 1, "2023": 1}
    lookup = search(loaded, "300/QĐ-UBND", CLERK_A)
    assert "d-secret" not in lookup.ids
    hidden_only = search(loaded, '"nội dung mật"', CLERK_B)
    assert hidden_only.total == 0
    assert hidden_only.hits == ()
    assert all(not f.values for f in hidden_only.facets)
    assert search(loaded, '"nội dung mật"', SECRET_READER).total == 1


def test_highlights_only_from_visible_documents(loaded):
    result = search(loaded, "mật", CLERK_A)
    assert all("mật" not in h.text.lower() or hit.id != "d-secret"
               for hit in result.hits for h in hit.highlights)
    assert "d-secret" not in result.ids


def test_related_hides_what_the_user_may_not_see(loaded):
    assert {h.id for h in loaded.related("d-exact", CLERK_A).cited_by} == {"d-cites"}
    hidden = loaded.related("d-unit-b", CLERK_A)
    assert hidden.cites == () and hidden.cited_by == ()


# --- writes, versions, rebuilds ------------------------------------------------------------------


def test_newer_version_replaces_older_and_late_older_write_is_ignored(loaded):
    new = doc("d-tone", version=3, title="Kế hoạch tuyên truyền pháp luật",
              so_ky_hieu="05/KH-UBND", text="tuyên truyền")
    assert loaded.index([new]) == 1
    assert "d-tone" not in search(loaded, "hòa giải").ids
    assert search(loaded, "tuyên truyền").ids == ["d-tone"]
    assert loaded.index([doc("d-tone", version=2, title="hòa giải cũ")]) == 0
    assert loaded.get("d-tone").version == 3


def test_delete_removes_from_results_counts_and_related(loaded):
    assert loaded.delete(["d-cites", "missing"]) == 1
    assert loaded.get("d-cites") is None
    result = search(loaded, "triển khai")
    assert "d-cites" not in result.ids
    assert {h.id for h in loaded.related("d-exact", AUDITOR).cited_by} == {"d-unit-b"}


def test_reindex_resumes_and_consistency_check_reports_differences(make_backend):
    backend = make_backend()
    backend.index([doc("stale", version=1), doc("extra-one")])

    class Boom(Exception):
        pass

    def interrupted():
        yield from DOCS[:5]
        raise Boom

    with pytest.raises(Boom):
        reindex(backend, interrupted(), batch_size=2)
    progress: list[int] = []
    report = reindex(backend, DOCS, batch_size=2, progress=lambda p: progress.append(p.seen))
    assert report.skipped >= 4 and report.written + report.skipped == len(DOCS)
    assert progress[-1] == len(DOCS)
    assert {i for i, _ in backend.ids_and_versions()} == {d.id for d in DOCS}
    check = consistency_check(backend, [(d.id, d.version) for d in DOCS])
    assert check.ok
    backend.delete(["d-tone"])
    backend.index([doc("ghost")])
    expected = [(d.id, 2 if d.id == "d-exact" else d.version) for d in DOCS]
    check = consistency_check(backend, expected)
    assert check.missing == ("d-tone",)
    assert check.extra == ("ghost",)
    assert check.stale == (("d-exact", 2, 1),)
    reopened = make_backend()
    assert {i for i, _ in reopened.ids_and_versions()} == {d.id for d in DOCS} - {"d-tone"} | {
        "ghost"}


def test_writes_during_a_rebuild_reach_the_new_index(backend):
    rebuild = backend.begin_rebuild()
    rebuild.index(DOCS[:2])
    backend.index([doc("late-arrival", title="văn bản đến muộn")])
    rebuild.commit()
    assert search(backend, "đến muộn").ids == ["late-arrival"]
    assert {i for i, _ in backend.ids_and_versions()} == {"d-exact", "d-plain", "late-arrival"}


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        '"quy chế văn bản',
        'quy chế" văn bản',
        "quy AND chế OR NOT (văn bản",
        "*quy* ~chế^2 văn:bản {điện} [tử] \\ / + - && || !",
        "title:(quy chế) OR 1=1; DROP TABLE docs; --",
        "(quy chế) quy* ^quy",
        '""',
        "   ",
        "???",
    ],
)
def test_stray_syntax_is_never_an_error(loaded, typed):
    result = search(loaded, typed)
    assert result.total >= 0
    if any(w in typed.lower() for w in ("quy", "chế")):
        assert "d-exact" in result.ids


def test_short_queries_need_every_word_long_ones_rank_by_any(loaded):
    assert set(search(loaded, "quy chế chi tiêu").ids) == {"d-granted"}
    assert search(loaded, "quy chế xyzzy").ids == []
    long = search(loaded, "quy chế văn bản điện tử xyzzy nội bộ đơn vị")
    assert {"d-exact", "d-unit-b"} <= set(long.ids)


def test_engine_operators_are_plain_words(loaded):
    assert search(loaded, "quy NOT chế").total == search(loaded, "quy not chế").total


def test_very_long_query_is_refused_with_a_message():
    with pytest.raises(QueryInvalid) as err:
        parse_query("quy chế " * 200, AUDITOR)
    assert err.value.code == "SEARCH_QUERY_TOO_LONG"
    assert "quá dài" in err.value.message


def test_impossible_dates_and_pages_are_refused():
    from search.query import filters_from_mapping

    with pytest.raises(DateInvalid) as err:
        filters_from_mapping({"ngay_ban_hanh_from": "31/02/2024"})
    assert "31/02/2024" in err.value.message
    with pytest.raises(DateInvalid):
        filters_from_mapping({"ngay_den_from": "01/05/2024", "ngay_den_to": "01/04/2024"})
    with pytest.raises(QueryInvalid):
        parse_query("x", AUDITOR, page=0)
    with pytest.raises(QueryInvalid):
        parse_query("x", AUDITOR, page_size=1000)
    with pytest.raises(QueryInvalid):
        parse_query("x", AUDITOR, sort="random")


# --- diacritics as typed rank first, without losing recall --------------------------------------

_TONE_DOCS = [
    # The same shape of text for every word, so that only the diacritics differ.
    doc("t-ban", title="Biên bản họp", text="Ban giám đốc đã thống nhất nội dung cuộc họp."),
    doc("t-ban-grave", title="Biên bản họp", text="Bàn giám đốc đã thống nhất nội dung cuộc họp."),
    doc("t-ban-acute", title="Biên bản họp", text="Bán giám đốc đã thống nhất nội dung cuộc họp."),
    doc("t-ban-hook", title="Biên bản họp", text="Bản giám đốc đã thống nhất nội dung cuộc họp."),
    doc("t-ban-dot", title="Biên bản họp", text="Bạn giám đốc đã thống nhất nội dung cuộc họp."),
    doc("t-dong", title="Công văn", text="Đồng ý phương án đã trình và giao sở thực hiện."),
    doc("t-dong-plain", title="Công văn", text="Dong y phuong an da trinh va giao so thuc hien."),
    doc("t-hoa-old", title="Kế hoạch", text="Hoà giải ở cơ sở theo kế hoạch năm."),
]


@pytest.fixture
def tones(backend: SearchBackend) -> SearchBackend:
    backend.index(_TONE_DOCS)
    return backend


@pytest.mark.parametrize(
    ("typed", "first"),
    [("bàn giám đốc", "t-ban-grave"), ("bán giám đốc", "t-ban-acute"),
     ("bản giám đốc", "t-ban-hook"), ("bạn giám đốc", "t-ban-dot"),
     ("ban giám đốc", "t-ban"), ("đồng ý", "t-dong"), ("dong y", "t-dong-plain"),
     ("hòa giải", "t-hoa-old"), ("hoà giải", "t-hoa-old")],
)
def test_typed_diacritics_rank_exact_matches_first_without_losing_recall(tones, typed, first):
    result = search(tones, typed)
    assert result.ids[0] == first, result.ids
    if fold(typed) == "ban giam doc":
        # every spelling of "ban" is still found (diacritic-insensitive recall)
        assert {"t-ban", "t-ban-grave", "t-ban-acute", "t-ban-hook", "t-ban-dot"} <= set(result.ids)
    if fold(typed) == "dong y":
        assert {"t-dong", "t-dong-plain"} <= set(result.ids)


# --- side channels ---------------------------------------------------------------------------------


def test_what_a_person_gets_does_not_change_when_hidden_documents_are_indexed(backend):
    """BM25 weighs a word by how many documents of the whole index hold it, hidden ones too:
    the score of a visible hit halved when five Tuyệt mật documents of another unit holding
    the searched words were indexed, so the score the API and ``kho search --json`` returned
    told a Thường clerk that such documents exist. What a person gets carries no score."""
    from search.cli import result_to_dict

    filler = [doc(f"f{i}", title=f"Công văn số {i}", text="công tác văn thư thường ngày")
              for i in range(20)]
    mine = doc("mine", title="Báo cáo", text="Báo cáo về dự án cầu Nhật Tân và đường vành đai")
    hidden = [doc(f"h{i}", owner_unit="UNIT-S", do_mat=3, title="Tuyệt mật",
                  text="dự án Nhật Tân bí mật") for i in range(5)]
    backend.index([*filler, mine])
    before = result_to_dict(search(backend, "Nhật Tân", CLERK_A))
    backend.index(hidden)
    after = result_to_dict(search(backend, "Nhật Tân", CLERK_A))
    assert [h["id"] for h in before["hits"]] == ["mine"]
    assert after == before
    assert all("score" not in hit for hit in after["hits"])
    assert search(backend, "Nhật Tân", SECRET_READER).total == 0  # UNIT-S only
    assert search(backend, "Nhật Tân").total == 6  # the hidden documents are there


def test_a_long_document_is_found_and_highlighted_without_breaking_the_search(backend):
    """A document whose text passes Elasticsearch's highlight limit (1,000,000 characters by
    default; a report of a few hundred pages has that much) made every search whose page held
    it fail as SEARCH_INDEX_UNAVAILABLE (400 from ES) for everyone who may see it; the embedded
    backend answered. Both backends find it, with the snippet of its first match."""
    long_text = "Báo cáo tổng kết công tác văn thư lưu trữ năm 2024. " * 30_000  # 1.5 M chars
    backend.index([
        doc("long", title="Báo cáo tổng kết", text=long_text),
        doc("short", title="Công văn", text="báo cáo tổng kết ngắn"),
    ])
    result = search(backend, "tổng kết", CLERK_A)
    assert set(result.ids) == {"long", "short"}
    marks = {hit.id: {h.field for h in hit.highlights} for hit in result.hits}
    assert "text" in marks["long"] and "text" in marks["short"]


def _file(file_id: str, owner: str, **kw: object) -> IndexDocument:
    return doc(file_id, direction="hoso", title=f"Hồ sơ {file_id}", owner_unit=owner, **kw)


def test_the_ho_so_facet_lists_only_hồ_sơ_the_searcher_may_see(backend):
    """The ``ho_so`` facet's values are hồ sơ ids. A Thường clerk of UNIT-A who may see a
    document got, besides the hồ sơ of their unit, the ids (and counts) of the hồ sơ of
    UNIT-B holding it, a hồ sơ that is not indexed at all, and one granted by name to someone
    else. A facet value is now a hồ sơ the searcher finds in the index under the same policy
    as the hits (their unit, a grant, their name, their clearance); its count is of the
    documents they may see, so a hồ sơ reached only through hidden documents is not listed."""
    files = [
        _file("HS-A", "UNIT-A"),
        _file("HS-B", "UNIT-B"),  # phòng B's hồ sơ
        _file("HS-SHARED", "UNIT-B", grant_units=("UNIT-A",)),  # shared to UNIT-A
        _file("HS-NAMED", "UNIT-B", grant_users=("u-a",)),  # granted to the clerk by name
        _file("HS-OTHER-NAME", "UNIT-B", grant_users=("u-other",)),
        _file("HS-SECRET-ONLY", "UNIT-A"),  # holds only a Mật document
    ]
    docs = [
        doc("d1", title="Công văn một", ho_so=("HS-A", "HS-B", "HS-GHOST", "HS-OTHER-NAME")),
        doc("d2", title="Công văn hai", ho_so=("HS-A", "HS-SHARED", "HS-NAMED")),
        doc("d-secret", title="Công văn mật", do_mat=2, ho_so=("HS-SECRET-ONLY", "HS-A")),
        doc("d-b", title="Công văn đơn vị B", owner_unit="UNIT-B", ho_so=("HS-SHARED",)),
    ]
    backend.index([*files, *docs])
    seen = search(backend, "công văn", CLERK_A, filters=Filters(direction=("den",)))
    assert set(seen.ids) == {"d1", "d2"}
    assert seen.facet("ho_so") == {"HS-A": 2, "HS-SHARED": 1, "HS-NAMED": 1}
    everything = search(backend, "", CLERK_A)  # the hồ sơ themselves are hits too
    assert everything.facet("ho_so") == {"HS-A": 2, "HS-SHARED": 1, "HS-NAMED": 1}
    cleared = search(backend, "công văn", CLERK_A_CLEARED, filters=Filters(direction=("den",)))
    assert cleared.facet("ho_so") == {"HS-A": 3, "HS-SHARED": 1, "HS-SECRET-ONLY": 1}
    assert search(backend, "công văn", CLERK_B).facet("ho_so") == {"HS-SHARED": 1}
    # Kho's own processes (consistency checks) count every value, as before.
    assert search(backend, "công văn", AUDITOR).facet("ho_so")["HS-GHOST"] == 1


def test_hidden_hồ_sơ_do_not_push_visible_ones_out_of_the_ho_so_facet(backend):
    """The facet returns at most 50 values, the most frequent first. Leaving the hồ sơ the
    searcher may not see out *after* that cut would let 60 hidden hồ sơ holding their
    documents more often push their own hồ sơ out of the facet; the hidden ones are left out
    first."""
    hidden = [_file(f"HS-B{i:02d}", "UNIT-B") for i in range(60)]
    docs = [doc(f"d{j}", title="Công văn", ho_so=tuple(f.id for f in hidden)) for j in range(3)]
    docs.append(doc("d-own", title="Công văn", ho_so=("HS-A",)))
    backend.index([*hidden, _file("HS-A", "UNIT-A"), *docs])
    result = search(backend, "công văn", CLERK_A)
    assert result.facet("ho_so") == {"HS-A": 1}
