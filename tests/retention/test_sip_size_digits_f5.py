"""A METS SIZE of thousands of digits: ``str.isdigit`` let it through to ``int()``, which Python
refuses past 4,300 digits with a ValueError, so the import died with a traceback (HTTP 500) and
the refusal was not audited. It is refused with ``SIP_METS_INVALID``, audited."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from kho_people import People
from kho_retention import closed_file

from kho.errors import KhoError
from retention.sip import Transfers
from web.context import Kho


@pytest.fixture
def package_root(kho: Kho, people: People, tmp_path: Path) -> Path:
    """A good package folder of a closed permanent hồ sơ (as test_sip_hostile builds it)."""
    file, _ = closed_file(kho, people, notation="01.VP", maintenance="Vĩnh viễn", docs=1)
    return Transfers(kho.repo).build(file.record_id, tmp_path / "b", actor=people.actor("luu_tru")).root


def zipped(root: Path, out: Path) -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                zf.write(path, f"{root.name}/{path.relative_to(root).as_posix()}")
    return out


def refused(kho: Kho, people: People, archive: Path) -> KhoError:
    from retention.sip_import import import_package

    with pytest.raises(KhoError) as info:
        import_package(kho.repo, archive, actor=people.actor("luu_tru"))
    assert info.value.message and info.value.http_status == 422
    last = [e for e in kho.repo.audit.events() if e.action.startswith("transfer:import")][-1]
    assert last.action == "transfer:import-rejected" and last.details["code"] == info.value.code
    return info.value


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
