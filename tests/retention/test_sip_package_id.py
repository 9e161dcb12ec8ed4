"""Two hồ sơ never leave in packages of one identity. Their codes ``….01.ĐT`` (đào tạo) and
``….01.DT`` (dự toán) are distinct (the mã hồ sơ allows Đ), but the package name folded Đ to D:
both packages were ``urn:kho:….01.DT`` in the same-named folder, and the historical archive,
which takes a second package of one OBJID as a new version of the first, would replace one
hồ sơ with the other."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from kho_people import People
from kho_retention import closed_file

from retention.sip import Transfers
from web.context import Kho


def _objid(mets: bytes) -> str:
    found = re.search(rb'<mets:mets\b[^>]*\sOBJID="([^"]*)"', mets)
    assert found is not None
    return found.group(1).decode()


def test_hồ_sơ_whose_codes_differ_by_đ_get_packages_of_different_identity(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    archivist = people.actor("luu_tru")
    dt, _ = closed_file(kho, people, notation="01.DT", maintenance="Vĩnh viễn", docs=1)
    đt, _ = closed_file(kho, people, notation="01.ĐT", maintenance="Vĩnh viễn", docs=1)
    assert dt.metadata.file_code != đt.metadata.file_code

    transfers = Transfers(kho.repo)
    plain = transfers.build(dt.record_id, tmp_path / "a", actor=archivist)
    other = transfers.build(đt.record_id, tmp_path / "b", actor=archivist)

    assert plain.object_id == f"urn:kho:{dt.metadata.file_code}"  # an ASCII code is kept as it was
    assert other.object_id != plain.object_id
    assert other.root.name != plain.root.name
    assert _objid((other.root / "METS.xml").read_bytes()) == other.object_id

    exported = transfers.export(đt.record_id, tmp_path / "out", actor=archivist)
    assert exported["object_id"] == other.object_id
    with zipfile.ZipFile(exported["path"]) as zf:
        top = {name.split("/", 1)[0] for name in zf.namelist()}
        assert top == {other.root.name}
        assert _objid(zf.read(f"{other.root.name}/METS.xml")) == other.object_id
