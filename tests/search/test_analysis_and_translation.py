"""Pure parts: Vietnamese analysis, query parsing, and the Elasticsearch request bodies."""

from __future__ import annotations

import json
import unicodedata

import pytest

from kho.errors import StoreUnavailable
from search.analysis import fold, normalize, query_terms, so_ky_hieu_key, syllables
from search.elasticsearch import ANALYSIS, ElasticsearchBackend, build_search
from search.highlight import window_bounds
from search.query import FACETS, Filters, Principal, parse_query

USER = Principal("u1", units=("A",))


@pytest.mark.parametrize(
    ("a", "b"),
    [("hòa", "hoà"), ("khỏe", "khoẻ"), ("thủy", "thuỷ"), ("Ủy ban", "Uỷ ban"), ("HÒA", "hoà"),
     (unicodedata.normalize("NFD", "Quyết định"), "quyết định")],
)
def test_normalize_unifies_case_nfc_and_tone_placement(a, b):
    assert normalize(a) == normalize(b)


def test_normalize_and_fold_keep_one_character_per_character():
    text = unicodedata.normalize("NFC", "Đường HOÀ Bình — Quyết định số 123/QĐ-UBND")
    assert len(normalize(text)) == len(text) == len(fold(normalize(text)))
    assert fold(normalize(text)) == "duong hoa binh — quyet dinh so 123/qd-ubnd"


def test_distinct_words_stay_distinct_before_folding():
    assert normalize("quyết") != normalize("quyệt") and fold("quyết") == fold("quyệt")


def test_so_ky_hieu_keys():
    assert so_ky_hieu_key("123/QĐ-UBND") == so_ky_hieu_key(" 123/qd-ubnd") == "123/qd-ubnd"
    assert so_ky_hieu_key("05/KH-UBND") == so_ky_hieu_key("5/kh-ubnd")
    assert so_ky_hieu_key("30/2020/NĐ-CP") == "30/2020/nd-cp"


def test_question_words_are_dropped_but_never_everything():
    assert query_terms("Người phạm tội bị phạt bao nhiêu năm?") == ["người", "phạm", "tội", "phạt",
                                                                  "năm"]
    assert query_terms("là gì") == ["là", "gì"]


def test_parse_query_splits_phrases_so_ky_hieu_and_words():
    q = parse_query('số 123/QĐ-UBND "quy chế  văn bản" điện tử "dangling', USER)
    assert q.so_ky_hieu == ("123/qd-ubnd",)
    assert q.phrases == ("quy chế văn bản",)
    assert q.terms == ("điện", "tử", "dangling")


def test_es_analyzers_are_kho_analysis_only():
    # Every step is Kho's plugin (search/es-analysis), which ports search.analysis; tone placement
    # in every case variant is checked against the real server in test_es_analysis.py.
    for analyzer in ANALYSIS["analyzer"].values():
        assert analyzer["tokenizer"].startswith("kho_")
        assert all(f.startswith("kho_") for f in analyzer["filter"])


def test_es_request_is_plain_json_with_permissions_and_no_query_syntax():
    q = parse_query('title:(x) OR "quy chế" 123/QĐ-UBND *', USER,
                    filters=Filters(do_mat=(0,), loai_van_ban=("Quyết định",)), facets=FACETS)
    body = build_search(q)
    text = json.dumps(body, ensure_ascii=False)
    assert "query_string" not in text and "simple_query_string" not in text
    assert '"grant_users": "u1"' in text and '"owner_unit": ["A"]' in text
    assert '"loai_key": ["quyết định"]' in text
    assert '"skh_key": {"value": "123/qd-ubnd"' in text
    assert body["track_total_hits"] is True
    assert {"direction", "ho_so", "year"} <= set(body["aggs"])
    assert not build_search(parse_query("quy chế", USER)).get("aggs")  # facets only when asked
    assert syllables("title x OR") == ["title", "x", "OR"]


def test_auditor_request_has_no_permission_filter():
    body = build_search(parse_query("", Principal("k", everything=True)))
    assert body["query"]["bool"]["filter"] == []


def test_unreachable_elasticsearch_is_a_clear_error():
    with pytest.raises(StoreUnavailable) as err:
        ElasticsearchBackend("http://127.0.0.1:9", prefix="kho-unreachable")
    assert err.value.code == "SEARCH_INDEX_UNAVAILABLE"


def test_fold_table_covers_every_character_the_full_range_rule_folds():
    """The table is built from a few Unicode blocks (fast start-up); the rule over the whole
    U+00C0–U+1EFF range gives exactly the same table."""
    from search.analysis import _FOLD_TABLE

    expected = {ord("đ"): "d", ord("Đ"): "D"}
    for code in range(0x00C0, 0x1EFF + 1):
        base = "".join(c for c in unicodedata.normalize("NFD", chr(code)) if not unicodedata.combining(c))
        if len(base) == 1 and base != chr(code) and base.isascii():
            expected[code] = base
    assert expected == _FOLD_TABLE


def test_highlight_variants_equal_the_walk_over_the_whole_plane():
    """The characters folding to each folded character are found from the fold table and the
    blocks lower case changes (fast start-up of ``kho search``); the definition, every BMP
    character's ``fold(lower(c))``, gives exactly the same classes."""
    from search.highlight import _variants

    chars = [chr(code) for code in range(0x20, 0x10000)]
    lowered = "".join([lo if len(lo := c.lower()) == 1 else c for c in chars])
    expected: dict[str, set[str]] = {}
    for char, key in zip(chars, fold(lowered), strict=True):
        if key != char:
            expected.setdefault(key, {key}).add(char)
    assert _variants() == {k: frozenset(v) for k, v in expected.items()}
    assert _variants()["a"] >= {"A", "à", "Ấ", "ặ"} and _variants()["k"] >= {"K", "\u212a"}


_HIGHLIGHT_TEXTS = [
    "QUYẾT ĐỊNH về việc ban hành Quy chế công tác văn thư, lưu trữ của Ủy ban nhân dân tỉnh",
    "Uỷ ban nhân dân tỉnh Hoà Bình: hoà giải ở cơ sở; khoẻ mạnh, thuỷ lợi (kiểu bỏ dấu mới)",
    "bàn giao bản chính; ban hành 123/QĐ-UBND; Bàn Bán BẢN bạn_bàn xbàn bànx đồng Đồng dong",
    "Điều 5. Xử phạt vi phạm hành chính trong lĩnh vực đất đai — phạt tiền từ 1.000.000 đồng",
]


@pytest.mark.parametrize("text", _HIGHLIGHT_TEXTS)
@pytest.mark.parametrize(
    ("words", "phrases"),
    [(["bàn"], []), (["ban"], []), (["hoà", "uỷ"], []), (["dong", "đồng"], []),
     (["QĐ", "ubnd", "123"], []), ([], ["văn thư lưu trữ"]), (["x"], ["hoa binh"]),
     (["xu", "phat"], ["dat dai"])],
)
def test_highlight_spans_equal_matching_on_the_folded_text(text, words, phrases):
    """Highlights match the original text directly; the spans are those the definition gives:
    whole words of ``fold(normalize(text))``."""
    import re

    from search.highlight import _patterns

    alternatives = sorted({fold(normalize(p)) for p in phrases} | {fold(normalize(w)) for w in words},
                          key=len, reverse=True)
    body = "|".join(r"\W+".join(map(re.escape, a.split())) for a in alternatives if a)
    reference = re.compile(rf"(?<![^\W_])(?:{body})(?![^\W_])")
    expected = [m.span() for m in reference.finditer(fold(normalize(text)))]
    matcher = _patterns(words, phrases)
    assert matcher is not None
    assert matcher.spans(text) == expected


def _reference_best_window(text: str, spans: list[tuple[int, int]], size: int) -> tuple[int, int]:
    """The best window as first written (a set per candidate window): the definition that
    :func:`search.highlight._best_window`'s one-pass version must keep."""
    keys = [fold(normalize(text[s:e])) for s, e in spans]
    best, best_score, j = 0, -1, 0
    for i, (start, _) in enumerate(spans):
        j = max(j, i)
        while j + 1 < len(spans) and spans[j + 1][1] - start <= size:
            j += 1
        score = len(set(keys[i : j + 1])) * 100 + (j - i)
        if score > best_score:
            best, best_score = i, score
    return window_bounds(text, spans, best, size)  # the choice differs, the cut is shared


def test_best_window_and_match_keys_equal_the_definition():
    """The one-pass best window (keys from the matched alternative, early stops) picks the
    same fragment as the set-per-window definition, over random texts of frequent words."""
    import random

    from search.highlight import _best_window, _patterns

    rng = random.Random(3)
    vocabulary = ["quy", "Quý", "định", "ĐỊNH", "dinh", "ban", "bàn", "hành", "hoà", "hòa", "x",
                  "văn", "thư", "lưu", "trữ", "-", ",", "(2015)"]
    queries = [(["quy", "định"], []), (["ban"], ["ban hành"]), ([], ["văn thư", "lưu trữ"]),
               (["hoà", "x"], ["quy định"])]
    checked = 0
    for _ in range(300):
        text = " ".join(rng.choices(vocabulary, k=rng.randint(5, 400)))
        for size in (20, 60, 240):
            for words, phrases in queries:
                matcher = _patterns(words, phrases)
                assert matcher is not None
                spans, keys = matcher.spans_and_keys(text)
                assert spans == matcher.spans(text)
                assert keys == [fold(normalize(text[s:e])) for s, e in spans]
                if spans:
                    assert _best_window(text, spans, size, keys) == _reference_best_window(
                        text, spans, size)
                    checked += 1
    assert checked > 2000
