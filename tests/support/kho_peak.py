"""This process's peak resident memory from a chosen moment on (Linux).

``ru_maxrss`` never goes down and Linux carries it across vfork + exec, so "peak after − peak
before" reads 0 in a process whose earlier peak (a long pytest run, the process that spawned
it) is higher than what is measured. Writing ``5`` to ``/proc/self/clear_refs`` resets the peak
(``VmHWM``) to the current resident size; the peak read afterwards is of the measured work."""

from __future__ import annotations


def _status_mb(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak() -> float:
    """Start a measurement: the peak becomes the current resident size (MB), returned."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
        clear.write("5")
    return _status_mb("VmHWM")


def peak_mb() -> float:
    """The peak resident size (MB) since the last :func:`reset_peak` (or the process's start)."""
    return _status_mb("VmHWM")
