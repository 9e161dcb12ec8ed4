"""When a local store overlaps its fsyncs on a thread pool instead of running them in the
writer's thread (issue 14: m28, m33).

A group's temp files and directory syncs run inline (one after another, in the writer's
thread) or on the pool (``storage.group``: at the same time, sharing journal commits). The pool
costs CPU (a thread hand-off and its future, ~0.13 ms an object on the 2-core test machine) and
pays back in wall time in two cases:

* the fsyncs are slow (a moving average above ``sync_seconds``): overlapped, their waits add up
  to one; measured by m28 under other writers' load (~2 ms a sync);
* a core is idle (idle, not waiting for a disk): the pool's work runs beside the writer
  instead of after it. Measured by the
  lead (session 38) on the quiet machine, one process: inline 132.0 rec/s against the pool's
  166.8, while with two processes (no core idle) inline was faster (231.6 against 207.8).

:func:`decide` is the rule (pure); :class:`IdleCores` estimates the idle cores from the
kernel's CPU time counters (``/proc/stat``), sampled at most every
:data:`IDLE_SAMPLE_SECONDS`. Each input has a hysteresis band (start at the threshold, stop
below half of it): an input hovering at a threshold otherwise flips the mode group by group.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class OverlapPolicy:
    """The thresholds (``KHO_OVERLAP_SYNC_MS``, ``KHO_OVERLAP_IDLE_CORES``)."""

    sync_seconds: float = 0.0005
    """Overlap while the store's fsyncs average more than this (stop under half of it)."""
    idle_cores: float = 0.5
    """Overlap while at least this many cores are idle besides the writer's (stop under half of
    it); 0: the idle cores are not looked at (the fsync rule alone, as m28)."""


ALWAYS = OverlapPolicy(sync_seconds=-1.0, idle_cores=0.0)
"""Every fsync is slow: always overlapped (tests)."""
NEVER = OverlapPolicy(sync_seconds=math.inf, idle_cores=0.0)
"""Never overlapped (tests; a store that must not start threads)."""


@dataclass(frozen=True)
class OverlapMode:
    """The answer of :func:`decide`, kept by the store for its next decision (the hysteresis)."""

    slow_syncs: bool = False
    idle_core: bool = False

    @property
    def overlaps(self) -> bool:
        return self.slow_syncs or self.idle_core


def _banded(value: float, threshold: float, was: bool) -> bool:
    """Above ``threshold``; once above, until under half of it."""
    return value > threshold or (was and value >= threshold / 2)


def decide(
    policy: OverlapPolicy, sync_seconds: float, idle_cores: float | None, previous: OverlapMode
) -> OverlapMode:
    """Whether to overlap, from the moving average of the store's fsyncs (seconds), the idle
    cores besides the writer's (None: not known yet, or not looked at) and the previous answer."""
    slow = _banded(sync_seconds, policy.sync_seconds, previous.slow_syncs)
    idle = (
        policy.idle_cores > 0
        and idle_cores is not None
        and (idle_cores >= policy.idle_cores or (previous.idle_core and idle_cores >= policy.idle_cores / 2))
    )
    return _MODES[slow, idle]


_MODES = {(slow, idle): OverlapMode(slow, idle) for slow in (False, True) for idle in (False, True)}
"""The four answers, made once: a decision is taken ~20 times a stored record."""


IDLE_SAMPLE_SECONDS = 0.25
"""The idle cores are measured over at least this long (one read of ``/proc/stat``, ~30 µs)."""
IDLE_AVERAGE_WEIGHT = 0.5
"""The weight of the latest interval in :class:`IdleCores`' moving average."""


def read_cpu_times() -> tuple[int, int] | None:
    """(idle, total) clock ticks of all CPUs since boot, from the first line of ``/proc/stat``;
    None where there is none (not Linux, or unreadable): the idle cores are then unknown.

    ``iowait`` is not idle here: it is a core's idle time while a task that ran on it waits for
    a disk, i.e. mostly the writers' own fsync waits. Counted as idle, two writers on two cores
    (each core waiting for its writer's fsyncs part of the time) looked like half a core idle
    and overlapped, at half the inline rate (bench, m33: 155.7 against 316.0 rec/s); without
    it, one writer leaves the other core plainly idle and two leave none."""
    try:
        fd = os.open("/proc/stat", os.O_RDONLY | os.O_CLOEXEC)
        try:
            head = os.read(fd, 512)
        finally:
            os.close(fd)
    except OSError:
        return None
    return cpu_times(head)


def cpu_times(head: bytes) -> tuple[int, int] | None:
    """(idle, total) ticks from the start of ``/proc/stat`` (:func:`read_cpu_times`)."""
    fields = head.split(b"\n", 1)[0].split()
    if fields[:1] != [b"cpu"]:
        return None
    try:
        ticks = [int(f) for f in fields[1:9]]  # user nice system idle iowait irq softirq steal
    except ValueError:
        return None
    if len(ticks) < 5:
        return None
    return ticks[3], sum(ticks)


def _cpus() -> tuple[int, int]:
    """(CPUs of the machine, CPUs this process may run on)."""
    machine = os.cpu_count() or 1
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = machine
    return machine, usable


class IdleCores:
    """The cores idle besides the writer's, measured: the machine's idle share of CPU time over
    the last interval (at least :data:`IDLE_SAMPLE_SECONDS`) times its CPUs, averaged, at most
    the CPUs this process may run on less the writer's own. Other processes' work (another
    engineer's tests, a second Kho process) shows in it, and so does this process's own pool.

    ``read``, ``clock`` and ``cpus`` are the inputs (a test gives its own)."""

    def __init__(
        self,
        read: Callable[[], tuple[int, int] | None] = read_cpu_times,
        clock: Callable[[], float] = time.monotonic,
        cpus: Callable[[], tuple[int, int]] = _cpus,
    ) -> None:
        self._read, self._clock, self._cpus = read, clock, cpus
        self._state: tuple[float, tuple[int, int] | None, float | None] | None = None
        """(when sampled, the counters then, the average): replaced whole (threads race benignly)."""

    def __call__(self) -> float | None:
        now = self._clock()
        state = self._state
        if state is not None and now - state[0] < IDLE_SAMPLE_SECONDS:
            return state[2]
        sample = self._read()
        average = None if state is None else state[2]
        if state is not None and state[1] is not None and sample is not None:
            idle, total = sample[0] - state[1][0], sample[1] - state[1][1]
            if total > 0:
                machine, usable = self._cpus()
                cores = min(max(idle, 0) / total * machine, max(usable - 1, 0))
                average = cores if average is None else average + (cores - average) * IDLE_AVERAGE_WEIGHT
        self._state = (now, sample, average)
        return average


PROCESS_IDLE_CORES = IdleCores()
"""One measure per process, shared by its stores (a ``fork`` child goes on from its parent's)."""
