"""A METS SIZE of thousands of digits: ``str.isdigit`` let it through to ``int()``, which Python
refuses past 4,300 digits with a ValueError, so the import died with a traceback (HTTP 500) and
the refusal was not audited. It is refused with ``SIP_METS_INVALID``, audited."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from kho_people import People
from kho_sip import good_package, refused, zipped

from web.context import Kho


@pytest.fixture
def package_root(kho: Kho, people: People, tmp_path: Path) -> Path:
    """A good package folder of a closed permanent hồ sơ (it passes every check)."""
    return good_package(kho, people, tmp_path, docs=1)


def test_a_size_of_thousands_of_digits_is_refused_with_a_code(
    kho: Kho, people: People, package_root: Path, tmp_path: Path
) -> None:
    mets = package_root / "METS.xml"
    text = mets.read_text(encoding="utf-8")
    first = re.search(r'SIZE="(\d+)"', text)
    assert first is not None
    mets.write_text(text.replace(first.group(0), 'SIZE="' + "9" * 5000 + '"', 1), encoding="utf-8")
    error = refused(kho, people, zipped(package_root, tmp_path / "size.zip"))
    assert error.code == "SIP_METS_INVALID" and "kích thước" in error.message
