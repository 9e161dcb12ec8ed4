"""rv33 (rv27's open item): the CLI's ``--resend`` through its own door, ``kho archive check-sip``
run as a real subprocess (``python -m web.cli``) logged in by token as the lưu trữ viên: a
package accepted, the same package refused ``SIP_REPLAYED``, a corrected re-send refused
``SIP_RESENT`` without ``--resend`` and taken with it as version 2. rv27 tested the API's
``resend=1`` only. Passes on main too (a door test, not a fix).

Real services, real validator, real pyHanko."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from kho_people import make_people
from kho_retention import Clock, kho_env, open_kho
from kho_sip import good_package, replace_document, zipped
from kho_testing import pdf_bytes


def _check_sip(env: dict[str, str], archive: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "web.cli", "archive", "check-sip", str(archive), "--json", *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_cli_takes_a_corrected_resend_only_with_resend(tmp_path: Path) -> None:
    env = kho_env(tmp_path)
    kho = open_kho(env, Clock(datetime.now(UTC)))  # the CLI's own clock: the package dated now
    people = make_people(kho)
    root = good_package(kho, people, tmp_path, docs=1)
    run_env = {**os.environ, **env, "KHO_TOKEN": people.tokens["luu_tru"]}
    kho.close()
    first = zipped(root, tmp_path / "first.zip")

    done = _check_sip(run_env, first)
    assert done.returncode == 0, done.stderr
    accepted = json.loads(done.stdout)
    assert accepted["package_version"] == 1

    again = _check_sip(run_env, first, "--resend")
    assert again.returncode != 0 and "SIP_REPLAYED" in again.stdout + again.stderr

    replace_document(root, "representations/rep1/data/001_cv0.pdf", pdf_bytes("corrected"))
    corrected = zipped(root, tmp_path / "corrected.zip")
    refused = _check_sip(run_env, corrected)
    assert refused.returncode != 0 and "SIP_RESENT" in refused.stdout + refused.stderr

    taken = _check_sip(run_env, corrected, "--resend")
    assert taken.returncode == 0, taken.stderr
    answer = json.loads(taken.stdout)
    assert answer["package_version"] == 2 and answer["replaces"] == accepted["import_id"]
    assert answer["changes"]["changed"]
