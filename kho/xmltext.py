"""Text Kho writes out: every stored string, whatever it holds, as text XML 1.0 can carry (and, for
the outputs a person reads, without what would hide or reverse text).

Texts stored before the input rules refused control characters (a trích yếu pasted with a
vertical tab, a title holding U+0001) are still in the store, kept as stored. XML 1.0 cannot
carry them — not even as a character reference (``&#1;`` is not well-formed) — so an export or
a package holding one is refused whole by the receiving archive's parser (rv54). Each such
character is written as U+FFFD "�": the archivist reading the export sees that something was
there (dropping it would silently join two words, and the text would no longer match the
register), and the document stays well-formed. This module is the one place that rule lives;
every XML writer (the mục lục hồ sơ XML, the nộp lưu SIP's METS/EAD/PREMIS) and the XLSX/DOCX
cells (:func:`kho.sheets.xml_text`) use it.

The other outputs a person reads (u30) follow the same rule with one more set of characters:
:func:`shown_text` for the PDFs (registers, reports, the destruction dossier, search and audit
exports, the print mark), the CSV exports and the notification mails; :func:`shown_line` for
what must hold on one line (a mail's subject, a PDF's title and footer). Besides what XML cannot
carry, they show as U+FFFD the C1 controls and DEL (no font draws them: a PDF showed nothing, or
a line break, where one was) and the bidirectional embeddings, overrides and isolates (U+202E
would show "Nguyễn \\u202eAn Bình" reversed in a mail client, a spreadsheet, a PDF's copied
text), the characters :func:`repository.vocabulary.has_hidden_characters` refuses at input.
The XML exports keep those (they are XML characters, and an export shows the stored text)."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # (imported where used: every `kho` command's output goes through shown_text)
    from xml.etree import ElementTree as ET

NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""Characters XML 1.0 cannot carry (its ``Char`` production): C0 controls but tab, LF and CR;
the UTF-16 surrogates (a lone one cannot even be encoded as UTF-8); U+FFFE and U+FFFF."""

SHOWN_INSTEAD = "\ufffd"
"""What an archivist sees in place of each such character: the Unicode replacement character."""


def xml_safe(text: str) -> str:
    """``text`` as XML 1.0 can carry it: each character it cannot (:data:`NOT_IN_XML`) replaced by
    U+FFFD, the result in NFC (replacing never decomposes; an old text stored decomposed comes
    out composed, as every text Kho takes today is stored). Pure: the stored text is not changed."""
    return unicodedata.normalize("NFC", NOT_IN_XML.sub(SHOWN_INSTEAD, text))


NOT_SHOWN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)
"""What an output a person reads shows as U+FFFD: :data:`NOT_IN_XML`, DEL and the C1 controls
(U+007F–U+009F), and the bidirectional embeddings, overrides and isolates (U+202A–U+202E,
U+2066–U+2069). Tab, LF and CR are kept (a text may have lines); the left-to-right and
right-to-left marks and the zero-width characters are kept (input takes them: they reverse
nothing and every output carries them)."""

LINE_BREAKS = re.compile("[\t\n\r\u2028\u2029]")
"""What ends a line once :data:`NOT_SHOWN` is replaced (VT, FF, FS–RS and NEL are in it)."""


def shown_characters(text: str) -> str:
    """``text`` with each :data:`NOT_SHOWN` character replaced by U+FFFD, one for one, nothing
    else changed: for text that is markup already (HTML escaped for a page, where NFC could
    join a ``>`` with a combining U+0338 that follows it)."""
    return NOT_SHOWN.sub(SHOWN_INSTEAD, text)


def shown_text(text: str) -> str:
    """``text`` as an output a person reads shows it (a PDF, a CSV cell, a mail's body): each
    :data:`NOT_SHOWN` character replaced by U+FFFD, the result in NFC. Pure; the stored text is
    not changed."""
    return unicodedata.normalize("NFC", shown_characters(text))


def shown_line(text: str) -> str:
    """``text`` on one line (a mail's subject, a PDF's title or footer): :func:`shown_text`, each
    line break or tab a space. A text holding ``\\r\\n`` can then add no header to a mail, and a
    vertical tab no longer ends the subject before the rest of the trích yếu."""
    return LINE_BREAKS.sub(" ", shown_text(text))


def code_point(character: str) -> str:
    """``U+001F``: how a message names a character that shows nothing."""
    return f"U+{ord(character):04X}"


def xml_bytes(root: ET.Element) -> bytes:
    """The UTF-8 XML document of ``root`` (indented, with its declaration), every text, tail and
    attribute value of the tree passed through :func:`xml_safe` first, so it is well-formed
    whatever stored string went into it. The tree is the writer's own: it is changed in place."""
    for element in root.iter():
        if element.text:
            element.text = xml_safe(element.text)
        if element.tail:
            element.tail = xml_safe(element.tail)
        for name, value in list(element.attrib.items()):
            element.attrib[name] = xml_safe(value)
    from xml.etree import ElementTree as ET

    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
