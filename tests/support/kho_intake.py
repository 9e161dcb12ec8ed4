"""Intake tests: a confirmation (``complete_intake``) killed between its register entry and the
version carrying its number (review a11), as a real forked child that dies at the store's write."""

from __future__ import annotations

import os
from typing import Any

from kho_testing import CLERK, checked_by_ingest, incoming, outgoing, pdf_bytes

from repository.records import Actor, Record, Repository, version_key
from repository.registers import RegisterEntry


def confirm_intake(repo: Repository, rec: Record, actor: Actor = CLERK, **typed: Any) -> Record:
    """Confirm the received document (a văn bản đi takes its số from the register); ``typed``:
    fields the văn thư typed otherwise."""
    if rec.kind == "den":
        md = incoming(**{"code_number": "77", "issued_date": "2026-03-02", **typed})
    else:
        md = outgoing(**typed)
    return repo.complete_intake(rec.record_id, md, expected_version=rec.version, actor=actor)


def killed_before_numbered(repo: Repository, direction: str = "den", **typed: Any) -> Record:
    """A received document whose confirmation was killed after its number was entered in the
    register, before the version carrying it was written (the intake record, as read)."""
    rec = checked_by_ingest(
        repo, repo.create_intake(direction, pdf_bytes("killed-numbered"), "cv.pdf", CLERK).record_id
    )
    numbered = version_key(rec.record_id, rec.version + 1)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        real = repo.store.put_if_absent

        def dying(key: str, data: bytes, *args: Any, **kwargs: Any) -> Any:
            if key == numbered:
                os._exit(137)
            return real(key, data, *args, **kwargs)

        repo.store.put_if_absent = dying  # type: ignore[method-assign]
        try:
            confirm_intake(repo, rec, **typed)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 137, "the writer was not killed at its version"
    assert [e.number for e in register_rows(repo, rec.record_id)] == [1]  # numbered in the register
    assert repo._load(rec.record_id).state == "intake"  # not yet in the record
    return rec


def register_rows(repo: Repository, record_id: str) -> list[RegisterEntry]:
    out = [RegisterEntry.from_json(repo.store.get(i.key)) for i in repo.store.list("registers/")]
    return [e for e in out if e.record_id == record_id]
