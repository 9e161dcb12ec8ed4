"""``kho trust list/add/remove``: the shipped Vietnamese trust list, kept by a quản trị, audited;
``kho verify`` uses it out of the box."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

from click.testing import CliRunner
from kho_people import PASSWORD, People

from ingest.signatures import trustlist
from ingest.testpki import TestPKI
from web.cli import main
from web.context import Kho


def _login(runner: CliRunner, people: People, role: str) -> None:
    done = runner.invoke(main, ["login", people.usernames[role], "--password-stdin"], input=PASSWORD + "\n")
    assert done.exit_code == 0, done.output


def test_admin_adds_and_removes_an_anchor_and_each_change_is_audited(
    managed_env: dict[str, str], kho: Kho, people: People, tmp_path: Path
) -> None:
    runner = CliRunner()
    _login(runner, people, "quan_tri")
    listed = runner.invoke(main, ["trust", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    body = json.loads(listed.output)
    assert body["managed"] is False
    assert {a["sha256"] for a in body["anchors"]} == {a.sha256 for a in trustlist.shipped().anchors}

    root = tmp_path / "test-root.der"
    root.write_bytes(TestPKI.build().root.cert_der)
    added = runner.invoke(main, ["trust", "add", str(root), "--source", "ingest/testpki.py", "--json"])
    assert added.exit_code == 0, added.output
    anchor = json.loads(added.output)
    directory = Path(managed_env["KHO_DATA_DIR"]) / "trust"
    current = trustlist.read(directory)
    assert len(current.anchors) == len(trustlist.shipped().anchors) + 1
    assert anchor["sha256"] in {a.sha256 for a in current.anchors}
    assert current.store().fingerprint != trustlist.default_store().fingerprint

    again = runner.invoke(main, ["trust", "add", str(root), "--source", "x"])
    assert again.exit_code == 2 and "TRUST_ANCHOR_EXISTS" in again.output

    removed = runner.invoke(main, ["trust", "remove", anchor["sha256"][:12]])
    assert removed.exit_code == 0, removed.output
    assert trustlist.read(directory).store().fingerprint == trustlist.default_store().fingerprint

    events = [(e.action, e.actor, e.details.get("sha256")) for e in kho.repo.audit.query(action="trust:")]
    who = people.usernames["quan_tri"]
    assert events == [("trust:add", who, anchor["sha256"]), ("trust:remove", who, anchor["sha256"])]


def test_only_a_quan_tri_changes_the_list_and_bad_certificates_are_refused(
    managed_env: dict[str, str], kho: Kho, people: People, tmp_path: Path
) -> None:
    runner = CliRunner()
    root = tmp_path / "root.der"
    root.write_bytes(TestPKI.build().root.cert_der)
    nobody = runner.invoke(main, ["trust", "add", str(root), "--source", "x"])
    assert nobody.exit_code == 2 and "AUTH_REQUIRED" in nobody.output
    _login(runner, people, "van_thu")
    clerk = runner.invoke(main, ["trust", "add", str(root), "--source", "x"])
    assert clerk.exit_code == 2 and "Lỗi [" in clerk.output
    assert not (Path(managed_env["KHO_DATA_DIR"]) / "trust").exists()
    assert [e.details["action"] for e in kho.repo.audit.query(action="access:denied")] == ["system:operate"]

    _login(runner, people, "quan_tri")
    junk = tmp_path / "junk.crt"
    junk.write_bytes(b"not a certificate")
    refused = runner.invoke(main, ["trust", "add", str(junk), "--source", "x"])
    assert refused.exit_code == 2 and "TRUST_ANCHOR_INVALID" in refused.output
    leaf = tmp_path / "leaf.der"
    leaf.write_bytes(TestPKI.build().personal.cert_der)
    not_ca = runner.invoke(main, ["trust", "add", str(leaf), "--source", "x"])
    assert not_ca.exit_code == 2 and "TRUST_ANCHOR_NOT_CA" in not_ca.output
    unknown = runner.invoke(main, ["trust", "remove", "00000000"])
    assert unknown.exit_code == 2 and "TRUST_ANCHOR_NOT_FOUND" in unknown.output
    assert "Traceback" not in refused.output + not_ca.output + unknown.output
    assert [e.action for e in kho.repo.audit.query(action="trust:")] == []


def test_a_government_signed_pdf_verifies_out_of_the_box(
    managed_env: dict[str, str], corpus_pdf_dir: Path
) -> None:
    """No KHO_TRUST_DIR, no managed list: `kho verify` uses the shipped VGCA anchors."""
    sample = corpus_pdf_dir / "vn-gov__143-qd.signed.pdf"
    done = CliRunner().invoke(main, ["verify", "--json", str(sample)])
    result = json.loads(done.output)
    assert done.exit_code == 0, done.output
    assert result["verdict"]["indication"] == "TOTAL-PASSED"
    assert result["trust_store"] == trustlist.default_store().fingerprint


TRUST_NOTE = (
    "Chứng thư gốc của Trung tâm Chứng thực điện tử chuyên dùng Chính phủ (Ban Cơ yếu Chính phủ),"
    " thay thế chứng thư hết hạn ngày 31/12/2026; dấu vân tay đã đối chiếu với công bố trên Cổng"
    " thông tin điện tử của Ban Cơ yếu Chính phủ ngày 02/12/2026; thêm theo đề nghị tại Công văn"
    " số 1234/UBND-VP ngày 01/12/2026 của Văn phòng Ủy ban nhân dân tỉnh về việc cập nhật danh"
    " sách tin cậy."
)
"""A quản trị's one-line note on a trust anchor: a ``Ghi chú`` (Phụ lục VI: 500), over 200."""


def test_a_trust_anchor_note_of_a_few_lines_worth_is_kept_whole(
    managed_env: dict[str, str], kho: Kho, people: People, tmp_path: Path
) -> None:
    assert 200 < len(TRUST_NOTE) <= 500
    runner = CliRunner()
    _login(runner, people, "quan_tri")
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
