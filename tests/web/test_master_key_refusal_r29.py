"""A wrong ``KHO_MASTER_KEY`` is a configuration error, not a damaged record (r29, reviewing m7).

m7 made the CLI refuse a record whose key does not unwrap as the web does (``Kho.refusal``):
``RECORD_UNREADABLE``, a ``fixity:finding`` and a notification to every quản trị and lưu trữ
viên. But a key that does not unwrap is also what every record answers when the command runs
with the wrong master key (or none, where the keys are wrapped): an operator whose shell had a
wrong ``KHO_MASTER_KEY`` reported each record they read as damaged, told every operator to
restore it from a backup, and left a finding marker that silences the notification of a real
damage of that record later. Before the record is called damaged, another record's key is
tried: when it does not unwrap either, the refusal is the configuration's."""

from __future__ import annotations

import json
import os

import pytest
from cryptography.hazmat.primitives.keywrap import aes_key_wrap
from kho_people import People
from kho_testing import incoming, pdf_bytes
from kho_web import cli_as

from web.cli import main
from web.context import Kho


def test_a_cli_run_with_the_wrong_master_key_reports_no_record_as_damaged(
    kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    clerk = people.actor("van_thu")
    rids = [
        kho.repo.create_document("den", incoming(code_number=n), pdf_bytes(n), "cv.pdf", clerk).record_id
        for n in ("71", "72", "73", "74")
    ]
    # The installation's keys wrapped by its master key, as every installation with one has them;
    # the command is run without it (an operator's shell that did not load KHO_MASTER_KEY).
    master = os.urandom(32)
    keys = kho.repo.keys.store
    for info in list(keys.list("keys/")):
        keys.put(info.key, aes_key_wrap(master, keys.get(info.key)))
    runner = cli_as(people, "van_thu")
    monkeypatch.delenv("KHO_MASTER_KEY", raising=False)
    before = len(list(kho.repo.audit.events()))
    for rid in rids:
        done = runner.invoke(main, ["record", "show", rid, "--json"])
        assert done.exit_code == 2, done.output
        error = json.loads(done.stderr)["error"]
        assert error["code"] == "MASTER_KEY_MISMATCH", error
        assert "KHO_MASTER_KEY" in error["message"]
    after = list(kho.repo.audit.events())[before:]
    assert [e for e in after if e.action == "fixity:finding"] == []
    for who in ("quan_tri", "luu_tru"):
        told = [n for n in kho.accounts.notifications(people.usernames[who]) if n.kind == "fixity"]
        assert told == [], who
