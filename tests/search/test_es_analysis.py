"""Elasticsearch's analysis (Kho's plugin, search/es-analysis) gives exactly the terms the
embedded index holds, on a real server: syllables, normalised (NFC, case, tone placement in every
case variant), folded, and adjacent pairs."""

from __future__ import annotations

import itertools
import os
import unicodedata
import uuid

import pytest

from search.analysis import TONE_PLACEMENT, fold, normalize, syllables
from search.embedded import MAX_TOKEN_CHARS

ES_URL = os.environ.get("KHO_TEST_ELASTICSEARCH_URL")

pytestmark = [
    pytest.mark.elasticsearch,
    pytest.mark.skipif(not ES_URL, reason="KHO_TEST_ELASTICSEARCH_URL is not set"),
]


def _variants(pair: str) -> list[str]:
    return sorted({"".join(p) for p in itertools.product(*[(c, c.upper()) for c in pair])})


SAMPLES = [
    " ".join(v for source in TONE_PLACEMENT for v in _variants(source)),
    " ".join(f"h{v}" for source in TONE_PLACEMENT for v in _variants(source)),
    unicodedata.normalize("NFD", "Quyết định số 123/QĐ-UBND về việc HOÀ GIẢI, sức khoẻ; Thuỷ lợi"),
    "Đường Đê La Thành — ĐỘC LẬP_TỰ DO\nHạnh phúc 2024 ½ Ⅻ ²",
    "a" * (MAX_TOKEN_CHARS + 1) + " giữ " + "b" * MAX_TOKEN_CHARS + " gìn",
    "Ưu tiên ơ ư ă â ê ô ạ ậ ặ ẹ ệ ị ọ ộ ợ ụ ự ỵ",
]


def _embedded_terms(text: str) -> tuple[list[str], list[str], list[str]]:
    words = [normalize(s) for s in syllables(unicodedata.normalize("NFC", text))
             if len(s) <= MAX_TOKEN_CHARS]
    folded = [fold(w) for w in words]
    return words, folded, [f"{a}_{b}" for a, b in itertools.pairwise(folded)]


@pytest.fixture(scope="module")
def index():
    from elasticsearch import Elasticsearch

    from search.elasticsearch import ANALYSIS

    es = Elasticsearch(ES_URL)
    name = f"kho-analysis-{uuid.uuid4().hex[:8]}"
    es.indices.create(index=name, settings={"analysis": ANALYSIS})
    yield es, name
    es.indices.delete(index=name, ignore_unavailable=True)
    es.close()


@pytest.mark.parametrize("text", SAMPLES, ids=range(len(SAMPLES)))
def test_each_analyzer_gives_the_embedded_terms(index, text):
    es, name = index
    expected = _embedded_terms(text)
    for analyzer, want in zip(("vi_exact", "vi_folded", "vi_bigram"), expected, strict=True):
        got = [t["token"] for t in es.indices.analyze(index=name, analyzer=analyzer,
                                                       text=text)["tokens"]]
        assert got == want, analyzer


def test_offsets_point_at_the_original_syllables(index):
    es, name = index
    text = "Quyết định HOÀ giải"
    tokens = es.indices.analyze(index=name, analyzer="vi_folded", text=text)["tokens"]
    assert [text[t["start_offset"]:t["end_offset"]] for t in tokens] == text.split()
