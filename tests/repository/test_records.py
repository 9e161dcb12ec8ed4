"""Records: create, read back, correct (versions), conflicts, hồ sơ, duplicates, fixity."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from kho_testing import AGENCY, CLERK, incoming, make_store, new_repository, outgoing, pdf_bytes

from kho.errors import BadFile, Conflict, Duplicate, IntegrityError, KeyDestroyed, ValidationFailed
from repository.records import Repository, content_key
from repository.storage.local import LocalStore


def test_incoming_document_round_trip(backend: str, tmp_path: Path) -> None:
    repo = new_repository(make_store(backend, tmp_path, "s"), make_store(backend, tmp_path, "k"))
    data = pdf_bytes("den-1", 5000)
    record = repo.create_document("den", incoming(), data, "Công văn 1234.pdf", CLERK)
    assert record.registration is not None
    assert record.registration.series == "den" and record.registration.number == 1
    assert record.registration.display_number == "01"
    again = repo.get(record.record_id, actor=CLERK)
    assert again == record
    stored, content = repo.read_content(record.record_id, actor=CLERK)
    assert content == data
    assert stored.original_name == "Công văn 1234.pdf"
    assert stored.stored_name == "Cong_van_1234.pdf"
    actions = [e.action for e in repo.audit.query(record_id=record.record_id)]
    assert actions == ["record:create", "register:assign", "record:view", "content:read"]


def test_outgoing_document_gets_its_number_from_the_register(repo: Repository) -> None:
    first = repo.create_document("di", outgoing(), pdf_bytes("a"), "a.pdf", CLERK)
    second = repo.create_document(
        "di", outgoing(type_name="Kế hoạch", code_notation="KH-UBND"), None, None, CLERK
    )
    assert (first.metadata.code_number, second.metadata.code_number) == ("01", "02")
    assert first.so_ky_hieu == "01/QĐ-UBND"
    assert first.registration and first.registration.series == "hanh-chinh"
    secret = repo.create_document("di", outgoing(secrecy="Mật"), None, None, CLERK)
    assert secret.registration and (secret.registration.series, secret.registration.number) == (
        "mat",
        1,
    )
    copy = repo.create_document(
        "di", outgoing(type_name="Bản sao y", code_notation="SY-UBND"), None, None, CLERK
    )
    assert copy.registration and (copy.registration.series, copy.registration.number) == (
        "ban-sao",
        1,
    )
    assert [
        r.metadata.code_number for r in repo.register("hanh-chinh", first.registration.year, actor=CLERK)
    ] == [
        "01",
        "02",
    ]


def test_correction_makes_a_new_version_and_keeps_the_old(repo: Repository) -> None:
    record = repo.create_document("den", incoming(), None, None, CLERK)
    corrected = repo.update_metadata(
        record.record_id, {"subject": "Về việc sửa trích yếu"}, expected_version=1, actor=CLERK
    )
    assert corrected.version == 2
    assert repo.get(record.record_id, 1, actor=CLERK).metadata.subject == incoming()["subject"]
    assert repo.get(record.record_id, actor=CLERK).metadata.subject == "Về việc sửa trích yếu"
    assert [r.version for r in repo.history(record.record_id, actor=CLERK)] == [1, 2]
    with pytest.raises(ValidationFailed) as info:
        repo.update_metadata(record.record_id, {"code_number": "99"}, expected_version=2, actor=CLERK)
    assert info.value.code == "CODE_NUMBER_LOCKED"


def test_stale_update_gets_a_conflict(repo: Repository) -> None:
    record = repo.create_document("den", incoming(), None, None, CLERK)
    repo.update_metadata(record.record_id, {"subject": "Lần một"}, expected_version=1, actor=CLERK)
    with pytest.raises(Conflict) as info:
        repo.update_metadata(record.record_id, {"subject": "Lần hai"}, expected_version=1, actor=CLERK)
    assert info.value.code == "VERSION_CONFLICT"
    assert repo.get(record.record_id, actor=CLERK).metadata.subject == "Lần một"


def test_concurrent_updates_never_lose_a_write(tmp_path: Path) -> None:
    repos = [new_repository(LocalStore(tmp_path / "s"), LocalStore(tmp_path / "k")) for _ in range(8)]
    record = repos[0].create_document("den", incoming(), None, None, CLERK)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def edit(i: int) -> None:
        barrier.wait()
        try:
            repos[i].update_metadata(
                record.record_id, {"description": f"ghi chú {i}"}, expected_version=1, actor=CLERK
            )
            outcomes.append(f"ok {i}")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [o for o in outcomes if o.startswith("ok")]
    assert len(winners) == 1 and outcomes.count("conflict") == 7
    latest = repos[0].get(record.record_id, actor=CLERK)
    assert latest.version == 2
    assert latest.metadata.description == f"ghi chú {winners[0].split()[1]}"


def test_duplicate_so_ky_hieu_agency_year_is_reported(repo: Repository) -> None:
    first = repo.create_document("den", incoming(), None, None, CLERK)
    with pytest.raises(Duplicate) as info:
        repo.create_document("den", incoming(subject="Khác"), None, None, CLERK)
    assert info.value.code == "DUPLICATE_DOCUMENT"
    assert info.value.details["existing_record_id"] == first.record_id
    # The same number from another agency, or another year, is not a duplicate.
    repo.create_document("den", incoming(organ_name="Bộ Tài chính"), None, None, CLERK)
    repo.create_document("den", incoming(issued_date="2025-03-02"), None, None, CLERK)
    # Nothing half-written: the register holds exactly the three accepted documents.
    assert [r.registration.number for r in repo.register("den", 2026, actor=CLERK) if r.registration] == [
        1,
        2,
        3,
    ]


def test_same_file_twice_is_a_duplicate(repo: Repository) -> None:
    data = pdf_bytes("same")
    first = repo.create_document("den", incoming(), data, "a.pdf", CLERK)
    with pytest.raises(Duplicate) as info:
        repo.create_document("den", incoming(code_number="99"), data, "b.pdf", CLERK)
    assert info.value.details["existing_record_id"] == first.record_id


def test_bad_file_writes_nothing(repo: Repository) -> None:
    with pytest.raises(BadFile):
        repo.create_document("den", incoming(), b"", "empty.pdf", CLERK)
    with pytest.raises(BadFile):
        repo.create_document("den", incoming(), b"MZ", "x.exe", CLERK)
    assert list(repo.record_ids()) == []
    assert list(repo.store.list("registers/")) == []


def test_unknown_agency_code_is_refused(repo: Repository) -> None:
    with pytest.raises(ValidationFailed) as info:
        repo.create_document("den", incoming(organ_id="000.00.00.G22"), None, None, CLERK)
    assert info.value.code == "ORGAN_ID_UNKNOWN"
    repo.add_agency("000.00.00.G22", "Văn phòng Chính phủ", CLERK)
    record = repo.create_document("den", incoming(organ_id="000.00.00.G22"), None, None, CLERK)
    assert record.metadata.organ_id == "000.00.00.G22"


def test_one_document_in_several_files_without_a_copy(repo: Repository) -> None:
    doc = repo.create_document("den", incoming(), pdf_bytes("x"), "x.pdf", CLERK)
    file_a = repo.create_file(
        {
            "file_notation": "01.VP",
            "title": "Hồ sơ triển khai QLVB",
            "maintenance": "10 năm",
            "creator": "Nguyễn An",
            "start_date": "2026-01-05",
        },
        CLERK,
    )
    assert file_a.metadata.file_code == f"{AGENCY}.2026.01.VP"
    file_b = repo.create_file(
        {
            "file_code": f"{AGENCY}.2026.02.TCCB",
            "title": "Hồ sơ chuyển đổi số",
            "maintenance": "Vĩnh viễn",
            "creator": "Lê Bình",
            "start_date": "2026-02-01",
        },
        CLERK,
    )
    a2 = repo.add_to_file(file_a.record_id, doc.record_id, expected_version=1, actor=CLERK)
    b2 = repo.add_to_file(file_b.record_id, doc.record_id, expected_version=1, actor=CLERK)
    assert a2.documents == b2.documents == (doc.record_id,)
    assert sorted(repo.files_of(doc.record_id)) == sorted([file_a.record_id, file_b.record_id])
    # The original exists once.
    contents = [i.key for i in repo.store.list(f"records/{doc.record_id}/content/")]
    assert len(contents) == 1
    assert repo.file_totals(a2) == (1, 0)
    with pytest.raises(Duplicate):
        repo.create_file(
            {
                "file_notation": "01.VP",
                "title": "Trùng mã",
                "maintenance": "10 năm",
                "creator": "X",
                "start_date": "2026-03-01",
            },
            CLERK,
        )


def test_one_changed_byte_in_an_original_is_detected(repo: Repository) -> None:
    record = repo.create_document("den", incoming(), pdf_bytes("fixity", 10_000), "f.pdf", CLERK)
    key = content_key(record.record_id, record.files[0].sha256)
    assert isinstance(repo.store, LocalStore)
    path = repo.store.root / "objects" / key
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(IntegrityError) as info:
        repo.read_content(record.record_id, actor=CLERK)
    assert info.value.code == "INTEGRITY_FAILED"
    from repository.fsck import fsck

    report = fsck(repo, deep=True)
    assert [i.kind for i in report.issues] == ["fixity"]


def test_destroying_the_key_makes_content_unreadable(repo: Repository, tmp_path: Path) -> None:
    record = repo.create_document("den", incoming(), pdf_bytes("secret"), "s.pdf", CLERK)
    # A "backup": a byte-for-byte copy of the content store.
    import shutil

    shutil.copytree(repo.store.root, tmp_path / "backup")  # type: ignore[attr-defined]
    repo.keys.destroy(record.record_id)
    with pytest.raises(KeyDestroyed):
        repo.read_content(record.record_id, actor=CLERK)
    restored = new_repository(LocalStore(tmp_path / "backup"), LocalStore(tmp_path / "keys"))
    with pytest.raises(KeyDestroyed):
        restored.read_content(record.record_id, actor=CLERK)
    # Encrypted at rest: the plaintext marker is nowhere in the stored bytes.
    assert all(b"secret" not in p.read_bytes() for p in (tmp_path / "backup").rglob("*") if p.is_file())


def test_repository_opens_on_s3_from_the_configuration(backend: str, tmp_path: Path) -> None:
    """The settings' store options (incl. the local-only fsync flag) open an S3 repository."""

    from kho_buckets import new_bucket
    from kho_testing import s3_options

    from kho.config import Settings
    from repository.service import open_repository

    if backend == "local":
        env = {"KHO_DATA_DIR": str(tmp_path / "data"), "KHO_AGENCY_ID": AGENCY}
    else:
        options = s3_options()
        if options is None:
            pytest.skip("KHO_TEST_S3_ENDPOINT is not set")
        env = {
            "KHO_STORE_URL": f"s3://{new_bucket('cfg', options)}",
            "KHO_KEYSTORE_URL": f"s3://{new_bucket('cfg-keys', options)}",
            "KHO_S3_ENDPOINT": options["endpoint"],
            "KHO_S3_ACCESS_KEY": options["access_key"],
            "KHO_S3_SECRET_KEY": options["secret_key"],
            "KHO_AGENCY_ID": AGENCY,
            # The head note kept outside the store goes here, not into the working directory's
            # ./kho-data (a second run then met a fresh bucket "behind" the first run's head).
            "KHO_DATA_DIR": str(tmp_path / "data"),
        }
    repo = open_repository(Settings.from_env(env))
    record = repo.create_document("den", incoming(), pdf_bytes("cfg"), "cfg.pdf", CLERK)
    assert repo.read_content(record.record_id, actor=CLERK)[1] == pdf_bytes("cfg")
