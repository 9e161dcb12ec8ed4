"""The METS of an imported package, each field judged before the validator: a value with a
control or invisible character or not in NFC, an ID reference naming nothing and a pointer to a
representation's METS that is not there are refused with a code (audited), not accepted."""

from __future__ import annotations

import re
import unicodedata
import zipfile
from pathlib import Path

import pytest
from kho_people import People
from kho_retention import closed_file

from kho.errors import KhoError
from retention.sip import Transfers
from retention.sip_import import import_package
from web.context import Kho

CASES = [
    # (what was changed, pattern, replacement, code)
    ("OBJID with a bidi override", r'OBJID="', 'OBJID="\u202e', "SIP_UNSAFE_TEXT"),
    ("an agent's name not in NFC", r"(<mets:name>)", "\\g<1>Hoa\u0300 ", "SIP_UNSAFE_TEXT"),
    ("a label with a zero-width space", r'(<mets:mets\b[^>]*\sLABEL=")', "\\g<1>\u200b", "SIP_UNSAFE_TEXT"),
    ("a DMDID naming no dmdSec", r'(DMDID=")[^"]*', "\\g<1>khong-co", "SIP_METS_REFERENCE"),
    ("an ADMID naming no amdSec", r'(ADMID=")[^"]*', "\\g<1>khong-co", "SIP_METS_REFERENCE"),
    (
        "a representation pointer to nothing",
        r'(<mets:mptr\b[^>]*?xlink:href=")[^"]*',
        "\\g<1>",
        "SIP_METS_REFERENCE",
    ),
]


@pytest.fixture
def package(kho: Kho, people: People, tmp_path: Path) -> Path:
    """A good package folder of a closed permanent hồ sơ (it passes every check)."""
    file, _ = closed_file(kho, people, notation="01.VP", maintenance="Vĩnh viễn", docs=1)
    return Transfers(kho.repo).build(file.record_id, tmp_path / "b", actor=people.actor("luu_tru")).root


def zipped(root: Path, mets: str, out: Path) -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                data = mets.encode() if path == root / "METS.xml" else path.read_bytes()
                zf.writestr(f"{root.name}/{path.relative_to(root).as_posix()}", data)
    return out


@pytest.mark.parametrize(("case", "pattern", "replacement", "code"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_manifest_field_is_refused_with_a_code(
    kho: Kho,
    people: People,
    package: Path,
    tmp_path: Path,
    case: str,
    pattern: str,
    replacement: str,
    code: str,
) -> None:
    mets, count = re.subn(pattern, replacement, (package / "METS.xml").read_text(encoding="utf-8"), count=1)
    assert count == 1, case
    with pytest.raises(KhoError) as refused:
        import_package(kho.repo, zipped(package, mets, tmp_path / "p.zip"), actor=people.actor("luu_tru"))
    assert refused.value.code == code, refused.value.message
    assert refused.value.http_status == 422 and "METS" in refused.value.message
    last = [e for e in kho.repo.audit.events() if e.action.startswith("transfer:import")][-1]
    assert last.action == "transfer:import-rejected" and last.details["code"] == code


def test_a_package_written_in_nfd_is_refused_saying_what_to_do(
    kho: Kho, people: People, package: Path, tmp_path: Path
) -> None:
    """r33: another agency's tools wrote the whole METS decomposed (NFD): a valid package
    otherwise. It is refused (an NFD OBJID or name would be a second spelling beside the NFC
    one), nothing imported, and the archivist is told it is a spelling the sender's software
    made and what to ask for — integ24 called it "giá trị không an toàn"."""
    nfd = unicodedata.normalize("NFD", (package / "METS.xml").read_text(encoding="utf-8"))
    with pytest.raises(KhoError) as refused:
        import_package(kho.repo, zipped(package, nfd, tmp_path / "nfd.zip"), actor=people.actor("luu_tru"))
    said = refused.value.message
    assert refused.value.code == "SIP_UNSAFE_TEXT" and refused.value.http_status == 422
    assert unicodedata.is_normalized("NFC", said), said
    assert "không an toàn" not in said and "dạng tổ hợp" in said, said
    assert "đề nghị cơ quan gửi xuất lại gói tin với văn bản ở dạng NFC" in said, said
    assert refused.value.details["field"] in said
    last = [e for e in kho.repo.audit.events() if e.action.startswith("transfer:import")][-1]
    assert last.action == "transfer:import-rejected" and last.details["code"] == "SIP_UNSAFE_TEXT"
