"""Text for the XML Kho writes: every stored string, whatever it holds, as text XML 1.0 can carry.

Texts stored before the input rules refused control characters (a trích yếu pasted with a
vertical tab, a title holding U+0001) are still in the store, kept as stored. XML 1.0 cannot
carry them — not even as a character reference (``&#1;`` is not well-formed) — so an export or
a package holding one is refused whole by the receiving archive's parser (rv54). Each such
character is written as U+FFFD "�": the archivist reading the export sees that something was
there (dropping it would silently join two words, and the text would no longer match the
register), and the document stays well-formed. This module is the one place that rule lives;
every XML writer (the mục lục hồ sơ XML, the nộp lưu SIP's METS/EAD/PREMIS) and the XLSX/DOCX
cells (:func:`kho.sheets.xml_text`) use it."""

from __future__ import annotations

import re
import unicodedata
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
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
