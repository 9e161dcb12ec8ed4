"""A pyHanko reader that parses each object stream once.

pyHanko's ``PdfFileReader._get_object_from_stream`` decompresses the whole object stream and
re-parses its header for every object it returns. The historical views used by the
difference analysis (one per revision) do not cache objects, so on tagged documents with a
large structure tree stored in object streams (the real multi-signature Vietnamese documents)
the same streams are decoded and scanned tens of thousands of times: the analysis becomes
quadratic and takes seconds per signature.

``CachingPdfReader`` keeps, per object stream, the decoded bytes and the header index
(object number -> position), and parses each requested object from them. The resolution rules
are unchanged: the object stream is resolved exactly as pyHanko resolves it (through the
reader's current cross-reference data), the same index checks and strict-mode errors apply,
and the first header entry for an object number wins, as in the upstream loop. Only the
repeated decoding and header scanning is removed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from io import BytesIO

from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.decode_limits import DecodePurpose
from pyhanko.pdf_utils.misc import PdfStrictReadError
from pyhanko.pdf_utils.reader import PdfFileReader

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _ObjStmIndex:
    data: bytes
    first: int
    count: int
    # object number -> (index in header, offset relative to /First); first occurrence wins
    entries: dict[int, tuple[int, int]]
    # True when the header could not be parsed to its end
    truncated: bool


class CachingPdfReader(PdfFileReader):
    """``PdfFileReader`` with a per-object-stream decode and header cache."""

    def __init__(self, stream: BytesIO, strict: bool = True) -> None:
        self._objstm_cache: dict[int, _ObjStmIndex] = {}
        super().__init__(stream, strict=strict)

    def _objstm_index(self, stmnum: int) -> _ObjStmIndex:
        try:
            return self._objstm_cache[stmnum]
        except KeyError:
            pass
        stream = generic.Reference(stmnum, 0, self).get_object()
        assert isinstance(stream, generic.StreamObject)
        assert stream['/Type'] == '/ObjStm'
        count = int(stream['/N'])
        data = stream.read_data(DecodePurpose.OBJECT_STREAM)
        reader = BytesIO(data)
        entries: dict[int, tuple[int, int]] = {}
        truncated = False
        for i in range(count):
            try:
                misc.read_non_whitespace(reader, seek_back=True)
                objnum = generic.NumberObject.read_from_stream(reader)
                misc.read_non_whitespace(reader, seek_back=True)
                offset = generic.NumberObject.read_from_stream(reader)
                misc.read_non_whitespace(reader, seek_back=True)
            except ValueError:
                truncated = True
                break
            entries.setdefault(int(objnum), (i, int(offset)))
        index = _ObjStmIndex(
            data=data,
            first=int(stream['/First']),
            count=count,
            entries=entries,
            truncated=truncated,
        )
        self._objstm_cache[stmnum] = index
        return index

    def _get_object_from_stream(self, idnum: int, stmnum: int, idx: int) -> generic.PdfObject:
        index = self._objstm_index(stmnum)
        if not (0 <= idx < index.count):
            if self.strict:
                raise PdfStrictReadError("Object stream does not contain index")
            return generic.NullObject()
        entry = index.entries.get(idnum)
        if entry is None:
            if index.truncated:
                if self.strict:
                    raise PdfStrictReadError("Object stream header possibly corrupted")
                return generic.NullObject()
            if self.strict:
                raise PdfStrictReadError(
                    "Object not found in stream, this is a fatal error in strict mode"
                )
            return generic.NullObject()
        i, offset = entry
        if self.strict and idx != i:
            raise PdfStrictReadError("Object is in wrong index.")
        stream_data = BytesIO(index.data)
        stream_data.seek(index.first + offset)
        try:
            obj = generic.read_object(stream_data, generic.Reference(idnum, 0, self))
        except (misc.PdfStreamError, misc.PdfReadError) as exc:
            logger.warning("Invalid stream (index %d) within object %d 0: %s", i, idnum, exc)
            if self.strict:
                raise PdfStrictReadError(f"Can't read object stream: {exc}") from exc
            obj = generic.NullObject()
        if isinstance(obj, (generic.StreamObject, generic.IndirectObject)):
            if self.strict:
                raise PdfStrictReadError("Encountered forbidden object type in object stream")
            return obj
        return obj
