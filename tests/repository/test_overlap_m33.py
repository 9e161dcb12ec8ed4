"""m33 (issue 14): the local store's choice between running a group's fsyncs in the writer's
thread and overlapping them on the pool weighs an idle core as well as the fsyncs' latency,
with thresholds that are settings (``KHO_OVERLAP_SYNC_MS``, ``KHO_OVERLAP_IDLE_CORES``).

The inputs (the fsyncs' moving average, the idle cores, the CPU time counters and the clock) are
given by each test: nothing here depends on the speed or the load of the machine."""

from __future__ import annotations

import math
import unicodedata
from pathlib import Path

import pytest
from kho_counting import count_pool_handoffs
from kho_testing import CLERK, incoming, new_repository, pdf_bytes, s3_options_or_skip, s3_store_env

from kho.config import Settings
from kho.errors import ConfigError
from repository.storage import open_store
from repository.storage.local import LocalStore
from repository.storage.overlap import (
    IDLE_SAMPLE_SECONDS,
    IdleCores,
    OverlapMode,
    OverlapPolicy,
    cpu_times,
    decide,
    read_cpu_times,
)
from repository.storage.s3 import S3Store

POLICY = OverlapPolicy(sync_seconds=0.0005, idle_cores=0.5)
FAST, SLOW = 0.0002, 0.002  # fsync averages, seconds


@pytest.mark.parametrize(
    ("sync", "idle", "overlaps"),
    [
        (FAST, 1.0, True),  # quiet machine, one writer: the pool runs on the idle core
        (FAST, 0.0, False),  # every core busy (a second writer, others' tests): inline
        (FAST, None, False),  # not measured yet (a short command): m28's rule alone
        (SLOW, 0.0, True),  # slow disk: overlapped waits pay even without an idle core
        (SLOW, 1.0, True),
    ],
)
def test_the_decision_weighs_an_idle_core_and_the_fsyncs(
    sync: float, idle: float | None, overlaps: bool
) -> None:
    assert decide(POLICY, sync, idle, OverlapMode()).overlaps is overlaps


def test_each_input_keeps_its_mode_inside_its_band() -> None:
    mode = decide(POLICY, FAST, 0.6, OverlapMode())
    assert mode.overlaps and mode.idle_core
    mode = decide(POLICY, FAST, 0.3, mode)  # under the threshold, above half of it: kept
    assert mode.overlaps
    mode = decide(POLICY, FAST, 0.2, mode)  # under half: back inline
    assert not mode.overlaps
    assert not decide(POLICY, FAST, 0.3, mode).overlaps  # and kept the other way
    slow = decide(POLICY, 0.0006, 0.0, OverlapMode())
    assert slow.slow_syncs and decide(POLICY, 0.0003, 0.0, slow).slow_syncs
    assert not decide(POLICY, 0.0002, 0.0, slow).overlaps


def test_an_idle_threshold_of_zero_looks_at_the_fsyncs_only() -> None:
    m28 = OverlapPolicy(sync_seconds=0.0005, idle_cores=0.0)
    assert not decide(m28, FAST, 2.0, OverlapMode()).overlaps
    assert decide(m28, SLOW, 0.0, OverlapMode()).overlaps


class Counters:
    """/proc/stat's (idle, total) ticks and a clock, as a test sets them."""

    def __init__(self) -> None:
        self.idle, self.total, self.now, self.reads = 0, 0, 100.0, 0

    def read(self) -> tuple[int, int] | None:
        self.reads += 1
        return self.idle, self.total

    def advance(self, seconds: float, idle_share: float, cpus: int = 2, ticks: int = 100) -> None:
        """``seconds`` pass; the machine's ``cpus`` were idle ``idle_share`` of the time."""
        total = round(seconds * ticks * cpus)
        self.total += total
        self.idle += round(total * idle_share)
        self.now += seconds


def test_the_idle_cores_are_measured_from_the_cpu_counters_rarely_and_averaged() -> None:
    c = Counters()
    idle = IdleCores(read=c.read, clock=lambda: c.now, cpus=lambda: (2, 2))
    assert idle() is None  # one sample: no interval yet
    c.advance(IDLE_SAMPLE_SECONDS, idle_share=0.5)  # one of two cores idle
    assert idle() == pytest.approx(1.0)
    reads = c.reads
    c.advance(IDLE_SAMPLE_SECONDS / 10, idle_share=0.0)
    assert idle() == pytest.approx(1.0) and c.reads == reads  # not read again before the interval
    c.advance(IDLE_SAMPLE_SECONDS, idle_share=0.0)  # both busy: the average moves halfway
    assert idle() == pytest.approx(0.5, abs=0.05)
    c.advance(IDLE_SAMPLE_SECONDS, idle_share=1.0)  # all idle: at most the cores besides the writer's
    assert idle() == pytest.approx(0.75, abs=0.05)


def test_a_core_waiting_for_a_disk_is_not_idle() -> None:
    """``iowait`` is the writers' own fsync waits: counted idle, two writers on two cores looked
    like half a core idle and overlapped at half the inline rate (bench, m33)."""
    #               user nice system idle iowait irq softirq steal guest guest_nice
    head = b"cpu  1000 0 500 2000 1500 0 100 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"
    assert cpu_times(head) == (2000, 5100)
    assert cpu_times(b"intr 1 2 3\n") is None and cpu_times(b"cpu  x y z\n") is None
    real = read_cpu_times()  # this machine's, read for real: Linux
    assert real is not None and 0 <= real[0] <= real[1]


def test_a_process_allowed_one_core_has_none_idle_and_no_counters_mean_unknown() -> None:
    c = Counters()
    pinned = IdleCores(read=c.read, clock=lambda: c.now, cpus=lambda: (2, 1))
    pinned()
    c.advance(1.0, idle_share=0.9)
    assert pinned() == 0.0
    blind = IdleCores(read=lambda: None, clock=lambda: c.now, cpus=lambda: (2, 2))
    assert blind() is None
    c.advance(1.0, idle_share=0.9)
    assert blind() is None


def test_the_store_asks_for_idle_cores_and_keeps_fsync_off_and_wrapped_stores_inline(tmp_path: Path) -> None:
    seen: list[float | None] = [1.0]
    store = LocalStore(tmp_path / "s", overlap=POLICY, idle_cores=lambda: seen[0])
    store._sync_seconds = FAST
    assert store.overlaps_syncs()
    seen[0] = 0.0
    assert not store.overlaps_syncs()
    unsynced = LocalStore(tmp_path / "n", fsync=False, overlap=POLICY, idle_cores=lambda: 2.0)
    assert not unsynced.overlaps_syncs()
    off = LocalStore(tmp_path / "o", overlap=OverlapPolicy(idle_cores=0.0), idle_cores=lambda: 2.0)
    off._sync_seconds = FAST
    assert not off.overlaps_syncs()


@pytest.mark.parametrize("idle", [1.0, 0.0], ids=["idle core", "no idle core"])
def test_a_record_on_fast_syncs_uses_the_pool_only_with_an_idle_core(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, idle: float
) -> None:
    """The lead's measurement (session 38): with one writer on the quiet 2-core machine the
    pool ran on the idle core (166.8 rec/s against 132.0 inline); m28 ran inline whenever the
    fsyncs were fast. The fsyncs are pinned fast here (threshold ``inf``), the idle cores given."""
    handed = count_pool_handoffs(monkeypatch)
    policy = OverlapPolicy(sync_seconds=math.inf, idle_cores=0.5)
    store = LocalStore(tmp_path / "s", overlap=policy, idle_cores=lambda: idle)
    keys = LocalStore(tmp_path / "k", overlap=policy, idle_cores=lambda: idle)
    repo = new_repository(store, keys)
    repo.create_document("den", incoming(code_number="1"), pdf_bytes("a", 200_000), "a.pdf", CLERK)
    assert (len(handed) > 0) is (idle > 0), handed
    assert repo.audit.verify().ok


def _base(folder: Path) -> dict[str, str]:
    return {"KHO_DATA_DIR": str(folder / "data"), "KHO_AGENCY_ID": "000.00.18.H40"}


def test_the_thresholds_are_settings_that_reach_the_local_store(tmp_path: Path) -> None:
    default = Settings.from_env(_base(tmp_path))
    assert (default.overlap_sync_seconds, default.overlap_idle_cores) == (0.0005, 0.5)
    chosen = Settings.from_env(
        {**_base(tmp_path), "KHO_OVERLAP_SYNC_MS": "2", "KHO_OVERLAP_IDLE_CORES": "0"}
    )
    assert (chosen.overlap_sync_seconds, chosen.overlap_idle_cores) == (0.002, 0.0)
    store = open_store(f"file://{tmp_path / 'store'}", **chosen.store_options())
    assert isinstance(store, LocalStore)
    assert store.overlap == OverlapPolicy(sync_seconds=0.002, idle_cores=0.0)
    assert LocalStore(tmp_path / "plain").overlap == OverlapPolicy()  # opened without settings


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KHO_OVERLAP_SYNC_MS", "-1"),
        ("KHO_OVERLAP_SYNC_MS", "abc"),
        ("KHO_OVERLAP_SYNC_MS", "NaN"),
        ("KHO_OVERLAP_SYNC_MS", "0_5"),
        ("KHO_OVERLAP_SYNC_MS", "5000"),
        ("KHO_OVERLAP_IDLE_CORES", "-0.5"),
        ("KHO_OVERLAP_IDLE_CORES", "inf"),
        ("KHO_OVERLAP_IDLE_CORES", "１"),
    ],
)
def test_a_bad_threshold_is_refused_by_name(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError) as refusal:
        Settings.from_env({**_base(tmp_path), name: value})
    assert refusal.value.code == "CONFIG_INVALID"
    assert refusal.value.details["variable"] == name
    assert name in refusal.value.message
    assert unicodedata.is_normalized("NFC", refusal.value.message)


@pytest.mark.s3
def test_an_s3_store_opened_with_the_settings_takes_none_of_the_local_thresholds(tmp_path: Path) -> None:
    """The thresholds travel in ``Settings.store_options`` with ``fsync``: an S3 store (the real
    gateway) is opened with the same options and ignores them, as it ignores ``fsync``."""
    settings = Settings.from_env({**_base(tmp_path), **s3_store_env(s3_options_or_skip(), "m33-overlap")})
    store = open_store(settings.store_url, **settings.store_options())
    assert isinstance(store, S3Store)
    store.put_if_absent("x/1", b"1")
    assert store.get("x/1") == b"1"
