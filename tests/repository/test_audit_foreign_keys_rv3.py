"""Review of f5 (rv3): an object in the audit log's folder that is not an event key must neither
be read as events by the backup cut nor be a finding no acknowledgement can ever cover."""

from __future__ import annotations

from pathlib import Path

import pytest
from kho_testing import AUDITOR, BACKENDS, CLERK, LOGIN, incoming, make_store, new_repository, pdf_bytes

from repository.acknowledge import findings_digest
from repository.anchor import Anchor, generate_key, make_checkpoint, verify_anchored
from repository.audit import EVENTS_PREFIX, WITNESS_KEY, event_key
from repository.fsck import fsck
from repository.records import Repository
from retention.backup import backup


def _repo(backend: str, tmp_path: Path) -> Repository:
    repo = new_repository(make_store(backend, tmp_path, "store"), make_store("local", tmp_path, "keys"))
    key = tmp_path / "offsite" / "audit.key"
    key.parent.mkdir()
    generate_key(key)
    repo.anchor = Anchor(signing_key=key, checkpoint_dir=tmp_path / "offsite" / "checkpoints")
    for n in range(3):
        repo.create_document(
            "den", incoming(code_number=str(n + 1)), b"%PDF-1.4\n" + bytes([n]) * 900, f"a{n}.pdf", CLERK
        )
    return repo


def test_a_foreign_object_claiming_a_number_past_any_event_can_be_acknowledged(tmp_path: Path) -> None:
    """f5 placed the finding at the number the name claims: a name past the head (here the
    largest a key can show) put it after every acknowledgement there can be, so the log stayed
    unacknowledgeable for ever (on a locked S3 bucket the object cannot even be removed)."""
    repo = _repo("local", tmp_path)
    make_checkpoint(repo.store, repo.anchor)
    repo.store.put("audit/events/999999/999999999999.json.bak", b'{"note": "not an event"}')
    report = verify_anchored(repo.audit, repo.anchor)
    assert [f.kind for f in report.open_findings] == ["inserted"], report.findings
    repo.audit_acknowledge(
        actor=AUDITOR, digest=findings_digest(report.findings), reason="Bản chép tay của quản trị.",
        login=LOGIN,
    )
    report = verify_anchored(repo.audit, repo.anchor)
    assert report.ok, report.open_findings
    assert any("999999999999.json.bak" in f.message for f in report.findings), report.findings


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_backup_cut_does_not_read_a_foreign_object_as_events(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy of an event left beside the log under another name (``…/000000005000.json.bak``)
    made the cut take it for event 5,000 and fetch every "missing" event below it (one GET
    each: 5,000 requests here, an endless walk for a name of twelve nines)."""
    repo = _repo(backend, tmp_path)
    first = next(iter(repo.store.list(EVENTS_PREFIX))).key
    repo.store.put("audit/events/000000/000000005000.json.bak", repo.store.get(first))
    events = sum(1 for _ in repo.store.list(EVENTS_PREFIX))
    gets: list[str] = []
    real_get = repo.store.get

    def counted(key: str, *args: object, **kwargs: object) -> bytes:
        gets.append(key)
        return real_get(key, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(repo.store, "get", counted)
    report = backup(repo.store, make_store("local", tmp_path, "backup"), settle_seconds=0)
    assert report is not None
    event_gets = [k for k in gets if k.startswith(EVENTS_PREFIX)]
    assert len(event_gets) <= 2 * events, (len(event_gets), event_gets[-3:])
    assert event_key(4999) not in event_gets


@pytest.mark.parametrize("backend", BACKENDS)
def test_fsck_does_not_take_a_creation_event_from_a_foreign_object(backend: str, tmp_path: Path) -> None:
    """The log's tail (the newest record's creation) cut with the witness and its bytes put back
    beside the log under another name: fsck's audit step read every object of the folder as
    events, so the record counted as audited and its missing creation event went unnamed."""
    store, keys = make_store(backend, tmp_path, "cut"), make_store(backend, tmp_path, "cutk")
    repo = new_repository(store, keys)
    ids = [
        repo.create_document(
            "den", incoming(code_number=str(n)), pdf_bytes(f"cut {n}"), "cv.pdf", CLERK
        ).record_id
        for n in (1, 2, 3)
    ]
    last = [info.key for info in store.list(EVENTS_PREFIX)][-1]
    data = store.get(last)
    assert ids[2] in data.decode()
    store.delete(last)
    store.delete(WITNESS_KEY)
    store.put(last + ".bak", data)
    report = fsck(new_repository(store, keys), grace_seconds=0)
    assert [i.subject for i in report.issues if i.kind == "unaudited"] == [ids[2]], report.issues


@pytest.mark.parametrize("name", ["000000/README.json", "000000/000000000099.json.bak"])
def test_a_writer_far_behind_does_not_jump_to_a_foreign_name(name: str, tmp_path: Path) -> None:
    """An append more than 16 objects behind jumps past the newest key listed (``_newest_after``).
    f5 took any key: ``README.json`` stopped the append with a ValueError (key_seq), and a copy
    named ``…099.json.bak`` would have chained the act after event 99, a gap in the log."""
    repo = _repo("local", tmp_path)
    keys = [info.key for info in repo.store.list(EVENTS_PREFIX)]
    repo.store.put(EVENTS_PREFIX + name, repo.store.get(keys[-1]))
    assert repo.audit._newest_after(0) == keys[-1]
