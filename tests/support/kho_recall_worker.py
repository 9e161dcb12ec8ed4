"""A recall of a văn bản đến or đi run in a process of its own (a spawned child imports this module
by name: a test module cannot be imported there)."""

from __future__ import annotations

import multiprocessing
from typing import Any

from kho.config import Settings
from kho.errors import KhoError
from repository.records import Actor
from retention.recall import Recalls
from web.context import Kho

ORDERS = {
    "den": ("CV 31/BNV-VP", "Ban hành nhầm"),
    "di": ("CV 32/UBND-VP", "Ban hành sai thẩm quyền"),
}
"""The order and reason each direction's click gives."""


def click(env: dict[str, str], record_id: str, clerk: Actor, start: Any, out: Any, direction: str) -> None:
    """One worker process: its own Kho, the recall of a văn bản đến (u7) or đi (u8's derived
    outgoing id) at the barrier; puts what it got on ``out``."""
    kho = Kho(Settings.from_env(env))
    try:
        recalls = Recalls(kho.repo, kho.backend)
        recall = recalls.recall_incoming if direction == "den" else recalls.recall_outgoing
        order, reason = ORDERS[direction]
        start.wait(60)
        try:
            done = recall(record_id, order, reason, actor=clerk)
            out.put(("done", done["recall_id"], done["state"]))
        except KhoError as exc:
            out.put(("refused", exc.code, exc.http_status))
        except BaseException as exc:  # a 500 shows here as what it is
            out.put(("error", type(exc).__name__, str(exc)))
    finally:
        kho.close()


def race(env: dict[str, str], record_id: str, clerk: Actor, direction: str) -> list[tuple[Any, ...]]:
    """Two spawned processes (two gunicorn workers, each with its own Kho and store client)
    recalling ``record_id`` at the same moment: what each got."""
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=click, args=(env, record_id, clerk, start, out, direction)) for _ in range(2)]
    for p in procs:
        p.start()
    outcomes = [out.get(timeout=90) for _ in procs]
    for p in procs:
        p.join(60)
    return outcomes


def click_outgoing_killed(env: dict[str, str], record_id: str, clerk: Actor) -> None:
    """A worker process recalling a văn bản đi that is killed (SIGKILL) when it places the hold:
    after its recall (naming it in ``run``) and the mark on the document."""
    import os
    import signal

    kho = Kho(Settings.from_env(env))
    recalls = Recalls(kho.repo, kho.backend)

    def die(*args: Any, **kwargs: Any) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    kho.repo.place_hold = die  # type: ignore[method-assign]
    recalls.recall_outgoing(record_id, "CV 33/UBND-VP", "Ban hành sai thẩm quyền", actor=clerk)


def withdraw_or_click(
    env: dict[str, str], record_id: str, who: Actor, what: str, start: Any, out: Any
) -> None:
    """One worker process (its own Kho): at the barrier, withdraw the document's open recall
    (``what`` "withdraw") or click the recall of its văn bản đi again with the open one's order
    ("click": a run that takes it over); puts ``(what, outcome, code or recall id, state)``."""
    kho = Kho(Settings.from_env(env))
    try:
        recalls = Recalls(kho.repo, kho.backend)
        start.wait(60)
        try:
            if what == "withdraw":
                done = recalls.withdraw(record_id, "Ghi nhầm căn cứ", actor=who)
            else:
                done = recalls.recall_outgoing(record_id, *ORDERS["di"], actor=who)
            out.put((what, "done", done["recall_id"], done["state"]))
        except KhoError as exc:
            out.put((what, "refused", exc.code, exc.http_status))
        except BaseException as exc:  # a 500 shows here as what it is
            out.put((what, "error", type(exc).__name__, str(exc)))
    finally:
        kho.close()


def race_withdraw(env: dict[str, str], record_id: str, head: Actor, clerk: Actor) -> list[tuple[Any, ...]]:
    """A withdrawal (``head``) and a run of the same order (``clerk``) of ``record_id``'s open
    recall, in two spawned processes at the same moment: what each got."""
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=withdraw_or_click, args=(env, record_id, who, what, start, out))
        for who, what in ((head, "withdraw"), (clerk, "click"))
    ]
    for p in procs:
        p.start()
    outcomes = [out.get(timeout=90) for _ in procs]
    for p in procs:
        p.join(60)
    return sorted(outcomes)


def withdraw_killed_after_event(env: dict[str, str], record_id: str, who: Actor, reason: str) -> None:
    """A worker process withdrawing the document's open recall that is killed (SIGKILL) right
    after its ``recall:withdraw`` event is appended, before the recall's ``withdrawn`` version."""
    import os
    import signal

    kho = Kho(Settings.from_env(env))
    recalls = Recalls(kho.repo, kho.backend)
    append = kho.repo.audit.append

    def append_then_die(*args: Any, **kwargs: Any) -> Any:
        appended = append(*args, **kwargs)
        if args[1] == "recall:withdraw":
            os.kill(os.getpid(), signal.SIGKILL)
        return appended

    kho.repo.audit.append = append_then_die  # type: ignore[method-assign]
    recalls.withdraw(record_id, reason, actor=who)
