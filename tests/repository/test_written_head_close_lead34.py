"""A history guard that is closed writes nothing more in the checkpoint folder.

rv28's written head is noted by a timer at most every ``NOTE_EVERY`` seconds; a pipeline closed
within that time left the timer to write into a folder its owner was removing (CI:
``test_read_once.py``'s temporary Kho failed with "Directory not empty"). Closing notes the
pending head at once and stops the timer.
"""

from __future__ import annotations

import time
from pathlib import Path

from repository.rollback import NOTE_EVERY, WRITTEN_HEAD, HistoryGuard, written_head
from repository.storage.local import LocalStore


class _Anchor:
    def __init__(self, folder: Path) -> None:
        self.checkpoint_dir = folder


def test_closing_notes_the_pending_head_at_once_and_the_timer_writes_nothing_after(tmp_path: Path) -> None:
    folder = tmp_path / "checkpoints"
    anchor = _Anchor(folder)
    guard = HistoryGuard(LocalStore(tmp_path / "s"), lambda: anchor)  # type: ignore[arg-type,return-value]
    guard.noted(0, "a" * 64, "2026-12-05T00:00:00Z")  # noted now
    guard.noted(1, "b" * 64, "2026-12-05T00:00:01Z")  # within NOTE_EVERY: left to the timer

    guard.close()
    noted = written_head(folder)
    assert noted is not None and (noted.seq, noted.hash) == (1, "b" * 64)  # written at close

    (folder / WRITTEN_HEAD).unlink()
    time.sleep(NOTE_EVERY + 0.3)  # the timer's time has passed
    assert not (folder / WRITTEN_HEAD).exists()
    assert list(folder.iterdir()) == []  # nothing written into the folder after close
