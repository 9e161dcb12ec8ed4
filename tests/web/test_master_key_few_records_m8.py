"""A wrong or missing ``KHO_MASTER_KEY`` is told as configuration with 1–3 records too (r29 left
it open: ``KeyRing.master_key_opens_another`` needs three other record keys to decide).

An installation with a master key seals its accounts with the key derived from it; every
installation in use has accounts. When no other record key can tell, they do: a sealed account
that checks says the master key is right (the record's key is damaged: a finding); accounts
that carry seals while no key is configured, or whose seals do not check, say the key is missing
or wrong (``MASTER_KEY_MISMATCH``, no finding, no operator told to restore anything)."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator

import pytest
from kho_people import People
from kho_testing import incoming, pdf_bytes
from kho_web import cli_as

from kho.config import Settings
from kho.errors import KeyUnwrapFailed, KhoError, MasterKeyWrong, RecordUnreadable
from web.cli import main
from web.context import Kho

MASTER = bytes(range(32, 64))


@pytest.fixture
def kho(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Kho]:
    """An installation with a master key (its accounts sealed, its record keys wrapped)."""
    monkeypatch.setenv("KHO_MASTER_KEY", base64.b64encode(MASTER).decode())
    installation = Kho(Settings.from_env())
    yield installation
    installation.close()


def _one_record(kho: Kho, people: People) -> str:
    clerk = people.actor("van_thu")
    return kho.repo.create_document(
        "den", incoming(code_number="81"), pdf_bytes("81"), "cv.pdf", clerk
    ).record_id


def _refusal_with(master: bytes | None, record_id: str, monkeypatch: pytest.MonkeyPatch) -> KhoError:
    """What ``Kho.refusal`` answers for the record's key, read by a process run with ``master``."""
    if master is None:
        monkeypatch.delenv("KHO_MASTER_KEY", raising=False)
    else:
        monkeypatch.setenv("KHO_MASTER_KEY", base64.b64encode(master).decode())
    other = Kho(Settings.from_env())
    try:
        with pytest.raises(KeyUnwrapFailed) as unwrapped:
            other.repo.keys.get(record_id)
        return other.refusal(unwrapped.value, None)
    finally:
        other.close()


def _findings(kho: Kho) -> list[object]:
    return [e for e in kho.repo.audit.events() if e.action == "fixity:finding"]


@pytest.mark.parametrize("master", [None, os.urandom(32)], ids=["missing", "wrong"])
def test_with_one_record_a_missing_or_wrong_master_key_is_configuration(
    kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch, master: bytes | None
) -> None:
    rid = _one_record(kho, people)
    refusal = _refusal_with(master, rid, monkeypatch)
    assert isinstance(refusal, MasterKeyWrong) and refusal.code == "MASTER_KEY_MISMATCH"
    assert "KHO_MASTER_KEY" in refusal.message
    assert _findings(kho) == []


def test_a_cli_run_without_the_master_key_on_one_record_reports_nothing_damaged(
    kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = _one_record(kho, people)
    runner = cli_as(people, "van_thu")
    monkeypatch.delenv("KHO_MASTER_KEY", raising=False)  # an operator's shell that did not load it
    done = runner.invoke(main, ["record", "show", rid, "--json"])
    assert done.exit_code == 2, done.output
    assert json.loads(done.stderr)["error"]["code"] == "MASTER_KEY_MISMATCH"
    assert _findings(kho) == []
    for who in ("quan_tri", "luu_tru"):
        assert [n for n in kho.accounts.notifications(people.usernames[who]) if n.kind == "fixity"] == []


def test_with_one_record_and_the_right_key_a_garbled_record_key_is_still_a_finding(
    kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guard: the rule does not hide a damaged key behind "configuration"."""
    rid = _one_record(kho, people)
    kho.repo.keys.store.put(f"keys/{rid}", os.urandom(40))
    refusal = _refusal_with(MASTER, rid, monkeypatch)
    assert isinstance(refusal, RecordUnreadable) and refusal.code == "RECORD_UNREADABLE"
    assert [e.record_id for e in _findings(kho)] == [rid]
