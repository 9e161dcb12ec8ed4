"""Số đến / số đi are exact under concurrent registration from several processes."""

from __future__ import annotations

import multiprocessing as mp
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kho_testing import CLERK, incoming, new_repository, outgoing, register_many, store_url

from kho.errors import KhoError, ValidationFailed
from repository.metadata import parse_document
from repository.records import Repository
from repository.registers import (
    SERIES_LABELS,
    advisory_series,
    legacy_advisory_series,
    resolve_series,
    series_for,
    series_label,
)
from repository.storage import open_store

PROCESSES = 8
PER_PROCESS = 50


def test_eight_processes_get_exact_numbers(backend: str, tmp_path: Path) -> None:
    url, options = store_url(backend, tmp_path, "store")
    key_url, key_options = store_url(backend, tmp_path, "keys")
    ctx = mp.get_context("spawn")
    jobs = [(url, options, key_url, key_options, w, PER_PROCESS) for w in range(PROCESSES)]
    with ctx.Pool(PROCESSES) as pool:
        results = pool.map(register_many, jobs)
    taken: dict[str, list[int]] = {}
    for numbers in results:
        for series, number in numbers:
            taken.setdefault(series, []).append(number)
    total = PROCESSES * PER_PROCESS
    assert sum(len(v) for v in taken.values()) == total
    for series, numbers in taken.items():
        # No duplicate, no gap, starting at 01.
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), series
    repo = new_repository(open_store(url, **options), open_store(key_url, **key_options))
    report = repo.audit.verify()  # one read of the whole chain answers both questions
    assert report.ok
    assert report.events == 2 * total
    year = datetime.now(UTC).year
    administrative = repo.register("hanh-chinh", year, actor=CLERK)
    assert len(repo.register("den", year, actor=CLERK)) + len(administrative) == total
    # Each entry's record carries exactly its own number.
    for record in administrative:
        assert record.registration is not None
        assert record.metadata.code_number == f"{record.registration.number:02d}"


def test_numbers_restart_at_01_on_1_january_vietnam_time(tmp_path: Path) -> None:
    from repository.storage.local import LocalStore

    now = [datetime(2026, 12, 31, 16, 59, 58, tzinfo=UTC)]  # 23:59:58 in Hà Nội
    repo = new_repository(LocalStore(tmp_path / "s"), LocalStore(tmp_path / "k"), clock=lambda: now[0])
    last_year = [
        repo.create_document("den", incoming(code_number=f"{n}"), None, None, CLERK) for n in (10, 11)
    ]
    assert [r.registration.number for r in last_year if r.registration] == [1, 2]
    assert all(r.registration and r.registration.year == 2026 for r in last_year)
    assert last_year[0].metadata.arrival_date.isoformat() == "2026-12-31"  # type: ignore[union-attr]
    now[0] = datetime(2026, 12, 31, 17, 0, 0, tzinfo=UTC)  # 00:00 on 1/1/2027 in Hà Nội
    first = repo.create_document("den", incoming(code_number="12"), None, None, CLERK)
    out = repo.create_document("di", outgoing(), None, None, CLERK)
    assert first.registration and (first.registration.year, first.registration.number) == (2027, 1)
    assert out.registration and (out.registration.year, out.metadata.code_number) == (2027, "01")
    assert first.metadata.arrival_date.isoformat() == "2027-01-01"  # type: ignore[union-attr]


def test_series_rules() -> None:
    def series(direction: str, **kw: Any) -> str:
        data = incoming(**kw) if direction == "den" else outgoing(**kw)
        return series_for(parse_document(data, direction))

    assert series("den") == "den"
    assert series("den", secrecy="Mật") == "den-mat"
    assert series("den", secrecy="Tối mật") == "den-mat"
    assert series("den", secrecy="Tuyệt mật") == "den-mat"
    assert series("di") == "hanh-chinh"
    assert series("di", type_name="Công văn", code_notation="UBND-VP") == "hanh-chinh"
    assert series("di", secrecy="Tối mật") == "mat"
    assert series("di", type_name="Bản trích sao", code_notation="TrS-UBND") == "ban-sao"
    assert series("di", type_name="Bản sao lục", code_notation="SL-UBND") == "ban-sao"
    assert series("di", type_name="Nghị định", code_notation="NĐ-CP") == "qppl-nghi-dinh"
    md = parse_document(outgoing(), "di")
    assert series_for(md, advisory_body="HĐTĐ").startswith("tu-van-hdtd-")
    assert series_for(md, advisory_body="HDTD2026") == "tu-van-hdtd2026"


ADVISORY_NAMES = [
    *("HĐT", "HĐTĐ", "HDT", "HĐT Đ", "Hội đồng thi đua", "Hội đồng thị đua", "A-B", "A B", "AB", "ĐĐ"),
]


def test_advisory_series_keys_are_injective_and_readable() -> None:
    keys = [advisory_series(name) for name in ADVISORY_NAMES]
    assert len(set(keys)) == len(ADVISORY_NAMES), dict(zip(ADVISORY_NAMES, keys, strict=True))
    # The bug: both names lost their non-ASCII letters and shared one counter.
    assert legacy_advisory_series("HĐT") == legacy_advisory_series("HĐTĐ") == "tu-van-h-t"
    assert advisory_series("HĐT").startswith("tu-van-hdt-")
    assert series_label(advisory_series("HĐTĐ")) == "Sổ của tổ chức tư vấn HDTD"
    # Same body however it is typed (case, spaces, NFD); ASCII names keep the key they had.
    assert advisory_series("  hđt ") == advisory_series("HĐT")
    assert advisory_series("HDTD2026") == legacy_advisory_series("HDTD2026") == "tu-van-hdtd2026"
    # Registers written before keep their names and labels.
    assert series_label("tu-van-h-t") == "Sổ của tổ chức tư vấn H-T"
    for key in keys:
        assert key.isascii() and "/" not in key


def test_two_advisory_bodies_count_apart(repo: Repository) -> None:
    a = repo.create_document("di", outgoing(), None, None, CLERK, advisory_body="HĐT")
    b = repo.create_document("di", outgoing(), None, None, CLERK, advisory_body="HĐTĐ")
    assert a.registration and b.registration
    assert a.registration.series != b.registration.series
    assert (a.metadata.code_number, b.metadata.code_number) == ("01", "01")  # type: ignore[union-attr]


@pytest.mark.parametrize("secrecy", ["Mật", "Tối mật", "Tuyệt mật"])
def test_secret_incoming_documents_have_their_own_register(repo: Repository, secrecy: str) -> None:
    plain = repo.create_document("den", incoming(), None, None, CLERK)
    secret = repo.create_document("den", incoming(code_number="77", secrecy=secrecy), None, None, CLERK)
    assert plain.registration and secret.registration
    assert (plain.registration.series, plain.registration.number) == ("den", 1)
    assert (secret.registration.series, secret.registration.number) == ("den-mat", 1)
    year = plain.registration.year
    assert [r.record_id for r in repo.register("den", year, actor=CLERK)] == [plain.record_id]
    assert [r.record_id for r in repo.register("den-mat", year, actor=CLERK)] == [secret.record_id]
    assert SERIES_LABELS["den-mat"] == "Sổ đăng ký văn bản đến mật"


def test_registered_number_and_dates_are_frozen(repo: Repository) -> None:
    den = repo.create_document("den", incoming(arrival_date="2026-03-04"), None, None, CLERK)
    rid = den.record_id
    for changes, code in [
        ({"code_number": "99"}, "CODE_NUMBER_LOCKED"),
        ({"issued_date": "2026-03-03"}, "ISSUED_DATE_LOCKED"),
        ({"arrival_date": "2026-03-05"}, "ARRIVAL_DATE_LOCKED"),
    ]:
        with pytest.raises(ValidationFailed) as info:
            repo.update_metadata(rid, changes, expected_version=1, actor=CLERK)
        assert info.value.code == code
        assert "sổ" in info.value.message
    # The same values written another way are no change; other fields stay correctable.
    same = {"code_number": "1234", "issued_date": "02/03/2026", "subject": "Trích yếu đã sửa"}
    assert repo.update_metadata(rid, same, expected_version=1, actor=CLERK).version == 2
    di = repo.create_document("di", outgoing(), None, None, CLERK)
    with pytest.raises(ValidationFailed) as info:
        repo.update_metadata(di.record_id, {"issued_date": "2020-01-01"}, expected_version=1, actor=CLERK)
    assert info.value.code == "ISSUED_DATE_LOCKED"
    with pytest.raises(ValidationFailed) as info:
        repo.update_metadata(di.record_id, {"code_number": "7"}, expected_version=1, actor=CLERK)
    assert info.value.code == "CODE_NUMBER_LOCKED"


def test_unregistered_documents_keep_their_dates_correctable(repo: Repository) -> None:
    record = repo.create_document("den", incoming(), None, None, CLERK, register=False)
    changes = {"issued_date": "2026-03-03"}
    fixed = repo.update_metadata(record.record_id, changes, expected_version=1, actor=CLERK)
    assert fixed.metadata.issued_date.isoformat() == "2026-03-03"  # type: ignore[union-attr]


def test_resolve_series() -> None:
    existing = ["den", "hanh-chinh", "tu-van-hdt-5b4294007c"]
    assert resolve_series("den", existing) == "den"
    assert resolve_series("DEN", existing) == "den"
    assert resolve_series("mat", existing) == "mat"  # standard: an empty register is an answer
    assert resolve_series("den-mat", []) == "den-mat"
    assert resolve_series("tu-van-hdt-5b4294007c", existing) == "tu-van-hdt-5b4294007c"
    with pytest.raises(KhoError) as info:
        resolve_series("di", existing, year=2026)
    assert info.value.code == "REGISTER_SERIES_AMBIGUOUS"
    assert info.value.details["candidates"] == ["hanh-chinh", "tu-van-hdt-5b4294007c"]
    assert "hanh-chinh (Sổ văn bản hành chính)" in info.value.message
    assert "năm 2026" in info.value.message
    with pytest.raises(KhoError) as info:
        resolve_series("di", ["den"], year=2026)
    assert info.value.code == "REGISTER_SERIES_AMBIGUOUS"
    assert "chưa có sổ văn bản đi nào" in info.value.message
    for name in ("xyz", "tu-van-khong-co", "../den", ""):
        with pytest.raises(KhoError) as info:
            resolve_series(name, existing, year=2026)
        assert info.value.code == "REGISTER_SERIES_UNKNOWN"
        assert "den (Sổ đăng ký văn bản đến)" in info.value.message
        assert info.value.http_status == 404


def test_an_issue_or_arrival_date_other_than_the_registration_day_takes_no_number(tmp_path: Path) -> None:
    """Số and ngày ban hành are taken in order of issue within the year, by the system (NĐ 30
    Điều 15 k1, k3); số đến in order of arrival (Điều 22 k2, Phụ lục VI III.1.đ). A văn thư who
    typed the date of a văn bản đi was given the next number of that date's register: a number
    in the 2020 register taken in 2026, number 01 of 2027 taken in March 2026, or a date months
    before the number before it. A ngày đến after today took a number the same way."""
    from repository.storage.local import LocalStore

    now = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)  # 10:00 on 10/03/2026 in Hà Nội
    repo = new_repository(LocalStore(tmp_path / "s"), LocalStore(tmp_path / "k"), clock=lambda: now)
    for issued, code in [
        ("2020-05-04", "ISSUED_DATE_NOT_TODAY"),  # another year's register
        ("2026-01-05", "ISSUED_DATE_NOT_TODAY"),  # back-dated within the year
        ("2026-03-09", "ISSUED_DATE_NOT_TODAY"),  # yesterday
        ("2026-03-11", "ISSUED_DATE_NOT_TODAY"),  # tomorrow
        ("2027-01-01", "ISSUED_DATE_NOT_TODAY"),  # next year's number 01
    ]:
        with pytest.raises(ValidationFailed) as info:
            repo.create_document("di", outgoing(issued_date=issued), None, None, CLERK)
        assert info.value.code == code, issued
        assert "10/03/2026" in info.value.message and "Điều 15" in info.value.message
    for changes, code in [
        ({"arrival_date": "2026-03-11"}, "ARRIVAL_DATE_IN_FUTURE"),
        ({"arrival_date": "2027-01-02", "issued_date": "2027-01-01"}, "ARRIVAL_DATE_IN_FUTURE"),
        ({"issued_date": "2026-03-12"}, "DATE_ORDER_INVALID"),  # ngày đến is today: before it
    ]:
        with pytest.raises(ValidationFailed) as info:
            repo.create_document("den", incoming(**changes), None, None, CLERK)
        assert info.value.code == code, changes
    assert next(repo.record_ids(), None) is None, "nothing written"
    assert [s for y in (2020, 2026, 2027) for s in repo.registers.series_of(repo.agency_id, y)] == []
    # The day itself, typed or given by the system, and an incoming document that arrived earlier.
    typed = repo.create_document("di", outgoing(issued_date="10/03/2026"), None, None, CLERK)
    given = repo.create_document("di", outgoing(), None, None, CLERK)
    late = repo.create_document("den", incoming(arrival_date="2026-03-06"), None, None, CLERK)
    assert [r.metadata.code_number for r in (typed, given)] == ["01", "02"]  # type: ignore[union-attr]
    assert late.registration and (late.registration.year, late.registration.number) == (2026, 1)
    # Only stored, not registered (an old document filed as it is): its dates are its own.
    filed = outgoing(issued_date="2020-05-04", code_number="15")
    assert repo.create_document("di", filed, None, None, CLERK, register=False).registration is None
