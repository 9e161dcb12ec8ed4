"""What the reference-path walk needs from a flat dictionary, read without building it.

A tagged document has thousands of structure elements, each a small dictionary in an object
stream (``<</P 888 0 R/S/Span/Type/StructElem/K[ 6] /Pg 73 0 R>>``). The difference analysis
reads every one of them to map the paths to the objects a later revision overwrites, but needs
only their references, their ``/Type`` and their ``/K``; building pyHanko objects for them cost
most of the verification time of such a document. :func:`flat_dict_at` reads that much from
the bytes with two regular expressions, for dictionaries made only of names, numbers,
references, plain strings, keywords and arrays of those (no nested dictionary or array, no
comment, no escape, no duplicate key, no ``stream`` after it); for anything else it returns
``None`` and the caller parses the object with :mod:`._objparse` / pyHanko. Where it answers,
the answer is what the parsed object gives (``tests/signatures/test_sig_flat.py`` compares
both on every object of the corpus and on generated dictionaries).
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

_WS = rb"[ \n\r\t\f\x00]"
_DELIM = rb"(?=[ \n\r\t\f\x00()<>\[\]{}/%]|\Z)"
# names without '#' escapes (those are decoded by pyHanko), as _objparse reads them
_NAME_CHARS = re.escape(bytes(c for c in range(0x21, 0x7F) if c not in b"()<>[]{}/%#"))
_NAME = rb"/[" + _NAME_CHARS + rb"]+" + _DELIM
# a reference that pyHanko's INDIRECT_PATTERN sees within its 20-byte window: single spaces,
# short numbers, object number > 0 (others are left to the parser)
_REF = rb"[1-9][0-9]{0,6} [0-9]{1,5} R(?=[^a-zA-Z])"
# a number where pyHanko would not see a reference (else decline: the lookahead fails the match)
_NOT_REF = rb"(?![0-9]+\s+[0-9]+\s+R[^a-zA-Z])"
# a number glued to a keyword ("0true": pyHanko reads 0 and true, the item expression one token)
# is declined too: the lookahead takes letters as well
_NUMBER = (
    rb"(?:" + _NOT_REF + rb"[+-]?[0-9]+|[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+))(?![+,\-.0-9A-Za-z])"
)
_STRING = rb"\([^()\\]*\)|<[0-9A-Fa-f]*>"
_KEYWORD = rb"(?:true|false|null)" + _DELIM
_ATOM = rb"(?:" + _REF + rb"|" + _NUMBER + rb"|" + _NAME + rb"|" + _STRING + rb"|" + _KEYWORD + rb")"
_ARRAY = rb"\[(?:" + _WS + rb"*" + _ATOM + rb")*" + _WS + rb"*\]"
_VALUE = rb"(?:" + _ATOM + rb"|" + _ARRAY + rb")"
_PAIR = _WS + rb"*" + _NAME + _WS + rb"*" + _VALUE
# Once _Patterns.dictionary has matched, every token is known to be one of the above, so the entries
# and array items are taken apart with simpler expressions (tokens follow each other; a
# reference is exactly 'number space number space R' wherever a value or item starts).
_REGULAR = rb"[^ \n\r\t\f\x00()<>\[\]{}/%]"
_PLAIN_ATOM = rb"\([^()\\]*\)|<[0-9A-Fa-f]*>|/" + _REGULAR + rb"*|" + _REGULAR + rb"+"
# key, reference (number, generation), array body, other value
_ENTRY = (
    rb"/(" + _REGULAR + rb"+)" + _WS + rb"*(?:([0-9]+) ([0-9]+) R"
    + rb"|\[((?:[^\]()]|\([^()\\]*\))*)\]|(" + _PLAIN_ATOM + rb"))"
)

# the leaf structure element's references (see _read_leaves): as _REF, the numbers captured
_LEAF_REF = rb"([1-9][0-9]{0,6}) ([0-9]{1,5}) R"


class _Patterns(NamedTuple):
    """The compiled expressions, made on first use (:func:`_patterns`): only the difference
    analysis of a document with a later revision reads flat dictionaries, and compiling these
    cost ~5 ms of every ``kho verify`` process at import, the single-revision ones included."""

    # the whole dictionary; then (as pyHanko) no 'stream' keyword or comment may follow (the
    # possessive whitespace: no backtracking to a position before it)
    dictionary: re.Pattern[bytes]
    entry: re.Pattern[bytes]
    # an array item: a reference (number, generation) or another atom (two empty groups)
    item: re.Pattern[bytes]
    array_at: re.Pattern[bytes]
    # a top-level object's dictionary: ``dictionary`` without what may follow it (a top-level
    # dictionary may be a stream's; the caller checks what follows as pyHanko's reading of the
    # object does)
    top_dictionary: re.Pattern[bytes]
    plain_length: re.Pattern[bytes]
    # one pass over the validated dictionaries of a stream: '<<' starts the next dictionary, the
    # other alternatives are ``entry``'s (the same groups, shifted by one)
    scan: re.Pattern[bytes]
    # the leaf structure element of word processors (see _LEAF_REF below and _read_leaves)
    leaf: re.Pattern[bytes]
    # the same shape with references (and numbers) under /K: a parent element (_read_parents)
    parent: re.Pattern[bytes]


@functools.cache
def _patterns() -> _Patterns:
    return _Patterns(
        dictionary=re.compile(rb"<<((?:" + _PAIR + rb")*)" + _WS + rb"*>>" + _WS + rb"*+(?![s%])"),
        entry=re.compile(_ENTRY),
        item=re.compile(rb"([0-9]+) ([0-9]+) R|" + _PLAIN_ATOM),
        array_at=re.compile(_ARRAY),
        top_dictionary=re.compile(rb"<<((?:" + _PAIR + rb")*)" + _WS + rb"*>>"),
        plain_length=re.compile(rb"[0-9]+"),
        scan=re.compile(rb"(<<)|" + _ENTRY),
        leaf=re.compile(
            rb"<</P " + _LEAF_REF + rb"/S/[" + _NAME_CHARS + rb"]+/Type/StructElem"
            + rb"(?:/Lang\([^()\\]*\) ?)?/K\[ ?[0-9]+ ?\] ?/Pg " + _LEAF_REF + rb">>"
            + _WS + rb"*+(?![s%])"
        ),
        parent=re.compile(
            rb"<</P " + _LEAF_REF + rb"/S/[" + _NAME_CHARS + rb"]+/Type/StructElem"
            + rb"(?:/Lang\([^()\\]*\) ?)?/K\[((?: ?(?:" + _REF + rb"|" + _NUMBER + rb"))* ?)\]"
            + rb" ?/Pg " + _LEAF_REF + rb">>" + _WS + rb"*+(?![s%])"
        ),
    )


_Key = tuple[int, int]
_Edge = tuple[tuple[str | int, ...], _Key]


class Flat:
    """A flat dictionary as the path walk sees it.

    ``edges``: ``(relative path, (object number, generation))`` for every reference, in
    dictionary order, ``/Parent`` left out (the walk never follows it); ``edges_in_struct`` the
    same without ``/P`` (not followed inside the structure tree). ``type_name``: the ``/Type``
    name, ``None`` when absent or null. ``k``: ``None`` when ``/K`` is absent or holds no
    reference, ``("ref", key)`` for a single reference, ``("array", keys)`` for a direct array
    (``None`` for items that are no reference)."""

    __slots__ = ("edges", "edges_in_struct", "k", "type_name")

    def __init__(
        self,
        edges: tuple[_Edge, ...],
        edges_in_struct: tuple[_Edge, ...],
        type_name: str | None,
        k: tuple[str, object] | None,
    ) -> None:
        self.edges = edges
        self.edges_in_struct = edges_in_struct
        self.type_name = type_name
        self.k = k


class FlatArray(Flat):
    """A flat array (names, numbers, references, plain strings, keywords; nothing nested) as the
    path walk sees it: ``edges`` (and ``edges_in_struct``, the same: an array has no keys)
    ``((index,), key)`` for every reference, ``items`` the key of each item's reference or
    ``None``. It is no dictionary: ``type_name`` and ``k`` are ``None``, and the
    structure-tree walk treats it as the array it is (``type(x) is Flat`` is false for it)."""

    __slots__ = ("items",)

    def __init__(self, edges: tuple[_Edge, ...], items: tuple[_Key | None, ...]) -> None:
        super().__init__(edges, edges, None, None)
        self.items = items


_KEY_NAMES: dict[bytes, str] = {}


def _key_name(raw: bytes) -> str:
    try:
        return _KEY_NAMES[raw]
    except KeyError:
        pass
    name = "/" + raw.decode("ascii")
    if len(_KEY_NAMES) < 4096:
        _KEY_NAMES[raw] = name
    return name


def flat_dict_at(data: bytes, pos: int) -> Flat | None:
    """The flat dictionary starting at ``data[pos]``, or ``None`` when it is not one."""
    patterns = _patterns()
    whole = patterns.dictionary.match(data, pos)
    if whole is None:
        return None
    return _flat_of(patterns.entry.findall(data, whole.start(1), whole.end(1)))


def flat_array_at(data: bytes, pos: int) -> FlatArray | None:
    """The flat array starting at ``data[pos]`` (in an object stream, where nothing after an
    array is read), or ``None`` when it is not one.

    Why: the structure tree's ``/ParentTree`` holds one array of references per page (thousands
    of references on a tagged document); building pyHanko objects for them cost ~30 ms on a
    large document, while the walk needs only the references."""
    patterns = _patterns()
    whole = patterns.array_at.match(data, pos)
    if whole is None:
        return None
    found = patterns.item.findall(data, pos + 1, whole.end() - 1)
    items = tuple([(int(num), int(gen)) if num else None for num, gen in found])
    edges = tuple([((ix,), ref) for ix, ref in enumerate(items) if ref is not None])
    return FlatArray(edges, items)


def flat_object_at(data: bytes, pos: int) -> Flat | None:
    """:func:`flat_dict_at` or :func:`flat_array_at`, whichever the first byte calls for."""
    first = data[pos : pos + 1]
    if first == b"<":
        return flat_dict_at(data, pos)
    if first == b"[":
        return flat_array_at(data, pos)
    return None


def flat_top_dict_at(data: bytes, pos: int) -> tuple[Flat, int, int | None] | None:
    """The flat dictionary starting at ``data[pos]`` whatever follows it (a top-level object,
    possibly a stream's dictionary): ``(flat, position after '>>', /Length)``, the length only
    when it is a plain unsigned integer (``None`` otherwise: absent, a reference, a sign, a
    real - a stream with such a length is then left to the parser). ``None`` when it is not a
    flat dictionary."""
    patterns = _patterns()
    whole = patterns.top_dictionary.match(data, pos)
    if whole is None:
        return None
    entries = patterns.entry.findall(data, whole.start(1), whole.end(1))
    flat = _flat_of(entries)
    if flat is None:
        return None
    length: int | None = None
    for raw_key, _num, _gen, _array, atom in entries:
        if raw_key == b"Length" and patterns.plain_length.fullmatch(atom):
            length = int(atom)
    return flat, whole.end(), length


def _flat_of(entries: list[tuple[bytes, ...]]) -> Flat | None:
    """A validated dictionary's entries (``_Patterns.entry.findall``) as a :class:`Flat`; ``None`` for
    a duplicate key or a ``/Type`` that is no name or null."""
    if len({entry[0] for entry in entries}) != len(entries):
        return None  # a duplicate key: pyHanko keeps the first and warns; leave it to the parser
    edges: list[_Edge] = []
    edges_in_struct: list[_Edge] = []
    type_name: str | None = None
    k: tuple[str, object] | None = None
    for raw_key, num, gen, array, atom in entries:
        if atom:
            if raw_key == b"Type":
                if atom[:1] == b"/":
                    type_name = atom.decode("ascii")
                elif atom != b"null":
                    return None  # a string or number as /Type: leave it to the parser
            continue
        if raw_key == b"Type":
            return None  # a /Type behind a reference or in an array: leave it to the parser
        key = _key_name(raw_key)
        if num:
            ref = (int(num), int(gen))
            if key == "/K":
                k = ("ref", ref)
            if key != "/Parent":
                edges.append(((key,), ref))
                if key != "/P":
                    edges_in_struct.append(((key,), ref))
            continue
        # a direct array
        if b"R" not in array:
            continue  # no reference in it: no edge, and no child for the structure tree
        items = _array_edges(key, array, edges, edges_in_struct)
        if key == "/K":
            k = ("array", items)
    return Flat(tuple(edges), tuple(edges_in_struct), type_name, k)


_REL: dict[bytes, tuple[str, tuple[str]]] = {}


def flat_dicts(data: bytes, positions: list[int]) -> list[Flat | None]:
    """``[flat_object_at(data, p) for p in positions]`` for strictly increasing ``positions`` (the
    objects of one object stream), in two passes over the stream.

    Reading each element on its own cost one regular-expression match, one ``findall`` and some
    ten Python calls per element; a tagged document has thousands. First, the elements of the
    one shape that word processors write for most of them (``_Patterns.leaf``, see
    :func:`_read_leaves`) are answered by one ``finditer``; then the others are validated one by
    one (``_Patterns.dictionary.match`` at their position), one ``findall`` takes the entries of all those
    dictionaries apart at once (each one starts with ``<<`` and holds no other ``<<`` outside
    its strings, which the entry alternatives consume; the count is checked), and one loop
    builds the answers. A position where no validated dictionary starts (a nested dictionary,
    an array, a comment, ...) gets ``flat_object_at`` itself, so the answer is always the
    per-object reader's."""
    answers: list[Flat | None] = [None] * len(positions)
    if not positions:
        return answers
    slot_of = {position: slot for slot, position in enumerate(positions)}
    patterns = _patterns()
    _read_leaves(data, positions[0], slot_of, answers, patterns.leaf)
    _read_parents(data, slot_of, answers, patterns.parent)
    if not slot_of:
        return answers
    others = sorted(slot_of)  # in stream order
    slots: list[int] = []
    spans: list[bytes] = []
    match = patterns.dictionary.match
    for position in others:
        whole = match(data, position)
        if whole is not None:
            slots.append(slot_of[position])
            spans.append(data[position : whole.end(1)])
    found = patterns.scan.findall(b"".join(spans) + b"<<")
    if sum(1 for entry in found if entry[0]) != len(spans) + 1:
        slots = []  # not what the validation promised: read every object on its own
    else:
        _build_all(found, slots, answers)
    done = set(slots)
    for position in others:
        slot = slot_of[position]
        if slot not in done:
            answers[slot] = flat_object_at(data, position)
    return answers


# The structure element that word processors (Microsoft Word's PDF export among them) write for
# nearly every run of text: a leaf with one marked-content id, e.g.
# <</P 7010 0 R/S/Span/Type/StructElem/Lang(vi) /K[ 5] /Pg 334 0 R>>. Every token here is one
# that _Patterns.dictionary accepts at that place, delimited as it requires (a reference exactly
# as _REF, a name followed by '/' or '(' or ' ', a number followed by ' ' or ']'), and the tail
# after '>>' is its own; so where _Patterns.leaf matches, _Patterns.dictionary matches the same
# bytes, and
# flat_dict_at reads: /P and /Pg as references (in this order; /P not in edges_in_struct),
# /Type /StructElem, no reference under /K (k is None), and nothing else that counts.
_P_REL = ("/P",)
_PG_REL = ("/Pg",)


def _read_leaves(
    data: bytes,
    start: int,
    slot_of: dict[int, int],
    answers: list[Flat | None],
    leaf_pattern: re.Pattern[bytes],
) -> None:
    """Answer every position of ``slot_of`` where ``leaf_pattern`` (``_Patterns.leaf``) matches
    (removing it from ``slot_of``): the :class:`Flat` that ``flat_dict_at`` builds there.

    Why: such leaves are ~85 % of the structure elements of a tagged Word document; reading
    them with the general expressions cost ~15 µs each on this machine (validation, taking the
    entries apart, a Python step per entry), one match of this expression ~3 µs. A match that
    does not start at an object's position (inside another object's string, say) is ignored;
    the positions it overlaps are read by the general path."""
    # the edges of the leaves of one parent on one page, built once (tuples: shared safely)
    cache: dict[tuple[bytes, ...], tuple[tuple[_Edge, ...], tuple[_Edge, ...]]] = {}
    pop = slot_of.pop
    for leaf in leaf_pattern.finditer(data, start):
        slot = pop(leaf.start(), None)
        if slot is None:
            continue
        numbers = leaf.group(1, 2, 3, 4)
        edges = cache.get(numbers)
        if edges is None:
            parent = (int(numbers[0]), int(numbers[1]))
            page = (int(numbers[2]), int(numbers[3]))
            page_edge = (_PG_REL, page)
            edges = cache[numbers] = (((_P_REL, parent), page_edge), (page_edge,))
        answers[slot] = Flat(edges[0], edges[1], "/StructElem", None)


def _read_parents(
    data: bytes,
    slot_of: dict[int, int],
    answers: list[Flat | None],
    parent_pattern: re.Pattern[bytes],
) -> None:
    """Answer every position of ``slot_of`` where ``parent_pattern`` (``_Patterns.parent``)
    matches (removing it from ``slot_of``): the :class:`Flat` that ``flat_dict_at`` builds there.

    Why: after the leaves, most of the remaining structure elements of a tagged Word document
    are their parents, the leaf's shape with references (and marked-content ids) under ``/K``,
    e.g. ``<</P 371 0 R/S/P/Type/StructElem/K[ 466 0 R 467 0 R 31 468 0 R] /Pg 45 0 R>>``;
    the general reading validated, split and rebuilt each of them (~1,000 on ``vn-gov__03``).
    Every token of the shape is one that ``_Patterns.dictionary`` accepts at that place (the
    array's items are exactly ``_REF`` or ``_NUMBER``), so where it matches the dictionary
    matches the same bytes, and ``flat_dict_at`` reads: ``/P``, the references under ``/K``
    (in order) and ``/Pg`` as edges (``/P`` not in ``edges_in_struct``), ``/Type
    /StructElem``, and ``/K`` as the array of its items when it holds a reference. The array's
    items are taken apart by the general reading's own :func:`_array_edges`. Only a match at an
    object's position counts."""
    match = parent_pattern.match
    for position in sorted(slot_of):
        found = match(data, position)
        if found is None:
            continue
        slot = slot_of.pop(position)
        parent = (int(found.group(1)), int(found.group(2)))
        page_edge = (_PG_REL, (int(found.group(4)), int(found.group(5))))
        edges: list[_Edge] = [(_P_REL, parent)]
        edges_in_struct: list[_Edge] = []
        body = found.group(3)
        k: tuple[str, object] | None = None
        if b"R" in body:
            k = ("array", _array_edges("/K", body, edges, edges_in_struct))
        edges.append(page_edge)
        edges_in_struct.append(page_edge)
        answers[slot] = Flat(tuple(edges), tuple(edges_in_struct), "/StructElem", k)


def _build_all(found: list[tuple[bytes, ...]], slots: list[int], answers: list[Flat | None]) -> None:
    """``flat_dict_at``'s loop for every dictionary of ``found`` (entries, each dictionary
    introduced by a ``<<`` entry, one more at the end), written into ``answers`` at ``slots``."""
    which = -1
    keys: list[bytes] = []
    edges: list[_Edge] = []
    edges_in_struct: list[_Edge] = []
    type_name: str | None = None
    k: tuple[str, object] | None = None
    declined = False
    rels = _REL
    for start, raw_key, num, gen, array, atom in found:
        if start:
            if which >= 0:
                if not declined and len(set(keys)) == len(keys):
                    answers[slots[which]] = Flat(
                        tuple(edges), tuple(edges_in_struct), type_name, k
                    )
                keys = []
                edges = []
                edges_in_struct = []
                type_name = None
                k = None
                declined = False
            which += 1
            continue
        if declined:
            continue
        keys.append(raw_key)
        if atom:
            if raw_key == b"Type":
                if atom[:1] == b"/":
                    type_name = atom.decode("ascii")
                elif atom != b"null":
                    declined = True  # a string or number as /Type
            continue
        if raw_key == b"Type":
            declined = True  # a /Type behind a reference or in an array
            continue
        try:
            key, rel = rels[raw_key]
        except KeyError:
            key = _key_name(raw_key)
            rel = (key,)
            if len(rels) < 4096:
                rels[raw_key] = (key, rel)
        if num:
            ref = (int(num), int(gen))
            if key == "/K":
                k = ("ref", ref)
            if key != "/Parent":
                edge = (rel, ref)
                edges.append(edge)
                if key != "/P":
                    edges_in_struct.append(edge)
            continue
        if b"R" not in array:
            continue
        items = _array_edges(key, array, edges, edges_in_struct)
        if key == "/K":
            k = ("array", items)


def _array_edges(
    key: str, array: bytes, edges: list[_Edge], edges_in_struct: list[_Edge]
) -> tuple[_Key | None, ...]:
    """The items of the direct array ``array`` (the value of ``key``): a reference's key, or
    ``None`` for anything else; each reference appended to ``edges`` (not under ``/Parent``)
    and to ``edges_in_struct`` (not under ``/Parent`` or ``/P``), as upstream's walk sees them."""
    items = tuple(
        [(int(num), int(gen)) if num else None for num, gen in _patterns().item.findall(array)]
    )
    if key != "/Parent":
        # built in comprehensions (a tagged document's arrays hold thousands of references);
        # the edge tuples are immutable, so both lists may hold the same ones
        found = [((key, ix), ref) for ix, ref in enumerate(items) if ref is not None]
        edges += found
        if key != "/P":
            edges_in_struct += found
    return items
