"""A fast parser for PDF objects, building exactly the objects pyHanko's parser builds.

pyHanko's ``generic.read_object`` reads names, numbers and whitespace one byte at a time
through a stream; on a tagged document (thousands of structure elements) parsing the
objects once cost most of the verification time. ``parse_object`` reads the same syntax
from the bytes with regular expressions and builds the same pyHanko objects (types, values,
dictionary order, ``container_ref``, string escapes and encoding detection; escaped names go
through pyHanko's ``_decode_name``, stream payloads through pyHanko's own payload reader).

Whenever pyHanko would do something unusual - raise, warn, skip a comment, meet a duplicate
key, a ``stream`` keyword inside an object stream, a number it cannot convert - it returns
``None`` and the caller parses the object with pyHanko instead, so every irregular case keeps
pyHanko's behaviour. ``tests/signatures/test_sig_objparse.py`` compares both parsers on every
object of the corpus (on the corpus, 37 of 4,370 top-level objects and none of the 10,934
objects in object streams go back to pyHanko).
"""

from __future__ import annotations

import binascii
import re
from typing import Any, BinaryIO

from pyhanko.pdf_utils import generic, misc

_WS = re.compile(rb"[ \n\r\t\f\x00]*")  # misc.PDF_WHITESPACE
# a name, followed by a byte that ends it (whitespace, delimiter) or the end of the data
# printable, not a delimiter; a name with a '#' escape is decoded by pyHanko's _decode_name
_NAME_CHARS = bytes(c for c in range(0x21, 0x7F) if c not in b"()<>[]{}/%")
_NAME_BODY = (
    rb"/([" + re.escape(_NAME_CHARS) + rb"]*)(?=[ \n\r\t\f\x00()<>\[\]{}/%]|\Z)"
)
_NAME = re.compile(_NAME_BODY)
_KEY = re.compile(rb"[ \n\r\t\f\x00]*" + _NAME_BODY + rb"[ \n\r\t\f\x00]*")
_NUMBER_RUN = re.compile(rb"[+,\-.0-9]+")  # complement of NumberObject.NumberPattern
_INT = re.compile(rb"[+-]?[0-9]+\Z")
_REAL = re.compile(rb"[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+)\Z")
_REF = re.compile(rb"([0-9]+)[ \t\n\r\f]+([0-9]+)[ \t\n\r\f]+R")
_LITERAL_PLAIN = re.compile(rb"[^()\\]*")
_HEX_BODY = re.compile(rb"[0-9a-fA-F \n\r\t\f\x00]*>")
_HEX_STRIP = re.compile(rb"[ \n\r\t\f\x00]")
_KEYWORD_END = re.compile(rb"[ \n\r\t\f\x00()<>\[\]{}/%]|\Z")
# bytes that PDFDocEncoding decodes to the same code point (from pyHanko's own table): a
# string made of them, without a byte-order mark, decodes as latin-1 would. The table's
# U+0000 marks a byte PDFDocEncoding does not define (pyHanko then keeps the string as bytes),
# so byte 0, which the table maps to U+0000, is not one of them.
_PDFDOC_IDENTITY = bytes(
    b
    for b in range(256)
    if generic._pdfDocEncoding[b] == chr(b) != "\u0000"  # type: ignore[attr-defined]
)
_PDF_DOC = generic.TextStringEncoding.PDF_DOC
_SIMPLE_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
# an array of plain numbers (font widths, boxes, matrices): one match instead of a parse per
# number; a reference, a comment or anything else needs the general path
_PDF_WS = rb"[ \n\r\t\f\x00]"
_NUMBER_TOKEN = rb"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_NUMBER_ARRAY = re.compile(
    rb"\[" + _PDF_WS + rb"*((?:" + _NUMBER_TOKEN + rb"(?:" + _PDF_WS + rb"+" + _NUMBER_TOKEN + rb")*)?)"
    + _PDF_WS + rb"*\]"
)
_NUMBER = re.compile(_NUMBER_TOKEN)
# a string literal without nested parentheses; its escapes are decoded by _ESCAPE
_FLAT_LITERAL = re.compile(rb"\(((?:[^()\\]++|\\.)*+)\)", re.S)
_ESCAPE = re.compile(rb"\\(?:([0-9]{1,3})|([\r\n][\r\n]?)|(.))", re.S)


class _Irregular(Exception):
    """Leave this object to pyHanko's parser."""


def parse_object(data: bytes, pos: int, container_ref: generic.Reference) -> Any:
    """The object starting at ``data[pos]`` as ``generic.read_object`` would return it, or
    ``None`` when the object needs pyHanko's parser."""
    found = parse_object_at(data, pos, container_ref)
    return None if found is None else found[0]


def parse_object_at(
    data: bytes,
    pos: int,
    container_ref: generic.Reference,
    stream_source: BinaryIO | None = None,
) -> tuple[Any, int] | None:
    """``parse_object`` and the position just after the object. With ``stream_source`` (a
    stream over ``data``: a top-level object of the file), a dictionary followed by
    ``stream`` becomes a stream object, its data read by pyHanko's own code."""
    try:
        return _Parser(data, container_ref, stream_source, pos).read(pos)
    except (_Irregular, IndexError, RecursionError):
        return None


def next_token(data: bytes, pos: int) -> int | None:
    """Position of the next non-whitespace byte at or after ``pos``, as pyHanko's
    ``read_non_whitespace`` finds it; ``None`` at the end of the data or at a comment
    (where pyHanko raises or skips the comment)."""
    end = _WS.match(data, pos).end()  # type: ignore[union-attr]
    if end >= len(data) or data[end : end + 1] == b"%":
        return None
    return end


def _name(raw: bytes) -> generic.NameObject:
    if b"#" in raw:
        try:
            return generic._decode_name(raw)  # type: ignore[attr-defined, no-any-return]
        except misc.PdfReadError as exc:
            raise _Irregular from exc
    return generic.NameObject("/" + raw.decode("ascii"))


def _text_string(raw: bytes) -> Any:
    """``generic.pdf_string(raw)``, without the per-byte decoding loop when that is latin-1."""
    if not raw.translate(None, _PDFDOC_IDENTITY) and generic._guess_enc_by_bom(raw) is _PDF_DOC:
        text = generic.TextStringObject(raw.decode("latin-1"))
        text.autodetected_encoding = _PDF_DOC
        return text
    return generic.pdf_string(raw)


def _unescape(escape: re.Match[bytes]) -> bytes:
    """``_Parser.read_escape`` for one escape inside a literal known to end later on."""
    digits, line_break, other = escape.groups()
    if digits is not None:
        try:
            return bytes((int(digits, 8),))
        except ValueError as exc:  # 8 or 9, or above 255: upstream raises
            raise _Irregular from exc
    if line_break is not None:
        return b""
    if other in b"() /%<>[]#_&$\\":
        return other  # type: ignore[no-any-return]
    if other in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[other]
    raise _Irregular  # upstream: "Unexpected escaped string"


class _Parser:
    def __init__(
        self,
        data: bytes,
        container_ref: generic.Reference,
        stream_source: BinaryIO | None,
        start: int,
    ) -> None:
        self.data = data
        self.container_ref = container_ref
        self.handler = container_ref.get_pdf_handler()
        self.stream_source = stream_source
        self.start = start

    def skip_ws(self, pos: int) -> int:
        end = _WS.match(self.data, pos).end()  # type: ignore[union-attr]
        if self.data[end : end + 1] == b"%":
            raise _Irregular  # a comment
        return end

    def read(self, pos: int) -> tuple[Any, int]:
        data = self.data
        tok = data[pos : pos + 1]
        result: Any
        if tok == b"/":
            match = _NAME.match(data, pos)
            if match is None:
                raise _Irregular
            result = _name(match.group(1))
            pos = match.end()
        elif tok.isdigit():
            if generic.INDIRECT_PATTERN.match(data, pos, pos + 20) is not None:
                ref = _REF.match(data, pos)
                if ref is None or int(ref.group(1)) <= 0:
                    raise _Irregular
                result = generic.IndirectObject(
                    int(ref.group(1)), int(ref.group(2)), self.handler
                )
                pos = ref.end()
            else:
                result, pos = self.read_number(pos)
        elif tok == b"<":
            if data[pos + 1 : pos + 2] == b"<":
                result, pos = self.read_dict(pos)
            else:
                result, pos = self.read_hex(pos)
        elif tok == b"[":
            result, pos = self.read_array(pos)
        elif tok == b"(":
            result, pos = self.read_literal(pos)
        elif tok == b"t" or tok == b"f" or tok == b"n":
            result, pos = self.read_keyword(pos)
        elif tok == b"+" or tok == b"-" or tok == b".":
            result, pos = self.read_number(pos)
        else:
            raise _Irregular
        result.container_ref = self.container_ref
        return result, pos

    def read_name(self, pos: int) -> tuple[generic.NameObject, int]:
        match = _NAME.match(self.data, pos)
        if match is None:
            raise _Irregular
        return _name(match.group(1)), match.end()

    def read_number(self, pos: int) -> tuple[Any, int]:
        run = _NUMBER_RUN.match(self.data, pos)
        if run is None:
            raise _Irregular
        text = run.group(0)
        if _INT.match(text):
            return generic.NumberObject(text.decode("ascii")), run.end()
        if _REAL.match(text):
            return generic.FloatObject(text.decode("ascii")), run.end()
        raise _Irregular

    def read_keyword(self, pos: int) -> tuple[Any, int]:
        data = self.data
        for word, value in ((b"true", True), (b"false", False), (b"null", None)):
            if data.startswith(word, pos):
                end = pos + len(word)
                if _KEYWORD_END.match(data, end) is None:
                    raise _Irregular
                if value is None:
                    return generic.NullObject(), end
                return generic.BooleanObject(value), end
        raise _Irregular

    def read_array(self, pos: int) -> tuple[generic.ArrayObject, int]:
        data = self.data
        numbers = _NUMBER_ARRAY.match(data, pos)
        if numbers is not None:
            return self.number_array(numbers.group(1)), numbers.end()
        arr = generic.ArrayObject()
        pos += 1
        while True:
            pos = self.skip_ws(pos)
            tok = data[pos : pos + 1]
            if tok == b"]":
                return arr, pos + 1
            if not tok:
                raise _Irregular
            value, pos = self.read(pos)
            arr.append(value)

    def number_array(self, body: bytes) -> generic.ArrayObject:
        """What ``read`` gives for each number token of ``body`` (integers as NumberObject,
        reals as FloatObject), with this object's container reference."""
        arr = generic.ArrayObject()
        container_ref = self.container_ref
        for token in _NUMBER.findall(body):
            text = token.decode("ascii")
            number = generic.FloatObject(text) if "." in text else generic.NumberObject(text)
            number.container_ref = container_ref
            arr.append(number)
        return arr

    def read_dict(self, pos: int) -> tuple[generic.DictionaryObject, int]:
        data = self.data
        key_at = _KEY.match
        entries: dict[generic.NameObject, Any] = {}
        top_level = pos == self.start
        pos += 2
        while True:
            # whitespace, a key without escapes, whitespace (as upstream skips it)
            found = key_at(data, pos)
            if found is None:
                pos = self.skip_ws(pos)
                if data[pos : pos + 2] != b">>":
                    raise _Irregular  # not a plain key, not the end
                pos += 2
                break
            end = found.end()
            if data[end : end + 1] == b"%":
                raise _Irregular
            key = _name(found.group(1))  # keys get no container_ref, as upstream
            if not data[end : end + 1]:
                raise _Irregular
            value, pos = self.read(end)
            if key in entries:
                raise _Irregular  # upstream keeps the first and warns
            entries[key] = value
        # upstream looks for a 'stream' keyword after every dictionary
        after = _WS.match(data, pos).end()  # type: ignore[union-attr]
        follows = data[after : after + 1]
        if follows == b"s" and top_level and self.stream_source is not None:
            return self.read_stream_payload(entries, pos)
        if follows in (b"%", b"s"):
            raise _Irregular
        return generic.DictionaryObject(entries), pos

    def read_stream_payload(self, entries: dict[Any, Any], pos: int) -> tuple[Any, int]:
        # DictionaryObject.read_from_stream's ending, with pyHanko's own payload reader
        source = self.stream_source
        assert source is not None
        source.seek(pos)
        try:
            payload = generic._maybe_read_stream_payload(  # type: ignore[attr-defined]
                source, entries, self.handler
            )
        except Exception as exc:  # upstream raises it again
            raise _Irregular from exc
        if payload is None:  # an 's' that does not start 'stream'
            return generic.DictionaryObject(entries), pos
        return generic.StreamObject(entries, encoded_data=payload), source.tell()

    def read_literal(self, pos: int) -> tuple[Any, int]:
        # generic._read_string_literal_bytes, escapes included
        data = self.data
        flat = _FLAT_LITERAL.match(data, pos)
        if flat is not None:
            body = flat.group(1)
            if b"\\" in body:
                body = _ESCAPE.sub(_unescape, body)
            return _text_string(body), flat.end()
        out = bytearray()
        depth = 1
        pos += 1
        while True:
            end = _LITERAL_PLAIN.match(data, pos).end()  # type: ignore[union-attr]
            out += data[pos:end]
            pos = end
            tok = data[pos : pos + 1]
            if tok == b"(":
                depth += 1
            elif tok == b")":
                depth -= 1
                if depth == 0:
                    return _text_string(bytes(out)), pos + 1
            elif tok == b"\\":
                escaped, pos = self.read_escape(pos + 1)
                out += escaped
                continue
            else:  # the end of the data: upstream raises
                raise _Irregular
            out += tok
            pos += 1

    def read_escape(self, pos: int) -> tuple[bytes, int]:
        """The bytes that the escape after a backslash stands for, and where it ends."""
        data = self.data
        tok = data[pos : pos + 1]
        if not tok:
            raise _Irregular
        if tok in b"() /%<>[]#_&$\\":
            return tok, pos + 1
        if tok in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[tok], pos + 1
        if tok.isdigit():
            digits = tok
            pos += 1
            for _ in range(2):
                following = data[pos : pos + 1]
                if not following:
                    raise _Irregular  # upstream steps back at the end of the data
                if not following.isdigit():
                    break
                digits += following
                pos += 1
            try:
                return bytes((int(digits, 8),)), pos
            except ValueError as exc:  # 8 or 9, or above 255: upstream raises
                raise _Irregular from exc
        if tok in (b"\n", b"\r"):  # an escaped line break, one or two characters
            following = data[pos + 1 : pos + 2]
            if not following:
                raise _Irregular
            return b"", pos + 2 if following in (b"\n", b"\r") else pos + 1
        raise _Irregular  # upstream: "Unexpected escaped string"

    def read_hex(self, pos: int) -> tuple[Any, int]:
        body = _HEX_BODY.match(self.data, pos + 1)
        if body is None:
            raise _Irregular
        digits = _HEX_STRIP.sub(b"", body.group(0)[:-1])
        if len(digits) % 2:
            digits += b"0"
        return generic.pdf_string(binascii.unhexlify(digits)), body.end()
