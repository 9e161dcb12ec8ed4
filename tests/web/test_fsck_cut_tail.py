"""A cut audit tail through the commands and the API: ``kho fsck --repair`` refuses its repairs
with a message and the code ``AUDIT_CHAIN_BROKEN`` and exits non-zero; a request whose audit
event would chain after the cut gets a clear error (503, the same code), never a 500."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from kho_people import People
from kho_testing import CLERK, incoming, pdf_bytes, s3_options, s3_store_env

from kho.config import Settings
from repository.anchor import CHECKPOINTS_PREFIX
from repository.audit import EVENTS_PREFIX, WITNESS_KEY
from repository.service import open_repository
from repository.storage.base import ObjectStore
from web.cli import main
from web.context import Kho


def _cut(store: ObjectStore) -> None:
    """The last object of the log and the witness deleted (someone who can write the store)."""
    last = [info.key for info in store.list(EVENTS_PREFIX)][-1]
    store.delete(last)
    store.delete(WITNESS_KEY)


@pytest.mark.parametrize("backend", ["local", pytest.param("s3", marks=pytest.mark.s3)])
def test_kho_fsck_repair_refuses_over_a_cut_tail(
    backend: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend == "s3":
        options = s3_options()
        if options is None:
            pytest.skip("KHO_TEST_S3_ENDPOINT is not set")
        for name, value in s3_store_env(options, "fsckcut").items():
            monkeypatch.setenv(name, value)
    repo = open_repository(Settings.from_env())
    for n in (1, 2, 3):
        repo.create_document("den", incoming(code_number=str(n)), pdf_bytes(f"c{n}"), "cv.pdf", CLERK)
    _cut(repo.store)
    runner = CliRunner()
    repaired = runner.invoke(main, ["fsck", "--repair"])
    assert repaired.exit_code == 1, repaired.output
    assert "[unaudited]" in repaired.output and "CHƯA SỬA [AUDIT_CHAIN_BROKEN]" in repaired.output
    assert "[audit]" in repaired.output and "Thiếu bản ghi chứng (witness)" in repaired.output
    assert "đã sửa" not in repaired.output
    as_json = runner.invoke(main, ["fsck", "--repair", "--json"])
    assert as_json.exit_code == 1
    issues = json.loads(as_json.stdout)["issues"]
    assert [i["refused"] for i in issues if i["kind"] == "unaudited"] == ["AUDIT_CHAIN_BROKEN"]
    assert not any(i["repaired"] for i in issues)
    after = open_repository(Settings.from_env())
    assert not after.store.exists(WITNESS_KEY) and not after.audit.verify().ok


def test_a_request_after_a_cut_tail_gets_a_clear_error(
    client: FlaskClient, kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = kho.repo.create_document("den", incoming(), pdf_bytes("web"), "cv.pdf", people.actor("van_thu"))
    path = f"/api/records/{record.record_id}/content"
    assert client.get(path, headers=people.headers("van_thu")).status_code == 200
    _cut(kho.repo.store)
    for _ in range(2):  # the running process (its witness gone), then every request after it
        refused = client.get(path, headers=people.headers("van_thu"))
        assert refused.status_code == 503, refused.get_data(as_text=True)
        assert refused.json["error"]["code"] == "AUDIT_CHAIN_BROKEN"
        assert "kiểm toán" in refused.json["error"]["message"]
    assert not kho.repo.store.exists(WITNESS_KEY)


def test_a_checkpoint_after_a_cut_tail_is_refused_with_the_code(
    env: dict[str, str], audit_signing_key: Path
) -> None:
    """``kho audit checkpoint`` signs the head and appends an event: after a cut it would anchor
    the shortened history. Refused, nothing signed."""
    repo = open_repository(Settings.from_env())
    for n in (1, 2, 3):
        repo.create_document("den", incoming(code_number=str(n)), pdf_bytes(f"d{n}"), "cv.pdf", CLERK)
    _cut(repo.store)
    checkpoint = CliRunner().invoke(main, ["audit", "checkpoint"])
    assert checkpoint.exit_code == 2, checkpoint.output
    assert "Lỗi [AUDIT_CHAIN_BROKEN]" in checkpoint.stderr
    assert not any(True for _ in repo.store.list(CHECKPOINTS_PREFIX))
