"""The operating system's reasons reach people in Vietnamese (u25).

``OSError.strerror`` is English ("No such file or directory", "Not a directory", "Too many
levels of symbolic links"); every message that said it now says :func:`kho.os_reasons.os_reason`,
and the machine details keep the errno's name. Real files, the real ``kho`` program.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from kho.errors import KhoError, StoreUnavailable
from kho.files import read_small_file
from kho.os_reasons import errno_name, os_reason
from repository.storage.local import LocalStore
from retention import runlock

ROOT = Path(__file__).resolve().parents[2]
ENGLISH = (
    "No such file",
    "Not a directory",
    "Too many levels",
    "Permission denied",
    "Is a directory",
    "Errno",
)


def _vietnamese(text: str) -> None:
    assert unicodedata.is_normalized("NFC", text), text
    assert not any(word in text for word in ENGLISH), text


@pytest.mark.parametrize(
    ("number", "phrase"),
    [
        (errno.ENOENT, "không tồn tại"),
        (errno.EACCES, "không có quyền truy cập"),
        (errno.EISDIR, "đây là một thư mục, không phải tệp"),
        (errno.ENOTDIR, "một phần của đường dẫn không phải thư mục"),
        (errno.ELOOP, "liên kết tượng trưng lặp vòng"),
        (errno.ENOSPC, "ổ đĩa đã đầy"),
    ],
)
def test_each_errno_has_its_phrase_and_name(number: int, phrase: str) -> None:
    exc = OSError(number, os.strerror(number))
    assert os_reason(exc) == phrase
    assert errno_name(exc) == errno.errorcode[number]


def test_an_errno_without_a_phrase_is_named_not_told_in_english() -> None:
    assert os_reason(OSError(errno.EXFULL, os.strerror(errno.EXFULL))) == "lỗi hệ thống (EXFULL)"
    assert os_reason(OSError("no errno")) == "lỗi hệ thống"
    assert errno_name(OSError("no errno")) is None


def _kho(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KHO_")}
    env.update(KHO_DATA_DIR=str(tmp_path / "data"), KHO_AGENCY_ID="000.00.18.H40", KHO_TOKEN="")
    return subprocess.run(
        [sys.executable, "-m", "web.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_missing_metadata_file_is_told_in_vietnamese_with_its_errno(tmp_path: Path) -> None:
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(b"%PDF-1.7\n")
    ran = _kho(
        tmp_path, "record", "create", "--direction", "den", "--file", str(pdf),
        "--metadata", str(tmp_path / "missing.json"), "--json",
    )
    assert ran.returncode == 2, ran.stderr
    error = json.loads(ran.stderr.strip().splitlines()[-1])["error"]
    assert error["code"] == "METADATA_FILE_INVALID"
    assert "không tồn tại" in error["message"]
    _vietnamese(error["message"])
    assert error["details"]["errno"] == "ENOENT"


def test_a_missing_source_file_is_told_in_vietnamese(tmp_path: Path) -> None:
    ran = _kho(tmp_path, "record", "create", "--direction", "den", "--file", str(tmp_path / "missing.pdf"))
    assert ran.returncode == 2, ran.stderr
    assert "Lỗi [SOURCE_UNREADABLE]: Không đọc được tệp: không tồn tại." in ran.stderr, ran.stderr
    _vietnamese(ran.stderr)


def test_a_small_file_under_a_file_names_enotdir(tmp_path: Path) -> None:
    blocker = tmp_path / "plain"
    blocker.write_text("x")
    with pytest.raises(KhoError) as refused:
        read_small_file(blocker / "plan.json", code="BODY_INVALID", label="danh mục")
    assert refused.value.code == "BODY_INVALID"
    assert refused.value.details["errno"] == "ENOTDIR"
    _vietnamese(str(refused.value))


def test_a_local_store_that_cannot_be_made_says_why_in_vietnamese(tmp_path: Path) -> None:
    blocker = tmp_path / "plain"
    blocker.write_text("x")
    with pytest.raises(StoreUnavailable) as refused:
        LocalStore(blocker / "store")
    assert "một phần của đường dẫn không phải thư mục" in refused.value.message
    _vietnamese(refused.value.message)
    assert refused.value.details["errno"] == "ENOTDIR"
    assert blocker.read_text() == "x"


def test_a_link_in_place_of_a_lock_file_is_told_in_vietnamese(tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("giữ nguyên")
    path = runlock.lock_path(tmp_path, "backup")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    with pytest.raises(runlock.Unavailable) as refused, runlock.held(tmp_path, "backup"):
        pass
    assert str(refused.value).endswith("liên kết tượng trưng lặp vòng")
    _vietnamese(str(refused.value))
    assert refused.value.errno_name == "ELOOP"
    assert target.read_text() == "giữ nguyên"
