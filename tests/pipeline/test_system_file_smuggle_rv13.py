"""rv13: a real document cannot be passed off as a system file. u10 skipped (``bỏ qua``
[SOURCE_SYSTEM_FILE], exit 0) a file whose name and first bytes were those of Finder's
``.DS_Store``, AppleDouble's ``._*`` or Explorer's ``Thumbs.db``: a PDF behind a ``Bud1`` or
AppleDouble header, a Word file (OLE, like Thumbs.db) named ``Thumbs.db``, went unnoticed in a
folder whose import succeeded. A file that carries a document is judged by the rule of its
name again, as before u10: an error line (SOURCE_HIDDEN, or read and refused by its format)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from kho_testing import pdf_bytes

from ingest.bulk import import_paths
from ingest.status import JobStore
from kho.config import Settings
from repository.service import open_repository

BUD1 = b"\x00\x00\x00\x01Bud1" + b"\x00" * 40
APPLE_DOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + b"\x00" * 40
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 56


def test_a_document_behind_a_system_files_header_is_never_skipped(
    tmp_path: Path, env: dict[str, str]
) -> None:
    folder = tmp_path / "in"
    (folder / "mac").mkdir(parents=True)
    pdf = pdf_bytes("rv13 smuggled")
    (folder / ".DS_Store").write_bytes(BUD1 + pdf)
    (folder / "._quyet-dinh.pdf").write_bytes(APPLE_DOUBLE + pdf)
    word = OLE + b"\x00" * 448 + "WordDocument".encode("utf-16-le") + b"\x00" * 64
    (folder / "Thumbs.db").write_bytes(word)
    (folder / "mac" / ".DS_Store").write_bytes(BUD1 + b"\x00" * 4000)  # Finder's own: skipped
    report = import_paths([folder], settings=Settings.from_env(), workers=1)
    got = {str(Path(i.path).relative_to(folder)): (i.state, i.reason_code) for i in report.items}
    assert got == {
        ".DS_Store": ("lỗi", "SOURCE_HIDDEN"),
        "._quyet-dinh.pdf": ("lỗi", "SOURCE_HIDDEN"),
        "Thumbs.db": ("lỗi", "FILE_FORMAT_NOT_ALLOWED"),  # read, refused by its name's format
        "mac/.DS_Store": ("bỏ qua", "SOURCE_SYSTEM_FILE"),
    }, got
    assert (report.failed, report.system) == (3, 1)
    jobs = JobStore(open_repository(Settings.from_env()).store)
    assert jobs.find(hashlib.sha256(word).hexdigest()) is not None  # it was read
