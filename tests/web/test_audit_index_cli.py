"""``kho reindex`` rebuilds the audit log's by-record index (``<data>/audit-index.sqlite``) too:
after the file is lost, the command brings a record's full history back, and a page that reads
the history afterwards does not scan the log."""

from __future__ import annotations

from click.testing import CliRunner
from kho_people import People
from kho_testing import incoming

from kho.config import Settings
from repository.service import AUDIT_INDEX_FILE, open_repository
from web.cli import main
from web.context import Kho


def test_kho_reindex_rebuilds_the_audit_index(kho: Kho, people: People) -> None:
    clerk = people.actor("van_thu")
    doc = kho.repo.create_document("den", incoming(code_number="88"), None, None, clerk)
    kho.repo.get(doc.record_id, actor=clerk)
    before = [(e.seq, e.action) for e in kho.repo.audit.record_events(doc.record_id)]
    assert ("record:create" in {a for _, a in before}) and len(before) >= 3
    index = kho.settings.data_dir / AUDIT_INDEX_FILE
    assert index.exists()
    for path in (index, index.with_name(index.name + "-wal"), index.with_name(index.name + "-shm")):
        path.unlink(missing_ok=True)
    done = CliRunner().invoke(main, ["reindex"])
    assert done.exit_code == 0, done.output
    assert "Đã dựng lại chỉ mục nhật ký theo văn bản" in done.output and index.exists()
    fresh = open_repository(Settings.from_env())
    listed: list[str] = []
    original = fresh.store.list
    fresh.store.list = lambda prefix, start_after=None: (  # type: ignore[method-assign]
        listed.append(prefix), original(prefix, start_after)
    )[1]
    after = [(e.seq, e.action) for e in fresh.audit.record_events(doc.record_id)]
    assert after[: len(before)] == before
    assert not [p for p in listed if p.startswith("audit/")]
