"""u32: what u31's terminal rule left through — a carriage return inside a stored text, and the
raw C1 controls and bidirectional overrides of ``--json`` output.

A trích yếu stored long ago as ``"Quyết định khen thưởng\\rQuyết định kỷ luật"`` printed by
``kho record show`` moved the cursor back to the start of the line and wrote its second half
over the first: the văn thư read "Quyết định kỷ luật" where the record says both. With
``--json`` the encoder escapes C0 controls but wrote U+009B (CSI), DEL and U+202E raw to the
terminal. Old texts are planted as u29–u31 did: a version written below the input rules."""

from __future__ import annotations

import dataclasses
import json

from kho_people import People
from kho_testing import incoming
from kho_web import cli_as

from repository.records import SYSTEM
from web.cli import main
from web.context import Kho
from web.terminal import json_text, terminal_text

OLD_SUBJECT = "Quyết định khen thưởng\rQuyết định kỷ luật \x9b2J\u202eAn\x7f\r"
HIDDEN = ("\x9b", "\u202e", "\x7f")


def _planted(kho: Kho, people: People) -> str:
    """A record whose current version holds :data:`OLD_SUBJECT`, written by the repository
    layer below the input rules, as a text stored before them is."""
    repo = kho.repo
    made = repo.create_document("den", incoming(code_number="312"), None, None, people.actor("van_thu"))
    current = repo._load(made.record_id)
    assert current.metadata is not None
    metadata = dataclasses.replace(current.metadata, subject=OLD_SUBJECT)
    new = dataclasses.replace(current, version=current.version + 1, metadata=metadata)
    repo._write_version(current, new, SYSTEM, "record:update", {"fields": ["subject"]})
    return made.record_id


def test_a_carriage_return_inside_a_stored_text_does_not_overwrite_the_line(kho: Kho, people: People) -> None:
    record_id = _planted(kho, people)
    run = cli_as(people, "van_thu")
    done = run.invoke(main, ["record", "show", record_id], color=True)
    assert done.exit_code == 0, done.output
    assert "\r" not in done.output  # before: the CR went to the terminal as stored
    assert "Quyết định khen thưởng\ufffdQuyết định kỷ luật \ufffd2J\ufffdAn\ufffd" in done.output


def test_json_output_escapes_what_would_drive_the_terminal_and_decodes_to_the_stored_text(
    kho: Kho, people: People
) -> None:
    record_id = _planted(kho, people)
    run = cli_as(people, "van_thu")
    done = run.invoke(main, ["record", "show", record_id, "--json"])
    assert done.exit_code == 0, done.output
    for hidden in HIDDEN:
        assert hidden not in done.output, repr(hidden)  # before: written raw
    assert "\\u009b2J\\u202eAn\\u007f" in done.output
    assert json.loads(done.output)["metadata"]["subject"] == OLD_SUBJECT  # exact, as before


def test_kho_own_progress_line_keeps_its_carriage_return() -> None:
    """``kho reindex`` redraws its progress line in place: one write that starts with CR."""
    progress = "\r  đã đọc 10, đã ghi 9, bỏ qua 1 (50/s)"
    assert terminal_text(progress) == progress
    assert terminal_text("dòng một\r\ndòng hai\r\n") == "dòng một\r\ndòng hai\r\n"
    assert terminal_text("a\rb") == "a\ufffdb"


def test_json_text_leaves_json_text_meaning_the_same_value() -> None:
    value = {"trích yếu": "x\x9b31m\u202e\x7f\ud800\u2066y", "n": [1, None]}
    written = json_text(json.dumps(value, ensure_ascii=False))
    assert json.loads(written) == value
    assert all(ord(c) < 0x7F or ord(c) > 0x9F for c in written)
    assert "\u202e" not in written and "\u2066" not in written and "\ud800" not in written
