"""``kho ingest status|retry|return`` answer a job as its record's access policy allows (rv26).

The jobs were listed whole to every văn thư of every unit, whatever their clearance: a Mật
document's record id, its signature verdict and explanation, its page and character counts, and
the file names and source paths of failed uploads; and ``status JOB`` told anyone holding a file
(the job id is its SHA-256) that the agency had received it. Now a job whose record the person may
not see is left out of the list and answered as an absent job; a job that never stored its
original (no record, so no unit) is shown bare: no file name, source path or message.
"""

from __future__ import annotations

import json
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_people import AGENCY, People, make_people
from kho_testing import incoming

from ingest.bulk import MANIFEST_DIR
from kho.config import Settings
from repository.policy import Role
from web.cli import main
from web.context import Kho

SECRET_NAME = "QD-ky-luat-Nguyen-Van-A.pdf"
FAILED_NAME = "Bao-cao-mat-Nguyen-Van-B.pdf"
ABSENT_JOB = "0123456789abcdef"
DESCRIBED = incoming(
    organ_name="ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM",
    code_number="02",
    code_notation="QĐ-UBND",
    issued_date="2026-03-05",
    secrecy=2,
)
"""What the test PKI's signed document says of itself (``signed["valid-1"]``), marked Mật."""


def _as(runner: CliRunner, monkeypatch: pytest.MonkeyPatch, token: str, args: list[str]) -> tuple[int, str]:
    monkeypatch.setenv("KHO_TOKEN", token)
    result = runner.invoke(main, ["ingest", *args])
    return result.exit_code, result.output


@dataclass
class Received:
    """A Mật document received through ``kho ingest`` by the agency's văn thư, and a failed
    upload (an empty file), with the people and the logged-in runner."""

    kho: Kho
    people: People
    runner: CliRunner
    folder: Path
    secret_job: str
    failed_job: str
    record_id: str


def _received(tmp_path: Path, signed: dict[str, bytes], monkeypatch: pytest.MonkeyPatch) -> Received:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / SECRET_NAME).write_bytes(signed["valid-1"])
    (folder / FAILED_NAME).write_bytes(b"")
    kho = Kho(Settings.from_env(), follow_index=False)
    people = make_people(kho)
    people.add("van_thu_0", "Trịnh Thị Thư", AGENCY, [Role.VAN_THU], 0)  # the agency's, Thường
    monkeypatch.setenv("KHO_TOKEN_FILE", str(tmp_path / "tokens.json"))
    runner = CliRunner()
    code, out = _as(runner, monkeypatch, people.tokens["van_thu"], [str(folder), "--workers", "1", "--json"])
    assert code == 1, out  # the empty file failed
    items = {Path(i["path"]).name: i for i in json.loads(out)["items"]}
    record_id = items[SECRET_NAME]["record_id"]
    assert record_id and items[FAILED_NAME]["record_id"] is None
    clerk = people.actor("van_thu")
    record = kho.repo.get(record_id, actor=clerk)
    kho.receive.confirm(record_id, DESCRIBED, expected_version=record.version, actor=clerk)
    return Received(
        kho, people, runner, folder, items[SECRET_NAME]["job_id"], items[FAILED_NAME]["job_id"], record_id
    )


def test_a_job_is_answered_as_its_record_allows(
    tmp_path: Path, signed: dict[str, bytes], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    got = _received(tmp_path, signed, monkeypatch)
    kho, people, runner, folder = got.kho, got.people, got.runner, got.folder
    secret_job, failed_job, record_id = got.secret_job, got.failed_job, got.record_id
    clerk = people.actor("van_thu")

    # Who may see the record (the agency's văn thư, cleared Tối mật) keeps every field.
    code, out = _as(runner, monkeypatch, people.tokens["van_thu"], ["status", "--json"])
    whole = {j["job_id"]: j for j in json.loads(out)}
    assert whole[secret_job]["record_id"] == record_id
    assert whole[secret_job]["summary"]["signature_verdict"] == "TOTAL-PASSED"
    assert whole[failed_job]["filename"] == FAILED_NAME and FAILED_NAME in whole[failed_job]["reason"]

    for who in ("van_thu_b", "van_thu_0"):  # another unit's văn thư; the agency's, not cleared
        token = people.tokens[who]
        code, out = _as(runner, monkeypatch, token, ["status", "--json"])
        assert code == 0, out
        listed = {j["job_id"]: j for j in json.loads(out)}
        assert secret_job not in listed, (who, listed)
        for word in (record_id, "TOTAL-PASSED", SECRET_NAME):
            assert word not in out, (who, word, out)
        failed = listed[failed_job]
        if who == "van_thu_b":  # a job that stored nothing would have made an intake of the agency
            for word in ("Nguyen-Van", str(folder)):
                assert word not in out, (who, word, out)
            assert failed["filename"] == failed_job[:16] + ".pdf" and failed["source"] is None
            assert FAILED_NAME not in failed["reason"] and failed["reason_code"] == "FILE_EMPTY"
        else:
            assert failed["filename"] == FAILED_NAME and failed["reason_code"] == "FILE_EMPTY"
        code, out = _as(runner, monkeypatch, token, ["status"])
        assert secret_job[:16] not in out and SECRET_NAME not in out and "xong: 0, lỗi: 1" in out, out

        # One job by its id: the answer of a job that does not exist, whatever the command.
        for command in (["status"], ["status", "--json"], ["retry"], ["return"]):
            absent = _as(runner, monkeypatch, token, [*command, ABSENT_JOB])
            assert absent[0] == 2 and "JOB_NOT_FOUND" in absent[1], (who, command, absent)
            for prefix in (secret_job, secret_job[:16]):
                code, out = _as(runner, monkeypatch, token, [*command, prefix])
                said = out.replace(secret_job, "<job>").replace(prefix, "<job>")
                assert (code, said) == (2, absent[1].replace(ABSENT_JOB, "<job>")), (who, command, out)
    assert kho.repo.get(record_id, actor=clerk).extra.get("returned") is None  # nothing returned

    kho.close()


def test_a_file_sent_again_by_another_unit_does_not_answer_its_record(
    tmp_path: Path, signed: dict[str, bytes], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same file sent again by another unit's văn thư (``kho ingest PATH``) is the same job:
    they are told it was received before (as the intake page tells them), not which record."""
    got = _received(tmp_path, signed, monkeypatch)
    again = tmp_path / "again"
    again.mkdir()
    (again / "ban-sao.pdf").write_bytes(signed["valid-1"])
    for who, shown in (("van_thu_b", None), ("van_thu_0", None), ("van_thu", got.record_id)):
        args = [str(again), "--workers", "1", "--json"]
        code, out = _as(got.runner, monkeypatch, got.people.tokens[who], args)
        assert code == 0, out
        (item,) = json.loads(out)["items"]
        assert item["job_id"] == got.secret_job and item["record_id"] == shown, (who, out)
    got.kho.close()


def test_the_manifest_keeps_no_record_the_importer_may_not_see(
    tmp_path: Path, signed: dict[str, bytes], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bulk import's resume manifest holds what its importer may see, for their eyes only (rv29).

    ``kho ingest PATH`` appends each finished file to a manifest in the data folder
    (``ingest-manifests/<digest>.jsonl``) so that a re-run skips it. rv26 kept the record id of the
    agency's Mật document out of the report to phòng B's văn thư who sent the same bytes again, but
    the manifest was written before that filter: it held the Mật record's id, with the umask's mode
    (readable by every local account), under a name made of the folder alone, so the next person
    importing the same folder resumed from it. Now each item is written as the importer may see it,
    the file is 0600 in a 0700 folder, and each account has its own manifest.
    """
    got = _received(tmp_path, signed, monkeypatch)
    folder = Settings.from_env().data_dir / MANIFEST_DIR
    before = set(folder.iterdir())
    again = tmp_path / "again"
    again.mkdir()
    (again / "ban-sao.pdf").write_bytes(signed["valid-1"])
    code, out = _as(
        got.runner, monkeypatch, got.people.tokens["van_thu_b"], [str(again), "--workers", "1", "--json"]
    )
    assert code == 0, out
    (written,) = set(folder.iterdir()) - before
    text = written.read_text(encoding="utf-8")
    assert got.secret_job in text  # it is the resume file of that job
    assert got.record_id not in text, text
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0

    # The agency's văn thư (cleared) importing the same folder has their own manifest: the file
    # is found as the same job, with its record id (not skipped from phòng B's file).
    code, out = _as(
        got.runner, monkeypatch, got.people.tokens["van_thu"], [str(again), "--workers", "1", "--json"]
    )
    assert code == 0, out
    assert got.record_id in out
    mine = set(folder.iterdir()) - before - {written}
    assert len(mine) == 1 and got.record_id in mine.pop().read_text(encoding="utf-8")
    assert got.record_id not in written.read_text(encoding="utf-8")
    got.kho.close()
