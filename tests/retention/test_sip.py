"""SIPs of closed permanent hồ sơ: they pass the independent E-ARK validator; a corrupted one
fails it; imported packages are checked the same way and bad ones refused with codes."""

from __future__ import annotations

import hashlib
import re
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from kho_people import UNIT_B, People, create_person
from kho_retention import Clock, closed_file
from kho_testing import incoming

from kho.errors import KhoError, PermissionDenied
from repository.policy import Action
from retention import sip
from retention.sip import Transfers, validate_with_eark, zip_package
from retention.sip_import import check_checksums, check_package, import_package
from web.context import Kho


@pytest.fixture
def permanent(kho: Kho, people: People) -> str:
    file, _ = closed_file(kho, people, notation="01.VP", maintenance="Vĩnh viễn", docs=2)
    return file.record_id


def test_a_closed_permanent_file_passes_the_independent_validator(
    kho: Kho, people: People, permanent: str, tmp_path: Path
) -> None:
    transfers = Transfers(kho.repo)
    package = transfers.build(permanent, tmp_path / "b", actor=people.actor("luu_tru"))
    verdict = validate_with_eark(package.root)
    assert verdict.valid, verdict.errors
    assert check_checksums(package.root) == 10  # ead, premis, README, 4 schemas, rep METS, 2 originals
    mets = (package.root / "METS.xml").read_text()
    assert "+07:00" in mets and 'CHECKSUMTYPE="SHA-256"' in mets
    exported = transfers.export(permanent, tmp_path / "out", actor=people.actor("luu_tru"))
    assert Path(exported["path"]).is_file() and exported["state"] == "exported"
    received = transfers.record_receipt(
        exported["transfer_id"], "Biên bản giao nhận số 03/BB-LTLS", actor=people.actor("luu_tru")
    )
    assert received["state"] == "received"
    assert check_package(Path(exported["path"])).files == 10
    actions = [e.action for e in kho.repo.audit.events() if e.action.startswith("transfer:")]
    assert actions == ["transfer:export", "transfer:receipt"]



def test_a_file_goes_to_the_historical_archive_once(
    kho: Kho, people: People, permanent: str, tmp_path: Path
) -> None:
    """Once the archive's receipt of a hồ sơ's package is recorded, no second package of it is
    exported, and no second receipt recorded; before the receipt a lost package may be redone."""
    transfers, archivist = Transfers(kho.repo), people.actor("luu_tru")
    first = transfers.export(permanent, tmp_path / "1", actor=archivist)
    again = transfers.export(permanent, tmp_path / "2", actor=archivist)  # the first one got lost
    transfers.record_receipt(first["transfer_id"], "Biên bản số 03/BB-LTLS", actor=archivist)
    with pytest.raises(KhoError) as twice:
        transfers.export(permanent, tmp_path / "3", actor=archivist)
    assert twice.value.code == "SIP_ALREADY_TRANSFERRED" and "03/BB-LTLS" in twice.value.message
    assert not (tmp_path / "3").exists()
    with pytest.raises(KhoError) as second_receipt:
        transfers.record_receipt(again["transfer_id"], "Biên bản số 04/BB-LTLS", actor=archivist)
    assert second_receipt.value.code == "SIP_ALREADY_TRANSFERRED"
    states = sorted(t["state"] for t in transfers.list(actor=archivist))
    assert states == ["exported", "received"]


def test_a_corrupted_package_fails_the_validator(
    kho: Kho, people: People, permanent: str, tmp_path: Path
) -> None:
    package = Transfers(kho.repo).build(permanent, tmp_path / "b", actor=people.actor("luu_tru"))
    mets = package.root / "METS.xml"
    mets.write_text(
        mets.read_text()
        .replace('OBJID="', 'XOBJID="')
        .replace("<mets:structMap", "<mets:structMapX")
        .replace("</mets:structMap>", "</mets:structMapX>")
    )
    verdict = validate_with_eark(package.root)
    assert not verdict.valid and verdict.errors
    (package.root / "METS.xml").unlink()
    assert not validate_with_eark(package.root).valid


def test_imports_refuse_bad_packages_with_codes(
    kho: Kho, people: People, permanent: str, tmp_path: Path
) -> None:
    package = Transfers(kho.repo).build(permanent, tmp_path / "b", actor=people.actor("luu_tru"))
    good = tmp_path / "good.zip"
    zip_package(package, good)

    def refused(path: Path) -> str:
        with pytest.raises(KhoError) as info:
            import_package(kho.repo, path, actor=people.actor("luu_tru"))
        return info.value.code

    slip = tmp_path / "slip.zip"
    with zipfile.ZipFile(slip, "w") as zf:
        zf.writestr("pkg/METS.xml", "<x/>")
        zf.writestr("../../evil.txt", "owned")
    assert refused(slip) == "SIP_UNSAFE_PATH"
    assert not (tmp_path.parent / "evil.txt").exists()

    notzip = tmp_path / "not.zip"
    notzip.write_bytes(b"PK\x03\x04 not really")
    assert refused(notzip) == "SIP_NOT_ZIP"

    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("pkg/METS.xml", b"\0" * (50 * 1024 * 1024))
    assert refused(bomb) == "SIP_TOO_LARGE"

    no_mets = tmp_path / "nomets.zip"
    with zipfile.ZipFile(no_mets, "w") as zf:
        zf.writestr("pkg/representations/rep1/data/a.pdf", b"%PDF-1.4")
    assert refused(no_mets) == "SIP_METS_MISSING"

    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if "/data/" in info.filename and data.startswith(b"%PDF"):
                data = data[:-1] + b"X"
            dst.writestr(info, data)
    assert refused(tampered) == "SIP_CHECKSUM_MISMATCH"

    assert import_package(kho.repo, good, actor=people.actor("luu_tru"))["files"] == 10
    with pytest.raises(PermissionDenied):
        import_package(kho.repo, good, actor=people.actor("chuyen_vien"))
    rejected = [e.details["code"] for e in kho.repo.audit.events() if e.action == "transfer:import-rejected"]
    assert rejected == [
        "SIP_UNSAFE_PATH",
        "SIP_NOT_ZIP",
        "SIP_TOO_LARGE",
        "SIP_METS_MISSING",
        "SIP_CHECKSUM_MISMATCH",
    ]



def test_an_import_with_a_malformed_size_is_refused_with_a_code(
    kho: Kho, people: People, permanent: str, tmp_path: Path
) -> None:
    """A METS SIZE that is not a number is a clear refusal (SIP_METS_INVALID, audited), not a
    500 from int()."""
    package = Transfers(kho.repo).build(permanent, tmp_path / "b", actor=people.actor("luu_tru"))
    mets = package.root / "METS.xml"
    text = mets.read_text()
    assert 'SIZE="' in text
    mets.write_text(text.replace('SIZE="', 'SIZE="x', 1))
    hostile = tmp_path / "size.zip"
    zip_package(package, hostile)
    with pytest.raises(KhoError) as info:
        import_package(kho.repo, hostile, actor=people.actor("luu_tru"))
    assert info.value.code == "SIP_METS_INVALID" and "kích thước" in info.value.message
    rejected = [e.details["code"] for e in kho.repo.audit.events() if e.action == "transfer:import-rejected"]
    assert rejected == ["SIP_METS_INVALID"]


def test_an_import_naming_an_impossible_file_is_refused_with_a_code(
    kho: Kho, people: People, permanent: str, tmp_path: Path
) -> None:
    """A METS href no file can have (a name longer than the file system allows) is a refusal
    with a code (SIP_FILE_MISSING, audited), not a 500 from the OSError of the lookup."""
    package = Transfers(kho.repo).build(permanent, tmp_path / "b", actor=people.actor("luu_tru"))
    mets = package.root / "METS.xml"
    text, count = re.subn(r'(xlink:href=")[^"]*"', r'\g<1>' + "a" * 300 + '"', mets.read_text(), count=1)
    assert count == 1
    mets.write_text(text)
    hostile = tmp_path / "long.zip"
    zip_package(package, hostile)
    with pytest.raises(KhoError) as info:
        import_package(kho.repo, hostile, actor=people.actor("luu_tru"))
    assert info.value.code == "SIP_FILE_MISSING" and info.value.message
    rejected = [e.details["code"] for e in kho.repo.audit.events() if e.action == "transfer:import-rejected"]
    assert rejected == ["SIP_FILE_MISSING"]


def test_only_closed_permanent_files_are_packaged(kho: Kho, people: People, tmp_path: Path) -> None:
    limited, _ = closed_file(kho, people, notation="02.VP", maintenance="10 năm", docs=1)
    with pytest.raises(KhoError) as info:
        Transfers(kho.repo).build(limited.record_id, tmp_path, actor=people.actor("luu_tru"))
    assert info.value.code == "SIP_NOT_PERMANENT"
    open_file, _ = closed_file(kho, people, notation="03.VP", maintenance="Vĩnh viễn", docs=1, end="")
    with pytest.raises(KhoError) as info:
        Transfers(kho.repo).build(open_file.record_id, tmp_path, actor=people.actor("luu_tru"))
    assert info.value.code == "SIP_NOT_CLOSED"
    with pytest.raises(PermissionDenied):
        Transfers(kho.repo).build(limited.record_id, tmp_path, actor=people.actor("van_thu"))


def _archived_in_2027(kho: Kho, permanent: str) -> None:
    from repository.records import SYSTEM

    file = kho.repo._load(permanent)
    kho.repo.transition_file(  # accepted into the agency archive in 2027 (the acceptance itself
        permanent,  # is tested with the submission checks)
        expected_version=file.version,
        actor=SYSTEM,
        permission=Action.SUBMISSION_REVIEW,
        action="submission:accept",
        state="archived",
        extra={"archived_at": "2027-03-01T03:00:00+00:00"},
    )


def test_a_permanent_file_of_the_agency_archive_is_listed_when_its_transfer_falls_due(
    kho: Kho, people: People, permanent: str
) -> None:
    """Transfers.due compared the kind with "file" (a hồ sơ's kind is "hoso"), so the list of
    transfers due to the Lưu trữ lịch sử was always empty: nobody was ever told."""
    _archived_in_2027(kho, permanent)
    archivist = people.actor("luu_tru")
    assert Transfers(kho.repo).due(actor=archivist, today=date(2031, 6, 1)) == []  # not yet
    due = Transfers(kho.repo).due(actor=archivist, today=date(2032, 3, 2))
    assert [(d.record_id, d.due, d.overdue) for d in due] == [(permanent, date(2032, 3, 1), True)]


def test_the_transfers_due_list_shows_only_the_archive_s_own_hồ_sơ(
    kho: Kho, people: People, permanent: str
) -> None:
    """The list of transfers due named every archived permanent hồ sơ (its title) to any lưu
    trữ viên, as the archived list did: it now asks policy.receives_submission too. A lưu trữ
    viên of phòng B does not get the agency's hồ sơ."""
    _archived_in_2027(kho, permanent)
    admin = kho.accounts.get(people.usernames["quan_tri"])
    head = kho.accounts.get(people.usernames["lanh_dao"])
    account, _ = create_person(
        kho.accounts, "Đinh Thị Lưu", UNIT_B, ("luu_tru",), 3, None, admin, confirmer=head
    )
    later = date(2032, 3, 2)
    assert Transfers(kho.repo).due(actor=kho.actor_of(account, "test"), today=later) == []
    assert [d.record_id for d in Transfers(kho.repo).due(actor=people.actor("luu_tru"), today=later)] == [
        permanent
    ]


def test_a_file_stays_due_for_transfer_until_the_historical_archive_receipts_it(
    kho: Kho, people: People, permanent: str, tmp_path: Path
) -> None:
    """Exporting a package is not transferring it: a lưu trữ viên who exports the package of a
    due permanent hồ sơ and never delivers it (no biên bản giao nhận) made it vanish from the
    list of transfers due. It stays listed until the receipt is recorded."""
    _archived_in_2027(kho, permanent)
    archivist = people.actor("luu_tru")
    transfers = Transfers(kho.repo)
    today = date(2032, 2, 1)  # the 5-year deadline (01/03/2032) is a month away
    assert [d.record_id for d in transfers.due(actor=archivist, today=today)] == [permanent]
    exported = transfers.export(permanent, tmp_path / "out", actor=archivist)
    assert [d.record_id for d in transfers.due(actor=archivist, today=today)] == [permanent]
    transfers.record_receipt(exported["transfer_id"], "Biên bản giao nhận số 07/BB-LTLS", actor=archivist)
    assert transfers.due(actor=archivist, today=today) == []


def test_documents_left_out_of_a_package_are_named_to_the_exporter_and_in_the_package(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    """A destroyed document and one without a file (metadata only) cannot travel in the SIP; the
    historical archive must not receive a hồ sơ that silently lacks them. The export names them
    (with the reason) to the person exporting, the EAD describes each as an item with a
    processinfo saying why its file is absent, documentation/omitted.txt lists them, the audit
    event records them, and the package still passes the independent E-ARK validator."""
    file, docs = closed_file(kho, people, notation="02.VP", maintenance="Vĩnh viễn", end="", docs=2)
    paper = kho.repo.create_document(
        "den", incoming(code_number="7001", issued_date="2015-03-02"), None, None, people.actor("van_thu")
    )
    officer = people.actor("chuyen_vien")
    file = kho.repo.add_to_file(file.record_id, paper.record_id, expected_version=file.version, actor=officer)
    file = kho.retention.close_file(
        file.record_id, end_date=date(2015, 12, 31), expected_version=file.version, actor=officer
    )
    kho.repo.destroy(docs[1], decision="QĐ thu hồi số 2", actor=people.actor("quan_tri"))
    archivist = people.actor("luu_tru")
    exported = Transfers(kho.repo).export(file.record_id, tmp_path / "out", actor=archivist)
    left = {o["record_id"]: o for o in exported["omitted"]}
    assert set(left) == {docs[1], paper.record_id}
    assert left[docs[1]]["reason"] == "destroyed" and "đã hủy" in left[docs[1]]["message"]
    assert left[paper.record_id]["reason"] == "no_file"
    assert "không có tệp gốc" in left[paper.record_id]["message"]
    root = next((tmp_path / "out" / "build" / exported["transfer_id"]).iterdir())
    ead = (root / "metadata" / "descriptive" / "ead.xml").read_text()
    assert ead.count("<ead:processinfo>") == 2 and paper.so_ky_hieu in ead
    listing = (root / "documentation" / "omitted.txt").read_text()
    assert docs[1] in listing and paper.record_id in listing
    assert validate_with_eark(root).valid
    with zipfile.ZipFile(exported["path"]) as z:
        assert any(n.endswith("documentation/omitted.txt") for n in z.namelist())
    event = [e for e in kho.repo.audit.events() if e.action == "transfer:export"][-1]
    assert {o["record_id"] for o in event.details["omitted"]} == {docs[1], paper.record_id}


def _root_mets(path: Path) -> bytes:
    with zipfile.ZipFile(path) as z:
        return next(z.read(n) for n in z.namelist() if n.count("/") == 1 and n.endswith("/METS.xml"))


def test_two_exports_of_one_file_at_once_do_not_overwrite_each_other(
    kho: Kho, people: People, permanent: str, tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two lưu trữ viên export the same hồ sơ at the same moment (allowed before the receipt).
    The second export ran, before, in the first one's build folder (which it deleted) and to
    the same zip name, so the first receipt named a package that was not the one it built. Each
    export now has its own folder and zip; each receipt's SHA-256 is its own file's. The second
    export is interleaved by a wrapper around the real zip step (the code itself runs)."""
    transfers, archivist = Transfers(kho.repo), people.actor("luu_tru")
    real_zip = sip.zip_package
    second: list[dict[str, Any]] = []
    zips: list[Path] = []

    def zip_after_a_second_export(package: sip.Package, target: Path) -> str:
        zips.append(target)
        if len(zips) == 1:  # the first export, built and checked, is overtaken by a second one
            clock.now = clock.now + timedelta(minutes=5)
            second.append(transfers.export(permanent, tmp_path / "out", actor=archivist))
        return real_zip(package, target)

    monkeypatch.setattr(sip, "zip_package", zip_after_a_second_export)
    first = transfers.export(permanent, tmp_path / "out", actor=archivist)
    assert first["path"] != second[0]["path"]
    for receipt in (first, second[0]):
        path = Path(receipt["path"])
        assert hashlib.sha256(path.read_bytes()).hexdigest() == receipt["sha256"]
        assert check_package(path).files == 10
    assert _root_mets(Path(first["path"])) != _root_mets(Path(second[0]["path"])), "each its own build"
