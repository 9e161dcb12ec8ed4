"""A record whose key is garbled is refused with a clear code and message, never a 500, and
the operators learn of it as a fixity finding (m5)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kho_people import People
from kho_testing import incoming
from kho_web import login, text

from web.app import create_app
from web.context import Kho


@pytest.fixture
def garbled(kho: Kho, people: People, signed: dict[str, bytes]) -> Iterator[tuple[Kho, str]]:
    """A registered document whose key blob was overwritten in the key store, and a fresh
    installation (a new process: no key cached)."""
    clerk = people.actor("van_thu")
    rid = kho.repo.create_document(
        "den", incoming(code_number="93"), signed["valid"], "cv.pdf", clerk
    ).record_id
    kho.repo.keys.store.put(f"keys/{rid}", bytes(40))
    fresh = Kho(kho.settings)
    yield fresh, rid
    fresh.close()


def test_a_record_whose_key_is_garbled_is_refused_clearly_and_reported(
    garbled: tuple[Kho, str], people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading a record whose per-record key no longer unwraps answered HTTP 500 with
    ``MASTER_KEY_MISMATCH`` (the record, its history, its original and its page alike): a
    server crash to the person, and nobody was told. It is now 503 ``RECORD_UNREADABLE`` with a
    Vietnamese message (nothing stored was changed; the operators were told), and a fixity
    finding: an audit event each time, one notification per record to each quản trị and lưu trữ
    viên. Other records read as before."""
    fresh, rid = garbled
    client = create_app(fresh.settings, kho=fresh).test_client()
    clerk = people.headers("van_thu")
    for path in (f"/api/records/{rid}", f"/api/records/{rid}/content", f"/api/records/{rid}/history"):
        answer = client.get(path, headers=clerk)
        assert answer.status_code == 503, (path, answer.status_code, answer.json)
        error = answer.json["error"]
        assert error["code"] == "RECORD_UNREADABLE", path
        assert error["message"].startswith("Bản gốc không mở được")
        assert error["details"] == {"record_id": rid}
    findings = [e for e in fresh.repo.audit.events() if e.action == "fixity:finding"]
    assert len(findings) == 3 and {e.record_id for e in findings} == {rid}
    assert {e.details["code"] for e in findings} == {"MASTER_KEY_MISMATCH"}
    for who in ("quan_tri", "luu_tru"):
        told = [n for n in fresh.accounts.notifications(people.usernames[who]) if rid in n.message]
        assert len(told) == 1, who  # once per record, not once per read
    # The page says the same, as a page.
    monkeypatch.setenv("KHO_COOKIE_SECURE", "false")  # the test client speaks plain http
    web = create_app(fresh.settings, kho=fresh).test_client()
    login(web, people, "van_thu")
    page = web.get(f"/records/{rid}")
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert "Bản gốc không mở được" in text(page)


def test_a_mended_record_is_told_again_when_it_breaks_again(
    kho: Kho, people: People, signed: dict[str, bytes]
) -> None:
    """The marker that keeps a broken record from being told twice was never removed: once its
    key was restored, a second breakage of the same record reached nobody. A fixity run now
    removes the marker of a record that reads whole again (audited ``fixity:cleared``) and keeps
    that of a record still broken."""
    from datetime import date

    from retention.operations import run_fixity

    clerk = people.actor("van_thu")
    mended, broken = (
        kho.repo.create_document("den", incoming(code_number=n), signed[pdf], "cv.pdf", clerk).record_id
        for n, pdf in (("94", "valid"), ("95", "valid-2"))
    )
    key_of = {rid: kho.repo.keys.store.get(f"keys/{rid}") for rid in (mended, broken)}

    def break_and_read() -> None:
        for rid in (mended, broken):
            kho.repo.keys.store.put(f"keys/{rid}", bytes(40))
        fresh = Kho(kho.settings)
        try:
            client = create_app(fresh.settings, kho=fresh).test_client()
            for rid in (mended, broken):
                assert client.get(f"/api/records/{rid}", headers=people.headers("van_thu")).status_code == 503
        finally:
            fresh.close()

    def told(rid: str) -> int:  # notifications of a read finding (the fixity run's own alert aside)
        told_of = f"Văn bản/hồ sơ {rid} không mở được khi đọc"
        mine = kho.accounts.notifications(people.usernames["quan_tri"])
        return len([n for n in mine if told_of in n.message])

    break_and_read()
    assert told(mended) == 1 and told(broken) == 1
    kho.repo.keys.store.put(f"keys/{mended}", key_of[mended])  # restored from the key backup
    fresh = Kho(kho.settings)
    try:
        archivist = people.actor("luu_tru")
        run_fixity(fresh.repo, fresh.settings, archivist, today=date(2026, 12, 3), period_days=1)
    finally:
        fresh.close()
    cleared = [e for e in kho.repo.audit.events() if e.action == "fixity:cleared"]
    assert [(e.record_id, e.details["code"]) for e in cleared] == [(mended, "MASTER_KEY_MISMATCH")]
    break_and_read()  # the mended record breaks again: told again; the broken one is not re-told
    assert told(mended) == 2 and told(broken) == 1


def test_the_cli_refuses_a_garbled_record_as_the_web_does_and_reports_it(
    garbled: tuple[Kho, str], people: People, tmp_path: Path
) -> None:
    """The web answered a record whose key is garbled with 503 ``RECORD_UNREADABLE`` and a
    fixity finding (m5); ``kho record show``/``history``/``download`` printed ``Lỗi
    [MASTER_KEY_MISMATCH]`` and recorded nothing: an operator's console was the one place a
    broken record went untold. The CLI now refuses it through the same rule (``Kho.refusal``):
    the same code, message and details, a ``fixity:finding`` audited under the person who ran
    the command, and one notification per record to each quản trị and lưu trữ viên."""
    import json

    from kho_web import cli_as

    from web.cli import main

    fresh, rid = garbled
    runner = cli_as(people, "van_thu")
    for command in (["record", "show", rid], ["record", "history", rid], ["record", "show", rid, "--json"]):
        done = runner.invoke(main, command)
        assert done.exit_code == 2, (command, done.output)
        if "--json" in command:
            error = json.loads(done.stderr)["error"]
            assert (error["code"], error["details"]) == ("RECORD_UNREADABLE", {"record_id": rid})
            assert error["message"].startswith("Bản gốc không mở được")
        else:
            assert done.stderr.startswith("Lỗi [RECORD_UNREADABLE]: Bản gốc không mở được"), done.stderr
            assert "MASTER_KEY_MISMATCH" not in done.stderr
    done = runner.invoke(main, ["record", "download", rid, "-o", str(tmp_path / "out.pdf")])
    assert done.exit_code == 2 and "RECORD_UNREADABLE" in done.stderr, done.output
    assert not (tmp_path / "out.pdf").exists()
    findings = [e for e in fresh.repo.audit.events() if e.action == "fixity:finding"]
    assert [(e.record_id, e.actor, e.source, e.details) for e in findings] == 4 * [
        (rid, people.usernames["van_thu"], "cli", {"code": "MASTER_KEY_MISMATCH", "found_by": "read"})
    ]
    for who in ("quan_tri", "luu_tru"):
        told = [n for n in fresh.accounts.notifications(people.usernames[who]) if rid in n.message]
        assert len(told) == 1, who
