"""A recall of a văn bản đến run in a process of its own (a spawned child imports this module
by name: a test module cannot be imported there)."""

from __future__ import annotations

from typing import Any

from kho.config import Settings
from kho.errors import KhoError
from repository.records import Actor
from retention.recall import Recalls
from web.context import Kho


def click(env: dict[str, str], record_id: str, clerk: Actor, start: Any, out: Any) -> None:
    """One worker process: its own Kho, the recall at the barrier."""
    kho = Kho(Settings.from_env(env))
    try:
        recalls = Recalls(kho.repo, kho.backend)
        start.wait(60)
        try:
            done = recalls.recall_incoming(record_id, "CV 31/BNV-VP", "Ban hành nhầm", actor=clerk)
            out.put(("done", done["recall_id"], done["state"]))
        except KhoError as exc:
            out.put(("refused", exc.code, exc.http_status))
        except BaseException as exc:  # a 500 shows here as what it is
            out.put(("error", type(exc).__name__, str(exc)))
    finally:
        kho.close()


def click_outgoing(env: dict[str, str], record_id: str, clerk: Actor, start: Any, out: Any) -> None:
    """One worker process recalling a văn bản đi (u8's derived outgoing id), at the barrier."""
    kho = Kho(Settings.from_env(env))
    try:
        recalls = Recalls(kho.repo, kho.backend)
        start.wait(60)
        try:
            done = recalls.recall_outgoing(record_id, "CV 32/UBND-VP", "Ban hành sai thẩm quyền", actor=clerk)
            out.put(("done", done["recall_id"], done["state"]))
        except KhoError as exc:
            out.put(("refused", exc.code, exc.http_status))
        except BaseException as exc:  # a 500 shows here as what it is
            out.put(("error", type(exc).__name__, str(exc)))
    finally:
        kho.close()


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
