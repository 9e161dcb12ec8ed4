"""m65: ``kho fsck-acknowledge`` through the real ``kho`` command, on the local store and the Ceph
S3 gateway. ``kho fsck`` prints, for a number given twice (m61), the finding's digest and the
command that records a decision on it; the logged-in quản trị of the agency records it (an
``fsck:acknowledge`` event: who, when, why); ``kho fsck`` then lists the finding as acknowledged
(by whom, when, why) and exits 0, ``--json`` too. Bad input is refused with a Vietnamese message
and its code, exit 2, no traceback and nothing written."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result
from flask.testing import FlaskClient
from kho_people import PASSWORD, People
from kho_testing import CLERK, outgoing

from repository.audit import EventDraft
from web.cli import main
from web.context import Kho

pytestmark = pytest.mark.sealed
REUSED = "register-number-reused"
REASON = "Lãnh đạo quyết định văn bản cấp trước giữ số 01 (Công văn 15/UBND ngày 07/12/2026)."


def _refused(result: Result, code: str) -> str:
    assert result.exit_code == 2, result.output
    assert f"Lỗi [{code}]:" in result.output, result.output
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.output


def _login(runner: CliRunner, people: People, who: str) -> None:
    done = runner.invoke(main, ["login", people.usernames[who], "--password-stdin"], input=PASSWORD + "\n")
    assert done.exit_code == 0, done.output


def _decisions(kho: Kho) -> list[object]:
    return [e for e in kho.repo.audit.events() if e.action == "fsck:acknowledge"]


def test_kho_fsck_acknowledge_records_the_decision_and_fsck_lists_it_without_failing(
    store_site: tuple[Kho, People, FlaskClient],
) -> None:
    kho, people, _ = store_site
    repo = kho.repo
    first = repo.create_document("di", outgoing(), None, None, CLERK)
    second = repo.create_document("di", outgoing(), None, None, CLERK)
    assert first.registration is not None and second.registration is not None
    year = first.registration.year
    number = {"series": "hanh-chinh", "year": year, "number": 1, "organ_id": repo.agency_id}
    repo.audit.append_many(
        [EventDraft("x", "register:assign", record_id=second.record_id, version=1, details=number)]
    )
    runner = CliRunner()
    checked = runner.invoke(main, ["fsck", "--json"])
    assert checked.exit_code == 1, checked.output
    [issue] = json.loads(checked.stdout)["issues"]
    kind, subject, digest = issue["kind"], issue["subject"], issue["finding"]
    assert kind == REUSED and len(digest) == 64 and issue["acknowledged"] is None  # main: no "finding"
    shown = runner.invoke(main, ["fsck"])
    assert shown.exit_code == 1
    assert f"(CHƯA SỬA) Mã phát hiện {digest}" in shown.output
    assert f"kho fsck-acknowledge {REUSED} {subject} --finding MÃ --reason LÝ_DO" in shown.output

    ack = ["fsck-acknowledge", kind, subject]
    full = [*ack, "--finding", digest, "--reason", REASON]
    # Not logged in, or logged in without the right: refused, nothing written.
    _refused(runner.invoke(main, full), "AUTH_REQUIRED")
    _login(runner, people, "van_thu")
    _refused(runner.invoke(main, full), "PERMISSION_DENIED")

    _login(runner, people, "quan_tri")
    look = runner.invoke(main, ack)  # without --finding: shows only
    assert look.exit_code == 1 and f"Mã phát hiện {digest}" in look.output and "Chưa ghi gì" in look.output
    for args, code in [
        (["no-such-kind", subject], "FSCK_KIND_UNKNOWN"),
        (["uncommitted", subject], "FSCK_KIND_NOT_ACKNOWLEDGEABLE"),
        ([kind, subject.replace("00000001", "00000009")], "FSCK_FINDING_NOT_FOUND"),
        ([kind, subject, "--finding", "0" * 64], "FSCK_FINDING_CHANGED"),
    ]:
        said = _refused(runner.invoke(main, ["fsck-acknowledge", *args, "--reason", REASON]), code)
        assert "fsck" in said  # Vietnamese, saying what to do
    _refused(runner.invoke(main, [*ack, "--finding", digest]), "REASON_INVALID")
    escape = [*ack, "--finding", digest, "--reason", "a\x1b[31mb"]
    _refused(runner.invoke(main, escape), "FIELD_CONTROL_CHARS")
    as_json = runner.invoke(main, [*ack, "--json", "--finding", "x", "--reason", "y"])
    assert as_json.exit_code == 2 and json.loads(as_json.stderr)["error"]["code"] == "FSCK_FINDING_CHANGED"
    assert _decisions(kho) == []

    done = runner.invoke(main, full)
    assert done.exit_code == 0, done.output
    [event] = _decisions(kho)
    assert f"Đã ghi quyết định: sự kiện #{event.seq}." in done.output  # type: ignore[attr-defined]
    admin = people.usernames["quan_tri"]
    assert event.actor == admin and event.details["reason"] == REASON  # type: ignore[attr-defined]

    after = runner.invoke(main, ["fsck"])
    assert after.exit_code == 0, after.output  # main: 1 for ever
    assert f"[{REUSED}] {subject}: Số 01 của Sổ văn bản hành chính" in after.output  # still listed
    assert f"KHÔNG SỬA, ĐÃ CHẤP NHẬN bởi {admin} lúc " in after.output and REASON in after.output
    assert "Kho nhất quán, trừ 1 phát hiện" in after.output
    report = json.loads(runner.invoke(main, ["fsck", "--json"]).stdout)
    assert report["open"] == 0 and not report["clean"]
    [listed] = report["issues"]
    assert listed["acknowledged"]["by"] == admin and listed["acknowledged"]["reason"] == REASON
    assert listed["acknowledged"]["event"] == event.seq  # type: ignore[attr-defined]
    _refused(runner.invoke(main, full), "FSCK_ALREADY_ACKNOWLEDGED")
    assert len(_decisions(kho)) == 1
