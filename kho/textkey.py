"""When two Vietnamese texts are "the same": one key for every uniqueness and duplicate rule.

Vietnamese can be written in many ways that look alike on screen and in a printed register:
NFC or NFD, the tone mark on one vowel or the next (``hoà``/``hòa``, ``thuỷ``/``thủy``),
Cyrillic or Greek letters that look Latin (``а о е р с і``), ``Ð`` (Icelandic eth) or ``D`` with
a combining stroke for ``Đ``, zero-width and other invisible format characters, a soft hyphen,
non-breaking and other Unicode spaces, full-width letters, digits and slashes, division and
fraction slashes, dashes and minus signs. :func:`canonical_text` writes each of these one way;
:func:`text_key` adds case. Both are pure and only ever used to *compare* texts: what is stored
is what the person typed (NFC), never the key.

The key is deliberately wide (a look-alike counts as the letter it imitates): it decides that
two registrations are the same document, so a clerk is asked for a reason before registering a
look-alike a second time. It is never used to decide that two texts are the same *person* (a
certificate's name): there a look-alike must not pass (``repository.registration``).
"""

from __future__ import annotations

import re
import unicodedata


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


_CONFUSABLES = str.maketrans(
    {
        # Cyrillic letters drawn like Latin ones (lower, then upper case).
        "а": "a", "в": "b", "е": "e", "ё": "ë", "і": "i", "ї": "ï", "ј": "j", "к": "k", "м": "m",
        "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "ԁ": "d",
        "ӏ": "l", "һ": "h", "ԛ": "q", "ԝ": "w", "ү": "y", "ꙇ": "i",
        "А": "A", "В": "B", "Е": "E", "Ё": "Ë", "І": "I", "Ї": "Ï", "Ј": "J", "К": "K", "М": "M",
        "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "У": "Y", "Х": "X", "Ѕ": "S", "Ԁ": "D",
        "Ӏ": "I", "Һ": "H", "Ԛ": "Q", "Ԝ": "W", "Ү": "Y",
        # Greek letters drawn like Latin ones.
        "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
        "χ": "x", "γ": "y", "ϲ": "c", "ϳ": "j",
        "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
        "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ϲ": "C",
        # Armenian, Cherokee, Lisu and Coptic letters drawn like Latin ones (UTS #39 confusables):
        # "Hօà" with an Armenian օ, "Ꮋòa" with a Cherokee Ꮋ read as "Hoà" in any font.
        "օ": "o", "Օ": "O", "ս": "u", "Ս": "U", "հ": "h", "ո": "n", "ց": "g", "զ": "q", "ք": "p",
        "Ꭺ": "A", "Ᏼ": "B", "Ꮯ": "C", "Ꭰ": "D", "Ꭼ": "E", "Ꮐ": "G", "Ꮋ": "H", "Ꭻ": "J", "Ꮶ": "K",
        "Ꮮ": "L", "Ꮇ": "M", "Ꮲ": "P", "Ꮪ": "S", "Ꭲ": "T", "Ꮩ": "V", "Ꮃ": "W", "Ꮓ": "Z",
        "ꓮ": "A", "ꓐ": "B", "ꓚ": "C", "ꓓ": "D", "ꓰ": "E", "ꓝ": "F", "ꓖ": "G", "ꓧ": "H", "ꓲ": "I",
        "ꓙ": "J", "ꓗ": "K", "ꓡ": "L", "ꓟ": "M", "ꓠ": "N", "ꓳ": "O", "ꓑ": "P", "ꓣ": "R", "ꓢ": "S",
        "ꓔ": "T", "ꓴ": "U", "ꓦ": "V", "ꓪ": "W", "ꓫ": "X", "ꓬ": "Y", "ꓜ": "Z",
        "ⲟ": "o", "Ⲟ": "O", "ⲣ": "p", "Ⲣ": "P", "ⲥ": "c", "Ⲥ": "C",
        # Latin letters drawn like Vietnamese ones: eth and its relatives for đ, dotless i.
        "Ð": "Đ", "ð": "đ", "Ɖ": "Đ", "ɖ": "đ", "ı": "i", "ɑ": "a", "ɡ": "g", "ǀ": "l",
        # Slashes and dashes that print like "/" and "-".
        "∕": "/", "⁄": "/", "⧸": "/", "╱": "/",
        "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-", "⁃": "-",
        "﹘": "-", "﹣": "-",
    }
)  # fmt: skip

_TONES = "\u0300\u0301\u0303\u0309\u0323"
# The tone of a word ending in oa, oe or uy sits on the first vowel ("hòa", "khỏe", "thủy",
# the placement of QĐ 240/1984 and of Kho's type names) or on the second ("hoà", "khoẻ",
# "thuỷ"); after q the u is part of the consonant ("quý") and nothing moves.
_OLD_PLACEMENT = re.compile(
    rf"(?<![qQ])([oO](?=[aAeE])|[uU](?=[yY]))([aAeEyY])([{_TONES}])(?![\w\u0300-\u036f])"
)
_STROKE = re.compile("([Dd])[\u0335\u0336]")


# Every format character (Unicode 15 category Cf), the invisible ones above (combining grapheme
# joiner, Hangul fillers) and the variation selectors: what plain_text drops. Written out
# (walking the planes for the category at import costs 0.2 s).
_DROPPED_RANGES = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD),
    (0x070F, 0x070F), (0x0890, 0x0891), (0x08E2, 0x08E2), (0x115F, 0x1160), (0x180E, 0x180E),
    (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD),
    (0x110CD, 0x110CD), (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001), (0xE0020, 0xE007F), (0xE0100, 0xE01EF),
)  # fmt: skip
_DROPPED = re.compile("[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in _DROPPED_RANGES) + "]")
_ODD = frozenset(
    [chr(c) for a, b in _DROPPED_RANGES for c in range(a, b + 1)]
    + [chr(c) for c in _CONFUSABLES]
    + ["\u0335", "\u0336"]
)
_CONFUSABLES_KEYS = frozenset(chr(c) for c in _CONFUSABLES)
"""What :func:`plain_text` changes besides compatibility forms (those :mod:`unicodedata` finds)."""


def plain_text(text: str) -> str:
    """``text`` with what makes it look like another text undone, case, spacing and line breaks
    kept (what the search index reads, for documents and queries alike): compatibility forms
    as their letters (NFKC: full-width ``１２/ＱĐ`` as ``12/QĐ``, every Unicode space as a
    space), invisible format characters (zero-width space, joiners, U+FEFF, U+2060, soft
    hyphen, bidi marks, variation selectors) dropped, look-alike letters, slashes and dashes
    as the ones they imitate, ``D`` with a combining stroke as ``Đ``; NFC. A text with none of
    these (nearly every one) is returned after two scans in C."""
    text = nfc(text)
    if unicodedata.is_normalized("NFKC", text) and _ODD.isdisjoint(text):
        return text
    text = _DROPPED.sub("", unicodedata.normalize("NFKC", text)).translate(_CONFUSABLES)
    if "\u0335" in text or "\u0336" in text:
        text = _STROKE.sub(lambda m: "Đ" if m[1] == "D" else "đ", unicodedata.normalize("NFD", text))
    return nfc(text)


def canonical_text(text: str) -> str:
    """``text`` written the one way Kho compares it (case kept): :func:`plain_text`, the tone
    of a final oa/oe/uy on its first vowel, runs of spaces and line breaks as one space."""
    decomposed = _OLD_PLACEMENT.sub(r"\1\3\2", unicodedata.normalize("NFD", plain_text(text)))
    return " ".join(nfc(decomposed).split())


def text_key(text: str) -> str:
    """:func:`canonical_text` with case folded: the key of every "is it the same text" rule
    (the sender of a văn bản đến, a ký hiệu, a code) — two texts a person cannot tell apart
    on screen or on paper have the same key."""
    return canonical_text(text).casefold()


def same_text(a: str, b: str) -> bool:
    return text_key(a) == text_key(b)


_VOWELS = ("a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y")
_VIETNAMESE_LETTERS = frozenset(
    letter
    for vowel in _VOWELS
    for tone in ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
    for letter in {nfc(vowel + tone), nfc(vowel + tone).upper()}
) | frozenset("Đđ")
"""The non-ASCII letters of the Vietnamese alphabet: its twelve vowels with each of the five
tones (or none), both cases, and đ. A consonant with a tone mark ("Ḅ", "Ñ", "Ń") is not one."""


def foreign_letters(text: str) -> list[str]:
    """The characters of ``text`` that are not a letter of the Vietnamese alphabet, an ASCII
    letter or digit, nor ASCII punctuation or a space: a Cyrillic ``е``, an eth ``Ð``, a
    full-width ``Ｑ``, a digit of another script (``٢``), a zero-width character, a consonant
    with a mark no Vietnamese letter has (``Ḅ``: B with the dot of the nặng tone). For a code a
    person types (ký hiệu, số, mã): what is found here makes two different codes print alike."""
    out: list[str] = []
    for ch in nfc(text):
        if ch.isascii() or ch in _VIETNAMESE_LETTERS:
            continue
        if ch not in out:
            out.append(ch)
    return out


def describe(chars: list[str]) -> str:
    """``chars`` for a message: each as its code point (``U+0435``), as they cannot be seen."""
    return ", ".join(f"U+{ord(c):04X}" for c in chars)


def _script(ch: str) -> str:
    """The script of a letter, as the first word of its Unicode name (``LATIN``, ``CYRILLIC``,
    ``ARMENIAN``, ``CHEROKEE``, ``LISU``, ...); "" for what is not a letter."""
    if not ch.isalpha():
        return ""
    return unicodedata.name(ch, "").split(" ", 1)[0]


_WORD = re.compile(r"[^\W\d_]+")


def lookalike_characters(text: str) -> list[str]:
    """The characters of a name (a person's, a unit's) that make it look like another one:
    an invisible format character (zero-width space or joiner, U+FEFF, U+2060, soft hyphen), a
    compatibility form (full-width ``Ｎ``), a Latin letter drawn like a Vietnamese one (``Ð``, the
    Icelandic eth, for ``Đ``), the letters of another script in a word that also has Latin ones
    (``Khuе`` with a Cyrillic ``е``, ``Hօa`` with an Armenian ``օ``), and, in a name with a Latin
    word, a word of another script made only of letters drawn like Latin ones ("Nguyễn Thị Ноа",
    Cyrillic, reads "Nguyễn Thị Hoa"). A name written wholly in another script ("Иван Серов")
    has none, nor has a word of another script that cannot be read as Latin ("Сотрудничество")."""
    out: list[str] = []
    text = nfc(text)
    for ch in text:
        if ch in _CONFUSABLES_KEYS:
            if _script(ch) == "LATIN":  # Ð (eth) for Đ, ı (dotless i) for i
                out.append(ch)
        elif ch in _ODD or unicodedata.normalize("NFKC", ch) != ch:
            out.append(ch)
    words = [(word, {_script(ch) for ch in word} - {""}) for word in _WORD.findall(text)]
    latin_name = any("LATIN" in scripts for _, scripts in words)
    for word, scripts in words:
        if "LATIN" in scripts and len(scripts) > 1:
            out.extend(ch for ch in word if _script(ch) not in ("LATIN", ""))
        elif latin_name and "LATIN" not in scripts and _CONFUSABLES_KEYS.issuperset(word):
            out.extend(word)
    return list(dict.fromkeys(out))
