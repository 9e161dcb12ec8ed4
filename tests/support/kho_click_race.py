"""Two clicks at once, in two threads of one process (the recall races of u7 and u8): both wait
at a barrier, then run; each outcome is the answer or the exception raised (a 500 shows as what
it is)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from kho.errors import KhoError


def two_clicks(click: Callable[[], Any]) -> tuple[list[dict[str, Any]], list[KhoError], list[Any]]:
    """Run ``click`` in two threads at once: (the answers that are dicts, the ``KhoError``s
    raised, every outcome in thread order)."""
    barrier = threading.Barrier(2)
    outcomes: list[Any] = [None, None]

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = click()
        except Exception as exc:  # a 500 would show here as what it is
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    finished = [o for o in outcomes if isinstance(o, dict)]
    refused = [o for o in outcomes if isinstance(o, KhoError)]
    return finished, refused, outcomes
