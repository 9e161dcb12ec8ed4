"""``kho demo`` (what ``./scripts/run.sh`` loads) gave a hồ sơ 01.VP but no Danh mục hồ sơ: the
working day from a fresh clone stopped at the lưu trữ viên, whose "Tiếp nhận" of the nộp lưu
demo hồ sơ was refused (SUBMISSION_CHECKS_FAILED: not in the issued plan). The demo now issues
the 2026 plan that lists it (drafted by the văn thư, approved and issued by the lãnh đạo)."""

from __future__ import annotations

from datetime import date

from click.testing import CliRunner

from kho.config import Settings
from web.cli import main
from web.context import Kho


def test_the_demo_hoso_is_closed_submitted_and_taken_in_by_the_archivist(env: dict[str, str]) -> None:
    done = CliRunner().invoke(main, ["demo"])
    assert done.exit_code == 0, done.output
    kho = Kho(Settings.from_env())
    try:
        people = {
            role: kho.actor_of(kho.accounts.get(name), "test")
            for role, name in (("clerk", "khuedt.ubnd"), ("archivist", "haht.ubnd"))
        }
        [file_id] = [r.record_id for r in kho.repo.files_created_by(actor=people["clerk"])]
        retention = kho.retention
        record = kho.repo.get(file_id, actor=people["clerk"])
        record = retention.close_file(
            file_id, end_date=date(2026, 12, 5), expected_version=record.version, actor=people["clerk"]
        )
        record = retention.submit(file_id, expected_version=record.version, actor=people["clerk"])
        taken = retention.accept(file_id, expected_version=record.version, actor=people["archivist"])
        assert taken.state == "archived"
        plan = kho.retention.plan(2026)
        assert plan.state == "issued" and [i.notation for i in plan.items] == ["01.VP"]
    finally:
        kho.close()
