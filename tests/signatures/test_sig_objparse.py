"""The fast object parser builds exactly pyHanko's objects, or declines."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
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


@pytest.fixture(autouse=True)
def _quiet() -> Iterator[None]:
    logging.disable(logging.CRITICAL)
    yield
    logging.disable(logging.NOTSET)


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
