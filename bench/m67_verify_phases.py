"""CPU per document of the verification worker's combined request (verify + text layer), in
process as a worker runs it (fast path, warm-up, housekeeping), by phase (inclusive; nested
phases overlap), no profiler; ``--prof`` adds a cProfile of the measured part.

    python bench/m67_verify_phases.py TREE [N] [--prof]

TREE is put first on ``sys.path`` (run from a folder outside ``/work/wt-*``, or the venv's
``.pth`` puts the worktree first). Documents: ``~/.cache/kho-bench/signed-200x3``
(``bench/bench_ingest.py --only a --count 200`` makes them), 8 warm-up then N (default 120).
"""

from __future__ import annotations

import cProfile
import functools
import inspect
import logging
import os
import pstats
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ACC: dict[str, float] = {}


def _wrap(owner: Any, name: str) -> None:
    real = getattr(owner, name)
    if inspect.iscoroutinefunction(real):
        @functools.wraps(real)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            began = time.process_time()
            try:
                return await real(*args, **kwargs)
            finally:
                ACC[name] = ACC.get(name, 0.0) + time.process_time() - began

        setattr(owner, name, timed_async)
        return

    @functools.wraps(real)
    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.process_time()
        try:
            return real(*args, **kwargs)
        finally:
            ACC[name] = ACC.get(name, 0.0) + time.process_time() - began

    setattr(owner, name, timed)


def main() -> int:
    tree = Path(sys.argv[1]).resolve()
    count = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2].isdigit() else 120
    sys.path.insert(0, str(tree))
    logging.disable(logging.CRITICAL)
    import pyhanko.sign.diff_analysis.policies as policies
    import pyhanko.sign.validation.generic_cms as generic_cms

    from ingest.signatures import _fastpath, _pool, combined, verify
    from ingest.signatures.rules import SAFE_CRYPTO
    from ingest.signatures.trust import TrustStore
    from ingest.text.settings import TextSettings

    assert combined.__file__ is not None and combined.__file__.startswith(str(tree)), combined.__file__
    assert _fastpath.activate()
    _pool._warm_up()
    for owner, name in ((combined, "read_once"), (verify, "_signed_view"), (verify, "_document_facts"),
                        (verify, "_open"), (verify, "_verify_all"), (_pool, "_verify_reply"),
                        (generic_cms, "cms_basic_validation"), (generic_cms, "collect_timing_info"),
                        (generic_cms, "validate_tst_signed_data"),
                        (policies.StandardDiffPolicy, "review_file")):
        _wrap(owner, name)
    folder = Path.home() / ".cache" / "kho-bench" / "signed-200x3"
    trust = TrustStore.from_dir(folder / "trust")
    _ = trust.trust_manager
    settings = TextSettings.from_env({})
    now = datetime.now(UTC)
    datas = [p.read_bytes() for p in sorted(folder.glob("signed-*.pdf"))]

    def one(data: bytes) -> None:
        cleanup: list[Any] = []
        status, _payload = combined.combined_reply(data, trust, False, now, SAFE_CRYPTO, settings, cleanup)
        assert status == "ok", status
        _pool._housekeeping(cleanup)

    for data in datas[:8]:
        one(data)
    ACC.clear()
    work = datas[8 : 8 + count]
    profile = cProfile.Profile() if "--prof" in sys.argv else None
    began = time.process_time()
    if profile:
        profile.enable()
    for data in work:
        one(data)
    if profile:
        profile.disable()
    total = time.process_time() - began
    per_doc = 1000 * total / len(work)
    print(f"{tree}: {per_doc:.2f} ms CPU/doc over {len(work)} (load {os.getloadavg()[0]:.1f})")
    for name, seconds in sorted(ACC.items(), key=lambda kv: -kv[1]):
        print(f"  {name:28s} {1000 * seconds / len(work):6.2f}")
    if profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
