"""u35: a reason printed on one line stays one line. ``kho audit acknowledge`` took a reason with
line breaks and ``kho audit verify`` printed it after the finding it acknowledges, so a reason
could add lines that read as Kho's own (a finding no one acknowledged shown as acknowledged, an
open one hidden among forged ones). Now the reason is refused with ``FIELD_CONTROL_CHARS`` (as
``kho fsck-acknowledge``'s since m65), by the command, the web form and the API; and a reason
already in the log (written before u35, or by a writer of the store) is printed with its line
breaks escaped, by ``kho audit verify``, ``kho fsck`` and ``kho intake return``."""

from __future__ import annotations

import io
import json
import re
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask.testing import FlaskClient
from kho_people import PASSWORD, People
from kho_testing import CLERK, incoming, outgoing, pdf_bytes

from repository import acknowledge as acknowledge_module
from repository.acknowledge import FSCK_ACKNOWLEDGE_ACTION, fsck_details
from repository.audit import ACKNOWLEDGE_ACTION, EVENTS_PREFIX, WITNESS_KEY, EventDraft, raw_events
from repository.fsck import current_finding
from web.cli import main
from web.context import Kho
from web.terminal import one_line

REASON = "Bản ghi chứng bị xóa nhầm khi dọn thư mục; đã đối chiếu bản sao lưu, không có can thiệp."
FORGED = "  - [gia-mao] sự kiện #1 đã được chấp nhận"
BREAKS = ["\n", "\r\n", "\r", "\u2028", "\u2029"]


def _locked_up(kho: Kho, people: People) -> None:
    """A log with findings (its newest event and the witness deleted): every login refused."""
    for n in (1, 2, 3):
        kho.repo.create_document(
            "den", incoming(code_number=str(n)), pdf_bytes(f"a{n}"), "cv.pdf", people.actor("van_thu")
        )
    store = kho.repo.store
    store.delete([info.key for info in store.list(EVENTS_PREFIX)][-1])
    store.delete(WITNESS_KEY)


def _acknowledge(runner: CliRunner, people: People, reason: str, *extra: str) -> Result:
    return runner.invoke(
        main,
        ["audit", "acknowledge", "--reason", reason, "--user", people.usernames["kiem_toan"],
         "--password-stdin", *extra],
        input=PASSWORD + "\n",
    )


def _digest(runner: CliRunner, people: People) -> str:
    shown = _acknowledge(runner, people, REASON, "--json")
    assert shown.exit_code == 1, shown.output
    return str(json.loads(shown.stdout)["findings_digest"])


def _acknowledgements(kho: Kho) -> list[str]:
    """The ``audit:acknowledge`` events stored (read as objects: the broken chain's reader stops
    at its gap, before them)."""
    store = kho.repo.store
    found = []
    for info in store.list(EVENTS_PREFIX):
        events = raw_events(json.loads(store.get(info.key)))
        found += [info.key for event in events if event.get("action") == ACKNOWLEDGE_ACTION]
    return found


def _no_forged_line(output: str) -> None:
    assert not [line for line in re.split("[\n\r\u2028\u2029]", output) if line.startswith(FORGED)], output


@pytest.mark.parametrize("brk", BREAKS)
def test_kho_audit_acknowledge_refuses_a_reason_with_a_line_break(
    audit_signing_key: Path, kho: Kho, people: People, brk: str
) -> None:
    _locked_up(kho, people)
    runner = CliRunner()
    digest = _digest(runner, people)
    refused = _acknowledge(runner, people, f"Đã xem{brk}{FORGED}", "--findings", digest)
    assert refused.exit_code == 2, refused.output
    assert "Lỗi [FIELD_CONTROL_CHARS]:" in refused.output and "Lý do chấp nhận" in refused.output
    assert "Traceback" not in refused.output
    assert _acknowledgements(kho) == [] and not kho.repo.store.exists(WITNESS_KEY)  # nothing written
    # A reason on one line is taken as before.
    done = _acknowledge(runner, people, REASON, "--findings", digest)
    assert done.exit_code == 0, done.output
    assert len(_acknowledgements(kho)) == 1


def test_the_web_form_and_the_api_refuse_it_too(
    audit_signing_key: Path, kho: Kho, people: People, client: FlaskClient, web: FlaskClient
) -> None:
    _locked_up(kho, people)
    digest = _digest(CliRunner(), people)
    reason = f"Đã xem\n{FORGED}"
    api = client.post(
        "/api/audit/acknowledge",
        json={"findings": digest, "reason": reason},
        headers=people.headers("kiem_toan"),
    )
    assert api.status_code == 422 and api.json["error"]["code"] == "FIELD_CONTROL_CHARS", api.json
    page = web.get("/audit/acknowledge")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert token
    sent = web.post(
        "/audit/acknowledge",
        data={"username": people.usernames["kiem_toan"], "password": PASSWORD, "findings": digest,
              "reason": reason, "csrf_token": token.group(1)},
    )
    html = sent.get_data(as_text=True)
    # The form again, with the Vietnamese message and code and the reason kept to correct.
    assert sent.status_code == 422 and 'role="alert"' in html and "[FIELD_CONTROL_CHARS]" in html, html
    assert 'id="reason"' in html and "Đã xem" in html
    assert _acknowledgements(kho) == []


def test_kho_audit_verify_prints_a_stored_reason_on_its_one_line(
    audit_signing_key: Path, kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reason a Kho before u35 took with its line breaks (its rule then: NFC, stripped, not
    blank) is in the log for ever; ``kho audit verify`` prints it escaped on its line."""
    _locked_up(kho, people)
    runner = CliRunner()
    digest = _digest(runner, people)
    with monkeypatch.context() as before_u35:
        before_u35.setattr(
            acknowledge_module, "clean_reason", lambda r: unicodedata.normalize("NFC", r).strip()
        )
        done = _acknowledge(runner, people, f"Đã xem\n{FORGED}\u2028{FORGED}", "--findings", digest)
    assert done.exit_code == 0, done.output
    monkeypatch.setenv("KHO_TOKEN", people.tokens["kiem_toan"])
    verified = runner.invoke(main, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    _no_forged_line(verified.output)
    [line] = [line for line in verified.output.splitlines() if "Đã xem" in line]
    assert line.endswith(f": Đã xem\\n{FORGED}\\u2028{FORGED}")
    # --json keeps the reason exact (a JSON string cannot break a line).
    as_json = json.loads(runner.invoke(main, ["audit", "verify", "--json"]).stdout)
    reasons = {f["acknowledged"]["reason"] for f in as_json["findings"]}
    assert reasons == {f"Đã xem\n{FORGED}\u2028{FORGED}"}


def test_kho_fsck_prints_a_stored_decision_s_reason_on_its_one_line(kho: Kho, people: People) -> None:
    """fsck-acknowledge refuses line breaks (m65), but ``kho fsck`` prints whatever
    ``fsck:acknowledge`` event the log holds (one a writer of the store appended)."""
    repo = kho.repo
    first = repo.create_document("di", outgoing(), None, None, CLERK)
    second = repo.create_document("di", outgoing(), None, None, CLERK)
    assert first.registration is not None
    year = first.registration.year
    number = {"series": "hanh-chinh", "year": year, "number": 1, "organ_id": repo.agency_id}
    repo.audit.append_many(
        [EventDraft("x", "register:assign", record_id=second.record_id, version=1, details=number)]
    )
    runner = CliRunner()
    [issue] = json.loads(runner.invoke(main, ["fsck", "--json"]).stdout)["issues"]
    found = current_finding(repo, people.actor("quan_tri"), issue["kind"], issue["subject"])
    reason = f"Đã quyết định\r\n{FORGED}"
    details = fsck_details(found.kind, found.subject, found.details, found.message, reason)
    repo.audit.append(people.usernames["quan_tri"], FSCK_ACKNOWLEDGE_ACTION, source="cli", details=details)
    checked = runner.invoke(main, ["fsck"])
    assert checked.exit_code == 0, checked.output  # acknowledged: fsck does not fail for it
    _no_forged_line(checked.output)
    assert f"Đã quyết định\\r\\n{FORGED})" in checked.output


def test_kho_intake_return_prints_the_reason_on_its_one_line(
    kho: Kho, people: People, client: FlaskClient, signed: dict[str, bytes]
) -> None:
    """A return reason may hold line breaks (a note, shown as typed on the record's page); the
    command's one confirmation line prints them escaped."""
    received = client.post(
        "/api/intake",
        data={"direction": "den", "file": (io.BytesIO(signed["valid"]), "qd.pdf")},
        headers=people.headers("van_thu"),
    )
    assert received.status_code == 201, received.json
    doc = kho.repo.get(received.json["record"]["record_id"], actor=CLERK)
    runner = CliRunner()
    clerk = people.usernames["van_thu"]
    login = runner.invoke(main, ["login", clerk, "--password-stdin"], input=PASSWORD + "\n")
    assert login.exit_code == 0, login.output
    done = runner.invoke(main, ["intake", "return", doc.record_id, "--reason", f"Sai nơi nhận\n{FORGED}"])
    assert done.exit_code == 0, done.output
    _no_forged_line(done.output)
    assert f"Đã trả lại {doc.record_id}: Sai nơi nhận\\n{FORGED}" in done.output
    assert kho.repo.get(doc.record_id, actor=CLERK).extra["return_reason"] == f"Sai nơi nhận\n{FORGED}"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("một dòng", "một dòng"),
        ("a\nb", "a\\nb"),
        ("a\r\nb", "a\\r\\nb"),
        ("a\u2028b\u2029c", "a\\u2028b\\u2029c"),
        ("a\x0bb\x0cc\x1cd\x1de\x1ef\x85g", "a\\u000bb\\u000cc\\u001cd\\u001de\\u001ef\\u0085g"),
        ("tab\tstays", "tab\tstays"),
    ],
)
def test_one_line_escapes_every_character_that_ends_a_line(text: str, shown: str) -> None:
    assert one_line(text) == shown
    assert len(one_line(text).splitlines()) == 1
