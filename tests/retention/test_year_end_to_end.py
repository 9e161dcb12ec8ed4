"""The issue's "Done when", in one controlled clock: a year of a hồ sơ from the plan to the
archive, then years later its destruction, after which its content cannot be read from the
store, the index or (after the key-backup period) a backup taken before the destruction, while
the register keeps the "đã hủy" row and fsck, reindex and the audit chain stay clean."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from kho_people import PASSWORD, People, make_people
from kho_retention import SECRET_WORD, Clock, kho_env, open_kho, search_count
from kho_testing import incoming, sealed_cong_van

from ingest.indexing import check_index, reindex_all
from ingest.testpki import TestPKI
from kho.errors import KeyDestroyed, KhoError
from repository import formats
from repository.fsck import fsck
from repository.records import DESTROYED_PREFIX
from retention.backup import destruction_rows, reapply_destructions, restore
from retention.destruction import Destructions, review_list
from retention.operations import run_backup, shred_key_backups
from retention.service import FileState
from retention.tasks import run_due_alerts
from web.context import Kho

PLAN = {
    "year": 2026,
    "headings": [{"number": "I", "title": "Tổng hợp", "abbreviation": "TH"}],
    "items": [
        {
            "notation": "01.TH",
            "title": "Công văn trao đổi về công tác văn thư",
            "maintenance": "05 năm",
            "creator": "Văn phòng",
            "heading": "I",
        }
    ],
}
SHRED_DAYS = 30
RENEWED = "Lưu-trữ-2032-mới!"


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Kho, People, Clock, list[bytes]]]:
    trust = tmp_path / "trust"
    pki = TestPKI.build()
    pki.write_trust_dir(trust)
    env = kho_env(
        tmp_path,
        KHO_TRUST_DIR=str(trust),
        KHO_BACKUP_URLS=(tmp_path / "backup-store").as_uri(),
        KHO_BACKUP_KEYS_URL=(tmp_path / "backup-keys").as_uri(),
        KHO_KEY_BACKUP_SHRED_DAYS=str(SHRED_DAYS),
    )
    clock = Clock(at(date(2026, 1, 5)))
    kho = open_kho(env, clock)
    people = make_people(kho)
    pdfs = [sealed_cong_van(seed) for seed in (41, 42)]  # of Bộ Nội vụ, as incoming() types them
    yield kho, people, clock, pdfs
    kho.close()


def test_a_year_of_a_file_then_its_destruction_leaves_only_the_row(
    setup: tuple[Kho, People, Clock, list[bytes]], tmp_path: Path
) -> None:
    kho, people, clock, pdfs = setup
    repo, service = kho.repo, kho.retention
    clerk, worker = people.actor("van_thu"), people.actor("chuyen_vien")
    archivist, head, operator = people.actor("luu_tru"), people.actor("lanh_dao"), people.actor("quan_tri")

    # January 2026: the plan is drafted, approved by the head and issued.
    plan = service.draft_plan(PLAN, actor=clerk)
    plan = service.approve_plan(2026, expected_version=plan.version, actor=head)
    service.issue_plan(2026, expected_version=plan.version, actor=head)
    assert service.plan(2026).state.value == "issued"

    # The hồ sơ is opened from the plan, filled with two registered documents, closed.
    file = service.open_file(2026, "01.TH", actor=worker)
    clock.now = at(date(2026, 2, 10))
    docs = []
    for n, pdf in enumerate(pdfs):
        record = kho.receive.receive_and_register(
            pdf,
            f"cv{n}.pdf",
            "den",
            incoming(code_number=f"{301 + n}", issued_date="2026-02-02", arrival_date="2026-02-05"),
            clerk,
        )
        text = {"parts": [{"page": 1, "text": f"Nội dung {SECRET_WORD} số {n}"}], "format": "pdf"}
        repo.put_derived(record.record_id, "text.json", formats.dump_derived(text, "text.json"))
        repo._emit(repo._load(record.record_id))
        docs.append(record.record_id)
        file = repo.add_to_file(file.record_id, record.record_id, expected_version=file.version, actor=worker)
    clock.now = at(date(2026, 3, 20))
    file = service.close_file(
        file.record_id, end_date=date(2026, 3, 15), expected_version=file.version, actor=worker
    )
    assert file.state == FileState.CLOSED and file.extra["doc_total"] == 2

    # 30 days before the nộp lưu due date (15/03/2027) the holder and the lưu trữ are alerted.
    clock.now = at(date(2027, 2, 12))
    assert run_due_alerts(kho.accounts, kho.retention) == []
    clock.now = at(date(2027, 2, 13))
    sent = run_due_alerts(kho.accounts, kho.retention)
    assert [(a.file_id, a.due) for a in sent] == [(file.record_id, date(2027, 3, 15))]
    for who in ("chuyen_vien", "luu_tru"):
        assert any(n.kind == "retention:due" for n in kho.accounts.notifications(people.usernames[who]))

    # Submitted, returned once, submitted again, accepted.
    file = service.submit(file.record_id, expected_version=file.version, actor=worker)
    file = service.return_file(
        file.record_id, reason="Thiếu văn bản phê duyệt", expected_version=file.version, actor=archivist
    )
    assert file.state == FileState.CLOSED
    file = service.submit(file.record_id, expected_version=file.version, actor=worker)
    file = service.accept(file.record_id, expected_version=file.version, actor=archivist)
    assert file.state == FileState.ARCHIVED
    assert [s["state"] for s in service.submission_of(file)["history"]] == [
        "submitted",
        "returned",
        "submitted",
        "accepted",
    ]

    # Years later (5 năm counted from 01/01/2027): listed as "Xem xét hủy", not a day earlier.
    clock.now = at(date(2031, 12, 31))
    assert review_list(repo, actor=archivist, today=clock().date()) == []
    clock.now = at(date(2032, 2, 2))
    listed = review_list(repo, actor=archivist, today=clock().date())
    assert [c.record_id for c in listed] == [file.record_id]

    # The nightly backup, taken before the destruction.
    before = run_backup(repo, kho.settings, operator, now=clock())
    assert {c["label"] for c in before.copies} == {"store", "keys"}
    assert search_count(kho, people, SECRET_WORD) == 2

    # Council, reviews, minutes, appraisal, decision, re-authenticated execution.
    d = Destructions(repo, kho.accounts, kho.backend)
    case = d.propose([file.record_id], "Hồ sơ hết thời hạn bảo quản 05 năm.", actor=archivist)
    members = [people.usernames[w] for w in ("lanh_dao", "luu_tru", "chuyen_vien")]
    case = d.establish_council(case["case_id"], members, "Quyết định số 05/QĐ-UBND", actor=head)
    for who in ("lanh_dao", "luu_tru", "chuyen_vien"):
        case = d.review(case["case_id"], "agree", "Đồng ý hủy", actor=people.actor(who))
    case = d.record_minutes(case["case_id"], "Biên bản họp: 3/3 thành viên đồng ý.", actor=archivist)
    case = d.attach_appraisal(case["case_id"], "Công văn thẩm định số 12/SNV-LT", actor=archivist)
    case = d.decide(
        case["case_id"], "Quyết định số 09/QĐ-UBND", approve=True, deadline=date(2032, 2, 17), actor=head
    )
    # Years without a login locked the archivist's account (idle) and aged her password: the
    # quản trị unlocks it and she renews her password before re-authenticating to execute.
    with pytest.raises(KhoError) as idle:
        d.execute(case["case_id"], PASSWORD, actor=archivist)
    assert idle.value.code == "ACCOUNT_LOCKED" and repo.keys.exists(docs[0])
    name = people.usernames["luu_tru"]
    kho.accounts.unlock(name, kho.accounts.get(people.usernames["quan_tri"]))
    kho.accounts.change_password(name, PASSWORD, RENEWED)
    with pytest.raises(KhoError) as wrong:
        d.execute(case["case_id"], "không-phải-mật-khẩu", actor=archivist)
    assert wrong.value.code == "LOGIN_FAILED" and repo.keys.exists(docs[0])
    assert d.cases.latest(case["case_id"])["state"] == "decided", "nothing done"
    clock.now = at(date(2032, 2, 16))  # within the 15 days of TT 06/2025
    assert d.execute(case["case_id"], RENEWED, actor=archivist)["state"] == "done"

    # Unreadable from the store and the index; the register keeps the "đã hủy" rows.
    for rid in [*docs, file.record_id]:
        assert not repo.keys.exists(rid) and repo.destroyed(rid) is not None
        assert not list(repo.store.list(f"records/{rid}/derived/"))
        with pytest.raises(KeyDestroyed):
            repo.keys.get(rid)
    rows = repo.register("den", 2026, actor=head)
    assert {r.record_id for r in rows if r.state == "destroyed"} == set(docs)
    assert search_count(kho, people, SECRET_WORD) == 0
    index_files = b"".join(
        p.read_bytes() for p in (kho.settings.data_dir / "index").rglob("*") if p.is_file()
    )
    assert SECRET_WORD.encode() not in index_files

    # Within the key-backup period the old key backup still holds the keys; after it, shredded.
    keys_url = kho.settings.backup_keys_url
    assert shred_key_backups(repo, kho.settings, operator, keys_url, now=clock()).due == ()
    clock.now = clock.now + timedelta(days=SHRED_DAYS + 1)
    shredded = shred_key_backups(repo, kho.settings, operator, keys_url, now=clock())
    assert set(shredded.due) >= {*docs, file.record_id} and shredded.blobs >= 3

    # The pre-destruction backup restored into a fresh installation: content unreadable, row present.
    from repository.storage import open_store

    fresh = open_kho(kho_env(tmp_path / "fresh"), clock)
    try:
        restore(open_store(kho.settings.backup_urls[0]), fresh.repo.store, label="store")
        restore(open_store(keys_url), fresh.repo.keys.store, label="keys")
        for rid in docs:  # the old copy still holds the sealed original, but no key opens it
            assert list(fresh.repo.store.list(f"records/{rid}/content"))
            with pytest.raises(KeyDestroyed):
                fresh.repo.keys.get(rid)
            with pytest.raises(KeyDestroyed):
                fresh.repo.read_content(rid, actor=head)
        reapplied = reapply_destructions(
            fresh.repo, destruction_rows(repo.store, backed_up=False), actor=operator
        )
        assert set(reapplied) >= set(docs)
        for rid in docs:
            assert fresh.repo.store.exists(f"{DESTROYED_PREFIX}{rid}")
            assert fresh.repo.get(rid, actor=head).state == "destroyed"
        restored_rows = fresh.repo.register("den", 2026, actor=head)
        assert {r.record_id for r in restored_rows if r.state == "destroyed"} == set(docs)
    finally:
        fresh.close()

    # fsck, reindex and the audit chain stay clean; every step is on record.
    assert fsck(repo, deep=True).clean
    assert reindex_all(repo, kho.backend).total >= 3
    assert check_index(repo, kho.backend).ok
    assert search_count(kho, people, SECRET_WORD) == 0
    assert repo.audit_verify(actor=people.actor("kiem_toan")).ok
    actions = [e.action for e in repo.audit.events()]
    for step in (
        "plan:issue",
        "file:close",
        "retention:alert",
        "submission:return",
        "submission:accept",
        "backup:create",
        "destruction:decide",
        "destruction:done",
        "backup:shred-keys",
    ):
        assert step in actions, step
