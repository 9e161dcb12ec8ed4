"""``kho handling``: a step as the logged-in account, its codes on bad input, the operator's
rebuild of the work index from the store."""

from __future__ import annotations

import json

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
