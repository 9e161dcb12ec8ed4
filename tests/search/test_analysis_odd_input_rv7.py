"""rv7 review of s9's cached doubled syllables (650b53f): the text fields given to Tantivy for
odd input are those of the reference analysis (as main built them before s9, restated from
search.analysis). s9's equivalence test covers NFC text, NBSP, ß/İ and one 120-letter run;
this adds text not in NFC (combining marks, composable and not), ``_`` inside and between
words, zero-width and bidi characters, mixed scripts, and runs at the token length limit."""

from __future__ import annotations

import itertools
import unicodedata

import search.embedded as embedded
from kho.textkey import plain_text
from search.analysis import fold, normalize, syllables
from search.embedded import IndexDocument
from search.ranking import MAX_TOKEN_CHARS


def _reference(doc: IndexDocument) -> tuple[str, str, str]:
    def tokens(text: str) -> tuple[str, str]:
        exact: list[str] = []
        folded: list[str] = []
        for chunk in unicodedata.normalize("NFC", text).split():
            forms = [normalize(s) for s in syllables(plain_text(chunk)) if len(s) <= MAX_TOKEN_CHARS]
            exact.append(" ".join(forms))
            folded.append(" ".join(fold(f) for f in forms))
        return " ".join(exact), " ".join(folded)

    head, head_f = tokens("\n".join((doc.title, doc.so_ky_hieu, doc.trich_yeu, doc.loai_van_ban,
                                     doc.co_quan_ban_hanh, doc.nguoi_ky)))
    body, body_f = tokens(doc.text)
    repeat = embedded.TITLE_REPEAT
    folded = " ".join([head_f] * repeat + [body_f])
    pairs = " ".join(f"{a}_{b}" for a, b in itertools.pairwise(folded.split()))
    return " ".join([head] * repeat + [body]), folded, pairs


ODD = (
    unicodedata.normalize("NFD", "Quyết định số 12/QĐ-UBND về việc ban hành quy chế lưu trữ"),
    "Quye\u0302\u0301t đi\u0323nh hoa\u0300 thuy\u0309",  # decomposed, tone before/after the hat
    "x\u0301 q\u0323\u0301 \u0301a \u0323 ́",  # marks NFC cannot compose; lone marks
    "quy_định a__b _đầu cuối_ __ ___",
    "văn\u200bthư hồ\u200dsơ \ufeffđầu \u202ephải\u202c \u2028dòng\u2029đoạn",
    "Hà Nội москва Ёлка 北京市 αβγ ﬁnal ＡＢＣ１２ Ⅻ ²³ ǅemal ß İstanbul 🙂x",
    "ạ" * (MAX_TOKEN_CHARS - 1) + " " + "ạ" * MAX_TOKEN_CHARS + " " + "ạ" * (MAX_TOKEN_CHARS + 1),
    unicodedata.normalize("NFD", "đ" + "ệ" * MAX_TOKEN_CHARS),  # NFD longer than the limit, NFC not
    "a",
    "",
    " \t\n\u00a0\u3000 ",
    "— … ; () / -- _",
)


def _docs() -> list[IndexDocument]:
    out = []
    for n, (a, b) in enumerate(itertools.product(ODD, repeat=2)):
        out.append(IndexDocument(
            id=f"o{n}", version=1, direction="den", title=a, so_ky_hieu=b[:40], trich_yeu=b,
            loai_van_ban=a[:20], co_quan_ban_hanh=b[-20:], nguoi_ky=a[-15:], text=f"{b} {a} {b}",
        ))
    return out


def test_the_text_fields_of_odd_input_are_those_of_the_reference_analysis() -> None:
    docs = _docs()
    assert len(docs) == len(ODD) ** 2
    for rowid, doc in enumerate(docs, start=1):
        fields = embedded._text_fields(rowid, doc)
        assert (fields["e"], fields["f"], fields["b"]) == _reference(doc), doc.id
