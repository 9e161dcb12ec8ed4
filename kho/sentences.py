"""Joining the pieces of a message people read: one rule for where a sentence ends.

Messages were built by string concatenation (``detail + ". Hãy …"``) and a piece that already
ended with a full stop gave "đã ban hành.. Hãy" (SUBMISSION_CHECKS_FAILED), or "(… hỏng.)."
when a refusal's own message was put in brackets. These functions are pure (no I/O, only
:mod:`unicodedata`), so every layer, the start-up-light ``kho`` commands included, can use them.

- :func:`clause`: a piece used inside a sentence (after a colon, in brackets): stripped, no
  closing full stop.
- :func:`sentence`: a whole sentence: stripped, the first letter capitalised, exactly one
  closing full stop, unless it ends with ``?``, ``!`` or ``…``.
- :func:`sentences`: several sentences, each as :func:`sentence`, empty ones left out, joined
  with one space.
"""

from __future__ import annotations

import unicodedata

__all__ = ["clause", "sentence", "sentences"]

_OWN_ENDINGS = ("?", "!", "…")
"""Endings a sentence keeps as they are (no full stop after them)."""


def clause(text: str) -> str:
    """``text`` stripped of surrounding white space and of its closing full stops (``"a.. "``
    -> ``"a"``), in NFC; ``?``, ``!`` and ``…`` are kept."""
    out = unicodedata.normalize("NFC", text).strip()
    while out.endswith("."):
        out = out[:-1].rstrip()
    return out


def _capitalised(text: str) -> str:
    """The first letter upper case when the text starts with it (after opening quotes or
    brackets); a text starting with a digit is left as it is."""
    for i, char in enumerate(text):
        if char.isalpha():
            return text[:i] + char.upper() + text[i + 1:]
        if char.isdigit() or char.isspace():
            break
    return text


def sentence(text: str) -> str:
    """``text`` as one sentence: stripped, first letter capitalised, exactly one closing full
    stop unless it ends with ``?``, ``!`` or ``…``. An empty text stays empty."""
    body = _capitalised(clause(text))
    if not body or body.endswith(_OWN_ENDINGS):
        return body
    return body + "."


def sentences(*parts: str | None) -> str:
    """The non-empty ``parts``, each made a :func:`sentence`, joined with one space."""
    return " ".join(s for s in (sentence(p) for p in parts if p) if s)
