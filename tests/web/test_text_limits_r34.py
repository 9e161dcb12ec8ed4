"""r34 review of m9's length limits: a note is a note wherever it is typed (the trust list's
one-line note is a ``Ghi chú``, not a one-line reference), and a text the rule accepts is stored
whole, never cut silently (the retention schedule's căn cứ was cut at 500 characters)."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_people import PASSWORD, People

from ingest.signatures import trustlist
from ingest.testpki import TestPKI
from kho.errors import KhoError
from repository.vocabulary import TextKind
from web.cli import main
from web.context import Kho

TRUST_NOTE = (
    "Chứng thư gốc của Trung tâm Chứng thực điện tử chuyên dùng Chính phủ (Ban Cơ yếu Chính phủ),"
    " thay thế chứng thư hết hạn ngày 31/12/2026; dấu vân tay đã đối chiếu với công bố trên Cổng"
    " thông tin điện tử của Ban Cơ yếu Chính phủ ngày 02/12/2026; thêm theo đề nghị tại Công văn"
    " số 1234/UBND-VP ngày 01/12/2026 của Văn phòng Ủy ban nhân dân tỉnh về việc cập nhật danh"
    " sách tin cậy."
)
"""A quản trị's one-line note on a trust anchor: a ``Ghi chú`` (Phụ lục VI: 500), over 200."""


@pytest.fixture
def managed_env(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The installation without KHO_TRUST_DIR: the managed list in <KHO_DATA_DIR>/trust."""
    monkeypatch.delenv("KHO_TRUST_DIR")
    return {k: v for k, v in env.items() if k != "KHO_TRUST_DIR"}


def test_a_trust_anchor_note_of_a_few_lines_worth_is_kept_whole(
    managed_env: dict[str, str], kho: Kho, people: People, tmp_path: Path
) -> None:
    assert 200 < len(TRUST_NOTE) <= 500
    runner = CliRunner()
    done = runner.invoke(
        main, ["login", people.usernames["quan_tri"], "--password-stdin"], input=PASSWORD + "\n"
    )
    assert done.exit_code == 0, done.output
    root = tmp_path / "test-root.der"
    root.write_bytes(TestPKI.build().root.cert_der)
    typed = unicodedata.normalize("NFD", TRUST_NOTE)  # as a terminal may hand it over
    added = runner.invoke(
        main, ["trust", "add", str(root), "--source", "Ban Cơ yếu Chính phủ", "--note", typed, "--json"]
    )
    assert added.exit_code == 0, added.output
    sha256 = json.loads(added.output)["sha256"]
    stored = {a.sha256: a for a in trustlist.read(Path(managed_env["KHO_DATA_DIR"]) / "trust").anchors}
    assert stored[sha256].note == TRUST_NOTE

    too_long = runner.invoke(main, ["trust", "add", str(root), "--source", "x", "--note", "x" * 1001])
    assert too_long.exit_code == 2 and "FIELD_TOO_LONG" in too_long.output


def _schedule_entries(kho: Kho) -> list[dict[str, object]]:
    return [e.to_dict() for e in kho.retention.schedule().entries]


def test_the_schedule_keeps_the_whole_reason_it_was_edited_for(kho: Kho, people: People) -> None:
    service = kho.retention
    admin = people.actor("quan_tri")
    clause = (
        "Căn cứ Thông tư số 10/2022/TT-BNV ngày 19/12/2022 của Bộ Nội vụ quy định thời hạn bảo quản"
        " tài liệu, Mục 3 nhóm hồ sơ hội nghị, hội thảo; "
    )
    note = (clause * 6).strip()
    assert 500 < len(note) <= TextKind.NOTE
    new = service.edit_schedule(_schedule_entries(kho), expected_version=1, note=note, actor=admin)
    assert new.note == note
    assert service.schedule().note == note
    (event,) = [e for e in kho.repo.audit.events() if e.action == "retention:schedule-edit"]
    assert event.details["note"] == note

    with pytest.raises(KhoError) as refused:
        service.edit_schedule(_schedule_entries(kho), expected_version=2, note="x" * 1001, actor=admin)
    assert [e.code for e in refused.value.errors] == ["FIELD_TOO_LONG"]  # type: ignore[attr-defined]
    assert service.schedule().version == 2
