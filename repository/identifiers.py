"""The agency identifier (mã định danh cơ quan, QĐ 20/2020/QĐ-TTg; STANDARDS §3.1).

A module of its own, re-exported by :mod:`repository.vocabulary`: the settings check
``KHO_AGENCY_ID`` at every start of the ``kho`` program, and the rest of the vocabulary (its
enums, tables and Unicode expressions, ~5 ms of import) is not needed for that.
"""

from __future__ import annotations

import re

ORGAN_ID_RE = re.compile(r"^(?=.{1,35}$)[A-Z0-9]+(?:\.[A-Z0-9]+)*$")


def is_organ_id(text: str) -> bool:
    """Mã định danh cơ quan (QĐ 20/2020/QĐ-TTg: ≤35 chars, A–Z, 0–9 and '.')."""
    return bool(ORGAN_ID_RE.match(text))
