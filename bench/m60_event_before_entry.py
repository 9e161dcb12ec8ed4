"""The crash states that moving a number's audit event (NOTES-m60 candidate B) or its first
version (candidate A) beside its register entry would add, and what today's code makes of them
(issue 14, m60): not a test (neither move is made), a probe run against the real S3 gateway.

    PYTHONPATH=. .venv/bin/python bench/m60_event_before_entry.py [--version]

Without ``--version``: a writer process claims number 2 of a register (the claim of the entry's
create), writes its record's marker and key, appends the act's events (``record:create`` and
``register:assign`` number 2) and dies before the entry's data PUT: the state a kill between the
event's PUT and the entry's leaves if the two went in one round. With ``--version``: a writer
runs a real ``create_document`` whose entry data PUT is replaced by the PUT of the
``records/<id>/v000001`` it carries, then dies: the state of a kill between those two PUTs.
Then, as after any crash: the next writer on this machine takes a number, ``kho fsck
--repair``, ``kho fsck``, ``audit verify``. Prints what the register, the records and the log
say of number 2. Needs ``scripts/services.sh env``.
"""

from __future__ import annotations

import base64
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

from kho_buckets import drop_made
from kho_testing import CLERK, make_store, new_repository, outgoing

from repository.audit import EventDraft
from repository.fsck import fsck
from repository.records import Repository, new_record_id, version_key
from repository.registers import RegisterEntry, entry_key, register_prefix
from repository.storage.base import ObjectStore
from repository.storage.group import write_group
from repository.storage.local import LocalStore
from repository.storage.s3 import S3Store

SERIES = "hanh-chinh"


def _dying_writer(store: ObjectStore, keys: ObjectStore, year: int) -> None:  # the child
    code = 1
    try:
        repo = new_repository(store, keys)
        record_id = new_record_id()
        assert isinstance(store, S3Store)
        assert store.claim_ahead(entry_key(repo.agency_id, year, SERIES, 2))  # number 2 won
        prefix = register_prefix(repo.agency_id, year, SERIES)
        write_group([repo._marker_object(record_id, "di", prefix), repo.keys.new_object(record_id)])
        number = {"series": SERIES, "year": year, "number": 2}
        repo.audit.append_many(
            [
                EventDraft("bench", "record:create", record_id=record_id, version=1, details={"kind": "di"}),
                EventDraft("bench", "register:assign", record_id=record_id, version=1, details=number),
            ]
        )
        print(f"writer {os.getpid()}: record {record_id} claimed number 2, events written; dies", flush=True)
        code = 137
    finally:
        os._exit(code)  # no cleanup, as SIGKILL: the entry's data is never sent


def _writer_dying_after_its_version(store: ObjectStore, keys: ObjectStore) -> None:  # the child
    code = 1
    try:
        assert isinstance(store, S3Store)
        real = S3Store._put_raw

        def put(self: S3Store, bucket: str, key: str, data: bytes, headers: object = None) -> object:
            if bucket == self.bucket and key.startswith("registers/"):  # the entry's data PUT
                entry = RegisterEntry.from_json(data)
                self.put_new(version_key(entry.record_id, 1), base64.b64decode(entry.sealed_version))
                print(f"writer {os.getpid()}: record {entry.record_id} number {entry.number}:"
                      " v000001 written, entry not; dies", flush=True)
                os._exit(137)
            return real(self, bucket, key, data, headers)  # type: ignore[arg-type]

        S3Store._put_raw = put  # type: ignore[method-assign,assignment]
        new_repository(store, keys).create_document("di", outgoing(), None, None, CLERK)
    finally:
        os._exit(code)


def main() -> None:
    version = "--version" in sys.argv[1:]
    base = Path(tempfile.mkdtemp(prefix="m60-probe-"))
    try:
        store = make_store("s3", base, "m60probe")
        keys = LocalStore(base / "keys")
        repo: Repository = new_repository(store, keys)
        first = repo.create_document("di", outgoing(), None, None, CLERK)
        assert first.registration is not None
        year = first.registration.year
        pid = os.fork()
        if pid == 0:
            if version:
                _writer_dying_after_its_version(store, keys)
            _dying_writer(store, keys, year)
        _, status = os.waitpid(pid, 0)
        print(f"writer exit status {os.WEXITSTATUS(status)}")
        after = new_repository(store, keys)
        taker = after.create_document("di", outgoing(), None, None, CLERK)  # the next writer
        assert taker.registration is not None
        print(f"next writer: record {taker.record_id} got number {taker.registration.number}")
        repaired = fsck(after, repair=True, grace_seconds=0)
        print("fsck --repair:", [(i.kind, i.subject) for i in repaired.issues])
        checked = fsck(new_repository(store, keys), grace_seconds=0)
        print("fsck:", "clean" if checked.clean else [(i.kind, i.subject) for i in checked.issues])
        print("audit verify ok:", new_repository(store, keys).audit.verify().ok)
        final = new_repository(store, keys)
        register = [(e.number, e.record_id) for e in final.registers.entries(final.agency_id, year, SERIES)]
        print("register entries:", register)
        assigned = [
            (e.seq, e.record_id, e.details.get("number"))
            for e in final.audit.events()
            if e.action == "register:assign"
        ]
        print("register:assign events (seq, record, number):", assigned)
        twice = [n for n in {a[2] for a in assigned} if sum(a[2] == n for a in assigned) > 1]
        print("numbers assigned twice in the log:", twice)
        records = list(final.records())
        existing = {r.record_id for r in records}
        print(
            "assigned to a record that does not exist:",
            [a for a in assigned if a[1] not in existing],
        )
        shown = [(r.record_id, r.registration.number) for r in records if r.registration is not None]
        print("records readers see, with their number:", sorted(shown, key=lambda x: x[1]))
    finally:
        drop_made()


if __name__ == "__main__":
    main()
