"""rv17: ``kho handling import-status`` promises "one bad row refuses the whole file, before
anything is written", but it checked the texts of a row (cơ quan nhận, ghi chú) only when it
wrote that row. A file whose later row had a terminal escape, a bidi override or a text over
the limit recorded every row before it, and then stopped with a traceback-free but partial
import: a re-run of the mended file recorded those statuses twice."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_people import PASSWORD, People
from kho_testing import outgoing

from web.cli import main
from web.context import Kho


def _logged_in(people: People) -> CliRunner:
    run = CliRunner()
    login = run.invoke(
        main, ["login", people.usernames["van_thu"], "--password-stdin"], input=PASSWORD + "\n"
    )
    assert login.exit_code == 0
    return run


@pytest.mark.parametrize(
    ("organ", "note", "said"),
    [
        ("Sở Tư pháp", "Đã nhận\x1b[2J", "ký tự điều khiển"),
        ("Sở Tư pháp\u202e", "", "ký tự điều khiển"),
        ("Sở Tư pháp", "x" * 1001, "vượt quá giới hạn"),
        ("S" * 1001, "", "vượt quá giới hạn"),
    ],
    ids=["escape-in-note", "bidi-in-organ", "long-note", "long-organ"],
)
def test_a_bad_text_in_a_later_row_refuses_the_file_before_any_row_is_written(
    kho: Kho, people: People, tmp_path: Path, organ: str, note: str, said: str
) -> None:
    doc = kho.repo.create_document("di", outgoing(), None, None, people.actor("van_thu"))
    statuses = tmp_path / "trang-thai.csv"
    statuses.write_text(
        f"record_id,organ,code,note\n{doc.record_id},Sở Nội vụ,03,\n{doc.record_id},{organ},03,{note}\n",
        encoding="utf-8",
    )
    done = _logged_in(people).invoke(main, ["handling", "import-status", str(statuses)])
    assert done.exit_code == 2 and "STATUS_IMPORT_INVALID" in done.stderr, done.output
    assert "dòng 3" in done.stderr and said in done.stderr and "chưa ghi dòng nào" in done.stderr
    assert kho.handling.steps(doc.record_id) == []


def test_a_file_whose_texts_are_good_is_still_imported_in_nfc(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    doc = kho.repo.create_document("di", outgoing(), None, None, people.actor("van_thu"))
    statuses = tmp_path / "trang-thai.csv"
    decomposed = unicodedata.normalize("NFD", "Sở Tư pháp")
    statuses.write_text(
        f"record_id,organ,code,note\n{doc.record_id},{decomposed},03, Đã nhận \n", encoding="utf-8"
    )
    done = _logged_in(people).invoke(main, ["handling", "import-status", str(statuses)])
    assert done.exit_code == 0, done.output
    _, state = kho.handling.state(doc.record_id, actor=people.actor("van_thu"))
    assert [(s.organ, s.code) for s in state.outgoing] == [("Sở Tư pháp", "03")]
