"""Ingest jobs keep no plaintext description or file name once the record exists (review a3,
open item 1): new jobs are written so (job format 2), old ones are scrubbed by ``kho ingest
scrub`` or ``kho fsck --repair`` (audited, resumable), and fsck names any left."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_people import PASSWORD, make_people

from kho.config import Settings
from repository.ingest_jobs import JOBS_PREFIX, STAGED_PREFIX, plaintext_left
from web.cli import main
from web.context import Kho

SUBJECT = "Quyết định kỷ luật ông Nguyễn Văn Bình"
FILENAME = "QD-ky-luat-Nguyen-Van-Binh.pdf"


def _store_files(env: dict[str, str]) -> list[Path]:
    return [p for p in (Path(env["KHO_DATA_DIR"]) / "store").rglob("*") if p.is_file()]


def _plaintext_in_store(env: dict[str, str]) -> list[str]:
    """Every stored file (old versions too) that holds the subject or the file name."""
    found = []
    for path in _store_files(env):
        data = path.read_bytes()
        for word in (SUBJECT, FILENAME, "Nguyen-Van-Binh"):
            if word.encode() in data or json.dumps(word).encode() in data:
                found.append(f"{path.name}: {word}")
    return found


def _ingest(
    tmp_path: Path, signed: dict[str, bytes], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> tuple[Kho, str, str]:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / FILENAME).write_bytes(signed["valid-1"])
    kho = Kho(Settings.from_env(), follow_index=False)
    people = make_people(kho)
    runner = CliRunner()
    monkeypatch.setenv("KHO_TOKEN_FILE", str(tmp_path / "tokens.json"))
    login = runner.invoke(
        main, ["login", people.usernames["van_thu"], "--password-stdin"], input=PASSWORD + "\n"
    )
    assert login.exit_code == 0, login.output
    took = runner.invoke(main, ["ingest", str(folder), "--workers", "1", "--json"])
    assert took.exit_code == 0, took.output
    [item] = json.loads(took.output)["items"]
    return kho, item["job_id"], item["record_id"]


def _as_before_a3(kho: Kho, job_id: str, record_id: str) -> None:
    """The job object as Kho wrote it before a3's fix: format 1, the description in its summary,
    the file name and the import path in plaintext (written twice: an old version is kept)."""
    key = f"{JOBS_PREFIX}{job_id}.json"
    body = json.loads(kho.repo.store.get(key))
    body.update(
        format_version=1,
        filename=FILENAME,
        source=f"/srv/import/{FILENAME}",
        summary={
            **body["summary"],
            "so_ky_hieu": "12/QĐ-UBND",
            "loai_van_ban": "Quyết định",
            "ngay_ban_hanh": "2026-11-30",
            "trich_yeu": SUBJECT,
        },
    )
    for _ in range(2):
        kho.repo.store.put(key, json.dumps(body, ensure_ascii=False).encode())
    assert plaintext_left(body) == [
        f"summary.{n}" for n in ("so_ky_hieu", "loai_van_ban", "ngay_ban_hanh", "trich_yeu")
    ] + ["filename", "source"]


def test_a_new_job_keeps_no_file_name_once_its_record_exists(
    tmp_path: Path, signed: dict[str, bytes], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    kho, job_id, record_id = _ingest(tmp_path, signed, env, monkeypatch)
    stored = json.loads(kho.repo.store.get(f"{JOBS_PREFIX}{job_id}.json"))
    assert stored["record_id"] == record_id
    assert stored["filename"] == f"{job_id[:16]}.pdf" and stored["source"] is None  # before: the name
    assert plaintext_left(stored) == []
    # The record keeps the name, sealed, for whoever may read it.
    assert kho.repo._load(record_id).files[0].original_name == FILENAME


def test_fsck_names_old_jobs_and_the_scrub_removes_every_copy_audited(
    tmp_path: Path, signed: dict[str, bytes], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    kho, job_id, record_id = _ingest(tmp_path, signed, env, monkeypatch)
    _as_before_a3(kho, job_id, record_id)
    assert _plaintext_in_store(env)
    runner = CliRunner()
    checked = runner.invoke(main, ["fsck"])
    assert checked.exit_code == 1 and "job-plaintext" in checked.output, checked.output  # before: no word
    assert "trich_yeu" in checked.output and "filename" in checked.output

    scrub = runner.invoke(main, ["ingest", "scrub", "--json"])
    assert scrub.exit_code == 0, scrub.output
    report = json.loads(scrub.stdout)
    assert report["scrubbed"] == [f"{JOBS_PREFIX}{job_id}.json"]
    assert _plaintext_in_store(env) == []  # the old versions went with the object
    stored = json.loads(kho.repo.store.get(f"{JOBS_PREFIX}{job_id}.json"))
    assert stored["format_version"] == 2 and stored["record_id"] == record_id
    assert stored["summary"]["pages"] >= 1 and "trich_yeu" not in stored["summary"]  # the rest is kept
    [event] = [e for e in Kho(Settings.from_env()).repo.audit.events() if e.action == "ingest:scrub"]
    assert event.details["scrubbed"] == report["scrubbed"] and SUBJECT not in json.dumps(event.details)
    again = runner.invoke(main, ["ingest", "scrub", "--json"])
    assert json.loads(again.stdout)["scrubbed"] == []  # idempotent
    clean = runner.invoke(main, ["fsck"])
    assert "job-plaintext" not in clean.output, clean.output


def test_fsck_repair_scrubs_through_the_same_audited_path(
    tmp_path: Path, signed: dict[str, bytes], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    kho, job_id, record_id = _ingest(tmp_path, signed, env, monkeypatch)
    _as_before_a3(kho, job_id, record_id)
    repaired = CliRunner().invoke(main, ["fsck", "--repair"])
    assert "job-plaintext" in repaired.output, repaired.output
    assert _plaintext_in_store(env) == []
    events = [e for e in Kho(Settings.from_env()).repo.audit.events() if e.action == "ingest:scrub"]
    assert len(events) == 1 and events[0].actor == "system:fsck"


def test_a_scrub_stopped_midway_is_finished_by_the_next_run(
    tmp_path: Path, signed: dict[str, bytes], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped after the staged copy was written and the old object removed, before the new one
    was written: the job object is missing; the next run writes it from the staged copy."""
    kho, job_id, record_id = _ingest(tmp_path, signed, env, monkeypatch)
    _as_before_a3(kho, job_id, record_id)
    key = f"{JOBS_PREFIX}{job_id}.json"
    body = json.loads(kho.repo.store.get(key))
    from repository.ingest_jobs import _dump, scrubbed

    kho.repo.store.put(f"{STAGED_PREFIX}{job_id}.json", _dump(scrubbed(body)))
    kho.repo.store.delete(key)
    resumed = CliRunner().invoke(main, ["ingest", "scrub", "--json"])
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["finished"] == [key]
    stored = json.loads(kho.repo.store.get(key))
    assert stored["record_id"] == record_id and plaintext_left(stored) == []
    assert not list(kho.repo.store.list(STAGED_PREFIX))
    assert _plaintext_in_store(env) == []
