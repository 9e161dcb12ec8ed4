"""``kho archive``: the archivist's commands act as the logged-in account, refuse with codes."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from kho_people import PASSWORD, People
from kho_retention import closed_file, council_ready

from kho.timeutil import vn_date
from web.cli import main
from web.context import Kho


def login(runner: CliRunner, people: People, who: str) -> None:
    done = runner.invoke(main, ["login", people.usernames[who], "--password-stdin"], input=PASSWORD + "\n")
    assert done.exit_code == 0, done.output


def test_archivist_lists_holds_and_is_refused_destroying_held_files(kho: Kho, people: People) -> None:
    file, _ = closed_file(kho, people)
    runner = CliRunner()
    login(runner, people, "luu_tru")
    listed = runner.invoke(main, ["archive", "review", "--today", "2027-03-01", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [c["record_id"] for c in json.loads(listed.output)] == [file.record_id]
    held = runner.invoke(main, ["archive", "hold", file.record_id, "--reason", "Thanh tra", "--json"])
    assert held.exit_code == 0, held.output
    refused = runner.invoke(
        main, ["archive", "destruction", "propose", file.record_id, "--explanation", "Hết hạn"]
    )
    assert refused.exit_code == 2 and "[LEGAL_HOLD]" in refused.output and "phong tỏa" in refused.output
    order = json.loads(held.output)["order_id"]
    assert runner.invoke(main, ["archive", "release", order, "--reason", "Xong"]).exit_code == 0
    proposed = runner.invoke(
        main, ["archive", "destruction", "propose", file.record_id, "--explanation", "Hết hạn", "--json"]
    )
    assert proposed.exit_code == 0, proposed.output
    case_id = json.loads(proposed.output)["case_id"]
    not_head = runner.invoke(main, ["archive", "destruction", "decide", case_id, "--decision", "QĐ 1"])
    assert not_head.exit_code == 2 and "[PERMISSION_DENIED]" in not_head.output


def test_a_clerk_cannot_export_a_sip(kho: Kho, people: People, tmp_path: Path) -> None:
    file, _ = closed_file(kho, people, maintenance="Vĩnh viễn")
    runner = CliRunner()
    login(runner, people, "van_thu")
    refused = runner.invoke(main, ["archive", "export-sip", file.record_id, "--out", str(tmp_path)])
    assert refused.exit_code == 2 and "[PERMISSION_DENIED]" in refused.output


def test_the_decision_deadline_and_the_dossier_documents_from_the_command_line(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    file, _ = closed_file(kho, people, notation="09.VP")
    d, case = council_ready(kho, people, [file.record_id])
    case_id = case["case_id"]
    runner = CliRunner()
    login(runner, people, "lanh_dao")
    past = runner.invoke(
        main, ["archive", "destruction", "decide", case_id, "--decision", "QĐ 9", "--deadline", "2020-01-01"]
    )
    assert past.exit_code == 2 and "[DEADLINE_PAST]" in past.output
    today = vn_date(kho.repo.clock())
    late = (today + timedelta(days=16)).isoformat()  # TT 06/2025: at the latest 15 days after
    too_late = runner.invoke(
        main, ["archive", "destruction", "decide", case_id, "--decision", "QĐ 9", "--deadline", late]
    )
    assert too_late.exit_code == 2 and "[DEADLINE_TOO_LATE]" in too_late.output
    assert "15 ngày" in too_late.output
    last = (today + timedelta(days=15)).isoformat()
    decided = runner.invoke(
        main,
        ["archive", "destruction", "decide", case_id, "--decision", "QĐ 9", "--deadline", last, "--json"],
    )
    assert decided.exit_code == 0, decided.output
    assert json.loads(decided.output)["decision"]["deadline"] == last
    login(runner, people, "luu_tru")
    out = tmp_path / "danh-muc.xlsx"
    wrote = runner.invoke(
        main,
        ["archive", "destruction", "document", case_id, "danh-muc", "--format", "xlsx", "--out", str(out)],
    )
    assert wrote.exit_code == 0, wrote.output
    assert out.read_bytes().startswith(b"PK")
    from openpyxl import load_workbook

    cells = [v for row in load_workbook(out).active.iter_rows(values_only=True) for v in row if v]
    assert any("09.VP" in str(v) for v in cells)
    early = runner.invoke(
        main,
        ["archive", "destruction", "document", case_id, "bien-ban-huy", "--out", str(tmp_path / "x.pdf")],
    )
    assert early.exit_code == 2 and "[DOSSIER_DOCUMENT_NOT_READY]" in early.output
    listed = runner.invoke(main, ["archive", "destruction", "overdue", "--json"])
    assert listed.exit_code == 0 and json.loads(listed.output) == []
    assert d.cases.latest(case_id)["state"] == "decided"


def test_the_sip_export_names_the_documents_left_out(kho: Kho, people: People, tmp_path: Path) -> None:
    file, docs = closed_file(kho, people, notation="04.VP", maintenance="Vĩnh viễn")
    kho.repo.destroy(docs[0], decision="QĐ thu hồi số 4", actor=people.actor("quan_tri"))
    runner = CliRunner()
    login(runner, people, "luu_tru")
    done = runner.invoke(main, ["archive", "export-sip", file.record_id, "--out", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert "Không có trong gói tin" in done.output and docs[0] in done.output and "đã hủy" in done.output
