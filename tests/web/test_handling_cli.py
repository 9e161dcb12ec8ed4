"""``kho handling``: a step as the logged-in account, its codes on bad input, the operator's
rebuild of the work index from the store."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from kho_people import PASSWORD, People
from kho_testing import incoming

from web.cli import main
from web.context import Kho


def test_submit_show_conflict_and_reindex(kho: Kho, people: People) -> None:
    doc = kho.repo.create_document("den", incoming(), None, None, people.actor("van_thu"))
    run = CliRunner()
    assert (
        run.invoke(
            main, ["login", people.usernames["van_thu"], "--password-stdin"], input=PASSWORD + "\n"
        ).exit_code
        == 0
    )
    rid = doc.record_id
    done = run.invoke(
        main,
        [
            "handling",
            "step",
            rid,
            "submit",
            "--expected-seq",
            "0",
            "--user",
            people.usernames["lanh_dao"],
            "--note",
            "Kính trình",
        ],
    )
    assert done.exit_code == 0, done.output
    assert "Chờ chỉ đạo" in done.output
    stale = run.invoke(
        main,
        [
            "handling",
            "step",
            rid,
            "submit",
            "--expected-seq",
            "0",
            "--user",
            people.usernames["lanh_dao"],
            "--json",
        ],
    )
    assert stale.exit_code == 2 and json.loads(stale.stderr)["error"]["code"] == "WORKFLOW_CONFLICT"
    shown = run.invoke(main, ["handling", "show", rid])
    assert "Kính trình" in shown.output
    wrong = run.invoke(
        main,
        ["handling", "step", rid, "direct", "--expected-seq", "1", "--unit", "x", "--deadline", "2099-01-01"],
    )
    assert wrong.exit_code == 2 and "PERMISSION_DENIED" in wrong.stderr  # a văn thư does not direct
    (kho.settings.data_dir / "work-index.sqlite").unlink()
    rebuilt = run.invoke(main, ["handling", "reindex"])
    assert rebuilt.exit_code == 0 and "1 văn bản" in rebuilt.output
    run.invoke(main, ["logout"])
    assert (
        run.invoke(
            main, ["login", people.usernames["lanh_dao"], "--password-stdin"], input=PASSWORD + "\n"
        ).exit_code
        == 0
    )
    work = json.loads(run.invoke(main, ["handling", "work", "--json"]).output)
    assert work["counts"]["to_direct"] == 1


def test_outgoing_statuses_imported_from_a_file_all_or_nothing(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    from kho_testing import outgoing

    doc = kho.repo.create_document("di", outgoing(), None, None, people.actor("van_thu"))
    run = CliRunner()
    login = run.invoke(
        main, ["login", people.usernames["van_thu"], "--password-stdin"], input=PASSWORD + "\n"
    )
    assert login.exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f"record_id,organ,code,note\n{doc.record_id},Sở Nội vụ,03,\n"
        f"{doc.record_id},Văn phòng UBND tỉnh,07,\n",
        encoding="utf-8",
    )
    refused = run.invoke(main, ["handling", "import-status", str(bad)])
    assert refused.exit_code == 2 and "STATUS_IMPORT_INVALID" in refused.stderr and "dòng 3" in refused.stderr
    assert kho.handling.steps(doc.record_id) == []
    good = tmp_path / "good.csv"
    good.write_text(
        f"record_id,organ,code,note\n{doc.record_id},Sở Nội vụ,3,\n"
        f"{doc.record_id},Văn phòng UBND tỉnh,06,Xong\n",
        encoding="utf-8",
    )
    done = run.invoke(main, ["handling", "import-status", str(good)])
    assert done.exit_code == 0 and "2 trạng thái" in done.output
    _, state = kho.handling.state(doc.record_id, actor=people.actor("van_thu"))
    assert sorted((s.organ, s.code) for s in state.outgoing) == [
        ("Sở Nội vụ", "03"),
        ("Văn phòng UBND tỉnh", "06"),
    ]


def test_a_day_or_a_file_typed_wrong_gets_a_code_not_a_traceback(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    """``kho handling flag --today 2026-13-01`` and an import file that is not UTF-8 text (a
    spreadsheet saved in Windows-1258, a PDF given by mistake) printed a Python traceback."""
    run = CliRunner()
    login = run.invoke(
        main, ["login", people.usernames["van_thu"], "--password-stdin"], input=PASSWORD + "\n"
    )
    assert login.exit_code == 0
    for day in ("2026-13-01", "hôm qua", "2026-02-30"):
        flagged = run.invoke(main, ["handling", "flag", "--today", day])
        assert flagged.exit_code == 2 and "DATE_INVALID" in flagged.stderr, flagged.output
        assert "Traceback" not in flagged.output and "yyyy-mm-dd" in flagged.stderr.lower()
    latin = tmp_path / "trang-thai.csv"
    latin.write_bytes(b"record_id,organ,code,note\nx,S\xd4 N\xd4i v\xf5,03,\n")  # Windows-1258 bytes
    imported = run.invoke(main, ["handling", "import-status", str(latin)])
    assert imported.exit_code == 2 and "STATUS_IMPORT_INVALID" in imported.stderr, imported.output
    assert "UTF-8" in imported.stderr
