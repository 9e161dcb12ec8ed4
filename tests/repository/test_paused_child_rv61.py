"""The pause tests' harness (``kho_child.paused_child``, review rv61): it was entered once the
child had written "paused", which the child does just before it stops itself (SIGSTOP). A parent
that resumed it quickly (SIGCONT) in between sent a signal the child never saw, and the child
then stopped for good: a resumed child answered nothing (a flake of
``test_scrub_attacks_rv61``'s S3 listing race under load). Now it is entered once the child has
stopped."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from kho_child import paused_child

DELAY_S = 0.5
"""How long the child is kept between its "paused" line and its SIGSTOP: what a loaded machine
may do by not running it."""


def _state(pid: int) -> str:
    """The process state letter of ``pid`` (``T``: stopped)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_the_harness_is_entered_only_once_the_child_has_stopped() -> None:
    def work(stop: Callable[[], None]) -> str:
        real_kill = os.kill

        def late_kill(pid: int, sig: int) -> None:
            if sig == signal.SIGSTOP:
                time.sleep(DELAY_S)
            real_kill(pid, sig)

        os.kill = late_kill  # (the child's own module object: the parent's is untouched)
        stop()
        return "done"

    began = time.monotonic()
    with paused_child(work) as child:
        try:
            assert _state(child.pid) == "T"  # before: "S", still sleeping before its SIGSTOP
            assert time.monotonic() - began >= DELAY_S
        except AssertionError:
            os.kill(child.pid, signal.SIGKILL)  # (else the harness's SIGCONT is lost too: a hang)
            raise
        answer = child.resume()  # before: SIGCONT lost, no answer within 60 s
    assert answer == ["got", "done"]
