"""Search and the same word written differently (a8), on the embedded index and on the real
Elasticsearch: a text stored with a zero-width character inside a word, a soft hyphen, a
Cyrillic look-alike, full-width letters or in NFD is found by what it shows, with and without
diacritics; a query pasted with them finds the documents it names; the policy still hides a
Mật document whatever its words are written with."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from search.backend import SearchBackend
from search.documents import IndexDocument
from search.query import FACETS, Filters, Principal, parse_query

AUDITOR = Principal("kt1", everything=True)
CLERK_A = Principal("u-a", units=("UNIT-A",))
CLERK_B = Principal("u-b", units=("UNIT-B",))


def doc(doc_id: str, **kw: object) -> IndexDocument:
    base: dict[str, object] = {
        "version": 1, "direction": "den", "owner_unit": "UNIT-A", "ngay_ban_hanh": date(2026, 3, 2),
    }  # fmt: skip
    base.update(kw)
    return IndexDocument(id=doc_id, **base)  # type: ignore[arg-type]


DOCS = [
    # What the văn thư sees: "Kế hoạch phòng chống thiên tai" (zero-width space inside "hoạch",
    # soft hyphen inside "phòng", zero-width joiner inside "chống").
    doc("zw", title="Kế ho\u200bạch phòng\u00ad chố\u200dng thiên tai", so_ky_hieu="12/KH-UBND",
        co_quan_ban_hanh="UBND tỉnh Hòa\u200b Bình", text="Kế ho\u2060ạch số 12 về thiên tai"),
    # "Báo cáo tổng kết" with a Cyrillic о and а and a Greek ο: its words are nowhere else.
    doc("cyr", title="Bάο cáо tổng kết công tác văn thư", so_ky_hieu="7/BC-UBND",
        text="Công tác văn thư năm 2025"),
    # Full-width letters and NFD.
    doc("wide", title="ＴＨÔＮＧ ＢÁＯ lịch tiếp công dân", so_ky_hieu="３４/ＴＢ－ＶＰ",
        text=unicodedata.normalize("NFD", "Lịch tiếp công dân tháng ba")),
    doc("plain", title="Quyết định ban hành quy chế", so_ky_hieu="123/QĐ-UBND",
        co_quan_ban_hanh="UBND tỉnh Hòa Bình", text="Quyết định về quy chế văn thư lưu trữ"),
    # A Mật document of unit B whose title hides its words behind zero-width characters.
    doc("secret", title="Kế ho\u200bạch mật về quy chế", so_ky_hieu="5/KH-VP", owner_unit="UNIT-B",
        do_mat=2, text="Nội dung mật: kế hoạch quy chế"),
]  # fmt: skip


@pytest.fixture
def loaded(backend: SearchBackend) -> SearchBackend:
    assert backend.index(DOCS) == len(DOCS)
    return backend


def ids(backend: SearchBackend, typed: str, principal: Principal = AUDITOR, **kw: object) -> list[str]:
    kw.setdefault("facets", FACETS)
    return list(backend.search(parse_query(typed, principal, **kw)).ids)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("kế hoạch phòng chống", "zw"),
        ("ke hoach phong chong", "zw"),
        ('"kế hoạch phòng chống thiên tai"', "zw"),
        ("báo cáo", "cyr"),
        ("bao cao", "cyr"),
        ("thông báo", "wide"),
        ("thong bao", "wide"),
        ("tháng ba", "wide"),
    ],
)
def test_a_stored_text_is_found_by_what_it_shows(loaded: SearchBackend, typed: str, expected: str) -> None:
    assert ids(loaded, typed)[:1] == [expected]


@pytest.mark.parametrize(
    "typed",
    [
        "quyết\u200b định quy chế",  # pasted with a zero-width space
        unicodedata.normalize("NFD", "quyết định quy chế"),
        "quyết định quу chế",  # Cyrillic у
        "ｑｕｙｅｔ ｄｉｎｈ quy che",  # full-width
        "quyết\u00a0định\u2009quy chế",  # no-break and thin spaces
    ],
    ids=["zero-width", "nfd", "cyrillic", "full-width", "spaces"],
)
def test_a_query_written_differently_finds_the_document(loaded: SearchBackend, typed: str) -> None:
    assert ids(loaded, typed)[:1] == ["plain"]


@pytest.mark.parametrize("typed", ["３４/ＴＢ－ＶＰ", "34/TB-VP", "12/KH-UBND", "12∕KH‐UBND"])
def test_so_ky_hieu_written_differently_is_looked_up(loaded: SearchBackend, typed: str) -> None:
    found = ids(loaded, typed)
    assert found and found[0] == ("wide" if "34" in typed or "３４" in typed else "zw")


def test_a_sender_spelt_with_a_zero_width_character_is_in_the_senders_filter(loaded: SearchBackend) -> None:
    found = ids(loaded, "", filters=Filters(co_quan_ban_hanh=("UBND tỉnh Hòa Bình",)))
    assert sorted(found) == ["plain", "zw"]


def test_a_secret_document_stays_hidden_whatever_its_words_are_written_with(loaded: SearchBackend) -> None:
    # Found by its words for whom the policy lets see it (an auditor here) ...
    assert "secret" in ids(loaded, "kế hoạch mật")
    # ... and for nobody else: not by its shown title, not by its hidden one, not by number.
    for principal in (CLERK_A, CLERK_B):
        for typed in ("kế hoạch mật", "ke ho\u200bach mat", "nội dung mật", "5/KH-VP"):
            assert "secret" not in ids(loaded, typed, principal), (principal, typed)


def test_a_title_with_look_alikes_of_other_scripts_is_found_by_what_it_shows_r26(
    backend: SearchBackend,
) -> None:
    """A8's plain_text knew Cyrillic and Greek look-alikes only: a title "Giấy mời giao ban"
    written with an Armenian օ in "giao", a Lisu ꓮ in "ban" and a Cherokee Ꮋ in "Hà" showed
    those words and was found by none of them, with or without diacritics."""
    assert backend.index([doc("deep", title="Giấy mời giaօ bꓮn tuần, Ꮋà Nội", so_ky_hieu="9/GM-VP")]) == 1
    for typed in ("giao ban", "giấy mời giao ban", "Hà Nội", "ha noi"):
        assert ids(backend, typed) == ["deep"], typed
