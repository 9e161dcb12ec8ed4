"""The fast object parser builds exactly pyHanko's objects, or declines."""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pdf_equality import same_object
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

from ingest.signatures._objparse import parse_object
from ingest.signatures._reader import (
    CachingPdfReader,
    _general_objstm_header,
    _plain_objstm_header,
)


def _readers(corpus_pdf_dir: Path) -> Iterator[tuple[str, CachingPdfReader]]:
    for path in sorted(corpus_pdf_dir.glob("*.pdf")):
        try:
            yield path.name, CachingPdfReader(BytesIO(path.read_bytes()), strict=False)
        except Exception:
            continue


def _sections(reader: CachingPdfReader) -> list[Any]:
    sections = list(reader.xrefs._xref_sections)
    return sections + [s.xref_data.hybrid for s in sections if s.xref_data.hybrid is not None]


pytestmark = pytest.mark.usefixtures("quiet_logging")


def test_objects_in_object_streams_parse_as_pyhanko_parses_them(corpus_pdf_dir: Path) -> None:
    parsed = declined = 0
    different = []
    for name, reader in _readers(corpus_pdf_dir):
        streams = {
            marker.obj_stream_id
            for section in _sections(reader)
            for marker in section.xref_data.xrefs_in_objstm.values()
        }
        for stream in streams:
            try:
                index = reader._objstm_index(stream)
            except Exception:
                continue  # e.g. a broken /Encrypt: never reaches the fast parser either
            for idnum, (_, offset) in index.entries.items():
                ref = generic.Reference(idnum, 0, reader)
                fast = parse_object(index.data, index.first + offset, ref)
                if fast is None:
                    declined += 1
                    continue
                data = BytesIO(index.data)
                data.seek(index.first + offset)
                parsed += 1
                if not same_object(fast, generic.read_object(data, ref)):
                    different.append((name, idnum))
    assert different == []
    assert parsed > 9000 and declined < parsed / 5


def test_object_stream_headers_read_as_the_general_loop_reads_them(corpus_pdf_dir: Path) -> None:
    plain = 0
    for _, reader in _readers(corpus_pdf_dir):
        for stream_id in {
            marker.obj_stream_id
            for section in _sections(reader)
            for marker in section.xref_data.xrefs_in_objstm.values()
        }:
            try:
                stream = generic.Reference(stream_id, 0, reader).get_object()
                data, count = stream.data, int(stream["/N"])
            except Exception:
                continue
            found = _plain_objstm_header(data, count)
            if found is not None:
                plain += 1
                assert (found, False) == _general_objstm_header(data, count)
    assert plain > 20
    # a header cut short, a comment, a non-integer: left to the general loop
    for data in (b"1 0 2", b"1 0 % c\n2 5 x", b"1 0 2 5.0 x"):
        assert _plain_objstm_header(data, 2) is None
    assert _general_objstm_header(b"1 0 2 x5 y", 2) == ({1: (0, 0)}, True)


def test_top_level_objects_parse_as_pyhanko_reads_them(corpus_pdf_dir: Path) -> None:
    parsed = 0
    different = []
    for name, reader in _readers(corpus_pdf_dir):
        for section in _sections(reader):
            for idnum, (generation, offset) in section.xref_data.standard_xrefs.items():
                ref = generic.Reference(idnum, generation, reader)
                try:
                    fast = reader._fast_top_level_object(ref, offset)
                except Exception as exc:  # the header is read as upstream reads it
                    with pytest.raises(type(exc)):
                        PdfFileReader._read_object(reader, ref, offset)
                    continue
                if fast is None:
                    continue
                parsed += 1
                if not same_object(fast, PdfFileReader._read_object(reader, ref, offset)):
                    different.append((name, idnum))
    assert different == []
    assert parsed > 2000


@pytest.mark.parametrize(
    "text",
    [
        b"<</A 1/A 2>>",  # duplicate key: upstream keeps the first and warns
        b"<</A#2 1>>",  # unterminated escape in a name
        b"(\\8)",  # not an octal digit
        b"(\\q)",  # not an escape
        b"(abc",  # unterminated
        b"<</A 1 % comment\n>>",
        b"<</Length 0>>stream\n\nendstream",
        b"[1 2",  # truncated
        b"[1.2.3]",  # a number upstream cannot convert
        b"<</A 0 0 R>>",  # object number 0
        b"(\\777)",  # an octal escape above 255
        b"[1 2-3]",  # a number run upstream cannot convert
        b"[1 2 % comment\n]",
    ],
)
def test_irregular_syntax_is_left_to_pyhanko(text: bytes) -> None:
    reader = PdfFileReader.__new__(PdfFileReader)
    assert parse_object(text, 0, generic.Reference(1, 0, reader)) is None


@pytest.mark.parametrize(
    "text",
    [
        b"(a\\)b)",
        b"(nested (parens) and \\( escaped)",
        b"(\\101\\1012\\7x)",
        b"(x\\\r\ny\\\nz)",
        b"(\\n\\r\\t\\b\\f\\\\\\/)",
        b"(\\376\\377\\000V\\036\\355)",  # UTF-16BE with a byte-order mark
        b"(\xfe\xff\x00A)",
        b"(caf\xe9 \x18)",
        b"<FEFF00 41>",
        b"[(a)<62>/N 1 0 R -.5 +3 true null]",
        b"<</Times#20New#20Roman#2cBold/A#a9#41>>",
        b"(x\\\n\ry\\\r\rz\\\n)",  # escaped line breaks of every shape
        b"(\\0\\12\\0123)",  # one, two and three digits, then a plain digit
        b"()",
        b"[0 0 595.28 841.89]",
        b"[ 1 -2 +3 .5 4. -.25\x002 ]",
        b"[]",
        b"<</W [1 [500 600] 5 [700]] /Widths [278 278 355]>>",
    ],
)
def test_strings_and_names_parse_as_pyhanko_parses_them(text: bytes) -> None:
    reader = PdfFileReader.__new__(PdfFileReader)
    ref = generic.Reference(1, 0, reader)
    fast = parse_object(text + b" ", 0, ref)
    assert fast is not None
    assert same_object(fast, generic.read_object(BytesIO(text + b" "), ref))


_HEADER_TOKENS = st.sampled_from(
    [b"1", b"12", b"007", b"3", b"0", b" ", b"  ", b"\n", b"\r\n", b"\x00", b"\t", b"%c\n", b"-1",
     b"+2", b"1.5", b".", b"x", b"<<", b"[", b"/A", b"99999999999"]
)


_HEADER_NUMBERS = st.sampled_from([b"1", b"12", b"007", b"0", b"5", b"65535"])
_HEADER_SPACES = st.sampled_from([b" ", b"\n", b"  ", b"\r\n", b"\x00"])


@settings(max_examples=600, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(_HEADER_NUMBERS, _HEADER_SPACES, _HEADER_NUMBERS, _HEADER_SPACES), max_size=8),
    st.one_of(st.none(), st.tuples(st.integers(0, 60), _HEADER_TOKENS)),
    st.sampled_from([0, 0, 0, 1, 2, -1, 9]),
    st.sampled_from([b"<<", b"", b"[", b"%c\n<<", b"1", b" <<"]),
)
def test_generated_object_stream_headers_read_as_the_general_loop(
    entries: list[tuple[bytes, bytes, bytes, bytes]],
    noise: tuple[int, bytes] | None,
    short_by: int,
    tail: bytes,
) -> None:
    # "number whitespace number whitespace" entries, sometimes one token inserted anywhere;
    # /N mostly the number of entries, sometimes fewer or more
    data = b"".join(b"".join(entry) for entry in entries) + tail
    if noise is not None:
        at = min(noise[0], len(data))
        data = data[:at] + noise[1] + data[at:]
    count = len(entries) - short_by
    found = _plain_objstm_header(data, count)
    if found is not None:
        expected, truncated = _general_objstm_header(data, count)
        assert not truncated and list(found.items()) == list(expected.items()), (data, count)


def test_plain_object_stream_headers_are_read_in_one_match() -> None:
    # plain headers are answered (one match), the first entry of a number listed twice wins,
    # in the order of the header
    assert list(_plain_objstm_header(b"5 0 7 12 5 30 <<", 3).items()) == [(5, (0, 0)), (7, (1, 12))]  # type: ignore[union-attr]
    assert _plain_objstm_header(b"5 0 7 12\n9 30\r\n<<", 3) == {5: (0, 0), 7: (1, 12), 9: (2, 30)}
    assert _plain_objstm_header(b"5 0 7 12 9 30", 3) is None  # nothing after the last entry
    assert _plain_objstm_header(b"5 0 7 12 9 3.0 <<", 3) is None


@pytest.mark.parametrize("count", [4, 2**31, 2**32, 2**32 + 1, 2**63])
def test_an_object_stream_listing_more_entries_than_it_can_hold_is_left_to_the_general_loop(
    count: int,
) -> None:
    # a hostile /N: declined (the general loop reads what is there), never an OverflowError of
    # the pattern compiler, which the fast reader would raise where pyHanko reads the document
    assert _plain_objstm_header(b"4 0 << /Hello /World >>", count) is None
    assert _plain_objstm_header(b"4 0 5 9 <<", 2) == {4: (0, 0), 5: (1, 9)}
