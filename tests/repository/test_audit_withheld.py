"""The whole audit log as a kiểm toán viên below the highest clearance reads it: what is withheld,
and what it costs (the audit index's secrecy map, :mod:`repository.audit_index`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from kho_testing import incoming

from repository.policy import Principal, Role
from repository.records import Actor, Repository, is_withheld
from repository.storage.local import LocalStore

AGENCY = "000.00.18.H40"
WRITER = Actor("vanthu.test", "test", system=True)


def _metadata(n: int, secrecy: int = 0) -> dict[str, object]:
    """The ``n``-th incoming document (its own number), at ``secrecy``."""
    return incoming(code_number=str(100 + n), subject=f"Về việc thử nghiệm số {n}", secrecy=secrecy)


def _auditor(clearance: int) -> Actor:
    name = f"kt.{clearance}"
    principal = Principal(name, roles=frozenset({(AGENCY, Role.KIEM_TOAN)}), clearance=clearance)
    return Actor(name, "test", principal)


LOW = _auditor(0)


def _repository(base: Path, *, index: bool = True) -> Repository:
    """A repository on ``base`` (another instance on the same folders stands for another
    process), with the audit index file an installation has, or (``index=False``) none."""
    return Repository(
        LocalStore(base / "store", fsync=False),
        LocalStore(base / "keys", fsync=False),
        agency_id=AGENCY,
        audit_index=base / "audit-index.sqlite" if index else None,
    )


class _CountingStore(LocalStore):
    """Counts the record versions read (``records/…``)."""

    record_reads = 0

    def get(self, key: str) -> bytes:
        if key.startswith("records/"):
            self.record_reads += 1
        return super().get(key)


def _withheld_of(repo: Repository, record_id: str) -> list[bool]:
    """For each ``record:view`` event of ``record_id`` (by seq, read as the system), whether the
    low auditor gets it withheld."""
    seqs = {e.seq for e in repo.audit.query(action="record:view") if e.record_id == record_id}
    shown = repo.audit_events(actor=LOW, action="record:view")
    return [is_withheld(e) for e in shown if e.seq in seqs]


def test_the_whole_log_reads_no_record_once_the_index_knows_its_secrecy(tmp_path: Path) -> None:
    """Issue #14: the whole log for an auditor below the top clearance read every record it
    names on every query (one load each: ~20 s of CPU at 100,000 records). The audit index keeps
    each record's secrecy: the first query reads each record once, the next ones none."""
    store = _CountingStore(tmp_path / "store", fsync=False)
    repo = Repository(
        store, LocalStore(tmp_path / "keys", fsync=False), agency_id=AGENCY,
        audit_index=tmp_path / "audit-index.sqlite",
    )
    ids = [repo.create_document("den", _metadata(n, 1 if n % 5 == 0 else 0), None, None, WRITER).record_id
           for n in range(20)]
    for record_id in ids:
        repo.audit.append("vanthu.test", "record:view", record_id=record_id, version=1)
    first = repo.audit_events(actor=LOW, action="record:view")
    assert sum(is_withheld(e) for e in first) == 4
    store.record_reads = 0
    again = repo.audit_events(actor=LOW, action="record:view")
    assert store.record_reads == 0
    assert [(e.seq, is_withheld(e)) for e in again] == [(e.seq, is_withheld(e)) for e in first]
    # A fresh process on the same index file reads none either.
    fresh = _CountingStore(tmp_path / "store", fsync=False)
    other = Repository(
        fresh, LocalStore(tmp_path / "keys", fsync=False), agency_id=AGENCY,
        audit_index=tmp_path / "audit-index.sqlite",
    )
    assert [is_withheld(e) for e in other.audit_events(actor=LOW, action="record:view")][: len(first)] == [
        is_withheld(e) for e in first
    ]
    assert fresh.record_reads == 0


@pytest.mark.parametrize("writer_index", [True, False], ids=["writer-with-index", "writer-without-index"])
def test_a_secrecy_raised_after_the_events_withholds_them_at_once_and_lowered_shows_them(
    tmp_path: Path, writer_index: bool
) -> None:
    """The secrecy the index noted is never trusted past a newer version of the record: a
    version written by this process, by another one sharing the index, or by one that keeps
    no index (its event, caught up from the log) makes the record be read again."""
    reader = _repository(tmp_path)
    doc = reader.create_document("den", _metadata(1), None, None, WRITER)
    reader.audit.append("vanthu.test", "record:view", record_id=doc.record_id, version=1)
    assert _withheld_of(reader, doc.record_id) == [False]  # noted: Thường
    writer = _repository(tmp_path, index=writer_index)
    raised = writer.update_metadata(doc.record_id, {"secrecy": 2}, expected_version=doc.version, actor=WRITER)
    assert _withheld_of(reader, doc.record_id) == [True]
    assert _withheld_of(reader, doc.record_id) == [True]  # and noted so
    writer.update_metadata(doc.record_id, {"secrecy": 0}, expected_version=raised.version, actor=WRITER)
    assert _withheld_of(reader, doc.record_id) == [False]


def test_a_version_announced_but_not_yet_written_keeps_the_record_read_from_the_store(
    tmp_path: Path,
) -> None:
    """Between a writer's announcement and its write (or after a writer died in between), the
    index's old secrecy is not used: the record is read, and the truth of the store decides."""
    repo = _repository(tmp_path)
    doc = repo.create_document("den", _metadata(1), None, None, WRITER)
    repo.audit.append("vanthu.test", "record:view", record_id=doc.record_id, version=1)
    assert _withheld_of(repo, doc.record_id) == [False]
    repo.audit.expect_version(doc.record_id, doc.version + 1)
    assert repo.audit.known_secrecy([doc.record_id]) == {}
    assert _withheld_of(repo, doc.record_id) == [False]
    assert repo.audit.known_secrecy([doc.record_id]) == {}  # still unsettled: read each time


def test_the_event_after_a_withheld_one_does_not_show_its_hash(tmp_path: Path) -> None:
    """The ``prev`` of the event that follows a withheld one is the withheld event's hash: with
    it, a guessed record id (and the usual details) of the withheld event could be confirmed by
    trial. It is blanked; the links between events shown whole stay."""
    repo = _repository(tmp_path)
    secret = repo.create_document("den", _metadata(1, secrecy=1), None, None, WRITER)
    plain = repo.create_document("den", _metadata(2), None, None, WRITER)
    repo.audit.append("vanthu.test", "record:view", record_id=secret.record_id, version=1)
    repo.audit.append("vanthu.test", "record:view", record_id=plain.record_id, version=1)
    repo.audit.append("vanthu.test", "record:view", record_id=plain.record_id, version=1)
    whole = {e.seq: e for e in repo.audit.events()}
    shown = repo.audit_events(actor=LOW)
    by_seq = {e.seq: e for e in shown}
    for event in shown:
        before = by_seq.get(event.seq - 1)
        if is_withheld(event):
            assert event.hash == "" and event.prev == ""
        elif before is not None and not is_withheld(before):
            assert event.prev == whole[event.seq].prev == before.hash  # the link stays
        else:
            assert event.prev == "", event  # no hash of a withheld event
    withheld_seqs = [e.seq for e in shown if is_withheld(e)]
    assert withheld_seqs and any(s + 1 in by_seq for s in withheld_seqs)
    assert not {whole[s].hash for s in withheld_seqs} & {x for e in shown for x in (e.prev, e.hash)}


def test_a_search_counted_above_the_auditors_clearance_is_withheld(tmp_path: Path) -> None:
    """A search event keeps the query, the filters and how many results the person got. The
    count of a Tuyệt mật reader's search counts Tuyệt mật documents: a kiểm toán viên cleared
    Thường read "quyết định Nhật Tân: 5 kết quả" and learnt that hidden documents match. The
    searches (and search exports) of a person cleared above the reader are withheld from them
    (who searched and when stay); those within their clearance are read whole."""
    repo = _repository(tmp_path)
    secret = Actor("cv.tm", "test", Principal(
        "cv.tm", roles=frozenset({(AGENCY, Role.CHUYEN_VIEN)}), clearance=3))
    plain = Actor("cv.th", "test", Principal(
        "cv.th", roles=frozenset({(AGENCY, Role.CHUYEN_VIEN)}), clearance=0))
    repo.audit_search(secret, "dự án Nhật Tân", 5, {"do_mat": ["3"]})
    repo.audit_export(secret, "search", {"format": "xlsx", "query": "Nhật Tân", "rows": 5, "total": 5})
    repo.audit_search(plain, "công văn", 2, {})
    # Written before the reach was recorded: it may have reached any level.
    repo.audit.append("cv.cu", "search", source="test", details={"query": "Nhật Tân", "count": 5})

    def shown(reader: Actor) -> list[tuple[str, str, bool, dict[str, object]]]:
        events = repo.audit_events(actor=reader, action=None)
        return [(e.actor, e.action, is_withheld(e), e.details) for e in events
                if e.action in ("search", "search:export")]

    low = shown(LOW)
    assert [(who, what, hidden) for who, what, hidden, _ in low] == [
        ("cv.tm", "search", True), ("cv.tm", "search:export", True), ("cv.th", "search", False),
        ("cv.cu", "search", True)]
    assert all("Nhật Tân" not in str(details) and 5 not in details.values()
               for _, _, hidden, details in low if hidden)
    assert low[2][3]["count"] == 2
    top = shown(_auditor(3))
    assert [hidden for _, _, hidden, _ in top] == [False, False, False, False]
    assert top[0][3]["count"] == 5 and top[0][3]["query"] == "dự án Nhật Tân"


def test_a_register_list_or_export_counted_above_the_auditors_clearance_is_withheld(tmp_path: Path) -> None:
    """``register:list`` keeps how many rows the person's sổ showed, and the exports of a sổ, of
    the hồ sơ received for nộp lưu and of the handling totals keep how many rows left Kho. Each
    count covers the rows up to that person's clearance: a kiểm toán viên cleared Thường read
    that a Tuyệt mật văn thư's Mật sổ held 2 rows. Such events of a person cleared above the
    reader are withheld from them (who, what and when stay), as searches are (review a15); an
    old one, written before the reach was kept, is withheld below the highest clearance."""
    repo = _repository(tmp_path)
    clerk = frozenset({(AGENCY, Role.VAN_THU)})
    secret = Actor("vt.tm", "test", Principal("vt.tm", roles=clerk, clearance=3))
    plain = Actor("vt.th", "test", Principal("vt.th", roles=clerk, clearance=0))
    made = [repo.create_document("den", _metadata(n, secrecy=2), None, None, WRITER) for n in (1, 2)]
    year = made[0].registration.year  # type: ignore[union-attr]
    assert len(repo.register("den-mat", year, actor=secret)) == 2
    repo.register("den", year, actor=plain)
    repo.audit_export(secret, "register", {"series": "den-mat", "year": year, "format": "xlsx", "count": 2})
    repo.audit_export(secret, "submission", {"what": "muc-luc", "format": "pdf", "files": 2})
    repo.audit_export(secret, "handling:report-totals", {"format": "pdf", "total": 2})
    # Written before the reach was recorded: it may have counted any level.
    repo.audit.append("vt.cu", "register:list", source="test", details={"series": "den-mat", "count": 2})
    counted = ("register:list", "register:export", "submission:export", "handling:report-totals:export")

    def shown(reader: Actor) -> list[tuple[str, str, bool, dict[str, object]]]:
        events = repo.audit_events(actor=reader, action=None)
        return [(e.actor, e.action, is_withheld(e), e.details) for e in events if e.action in counted]

    low = shown(LOW)
    assert [(who, what, hidden) for who, what, hidden, _ in low] == [
        ("vt.tm", "register:list", True), ("vt.th", "register:list", False),
        ("vt.tm", "register:export", True), ("vt.tm", "submission:export", True),
        ("vt.tm", "handling:report-totals:export", True), ("vt.cu", "register:list", True)]
    assert all(
        2 not in details.values() and "den-mat" not in str(details) for _, _, hidden, details in low if hidden
    )
    assert low[1][3]["count"] == 0 and low[1][3]["series"] == "den"
    top = shown(_auditor(3))
    assert [hidden for _, _, hidden, _ in top] == [False] * 6
    assert top[0][3]["count"] == 2 and top[0][3]["series"] == "den-mat"
