"""m61: ``kho fsck`` (and ``--json``) names a number given twice and an assign of a record that
does not exist, with their codes and Vietnamese messages, says they are not repaired, and exits
non-zero, on the installation's store (local and the Ceph gateway)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from kho_testing import CLERK, outgoing, s3_options_or_skip, s3_store_env

from kho.config import Settings
from repository.audit import EventDraft
from repository.records import new_record_id
from repository.registers import entry_key
from repository.service import open_repository
from web.cli import main

pytestmark = pytest.mark.sealed


@pytest.mark.parametrize("backend", ["local", pytest.param("s3", marks=pytest.mark.s3)])
def test_kho_fsck_names_a_number_given_twice(
    backend: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend == "s3":
        for name, value in s3_store_env(s3_options_or_skip(), "fsckm61").items():
            monkeypatch.setenv(name, value)
    repo = open_repository(Settings.from_env())
    first = repo.create_document("di", outgoing(), None, None, CLERK)
    second = repo.create_document("di", outgoing(), None, None, CLERK)
    assert first.registration is not None and second.registration is not None
    runner = CliRunner()
    assert runner.invoke(main, ["fsck"]).exit_code == 0
    year, ghost = first.registration.year, new_record_id()
    number = {"series": "hanh-chinh", "year": year, "number": 1, "organ_id": repo.agency_id}
    repo.audit.append_many(  # sealed (KHO_MASTER_KEY): what a writer with the key, or a bug, appends
        [
            EventDraft("x", "register:assign", record_id=second.record_id, version=1, details=number),
            EventDraft("x", "register:assign", record_id=ghost, version=1, details={**number, "number": 2}),
        ]
    )
    assert repo.audit.verify().ok

    shown = runner.invoke(main, ["fsck", "--repair"])
    assert shown.exit_code == 1, shown.output
    one, two = (entry_key(repo.agency_id, year, "hanh-chinh", n) for n in (1, 2))
    assert f"[register-number-reused] {one}: Số 01 của Sổ văn bản hành chính (hanh-chinh)" in shown.output
    assert f"[register-number-reused] {two}: Số 02 của Sổ văn bản hành chính (hanh-chinh)" in shown.output
    assert f"{ghost} (nhật ký kiểm toán #" in shown.output and "văn bản không có trong kho" in shown.output
    assert shown.output.count("(CHƯA SỬA)") == 2 and "đã sửa" not in shown.output
    assert "Kho nhất quán." not in shown.output

    as_json = runner.invoke(main, ["fsck", "--json"])
    assert as_json.exit_code == 1
    report = json.loads(as_json.stdout)
    assert not report["clean"]
    assert [(i["kind"], i["subject"]) for i in report["issues"]] == [
        ("register-number-reused", one),
        ("register-number-reused", two),
    ]
    reused, ghostly = report["issues"]
    assert (reused["repairable"], reused["repaired"]) == (False, False)
    assert reused["details"]["records"] == sorted([first.record_id, second.record_id])
    assert reused["details"]["entry_record"] == first.record_id
    assert (reused["details"]["organ_id"], reused["details"]["year"], reused["details"]["number"]) == (
        repo.agency_id,
        year,
        1,
    )
    assert ghostly["details"]["records"] == sorted([second.record_id, ghost])
    assert ghostly["details"]["missing"] == [ghost] and ghostly["details"]["entry_record"] == second.record_id
