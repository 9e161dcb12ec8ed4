"""A package whose dates name a day that does not exist (review rv50): 31 February.

An ISO-shaped date that no calendar holds (``2026-02-31``) is not "another form PREMIS allows"
(rv24's rule for ``2027``): it is a wrong date, which the archive would order the package's
history by. It is refused with a code, as a date in the future is."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kho_people import People, make_people
from kho_retention import Clock, kho_env, open_kho
from kho_sip import good_package, refused, replace_listed, zipped

from kho.errors import KhoError
from retention.sip_import import impossible_date
from web.context import Kho

PREMIS = "metadata/preservation/premis.xml"


def _premis_event_at(root: Path, when: str) -> None:
    text = (root / PREMIS).read_text(encoding="utf-8")
    found = re.search(r"<premis:eventDateTime>([^<]+)</premis:eventDateTime>", text)
    assert found
    event = f"<premis:eventDateTime>{when}</premis:eventDateTime>"
    replace_listed(root, PREMIS, text.replace(found.group(0), event).encode())


def _mets_created_at(root: Path, when: str) -> None:
    text = (root / "METS.xml").read_text(encoding="utf-8")
    found = re.search(r'<mets:metsHdr [^>]*CREATEDATE="([^"]+)"', text)
    assert found
    (root / "METS.xml").write_text(text.replace(found.group(1), when, 1), encoding="utf-8")


@pytest.mark.parametrize("when", ["2026-02-31T10:00:00Z", "2025-02-29", "2026-04-31T00:00:00+07:00"])
@pytest.mark.parametrize("where", ["premis-event", "mets-header"])
def test_a_date_no_calendar_holds_is_refused(
    kho: Kho, people: People, tmp_path: Path, where: str, when: str
) -> None:
    root = good_package(kho, people, tmp_path, docs=1)
    (_premis_event_at if where == "premis-event" else _mets_created_at)(root, when)
    error = refused(kho, people, zipped(root, tmp_path / "impossible.zip"))
    assert error.code == "SIP_DATE_INVALID", (error.code, error.message)
    assert when[:10] in error.message and error.message == unicodedata.normalize("NFC", error.message)
    assert error.details["file"] == (PREMIS if where == "premis-event" else "METS.xml")


@pytest.mark.parametrize(
    "text, impossible",
    [
        ("2026-02-31", True),
        (" 2025-02-29T00:00:00Z", True),
        ("2026-13-01", True),
        ("2026-04-31/2026-05-02", True),
        ("2024-02-29T23:59:59+07:00", False),  # a leap year
        ("2027", False),  # other forms are not judged here
        ("2027-03", False),
        ("ngày 31 tháng 2", False),
        ("20260231", False),
        ("", False),
        (None, False),
    ],
)
def test_the_rule_judges_only_iso_calendar_dates(text: str | None, impossible: bool) -> None:
    assert impossible_date(text) is impossible


def test_a_package_refused_for_its_date_by_the_installation_door_is_a_coded_refusal(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    root = good_package(kho, people, tmp_path, docs=1)
    _premis_event_at(root, "2026-02-31T10:00:00Z")
    with pytest.raises(KhoError) as info:
        kho.import_package(zipped(root, tmp_path / "door.zip"), actor=people.actor("luu_tru"))
    assert info.value.code == "SIP_DATE_INVALID" and info.value.http_status == 422


def test_the_cli_refuses_it_with_the_code_and_no_traceback(tmp_path: Path) -> None:
    """``kho archive check-sip`` as a real subprocess, logged in as the lưu trữ viên."""
    env = kho_env(tmp_path)
    kho = open_kho(env, Clock(datetime.now(UTC)))
    people = make_people(kho)
    root = good_package(kho, people, tmp_path, docs=1)
    _premis_event_at(root, "2026-02-31T10:00:00Z")
    run_env = {**os.environ, **env, "KHO_TOKEN": people.tokens["luu_tru"]}
    kho.close()
    archive = zipped(root, tmp_path / "cli.zip")
    done = subprocess.run(
        [sys.executable, "-m", "web.cli", "archive", "check-sip", str(archive), "--json"],
        env=run_env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    said = done.stdout + done.stderr
    assert done.returncode != 0 and "SIP_DATE_INVALID" in said and "2026-02-31" in said, said
    assert "Traceback" not in said
