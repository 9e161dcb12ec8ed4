"""rv33 (rv27's open item): an import killed between the documents' claim, the package's record
and its audit event. A forked child imports a package and dies (``os._exit``: no cleanup, as
SIGKILL) at its k-th store write after the package's check, for every k of a whole import; then
the installation is opened again, fsck runs, and the same package is imported again.

What must hold after each kill: one record of the package (never two), exactly one
``transfer:import-checked`` event naming that record's import (none half-written), and replay
detection still works (the package again, or its documents under another OBJID, refused).

On main, a kill after the record and before the audit event leaves a record with no event, and
the package imported again is refused ``SIP_REPLAYED``: accepted without anyone's event, for
ever. Now the next import of that same package finishes it: the event is written then, naming
the recorded import (``completes_import``), and no second record is made.

Local folder (a forked child shares no S3 connection pool with its parent). Real validator,
real pyHanko."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from kho_people import People, make_people
from kho_retention import Clock, kho_env, open_kho
from kho_sip import good_package, zipped
from kho_testing import exit_code_in_child

from kho.errors import KhoError
from repository.audit_index import SqliteRecordIndex
from repository.fsck import fsck
from web.context import Kho


def _import_dying_at(kho: Kho, people: People, archive: Path, die_at: int) -> None:  # pragma: no cover
    store = kho.repo.store
    writes = [0]
    real_put_if_absent, real_put = store.put_if_absent, store.put

    def count() -> None:
        writes[0] += 1
        if writes[0] == die_at:
            os._exit(137)

    def put_if_absent(key: str, data: bytes) -> Any:
        count()
        return real_put_if_absent(key, data)

    def put(key: str, data: bytes, *args: Any, **kwargs: Any) -> Any:
        count()
        return real_put(key, data, *args, **kwargs)

    store.put_if_absent, store.put = put_if_absent, put  # type: ignore[method-assign]
    kho.import_package(archive, actor=people.actor("luu_tru"))
    os._exit(3)  # the import ended before its k-th write: every window was tried


def _checked(kho: Kho) -> list[dict[str, Any]]:
    return [e.details for e in kho.repo.audit.events() if e.action == "transfer:import-checked"]


def _records(kho: Kho) -> list[str]:
    return sorted(i.key for i in kho.repo.store.list("retention/sip-imports/"))


def _ready(base: Path, clock: Clock) -> tuple[Path, People]:
    """An installation in ``base`` with its people and a good package of two documents, zipped
    (``base / "package.zip"``), closed; the package folder (relative to ``base``) and the
    people (their usernames and tokens). Nothing in the installation names ``base``, so a copy
    of the folder elsewhere is the same installation restarted."""
    kho = open_kho(kho_env(base), clock)
    try:
        people = make_people(kho)
        root = good_package(kho, people, base, docs=2)
        zipped(root, base / "package.zip")
    finally:
        kho.close()
        index = kho.repo.audit.record_index  # closed now, not by the garbage collector: at rest
        if isinstance(index, SqliteRecordIndex):
            index.close()
    assert not list(base.rglob("*-wal")), "the installation's SQLite files are not at rest"
    return root.relative_to(base), people


def test_an_import_killed_at_each_write_leaves_nothing_half_imported(tmp_path: Path) -> None:
    clock = Clock()
    die_at = 1
    outcomes = []
    # Made once and copied for each k (each k starts from the same bytes, as a restart after
    # the set-up): the people and the signed package cost ~0.9 CPU-s to make, for every k.
    folder, made = _ready(tmp_path / "ready", clock)
    while True:
        base = tmp_path / f"k{die_at}"
        shutil.copytree(tmp_path / "ready", base)
        env = kho_env(base)
        kho = open_kho(env, clock)
        people = dataclasses.replace(made, kho=kho, usernames=dict(made.usernames), tokens=dict(made.tokens))
        root = base / folder
        archive = base / "package.zip"
        code = exit_code_in_child(lambda: _import_dying_at(kho, people, archive, die_at))  # noqa: B023
        kho.close()
        assert code in (137, 3), f"the child failed at write {die_at} (exit {code})"
        if code == 3:
            break
        kho = open_kho(env, clock)  # the restart
        fsck(kho.repo, repair=True, grace_seconds=0)
        assert fsck(kho.repo, grace_seconds=0).clean
        people = dataclasses.replace(people, kho=kho)
        try:
            answer = kho.import_package(archive, actor=people.actor("luu_tru"))
            outcomes.append(answer["package_version"])
        except KhoError as exc:  # killed after its audit event: the import was whole
            assert exc.code == "SIP_REPLAYED", (die_at, exc)
            outcomes.append("replayed")
        records = _records(kho)
        assert len(records) == 1, (die_at, records)
        checked = _checked(kho)
        assert len(checked) == 1 and kho.repo.store.get(records[0]), (die_at, checked)
        assert checked[0]["import_id"] in kho.repo.store.get(records[0]).decode(), (die_at, checked)
        with pytest.raises(KhoError) as again:  # replay detection still works
            kho.import_package(archive, actor=people.actor("luu_tru"))
        assert again.value.code == "SIP_REPLAYED"
        mets = root / "METS.xml"
        mets.write_text(
            re.sub(r'OBJID="[^"]*"', 'OBJID="urn:kho:same-documents"', mets.read_text("utf-8"), count=1),
            encoding="utf-8",
        )
        with pytest.raises(KhoError) as renamed:
            kho.import_package(zipped(root, base / "renamed.zip"), actor=people.actor("luu_tru"))
        assert renamed.value.code == "SIP_REPLAYED"
        assert _records(kho) == records and len(_checked(kho)) == 1
        kho.close()
        die_at += 1
    assert die_at > 4, "a whole import writes the claims, the record and the audit event"
    assert set(outcomes) <= {1, "replayed"} and outcomes[0] == 1, outcomes
