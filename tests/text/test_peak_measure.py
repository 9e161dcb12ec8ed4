"""The memory bounds' tests measure growth with ``kho_peak``: it must see an allocation made
after a higher earlier peak (where ``ru_maxrss`` after − before reads 0)."""

from __future__ import annotations

import resource

from kho_peak import peak_mb, reset_peak


def test_growth_after_a_higher_earlier_peak_is_seen() -> None:
    earlier = bytearray(400 << 20)  # an earlier peak above what is measured next
    earlier[:: 4096] = b"\1" * len(earlier[:: 4096])
    del earlier
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    before = reset_peak()
    measured = bytearray(200 << 20)
    measured[:: 4096] = b"\1" * len(measured[:: 4096])  # touch every page
    grown = peak_mb() - before
    maxrss_grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - maxrss_before) / 1024
    del measured
    assert grown > 150, grown
    assert maxrss_grown_mb < 50, maxrss_grown_mb  # the premise: the old measure was blind here
