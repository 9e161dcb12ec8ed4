"""A pyHanko reader that makes the difference analysis fast on large tagged documents.

The costs of stock pyHanko removed here (none changes what is checked or decided):

1. Object streams. ``PdfFileReader._get_object_from_stream`` decompresses the whole object
   stream and re-parses its header for every object it returns; ``CachingPdfReader`` keeps, per
   object stream, the decoded bytes and the header index (object number -> position). The
   stream is resolved exactly as pyHanko resolves it, the same index checks and strict-mode
   errors apply, and the first header entry for an object number wins, as upstream.

2. Parsing. pyHanko's parser reads names, numbers and whitespace one byte at a time. Objects
   are parsed with :mod:`ingest.signatures._objparse`, which builds the same objects and hands
   anything irregular back to pyHanko (non-strict, unencrypted files only).

3. Historical objects. pyHanko never caches an object read "as of" an older revision, so every
   historical view re-parses it (a signature dictionary with its 20-40 kB hex string, once per
   view). Here the parse is cached by the object's cross-reference location (file offset or
   object-stream slot), which identifies its bytes; the historical views still copy
   ("subsume") what they get, as upstream, so nothing is shared between views.

4. The reference-path map. For every signature, the difference analysis asks the signed
   revision's ``HistoricalResolver`` for every path from the trailer to each object that a
   later revision overwrites (``_load_reverse_xref_cache``). Upstream builds the map by copying
   every object of the revision and walking all of them, then converts every path (tens of
   thousands on a tagged document with a large structure tree) - again for every signed
   revision. ``_PathMapResolver`` computes the same map with the same walk and the same
   pruning rules (page-tree nodes entered only by their canonical path, structure elements
   not entered from outside the structure tree, ``/Parent`` never followed, ``/P`` not followed
   inside the structure tree, no object twice on one path, objects read in the same order,
   the same "circular reference" errors), but over the raw parsed objects, with each object's
   outgoing references extracted once per object version, the structure-tree walk and the
   walk below the catalog's children reused by later revisions in which none of the objects
   they read changed (see ``_changed_between``; a reused walk stands for its records, grouped
   by object once, and re-reads only the objects changed in between, whose reads alone can
   differ), and paths converted to ``RawPdfPath`` only for the objects the rules ask about.

5. Flat dictionaries. The walks need only the references, ``/Type`` and ``/K`` of the
   thousands of structure elements of a tagged document; :mod:`ingest.signatures._flat` reads
   that much from the bytes of a flat dictionary in an object stream (names, numbers,
   references, plain strings, arrays of those) without building pyHanko objects - and as much
   from a flat array (the ``/ParentTree``'s arrays of references) - and declines anything
   else, which is then parsed as in 2. The same holds for top-level objects (at a
   file offset) that the walk reads and nothing else needs, such as image XObjects: their
   dictionaries are read flat where the parse as in 2 would succeed without any irregularity
   (stream payload and all); the rules, which read pages and the like anyway, parse them then.

``tests/signatures`` compares the parser and the flat reader with pyHanko's parser on every
object of the corpus and on generated objects, the path maps with upstream's on every corpus
revision and on generated incremental updates, and whole verification results with a
stock-reader run on every corpus file (also ``bench/eval_signatures.py --compare``).

Encrypted documents use the upstream parser and path map (objects are decrypted through
proxies).
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from operator import itemgetter
from typing import Any

from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.decode_limits import DecodePurpose
from pyhanko.pdf_utils.misc import PdfStrictReadError
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader, RawPdfPath
from pyhanko.pdf_utils.xref import ObjStreamRef, read_object_header

from ingest.signatures._flat import (
    Flat,
    FlatArray,
    flat_dicts,
    flat_object_at,
    flat_top_dict_at,
)
from ingest.signatures._objparse import next_token, parse_object, parse_object_at
from ingest.signatures._xref import init_reader

logger = logging.getLogger(__name__)


# one header entry of an object stream as the loop in CachingPdfReader._objstm_index reads
# it when nothing is unusual: digits, whitespace, digits, then (after optional whitespace) a
# token that is not a comment
_WS = rb"[ \n\r\t\f\x00]"
_OBJSTM_PAIR = re.compile(
    _WS + rb"*([0-9]+)" + _WS + rb"+([0-9]+)(?![+,\-.0-9])(?=" + _WS + rb"*[^ \n\r\t\f\x00%])"
)


# a top-level object's header in its plainest form ("12 0 obj", single spaces), then whitespace
# up to a dictionary: where this matches, pyHanko's read_object_header reads these numbers and
# leaves the stream at the '<<' (see CachingPdfReader._top_level_flat)
_TOP_HEADER = re.compile(rb"([0-9]+) ([0-9]+) obj" + _WS + rb"*(?=<<)")
_STREAM_LENGTH_KEY = generic.NameObject("/Length")


# one plain header entry's two numbers, in a header already known to be made of such entries
_OBJSTM_NUMBERS = re.compile(rb"([0-9]+)" + _WS + rb"+([0-9]+)")
# count -> the expression of a header of exactly that many plain entries (see below)
_OBJSTM_HEADERS: dict[int, re.Pattern[bytes]] = {}


def _plain_objstm_header(data: bytes, count: int) -> dict[int, tuple[int, int]] | None:
    """The header index (object number -> (index, offset), first entry wins) when all
    ``count`` entries are plain; ``None`` leaves the header to the general loop.

    Why one match: a large document has thousands of entries; matching ``_OBJSTM_PAIR`` once
    per entry in a Python loop cost ~10 ms. ``count`` repetitions of ``_OBJSTM_PAIR`` match
    exactly where that loop succeeds (each entry can match only one way: the first number
    must be followed by whitespace and the second by no digit, sign or dot), then the numbers
    are taken apart with ``findall`` and the index built at C speed."""
    if count <= 0:
        return {}
    if count > len(data) // 3:
        # more entries than the data can hold (each takes three bytes at least): declined, as the
        # loop declines it, before a pattern of that many repetitions is compiled (a /N of 2**32
        # or more overflows the regular-expression compiler)
        return None
    header = _OBJSTM_HEADERS.get(count)
    if header is None:
        header = re.compile(rb"(?:" + _OBJSTM_PAIR.pattern + rb"){%d}" % count)
        if len(_OBJSTM_HEADERS) < 256:
            _OBJSTM_HEADERS[count] = header
    whole = header.match(data)
    if whole is None:
        return None
    pairs = _OBJSTM_NUMBERS.findall(data, 0, whole.end())
    if len(pairs) != count:  # cannot happen (each entry is two numbers); be safe
        return None
    numbers = [int(number) for number, _ in pairs]
    slots = list(zip(range(count), [int(offset) for _, offset in pairs], strict=True))
    entries = dict(zip(numbers, slots, strict=True))
    if len(entries) != count:  # a number listed twice: its first entry wins, as upstream
        entries = {}
        for number, slot in zip(numbers, slots, strict=True):
            entries.setdefault(number, slot)
    return entries


def _general_objstm_header(data: bytes, count: int) -> tuple[dict[int, tuple[int, int]], bool]:
    """The header index as upstream's loop reads it, and whether it stopped early."""
    reader = BytesIO(data)
    entries: dict[int, tuple[int, int]] = {}
    for i in range(count):
        try:
            misc.read_non_whitespace(reader, seek_back=True)
            objnum = generic.NumberObject.read_from_stream(reader)
            misc.read_non_whitespace(reader, seek_back=True)
            offset = generic.NumberObject.read_from_stream(reader)
            misc.read_non_whitespace(reader, seek_back=True)
        except ValueError:
            return entries, True
        entries.setdefault(int(objnum), (i, int(offset)))
    return entries, False


@dataclass(frozen=True)
class _ObjStmIndex:
    """An object stream's decoded data and the header that locates its objects."""

    data: bytes
    first: int
    count: int
    # object number -> (index in header, offset relative to /First); first occurrence wins
    entries: dict[int, tuple[int, int]]
    # True when the header could not be parsed to its end
    truncated: bool


class CachingPdfReader(PdfFileReader):
    """``PdfFileReader`` with the caches and the fast parsing and path map described above.
    Call :meth:`release` when done with it."""

    def __init__(self, stream: BytesIO, strict: bool = True) -> None:
        self._objstm_cache: dict[int, _ObjStmIndex] = {}
        # (idnum, generation, location, never_decrypt, as_metadata_stream) -> parsed object
        self._located_cache: dict[tuple[Any, ...], generic.PdfObject] = {}
        # id(raw object) -> (object, {in_struct_tree: outgoing references}), see _edges
        self._edge_cache: dict[int, tuple[generic.PdfObject, dict[bool, _Edges]]] = {}
        self._file_bytes: bytes | None = None
        self._unencrypted: bool | None = None
        # shared by the historical views (_PathMapResolver), see _changed_between
        self._last_change: dict[_Key, int | None] = {}
        self._current: dict[_Key, generic.PdfObject] = {}
        self._section_ids: dict[int, frozenset[int]] = {}
        self._changed: dict[tuple[int, int], frozenset[int]] = {}
        self._struct_memo: list[_StructMemo] = []
        self._path_memo: dict[tuple[Any, ...], list[_PathMemo]] = {}
        # object-stream slot -> flat dictionary (or None: not one), see _flat_at
        self._flat_cache: dict[Any, Flat | None] = {}
        self._current_marker: dict[_Key, Any] = {}
        # see _newest_objstm_slots and _stream_flats
        self._objstm_slots: dict[int, tuple[int, ObjStreamRef]] | None = None
        self._stream_flat_cache: dict[int, tuple[int, dict[int, Flat | None]] | None] = {}
        self._newest_first: list[tuple[int, frozenset[int]]] | None = None
        # id(memo) -> (memo, its records grouped by key); (memo, first read of each object)
        self._memo_groups: dict[int, tuple[_PathMemo, _Group]] = {}
        self._memo_reads: dict[int, tuple[_PathMemo, _FirstReads]] = {}
        # id(memo) -> (memo, every key recorded below it), see _memo_keys
        self._memo_keysets: dict[int, tuple[_PathMemo, frozenset[_Key]]] = {}
        # the distinct node tables of the maps built so far, see _shared_tables
        self._page_tables: list[dict[_Key, _Path]] = []
        self._struct_tables: dict[frozenset[_Key], frozenset[_Key]] = {}
        # PdfFileReader.__init__ with the cross-reference sections read in bulk (see _xref)
        init_reader(self, stream, strict)

    def _last_change_of(self, ref: generic.Reference, key: _Key) -> int | None:
        try:
            return self._last_change[key]
        except KeyError:
            pass
        last: int | None = None
        # xrefs.get_last_change(ref): the newest section whose try_resolve does not raise;
        # try_resolve raises KeyError for an object number that the section (with its hybrid
        # part) does not list, so only the sections that list it are asked
        sections = self.xrefs._xref_sections
        if self._newest_first is None:
            self._newest_first = [
                (revision, self._section_idnums(revision, sections[revision]))
                for revision in range(len(sections) - 1, -1, -1)
            ]
        idnum = ref.idnum
        for revision, idnums in self._newest_first:
            if idnum not in idnums:
                continue
            try:
                marker = sections[revision].xref_data.try_resolve(ref)
            except KeyError:
                continue
            last = revision
            # what xrefs[ref] answers: the same sections, asked in the same order
            self._current_marker[key] = marker
            break
        self._last_change[key] = last
        return last

    def _current_raw(self, ref: generic.Reference, key: _Key) -> generic.PdfObject:
        """``get_object(ref, transparent_decrypt=False)``, which returns the same cached
        object every time (unencrypted documents only, see _PathMapResolver)."""
        try:
            return self._current[key]
        except KeyError:
            pass
        obj = self._current[key] = self.get_object(ref, transparent_decrypt=False)
        return obj

    def _flat_at(self, ref: generic.Reference, key: _Key, revision: int) -> Flat | None:
        """The object ``ref`` as of ``revision`` read by :func:`._flat.flat_dict_at` when it is a
        flat dictionary in an object stream that ``_get_object_from_stream`` would parse without
        any irregularity (non-strict reading only); ``None`` leaves it to the full parse, which
        also raises or warns wherever upstream does."""
        if self.strict:
            return None
        last_change = self._last_change_of(ref, key)
        if last_change is None:
            return None  # the full read logs upstream's warning
        if last_change <= revision:
            marker = self._current_marker[key]
        else:
            marker = self.xrefs.get_historical_ref(ref, revision)
        if type(marker) is int:
            top_key = (ref.idnum, ref.generation, marker)
            cached = self._flat_cache.get(top_key, _MISSING)
            if cached is _MISSING:
                cached = self._flat_cache[top_key] = self._top_level_flat(ref, marker)
            return cached  # type: ignore[no-any-return]
        if not isinstance(marker, ObjStreamRef):
            return None
        cache_key = (ref.idnum, marker)
        try:
            return self._flat_cache[cache_key]
        except KeyError:
            pass
        flat = None
        try:
            index = self._objstm_index(marker.obj_stream_id)
        except Exception:  # the full read raises it again, as upstream
            index = None
        if index is not None and 0 <= marker.ix_in_stream < index.count:
            entry = index.entries.get(ref.idnum)
            if entry is not None:
                flat = flat_object_at(index.data, index.first + entry[1])
        self._flat_cache[cache_key] = flat
        return flat

    def _top_level_flat(self, ref: generic.Reference, offset: int) -> Flat | None:
        """The top-level object ``ref`` at file ``offset`` read by
        :func:`._flat.flat_top_dict_at`, where ``_read_object(ref, offset)`` would return the
        fast parser's object (``_fast_top_level_object`` answers: nothing irregular, nothing
        that pyHanko's own reading would raise or warn about) and that object is a flat
        dictionary or a stream with a flat dictionary and a direct plain ``/Length``.

        Why: the walk reads every object reachable from the trailer, among them hundreds of
        image XObjects, content streams and font dictionaries that nothing else in the
        verification reads; building pyHanko objects for them cost ~50 ms on a large document.
        The answer is the one the parsed object gives, and because the full read of the same
        bytes would succeed, reading it later (the rules parse what they need) or never gives
        the same results and errors. Anything else - an object already parsed, a header that
        is not ``N G obj``, a comment, a stream whose payload pyHanko's reader would not accept
        as it is, the end of the file after it - returns ``None``: the full read."""
        if self.strict or not isinstance(self.stream, BytesIO) or not self._no_encrypt_entry():
            return None  # (a strict read raises where this one would not look)
        if (ref.idnum, ref.generation, offset, False, False) in self._located_cache:
            return None  # parsed already: the walk takes it from there
        if self._file_bytes is None:
            self._file_bytes = self.stream.getvalue()
        data = self._file_bytes
        header = _TOP_HEADER.match(data, offset)
        if header is None or int(header[1]) != ref.idnum or int(header[2]) != ref.generation:
            return None
        found = flat_top_dict_at(data, header.end())
        if found is None:
            return None
        flat, end, length = found
        # what _objparse's read_dict does after the dictionary of a top-level object
        after = next_token(data, end)
        if after is None:
            return None  # a comment or the end of the file: left to the parser
        if data[after : after + 1] == b"s":
            if length is None:
                return None
            # pyHanko's own payload reading, as the parser calls it (a direct /Length: the
            # handler is not used)
            self.stream.seek(end)
            try:
                payload = generic._maybe_read_stream_payload(  # type: ignore[attr-defined]
                    self.stream, {_STREAM_LENGTH_KEY: generic.NumberObject(length)}, None
                )
            except Exception:  # the parser declines, pyHanko's reading raises it
                return None
            if payload is None:  # an 's' that does not start 'stream': left to the parser
                return None
            end = self.stream.tell()
        # _fast_top_level_object's checks after the object
        after = next_token(data, end)
        if after is None:
            return None
        if data.startswith(b"endobj", after) and next_token(data, after + 6) is None:
            return None
        return flat

    def _node_flat(self, key: _Key, revision: int) -> Flat | None:
        """``_flat_at`` for the common case, without its per-object bookkeeping: an object of
        generation 0 whose newest cross-reference entry is an object-stream entry of a revision
        not after ``revision`` (then its current location is its location as of ``revision``),
        answered from its stream's one-pass reading (``_stream_flats``). Anything else, or a
        stream declined as a whole, goes through ``_flat_at``."""
        if key[1] == 0 and not self.strict:
            slots = self._objstm_slots
            if slots is None:
                slots = self._objstm_slots = self._newest_objstm_slots()
            slot = slots.get(key[0])
            if slot is not None and slot[0] <= revision:
                marker = slot[1]
                flats = self._stream_flats(marker.obj_stream_id)
                if flats is not None:
                    count, by_idnum = flats
                    if 0 <= marker.ix_in_stream < count:
                        return by_idnum.get(key[0])
                    return None
        return self._flat_at(generic.Reference(key[0], key[1], self), key, revision)

    def _newest_objstm_slots(self) -> dict[int, tuple[int, ObjStreamRef]]:
        """Object number -> (revision, object-stream entry) where the newest section that lists
        the number (``_last_change_of`` asks only those) resolves generation 0 to an
        object-stream entry (in its own table, or in its hybrid part when its own table neither
        has the number in use nor frees it for generation 0): that section is the object's last
        change and that entry its current location (``xrefs[ref]``), as ``_last_change_of``
        finds them one object at a time."""
        sections = self.xrefs._xref_sections
        newest: dict[int, int] = {}
        for revision, section in enumerate(sections):
            newest.update(dict.fromkeys(self._section_idnums(revision, section), revision))
        slots: dict[int, tuple[int, ObjStreamRef]] = {}
        for revision, section in enumerate(sections):
            # try_resolve of (idnum, 0) walks the section's own table, then its hybrid part:
            # the object-stream table first; a standard entry or a matching free entry ends the
            # walk elsewhere (those numbers are left to _flat_at)
            stopped: set[int] = set()
            part = section
            while part is not None:
                data = part.xref_data
                for idnum, marker in data.xrefs_in_objstm.items():
                    if newest[idnum] == revision and idnum not in stopped:
                        slots.setdefault(idnum, (revision, marker))
                stopped.update(data.xrefs_in_objstm, data.standard_xrefs)
                stopped.update(idnum for idnum, nxt in data.freed.items() if nxt == 1)
                part = data.hybrid
        return slots

    def _stream_flats(self, stmnum: int) -> tuple[int, dict[int, Flat | None]] | None:
        """Every object of object stream ``stmnum`` read by :func:`._flat.flat_dicts` in one
        pass: ``(/N, object number -> flat dictionary or None)``, exactly ``_flat_at``'s answer
        for each entry of the header index. ``None`` (declined: each object is then read on
        its own, as before) for anything unusual: a stream that does not resolve, a header
        that could not be read to its end, an object number listed twice, offsets not strictly
        increasing, a ``/First`` outside the data."""
        try:
            return self._stream_flat_cache[stmnum]
        except KeyError:
            pass
        found: tuple[int, dict[int, Flat | None]] | None = None
        try:
            index = self._objstm_index(stmnum)
        except Exception:  # the full read raises it again, as upstream
            index = None
        if (
            index is not None
            and not index.truncated
            and len(index.entries) == index.count
            and 0 <= index.first <= len(index.data)
        ):
            order = sorted(index.entries.items(), key=lambda item: item[1][0])
            offsets = [offset for _, (_, offset) in order]
            if all(a < b for a, b in itertools.pairwise(offsets)) and (
                not offsets or offsets[0] >= 0
            ):
                flats = flat_dicts(index.data, [index.first + offset for offset in offsets])
                found = (
                    index.count,
                    {idnum: flat for (idnum, _), flat in zip(order, flats, strict=True)},
                )
        self._stream_flat_cache[stmnum] = found
        return found

    def _memo_group(self, memo: _PathMemo) -> _Group:
        """A memo's records grouped by key (nested memos kept as such); computed once."""
        try:
            return self._memo_groups[id(memo)][1]
        except KeyError:
            pass
        group = _group(memo.records)
        self._memo_groups[id(memo)] = (memo, group)
        return group

    def _memo_first_reads(self, memo: _PathMemo) -> _FirstReads:
        """The keys recorded below a memo (nested memos included) ranked by their first record
        in the walk, and those of them of a generation other than 0; computed once.

        Why this shape: replaying a memo needs, for the few object numbers changed since, their
        keys in the order of the walk. Ranking the keys with ``dict.fromkeys`` (first
        occurrence kept, in order) costs one pass at C speed over the ~27,000 records of a
        large structure tree, where a per-record Python loop cost ~12 ms."""
        try:
            return self._memo_reads[id(memo)][1]
        except KeyError:
            pass
        order = dict.fromkeys(_record_key_list(memo.records))
        rank = dict(zip(order, range(len(order)), strict=True))
        first = (
            rank,
            tuple(key for key in order if key[1] != 0),
            frozenset(map(itemgetter(0), order)),
        )
        self._memo_reads[id(memo)] = (memo, first)
        return first

    def _replayed_reads(self, memo: _PathMemo, changed: frozenset[int]) -> list[_Key]:
        """The keys recorded below ``memo`` whose object number is in ``changed``, in the order
        of their first record in the walk (the order in which a fresh walk reads them).

        The cost follows the smaller of the memo and ``changed`` (the set intersection goes
        through the smaller set): a revision may list any number of objects, and a map reuses
        a memo per page."""
        rank, other_generations, idnums = self._memo_first_reads(memo)
        hits = changed & idnums
        if not hits:
            return []
        found = [(idnum, 0) for idnum in hits]
        found += [key for key in other_generations if key[0] in hits]
        return sorted((key for key in found if key in rank), key=rank.__getitem__)

    def _memo_keys(self, memo: _PathMemo) -> frozenset[_Key]:
        """Every key recorded below a memo, nested memos included; computed once (from the
        nested memos' own sets, so a memo's set costs its own records and one set union)."""
        try:
            return self._memo_keysets[id(memo)][1]
        except KeyError:
            pass
        fresh, nested = self._memo_group(memo)
        keys = frozenset(fresh).union(*map(self._memo_keys, nested))
        self._memo_keysets[id(memo)] = (memo, keys)
        return keys

    def _shared_tables(
        self, page_tree_nodes: dict[_Key, _Path], struct_tree_nodes: frozenset[_Key]
    ) -> tuple[dict[_Key, _Path], frozenset[_Key]]:
        """The page-tree and structure-tree node tables of an earlier map of this reader equal
        to these (the same objects), else these, kept for the later maps. A memo is reusable
        only in a map whose tables equal its own (_reusable_path_memo): tables taken from here
        are equal exactly when they are the same object, so that check costs nothing, where
        comparing a page-tree table entry by entry for each of a map's page memos cost pages
        squared per map."""
        for known in self._page_tables:
            if known == page_tree_nodes:
                page_tree_nodes = known
                break
        else:
            self._page_tables.append(page_tree_nodes)
        struct_tree_nodes = self._struct_tables.setdefault(struct_tree_nodes, struct_tree_nodes)
        return page_tree_nodes, struct_tree_nodes

    def _changed_between(self, a: int, b: int) -> frozenset[int]:
        """Object numbers that some cross-reference section of revisions ``min(a, b) + 1``
        to ``max(a, b)`` can resolve (in use, in an object stream, freed; hybrid sections
        included): every object whose location, hence value, differs between revisions
        ``a`` and ``b`` is among them."""
        a, b = min(a, b), max(a, b)
        try:
            return self._changed[a, b]
        except KeyError:
            pass
        ids: set[int] = set()
        sections = self.xrefs._xref_sections
        for revision in range(a + 1, b + 1):
            ids |= self._section_idnums(revision, sections[revision])
        changed = self._changed[a, b] = frozenset(ids)
        return changed

    def _section_idnums(self, revision: int, section: Any) -> frozenset[int]:
        try:
            return self._section_ids[revision]
        except KeyError:
            pass
        ids: set[int] = set()
        while section is not None:
            data = section.xref_data
            ids.update(data.xrefs_in_objstm, data.standard_xrefs, data.freed)
            section = data.hybrid
        found = self._section_ids[revision] = frozenset(ids)
        return found

    def release(self) -> None:
        """Break the reader's reference cycles once it is no longer needed; the reader must not
        be used afterwards. Parsed objects, the historical views, the cross-reference tables
        and the trailer all point back at the reader, so without this everything read is freed
        only by the cyclic garbage collector (a full scan of some 10^5 objects on a large
        tagged document); afterwards reference counting frees it."""
        self.resolved_objects.clear()
        for resolver in self._historical_resolver_cache.values():
            resolver.cache.clear()  # its copies point back at it
            if isinstance(resolver, _PathMapResolver):
                resolver._release()
        self._historical_resolver_cache.clear()
        self._embedded_signatures = None
        for cache in (
            self._objstm_cache,
            self._located_cache,
            self._edge_cache,
            self._current,
            self._last_change,
            self._path_memo,
            self._flat_cache,
            self._current_marker,
            self._stream_flat_cache,
            self._memo_groups,
            self._memo_reads,
            self._memo_keysets,
            self._struct_tables,
        ):
            cache.clear()
        self._struct_memo.clear()
        self._page_tables.clear()
        self.__dict__.clear()

    def get_historical_resolver(self, revision: int) -> HistoricalResolver:
        cache = self._historical_resolver_cache
        try:
            return cache[revision]
        except KeyError:
            resolver: HistoricalResolver
            if self._plain_objects():
                resolver = _PathMapResolver(self, revision)
            else:
                resolver = HistoricalResolver(self, revision)
            cache[revision] = resolver
            return resolver

    def _plain_objects(self) -> bool:
        """True when objects are not encrypted (the raw objects are what upstream reads)."""
        try:
            return not self.encrypted
        except Exception:  # a broken /Encrypt: leave everything to upstream
            return False

    def _read_object(
        self,
        ref: generic.Reference,
        marker: int | ObjStreamRef | None,
        never_decrypt: bool = False,
        as_metadata_stream: bool = False,
    ) -> generic.PdfObject:
        if marker is None:  # a fresh null each time, as upstream
            return super()._read_object(ref, marker, never_decrypt, as_metadata_stream)
        key = (ref.idnum, ref.generation, marker, never_decrypt, as_metadata_stream)
        try:
            return self._located_cache[key]
        except KeyError:
            pass
        obj = None
        if isinstance(marker, int) and not as_metadata_stream:
            obj = self._fast_top_level_object(ref, marker)
        if obj is None:
            obj = super()._read_object(ref, marker, never_decrypt, as_metadata_stream)
        self._located_cache[key] = obj
        return obj

    def _fast_top_level_object(self, ref: generic.Reference, offset: int) -> Any:
        """Upstream's reading of an object at a file offset, non-strict and unencrypted only
        (where nothing after the object is checked and nothing is wrapped for decryption), with
        the fast parser; ``None`` leaves it to upstream."""
        if self.strict or not isinstance(self.stream, BytesIO) or not self._no_encrypt_entry():
            return None
        self.stream.seek(offset)
        idnum, generation = read_object_header(self.stream, strict=self.strict)
        if idnum != ref.idnum or generation != ref.generation:
            return None  # upstream raises
        if self._file_bytes is None:
            self._file_bytes = self.stream.getvalue()
        data = self._file_bytes
        container_ref = generic.Reference(idnum, generation, self)
        found = parse_object_at(data, self.stream.tell(), container_ref, self.stream)
        if found is None:
            return None
        obj, end = found
        # upstream then reads on to "endobj" and the next token: at the end of the file it
        # raises, so leave those (and comments) to upstream
        end = next_token(data, end)
        if end is None:
            return None
        if data.startswith(b"endobj", end) and next_token(data, end + 6) is None:
            return None
        return obj

    def _no_encrypt_entry(self) -> bool:
        if self._unencrypted is None:
            trailer = getattr(self, "trailer", None)
            if trailer is None:  # still reading the cross-reference data
                return False
            try:
                trailer.raw_get("/Encrypt")
                self._unencrypted = False
            except KeyError:
                self._unencrypted = True
        return self._unencrypted

    def _edges(self, obj: generic.PdfObject, in_struct_tree: bool) -> _Edges:
        """The references in ``obj`` (a raw dictionary or array) that the path walk follows
        when it enters ``obj`` at a path where the structure-tree switch cannot happen:
        ``(relative path, reference)`` in walk order, ``/Parent`` never followed, ``/P`` not
        followed inside the structure tree."""
        try:
            entry = self._edge_cache[id(obj)]
        except KeyError:
            entry = self._edge_cache[id(obj)] = (obj, {})
        by_mode = entry[1]
        try:
            return by_mode[in_struct_tree]
        except KeyError:
            pass
        out: list[_Edge] = []
        _collect_edges(obj, (), in_struct_tree, out)
        edges = by_mode[in_struct_tree] = tuple(out)
        return edges

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
        found = _plain_objstm_header(data, count)
        if found is not None:
            entries, truncated = found, False
        else:
            entries, truncated = _general_objstm_header(data, count)
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
        container_ref = generic.Reference(idnum, 0, self)
        obj = parse_object(index.data, index.first + offset, container_ref)
        if obj is None:
            obj = self._pyhanko_parse(index, i, idnum, offset, container_ref)
        if isinstance(obj, (generic.StreamObject, generic.IndirectObject)):
            if self.strict:
                raise PdfStrictReadError("Encountered forbidden object type in object stream")
            return obj
        return obj

    def _pyhanko_parse(
        self,
        index: _ObjStmIndex,
        i: int,
        idnum: int,
        offset: int,
        container_ref: generic.Reference,
    ) -> generic.PdfObject:
        stream_data = BytesIO(index.data)
        stream_data.seek(index.first + offset)
        try:
            obj = generic.read_object(stream_data, container_ref)
        except (misc.PdfStreamError, misc.PdfReadError) as exc:
            logger.warning("Invalid stream (index %d) within object %d 0: %s", i, idnum, exc)
            if self.strict:
                raise PdfStrictReadError(f"Can't read object stream: {exc}") from exc
            obj = generic.NullObject()
        return obj


_Path = tuple[str | int, ...]
_Key = tuple[int, int]  # (object number, generation): Reference equality, at C speed
_Edge = tuple[_Path, generic.Reference, _Key]
_Edges = tuple[_Edge, ...]
_STRUCT_SWITCH_AT: _Path = ("/Root", "/StructTreeRoot")


def _collect_edges(
    obj: generic.PdfObject,
    rel: _Path,
    in_struct_tree: bool,
    out: list[_Edge],
) -> None:
    indirect = generic.IndirectObject
    if isinstance(obj, generic.DictionaryObject):
        for key, value in obj.items():
            if key == "/Parent" or (in_struct_tree and key == "/P"):
                continue
            if isinstance(value, indirect):
                ref = value.reference
                out.append(((*rel, key), ref, (ref.idnum, ref.generation)))
            elif isinstance(value, generic.DictionaryObject | generic.ArrayObject):
                _collect_edges(value, (*rel, key), in_struct_tree, out)
    elif isinstance(obj, generic.ArrayObject):
        for ix, value in enumerate(obj):
            if isinstance(value, indirect):
                ref = value.reference
                out.append(((*rel, ix), ref, (ref.idnum, ref.generation)))
            elif isinstance(value, generic.DictionaryObject | generic.ArrayObject):
                _collect_edges(value, (*rel, ix), in_struct_tree, out)


_Group = tuple[dict[_Key, list[_Path]], tuple[Any, ...]]


def _group(records: Any) -> _Group:
    """(key, path) records grouped by key; reused memos among them kept aside.

    Most keys of a structure tree are recorded once: ``get()`` rather than a raised and caught
    ``KeyError`` for each new key (a third less time on ~14,000 records)."""
    fresh: dict[_Key, list[_Path]] = {}
    memos: list[Any] = []
    get = fresh.get
    for record in records:
        if type(record) is tuple:
            key, path = record
            paths = get(key)
            if paths is None:
                fresh[key] = [path]
            else:
                paths.append(path)
        else:
            memos.append(record)
    return fresh, tuple(memos)


def _record_key_list(records: Any, out: list[_Key] | None = None) -> list[_Key]:
    """The keys of the records in walk order, those of reused memos included."""
    if out is None:
        out = []
    append = out.append
    for record in records:
        if type(record) is tuple:
            append(record[0])
        else:
            _record_key_list(record.records, out)
    return out


# a memo's keys ranked by first record, its keys of a generation other than 0, and the object
# numbers of its keys
_FirstReads = tuple[dict[_Key, int], tuple[_Key, ...], frozenset[int]]


@dataclass(frozen=True)
class _StructMemo:
    """A structure-tree walk, reusable in any revision where none of the objects it read
    changed."""

    revision: int
    root: _Key
    read: frozenset[int]
    nodes: frozenset[_Key]


@dataclass(frozen=True)
class _PathMemo:
    """The paths recorded below one entry of the path walk (object, absolute path, objects on
    the path, structure-tree mode). The walk below it is the same in any revision where the
    objects whose values it used are unchanged and the page-tree and structure-tree node
    tables are equal; replaying it re-reads, in the same order, the recorded objects that
    changed between the two revisions (the others have the same location, hence the same
    value, in both), so read errors surface as in a fresh walk.

    The objects whose values the walk used (``depends_on``) are those it entered and those it
    found not to be a container (a number, a null, ...): had one of the latter become a
    dictionary, the walk would go below it. Only objects passed over by their path alone (a
    page-tree node off its canonical path, a structure element outside the structure tree)
    may have changed: the walk reads them (for the read errors) but not their values."""

    revision: int
    depends_on: frozenset[int]
    # (key, path) records and, where the walk reused a memo below this entry, that memo
    records: tuple[Any, ...]
    page_tree_nodes: dict[_Key, _Path]
    struct_tree_nodes: frozenset[_Key]
    # every path recorded below it is shorter than this (the walk's _upstream_path_limit)
    path_limit: int


_MISSING: Any = object()

# exact pyHanko types copied by _PathMapResolver._subsume_object without upstream's method:
# containers, and the atoms upstream returns as they are (any other type goes to upstream)
_REFERENCE = generic.Reference
_INDIRECT = generic.IndirectObject
_ARRAY = generic.ArrayObject
_DICTIONARY = generic.DictionaryObject
_STREAM = generic.StreamObject
_COPIED = frozenset({_ARRAY, _DICTIONARY, _STREAM})
_NAME_ONLY = frozenset({generic.NameObject})
_UPSTREAM_SUBSUME = HistoricalResolver._subsume_object
# levels of nesting copied with their leaves inline; deeper, each leaf costs upstream's call
# (see _PathMapResolver._subsume_object)
_INLINE_LEAVES_DEPTH = 64
_ATOMS = frozenset(
    {
        generic.NameObject,
        generic.NumberObject,
        generic.FloatObject,
        generic.BooleanObject,
        generic.NullObject,
        generic.TextStringObject,
        generic.ByteStringObject,
    }
)

# path walk entries memoised (see _PathMemo): those at most this deep (the catalog's
# children and grandchildren, e.g. /Root/StructTreeRoot/K, where large unchanged subtrees
# start, and the pages of a one-level page tree, /Root/Pages/Kids/n: a signature changes the
# page that holds its field, so the walk below /Root/Pages is redone in every signed revision,
# while the other pages' walks are reused; ~2,500 records per revision on a 65-page document)
_MEMO_DEPTH = 4

# upstream's walk records a path by adding it, a cons list of its steps, to a set: hashing it
# recurses through the list (two levels of the recursion limit per step: the frozen
# dataclass's __hash__ and the C call into it), in the walk's own frame for that path (one
# level per step below _load_reverse_xref_cache). Measured on pyHanko 0.38 / CPython 3.11
# (tests/signatures/test_sig_deep_paths.py): recording a path of n steps raises
# RecursionError when 3 * n + _UPSTREAM_PATH_FRAMES exceeds the headroom (_headroom) of
# _load_reverse_xref_cache's frame
_UPSTREAM_PATH_FRAMES = 3


# A nested direct object (``<</Deep [[[...]]]>>``, no reference inside) costs upstream a few
# Python frames per level of nesting where its walk meets it: pyHanko's parser, the copy
# (``_subsume_object``) and ``_compute_paths_to_refs`` each recurse once or twice per level.
# Measured on pyHanko 0.38 / CPython 3.11: from a frame with ~970 levels of headroom, stock's
# walk passes at 300 levels and raises RecursionError at 400 (about 2.8 frames per level).
# The fast walk reads such objects at a shallower stack and does not copy them, so it cannot
# tell the exact level; it stops (RecursionError, as upstream) wherever upstream *might*:
# it counts 4 frames per level, plus _UPSTREAM_PATH_FRAMES per step of the path that led
# there. That is stricter than upstream between ~60 % and 100 % of upstream's limit (240-350
# levels from a shallow frame, far beyond any real document), and never more lenient.
_UPSTREAM_FRAMES_PER_NESTING = 4


def _nesting(obj: generic.PdfObject) -> int:
    """How deeply dictionaries and arrays are nested in ``obj`` (references not followed;
    an atom is 0), counted without recursion."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(obj, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, generic.DictionaryObject):
            children: Any = item.values()
        elif isinstance(item, generic.ArrayObject):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        pending.extend((child, level + 1) for child in children)
    return deepest


def _headroom() -> int:
    """How many nested Python calls still fit below the caller's frame (before
    ``RecursionError``), counted by making them.

    The deepest call catches the error itself, so that it is not carried up through every
    level: unwinding ~1,000 frames built a traceback entry per frame, ~3/4 of this count's
    CPU (bench/NOTES-m17.md). The frames made, and so the count, are the same."""
    reached = 0

    def down(level: int) -> None:
        nonlocal reached
        reached = level
        try:
            down(level + 1)
        except RecursionError:
            return

    try:
        down(1)
    except RecursionError:  # not even one more call fits
        pass
    return reached


def _upstream_path_limit(headroom: int) -> int:
    """The shortest path whose recording raises ``RecursionError`` in upstream's walk
    started from a frame with ``headroom`` (see _UPSTREAM_PATH_FRAMES)."""
    return max(0, (headroom - _UPSTREAM_PATH_FRAMES) // 3 + 1)


def _upstream_recursion_error(headroom: int, steps: int) -> RecursionError:
    """The error upstream's walk raises recording a path of ``steps`` steps (at least
    ``_upstream_path_limit(headroom)``): its message names the C call into ``__hash__`` or
    the Python frame of it, whichever of the two alternating levels reaches the limit."""
    if (headroom - steps) % 2:
        return RecursionError("maximum recursion depth exceeded")
    return RecursionError("maximum recursion depth exceeded while calling a Python object")


class _PathMapResolver(HistoricalResolver):
    """``HistoricalResolver`` whose reference-path map (``_load_reverse_xref_cache`` /
    ``_get_usages_of_ref``) is computed from raw objects and converted lazily; everything
    else is upstream's. References are keyed by ``(object number, generation)``, which is how
    ``Reference`` compares."""

    reader: CachingPdfReader

    def __init__(self, reader: CachingPdfReader, revision: int) -> None:
        super().__init__(reader, revision)
        self._raw_cache: dict[_Key, generic.PdfObject] = {}
        self._node_cache: dict[_Key, Flat | generic.PdfObject] = {}
        self._path_group: _Group | None = None  # the path map once loaded, see _paths_of
        self._usages: dict[_Key, set[RawPdfPath]] = {}
        self._reads: set[int] | None = None  # object numbers read, while tracking
        self._copy_depth = 0  # containers being copied by _subsume_object, outermost first

    def _release(self) -> None:
        self._raw_cache.clear()
        self._node_cache.clear()
        self._path_group = None
        self._usages.clear()

    # -- the copies handed to the rules --

    def _subsume_object(self, obj: Any) -> Any:
        """Upstream's ``HistoricalResolver._subsume_object`` (the copy of an object whose
        references resolve in this revision) for the plain objects of an unencrypted document,
        without a call per atom.

        Why: the rules read every page of every compared revision (the signature-field rule
        compares each page's ``/Annots``), and upstream copies each page dictionary with one
        recursive call, one ``Reference`` built and discarded, and five ``isinstance`` checks
        per number and name in it: ~13,000 calls on a 65-page document. Here a dictionary,
        array or stream of exact pyHanko types whose ``container_ref`` is a ``Reference`` is
        copied with its atoms and references taken in the loop (the atom itself, a new
        ``IndirectObject`` bound to this view - what upstream returns for them); containers get
        a ``container_ref`` of their own, as upstream. Any other object, or a child whose
        ``container_ref`` is not a ``Reference`` (upstream raises for those, or builds
        something else), goes to upstream's method, in the same order, so errors are the same.

        Recursion: each level of nesting costs the frames upstream's costs (a frame for the
        children's loop, as upstream's comprehension; for arrays a generator consumed inside
        the type call, as upstream's ``ArrayObject(<genexpr>)``). Below
        :data:`_INLINE_LEAVES_DEPTH` levels the leaves too are handed to upstream's method, one
        call each as upstream makes them, so a nesting deep enough to exhaust the stack fails
        with ``RecursionError`` at exactly the depth where upstream's copy fails."""
        cls = type(obj)
        if cls not in _COPIED or type(obj.container_ref) is not _REFERENCE:
            return super()._subsume_object(obj)
        ref = obj.container_ref
        container_ref = _REFERENCE(idnum=ref.idnum, generation=ref.generation, pdf=self)
        depth = self._copy_depth
        inline = depth < _INLINE_LEAVES_DEPTH
        self._copy_depth = depth + 1
        try:
            result: Any
            if cls is _ARRAY:
                result = _ARRAY(self._subsumed_items(obj, inline))
            else:
                values = self._subsumed_children(obj.values(), inline)
                if cls is _STREAM:
                    result = _STREAM(dict(zip(obj, values, strict=True)), encoded_data=obj.encoded_data)
                elif set(map(type, obj)) <= _NAME_ONLY:
                    # the keys are names already: what DictionaryObject's key normalisation keeps
                    result = _DICTIONARY()
                    dict.update(result, zip(obj, values, strict=True))
                else:
                    result = _DICTIONARY(dict(zip(obj, values, strict=True)))
        finally:
            self._copy_depth = depth
        result.container_ref = container_ref
        return result

    def _subsumed_items(self, values: Any, inline: bool) -> Iterator[Any]:
        """``(self._subsume_object(v) for v in values)``: containers by ``_subsume_object``;
        atoms and references copied here when ``inline``, else (and anything unusual) by
        upstream's method, as upstream calls it. A generator, for arrays."""
        upstream = _UPSTREAM_SUBSUME
        for value in values:
            cls = type(value)
            if cls in _COPIED:
                yield self._subsume_object(value)
            elif inline and cls in _ATOMS and type(value.container_ref) is _REFERENCE:
                yield value  # upstream returns the atom itself
            elif inline and cls is _INDIRECT and type(value.container_ref) is _REFERENCE:
                target = value.reference
                yield _INDIRECT(target.idnum, target.generation, self)
            else:
                yield upstream(self, value)

    def _subsumed_children(self, values: Any, inline: bool) -> list[Any]:
        """``list(self._subsumed_items(values, inline))`` built in this frame, for dictionaries
        and streams (upstream's dict comprehension costs one frame per level too)."""
        out: list[Any] = []
        append = out.append
        upstream = _UPSTREAM_SUBSUME
        for value in values:
            cls = type(value)
            if cls in _COPIED:
                append(self._subsume_object(value))
            elif inline and cls in _ATOMS and type(value.container_ref) is _REFERENCE:
                append(value)  # upstream returns the atom itself
            elif inline and cls is _INDIRECT and type(value.container_ref) is _REFERENCE:
                target = value.reference
                append(_INDIRECT(target.idnum, target.generation, self))
            else:
                append(upstream(self, value))
        return out

    # -- raw objects as of this revision (upstream get_object without the copy) --

    def _raw(self, ref: generic.Reference, key: _Key | None = None) -> generic.PdfObject:
        if key is None:
            key = (ref.idnum, ref.generation)
        if self._reads is not None:
            self._reads.add(key[0])
        # a miss is the common case on the first walk: get(), not a caught KeyError
        cached = self._raw_cache.get(key, _MISSING)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        reader = self.reader
        last_change = reader._last_change_of(ref, key)
        if last_change is None:
            logger.warning(f"Could not determine history of {ref} in xref sections")
        if last_change is not None and last_change <= self.revision:
            obj = reader._current_raw(ref, key)
        else:
            obj = reader.get_object(ref, self.revision, transparent_decrypt=False)
        if obj.container_ref is None:
            # upstream's mapping stage reads every object through get_object, which copies it
            # (_subsume_object) and raises for an object not read from the file: the fresh
            # null of a missing object or of one that could not be parsed. Raised here at the
            # same read (and again at every later read of it, as upstream caches only copies).
            raise misc.PdfReadError(
                "No container reference available. This object probably wasn't read from a file."
            )
        self._raw_cache[key] = obj
        return obj

    def _node(self, key: _Key) -> Flat | generic.PdfObject:
        """What the path walk reads for ``key`` in this revision: a :class:`._flat.Flat` where
        the object is a flat dictionary (in an object stream, or a top-level one that the
        full read would parse without irregularity), else the raw object (``_raw``); an
        object this view has read in full already is taken as it is."""
        if self._reads is not None:
            self._reads.add(key[0])
        cached = self._node_cache.get(key, _MISSING)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        # read in full already (the page tree, the catalog): no flat reading besides
        node: Flat | generic.PdfObject | None = self._raw_cache.get(key)
        if node is None:
            node = self.reader._node_flat(key, self.revision)
        if node is None:
            node = self._raw(generic.Reference(key[0], key[1], self.reader), key)
        self._node_cache[key] = node
        return node

    def _resolve(self, key: _Key) -> Flat | generic.PdfObject:
        """``_node`` dereferenced as ``IndirectObject.get_object()`` does."""
        node = self._node(key)
        if isinstance(node, generic.IndirectObject):  # recursion, as upstream and _deref
            return self._resolve((node.idnum, node.generation))
        return node

    def _deref(self, obj: generic.PdfObject) -> generic.PdfObject:
        # IndirectObject.get_object(), resolved in this revision
        if isinstance(obj, generic.IndirectObject):
            return self._deref(self._raw(obj.reference))
        return obj

    def _getitem(self, obj: generic.PdfObject, key: str) -> generic.PdfObject:
        # DictionaryObject.__getitem__ (not used for /Metadata), resolved in this revision
        if not isinstance(obj, generic.DictionaryObject):
            return obj[key]  # type: ignore[index]  # raises exactly as upstream
        value = self._deref(dict.__getitem__(obj, key))
        if isinstance(value, generic.NullObject):
            raise KeyError(key)
        return value

    # -- the path map --

    def _get_usages_of_ref(self, ref: generic.Reference) -> set[RawPdfPath]:
        if self._path_group is None:  # upstream answers "no usage" before the map is loaded
            return set()
        key = (ref.idnum, ref.generation)
        try:
            return self._usages[key]
        except KeyError:
            pass
        usages = {RawPdfPath(*path) for path in self._paths_of(key)}
        self._usages[key] = usages
        return usages

    def _paths_of(self, key: _Key) -> list[_Path]:
        """Every path recorded for ``key``: the walk's own records and those of the memos it
        reused. Below the map's own memos (the catalog's and the other trailer entries', a
        few, made anew by most revisions: their key sets would hold the whole map, built again
        for every revision), only the memos that recorded ``key`` are searched (_memo_keys):
        the difference analysis asks about every object a later revision lists, and a map holds
        a memo per page."""
        assert self._path_group is not None
        reader = self.reader
        found: list[_Path] = []
        fresh, memos = self._path_group
        found.extend(fresh.get(key, ()))
        pending = [reader._memo_group(memo) for memo in memos]
        while pending:
            fresh, memos = pending.pop()
            paths = fresh.get(key)
            if paths:
                found.extend(paths)
            for memo in memos:
                if key in reader._memo_keys(memo):
                    pending.append(reader._memo_group(memo))
        return found

    def _mapped_keys(self) -> set[_Key]:
        """Every key with at least one path (for the tests)."""
        assert self._path_group is not None
        keys: set[_Key] = set()
        pending = [self._path_group]
        while pending:
            fresh, memos = pending.pop()
            keys.update(fresh)
            for memo in memos:
                pending.append(self.reader._memo_group(memo))
        return keys

    def _load_reverse_xref_cache(self) -> None:
        if self._path_group is not None:
            return
        page_tree_nodes, struct_tree_nodes = self.reader._shared_tables(
            self._page_tree_nodes(), self._struct_tree_nodes()
        )
        # upstream's walk raises RecursionError where it records a path this long (measured
        # from this frame, where upstream's method runs): so does this walk, at the same record
        headroom = _headroom()
        path_limit = _upstream_path_limit(headroom)
        records: list[Any] = []  # (key, path), or a reused memo standing for its records
        # object numbers whose values decided the walk (see _PathMemo.depends_on)
        depends_on: list[int] = []
        on_path: set[_Key] = set()
        reader = self.reader
        edges = reader._edges
        node_of = self._node
        node_cache = self._node_cache
        flat_type = Flat
        containers = (generic.DictionaryObject, generic.ArrayObject)
        # what the walk goes below: containers, flat dictionaries and flat arrays
        walkable = (Flat, generic.DictionaryObject, generic.ArrayObject)

        nesting_of: dict[_Key, int] = {}

        def check_nesting(key: _Key, obj: Any, path: _Path) -> None:
            # a raw (not flat) container: nested direct objects, see _UPSTREAM_FRAMES_PER_NESTING
            nesting = nesting_of.get(key)
            if nesting is None:
                nesting = nesting_of[key] = _nesting(obj)
            used = _UPSTREAM_FRAMES_PER_NESTING * nesting + _UPSTREAM_PATH_FRAMES * len(path)
            if used >= headroom:
                raise RecursionError("maximum recursion depth exceeded")

        def enter(key: _Key, path: _Path, in_struct: bool) -> None:
            if key in on_path:
                return
            if len(path) >= path_limit:
                raise _upstream_recursion_error(headroom, len(path))
            if len(path) > _MEMO_DEPTH:
                enter_object(key, path, in_struct)
                return
            memo_key = (key, path, frozenset(on_path), in_struct)
            memo = self._reusable_path_memo(
                memo_key, page_tree_nodes, struct_tree_nodes, path_limit
            )
            if memo is not None:
                # the same reads, in the same order, of the objects that may read differently
                # here: an object no section between the two revisions lists has the same
                # location in both, hence the same value (read without error for the memo)
                changed = reader._changed_between(memo.revision, self.revision)
                # in the order of the walk: the same first error
                for replayed in reader._replayed_reads(memo, changed):
                    node_of(replayed)
                records.append(memo)
                depends_on.extend(memo.depends_on)
                return
            first_record, first_depends = len(records), len(depends_on)
            enter_object(key, path, in_struct)
            memo = _PathMemo(
                revision=self.revision,
                depends_on=frozenset(depends_on[first_depends:]),
                records=tuple(records[first_record:]),
                page_tree_nodes=page_tree_nodes,
                struct_tree_nodes=struct_tree_nodes,
                path_limit=path_limit,
            )
            reader._path_memo.setdefault(memo_key, []).append(memo)
            # from now on the memo stands for its records, here as in the later revisions
            # that reuse it: they are grouped once (_memo_group), not once per revision
            records[first_record:] = [memo]

        def enter_object(key: _Key, path: _Path, in_struct: bool) -> None:
            records.append((key, path))
            obj = node_of(key)  # read before the checks, as upstream (same read errors)
            if page_tree_nodes.get(key, path) != path:
                return
            if not in_struct and key in struct_tree_nodes:
                return
            if len(path) > len(_STRUCT_SWITCH_AT):
                if isinstance(obj, walkable):
                    expand(key, path, obj, in_struct)
                else:
                    depends_on.append(key[0])  # not a container: nothing below it, here
                return
            if isinstance(obj, flat_type):  # the walk of direct objects needs the parsed object
                obj = self._raw(generic.Reference(key[0], key[1], reader), key)
            depends_on.append(key[0])
            if not isinstance(obj, containers):
                return
            check_nesting(key, obj, path)
            on_path.add(key)
            walk(obj, path, in_struct)
            on_path.discard(key)

        def expand(key: _Key, path: _Path, obj: Any, in_struct: bool) -> None:
            # enter_object's walk below an object entered deeper than the struct-tree switch,
            # with enter and enter_object inlined for the children deeper than _MEMO_DEPTH
            # (all of them once the path is _MEMO_DEPTH long: the check is made only above
            # that); the lookups bound to locals, as this runs once per walk entry
            on_path.add(key)
            depends_on.append(key[0])
            if isinstance(obj, flat_type):  # a flat dictionary or array
                out: Any = obj.edges_in_struct if in_struct else obj.edges
                # a child's path is at most two steps longer (a key and an index)
                deep = len(path) + 2 >= path_limit
            else:
                check_nesting(key, obj, path)
                out = [(rel, target_key) for rel, _, target_key in edges(obj, in_struct)]
                deep = True  # nested direct objects: a child's path may be any longer
            shallow = len(path) < _MEMO_DEPTH
            record = records.append
            cached = node_cache.get
            canonical_path = page_tree_nodes.get
            for rel, target_key in out:
                if target_key in on_path:
                    continue
                target_path = path + rel
                if shallow and len(target_path) <= _MEMO_DEPTH:
                    enter(target_key, target_path, in_struct)
                    continue
                if deep and len(target_path) >= path_limit:
                    raise _upstream_recursion_error(headroom, len(target_path))
                record((target_key, target_path))
                target = cached(target_key)
                if target is None:
                    target = node_of(target_key)
                canonical = canonical_path(target_key)
                if canonical is not None and canonical != target_path:
                    continue
                if not in_struct and target_key in struct_tree_nodes:
                    continue
                if isinstance(target, walkable):
                    expand(target_key, target_path, target, in_struct)
                else:
                    depends_on.append(target_key[0])  # not a container: nothing below it, here
            on_path.discard(key)

        def walk(obj: generic.PdfObject, path: _Path, in_struct: bool) -> None:
            # upstream's walk of direct objects, used where the struct-tree switch can happen
            if isinstance(obj, generic.IndirectObject):
                ref = obj.reference
                enter((ref.idnum, ref.generation), path, in_struct)
            elif isinstance(obj, generic.DictionaryObject):
                for key, value in obj.items():
                    if key == "/Parent" or (in_struct and key == "/P"):
                        continue
                    switch = path == _STRUCT_SWITCH_AT and key == "/K"
                    walk(value, (*path, key), in_struct or switch)
            elif isinstance(obj, generic.ArrayObject):
                for ix, value in enumerate(obj):
                    walk(value, (*path, ix), in_struct)

        try:
            walk(self.trailer_view, (), False)
        finally:
            # the closures refer to each other: unbind them so that reference counting,
            # not the cyclic collector, frees them and the walk's lists
            enter = enter_object = expand = walk = check_nesting = None  # type: ignore[assignment]
        self._path_group = _group(records)
        # upstream's flag: other code checks it to know the map is loaded
        self._indirect_object_access_cache = {}

    def _reusable_path_memo(
        self,
        memo_key: tuple[Any, ...],
        page_tree_nodes: dict[_Key, _Path],
        struct_tree_nodes: frozenset[_Key],
        path_limit: int,
    ) -> _PathMemo | None:
        for memo in self.reader._path_memo.get(memo_key, ()):
            if (
                # its paths were checked against a limit no higher than this walk's
                memo.path_limit <= path_limit
                # equal tables are the same objects (CachingPdfReader._shared_tables)
                and memo.struct_tree_nodes is struct_tree_nodes
                and memo.page_tree_nodes is page_tree_nodes
                and memo.depends_on.isdisjoint(
                    self.reader._changed_between(memo.revision, self.revision)
                )
            ):
                return memo
        return None

    def _page_tree_nodes(self) -> dict[_Key, _Path]:
        def kids(pages_obj: generic.PdfObject, path: _Path) -> Iterator[tuple[_Key, _Path]]:
            for ix, kid in enumerate(self._getitem(pages_obj, "/Kids")):  # type: ignore[arg-type]
                kid_path = (*path, "/Kids", ix)
                if isinstance(kid, generic.IndirectObject):
                    yield (kid.idnum, kid.generation), kid_path
                kid = self._deref(kid)
                if kid.get("/Type", None) == "/Pages":  # type: ignore[attr-defined]
                    yield from kids(kid, kid_path)

        pages_ref = self.root.raw_get("/Pages")
        pages_path: _Path = ("/Root", "/Pages")
        nodes: dict[_Key, _Path] = {}
        if isinstance(pages_ref, generic.IndirectObject):
            nodes[pages_ref.idnum, pages_ref.generation] = pages_path
        for key, path in kids(self._deref(pages_ref), pages_path):
            if key in nodes:
                raise misc.PdfReadError("Circular reference in page tree in mapping stage")
            nodes[key] = path
        return nodes

    def _getitem_node(self, obj: Any, key: str) -> Any:
        """``_getitem`` with the value read by ``_resolve`` (a :class:`._flat.Flat` for a
        flat dictionary)."""
        if not isinstance(obj, generic.DictionaryObject):
            return obj[key]  # raises exactly as upstream
        value = dict.__getitem__(obj, key)
        if isinstance(value, generic.IndirectObject):
            value = self._resolve((value.idnum, value.generation))
        if isinstance(value, generic.NullObject):
            raise KeyError(key)
        return value

    def _struct_tree_nodes(self) -> frozenset[_Key]:
        resolve = self._resolve
        flat_type = Flat
        flat_array = FlatArray

        def elements(struct_elem: Any) -> None:
            # upstream's _collect_struct_tree_refs (a generator of the elements' keys, each
            # checked by the caller before the walk goes below it), with the check made here
            # at the same point, so no key passes up a chain of generators; flat elements
            # answer /K and /Type directly
            children: Any
            if type(struct_elem) is flat_type:
                k = struct_elem.k
                if k is None:  # no /K, null, or no reference in it
                    return
                if k[0] == "array":
                    children = k[1]  # keys of the references (None: not a dictionary)
                else:
                    children = resolve(k[1])
                    if isinstance(children, generic.NullObject):
                        return
                    if type(children) is flat_array:
                        children = children.items  # keys of the references, as above
                    elif not isinstance(children, generic.ArrayObject):
                        children = (children,)
            else:
                try:
                    children = self._getitem_node(struct_elem, "/K")
                except KeyError:
                    return
                if type(children) is flat_array:
                    children = children.items
                elif not isinstance(children, generic.ArrayObject):
                    children = (children,)
            for child in children:
                child_key = None
                if type(child) is tuple:  # a reference in a flat /K array
                    child_key = child
                    child = resolve(child_key)
                elif child is None:
                    continue
                elif isinstance(child, generic.IndirectObject):
                    child_key = (child.idnum, child.generation)
                    child = resolve(child_key)
                if type(child) is flat_type:
                    type_name = child.type_name
                    if type_name is not None and type_name != "/StructElem":
                        continue
                elif isinstance(child, generic.DictionaryObject):
                    try:
                        if self._getitem_node(child, "/Type") != "/StructElem":
                            continue
                    except KeyError:
                        pass
                else:
                    continue
                if child_key is not None:
                    if child_key in nodes:
                        raise misc.PdfReadError(
                            "Circular reference in structure tree in mapping stage"
                        )
                    nodes.add(child_key)
                elements(child)

        nodes: set[_Key] = set()
        root_key: _Key | None = None
        self._reads = set()
        try:
            root_value = self.root.raw_get("/StructTreeRoot")
            if isinstance(root_value, generic.IndirectObject):
                root_key = (root_value.idnum, root_value.generation)
                for memo in self.reader._struct_memo:
                    if memo.root == root_key and memo.read.isdisjoint(
                        self.reader._changed_between(memo.revision, self.revision)
                    ):
                        return memo.nodes
            if isinstance(root_value, generic.IndirectObject):
                root = resolve((root_value.idnum, root_value.generation))
                if type(root) is flat_array:  # an array as the root: read /K of it as upstream
                    root = self._raw(generic.Reference(*root_key, self.reader), root_key)
            else:
                root = root_value
            elements(root)
        except KeyError:
            pass
        finally:
            read, self._reads = self._reads, None
            elements = None  # type: ignore[assignment]  # it refers to itself: free it now
        found = frozenset(nodes)
        if root_key is not None:
            self.reader._struct_memo.append(
                _StructMemo(self.revision, root_key, frozenset(read), found)
            )
        return found
