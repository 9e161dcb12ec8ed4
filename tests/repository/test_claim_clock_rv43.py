"""rv43: on an S3 server that needs claims (a companion bucket), a claim left without data is
taken over once it is older than ``claim_timeout_s``. Its age was this host's clock minus the
server's ``Last-Modified``: a host whose clock runs ahead of the gateway's by more than the
timeout (Kho allows up to :data:`kho.process.CLOCK_SKEW_SECONDS` between clocks) judged a live
writer's claim, made a moment ago, stale, and wrote over the number (or event, or guard) that
writer was still writing: two records with one số. The age is told by the server's clock alone
(its ``Date`` and the claim's ``Last-Modified``, one answer)."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from pathlib import Path

import pytest
from kho_testing import make_store

import repository.storage.s3 as s3_module
from kho.errors import AlreadyExists, NotFound
from kho.process import CLOCK_SKEW_SECONDS

AHEAD_SECONDS = 400.0  # past the store's claim_timeout_s (300), within the skew Kho allows
assert AHEAD_SECONDS < CLOCK_SKEW_SECONDS


class _ClockAhead(datetime):
    """``datetime`` as seen by a host whose clock runs ``AHEAD_SECONDS`` ahead of the server's."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        return datetime.now(tz) + timedelta(seconds=AHEAD_SECONDS)


@pytest.mark.s3
def test_a_live_writers_claim_is_not_taken_over_by_a_host_whose_clock_runs_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store("s3", tmp_path, "ahead-claim")
    assert store.create_mode == "claims", "needs an S3 server that claims in a companion bucket"  # type: ignore[attr-defined]
    assert store.claim_timeout_s < AHEAD_SECONDS  # type: ignore[attr-defined]
    key = "registers/000.00.18.H40/2026/hanh-chinh/00000007.json"
    store._claim(key)  # type: ignore[attr-defined]  # a live writer of this process, its PUT under way
    monkeypatch.setattr(s3_module, "datetime", _ClockAhead)
    with pytest.raises(AlreadyExists):
        store.put_if_absent(key, b'{"number": 7, "writer": "second"}')
    monkeypatch.undo()
    with pytest.raises(NotFound):
        store.get(key)  # nothing written over the live writer's number
