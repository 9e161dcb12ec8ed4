"""Review rv15 of u11's Office owner files: the ``~$`` rule looked at the name's first two
characters, the size (162 or 165) and two bytes, and the document-mark scan. A plain-text
document (.txt, .csv: formats Kho takes whose content carries no mark) named ``~$…`` and shaped
that way was ``bỏ qua`` [SOURCE_SYSTEM_FILE] while ``kho ingest`` exited 0: a document hidden from
an intake by its name. Owner files that name such a format are now read like any file (a text
one imported, another an error line), never skipped."""

from __future__ import annotations

from pathlib import Path

from ingest.bulk import SYSTEM_STATE, import_paths, system_file
from kho.config import Settings


def _owner_shaped_text(size: int, at: int) -> bytes:
    """Valid UTF-8 text of ``size`` bytes whose first byte (``1``, 49) is an owner file's name
    length and is repeated, followed by a NUL, at offset ``at`` (54: Word, 55: Excel)."""
    start = "1. Biên bản họp giao ban, phòng Tổng hợp".encode()
    head = start.ljust(at, b" ")
    body = head + b"1\x00" + "Nội dung: thống nhất kế hoạch quý II năm 2026.".encode()
    assert len(body) < size
    data = body.ljust(size - 1, b" ") + b"\n"
    data.decode("utf-8")
    return data


def test_a_text_document_with_an_owner_files_name_and_shape_is_not_skipped(
    tmp_path: Path, env: dict[str, str]
) -> None:
    folder = tmp_path / "usb"
    folder.mkdir()
    documents = {"~$bien-ban.txt": _owner_shaped_text(162, 54), "~$so-lieu.csv": _owner_shaped_text(165, 55)}
    for name, data in documents.items():
        (folder / name).write_bytes(data)
    for name in documents:
        assert system_file(folder / name) is None, name
    report = import_paths([folder], settings=Settings.from_env(), workers=1)
    got = {Path(i.path).name: (i.state, i.reason_code) for i in report.items}
    assert set(got) == set(documents), got
    assert all(state != SYSTEM_STATE for state, _ in got.values()), got
    assert report.system == 0 and report.done + report.failed == 2, got
