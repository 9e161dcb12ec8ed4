"""Số đến / số đi are exact under concurrent registration from several processes."""

from __future__ import annotations

import multiprocessing as mp
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kho_testing import CLERK, incoming, new_repository, outgoing, register_many, store_url

from repository.metadata import parse_document
from repository.registers import series_for
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
    assert repo.audit.verify().ok
    assert repo.audit.verify().events == 2 * total
    year = datetime.now(UTC).year
    register = repo.register("den", year, actor=CLERK) + repo.register("hanh-chinh", year, actor=CLERK)
    assert len(register) == total
    # Each entry's record carries exactly its own number.
    for record in repo.register("hanh-chinh", year, actor=CLERK):
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
    assert series("den", secrecy="Mật") == "den"
    assert series("di") == "hanh-chinh"
    assert series("di", type_name="Công văn", code_notation="UBND-VP") == "hanh-chinh"
    assert series("di", secrecy="Tối mật") == "mat"
    assert series("di", type_name="Bản trích sao", code_notation="TrS-UBND") == "ban-sao"
    assert series("di", type_name="Bản sao lục", code_notation="SL-UBND") == "ban-sao"
    assert series("di", type_name="Nghị định", code_notation="NĐ-CP") == "qppl-nghi-dinh"
    md = parse_document(outgoing(), "di")
    assert series_for(md, advisory_body="HĐTĐ") == "tu-van-h-t"
    assert series_for(md, advisory_body="HDTD2026") == "tu-van-hdtd2026"
