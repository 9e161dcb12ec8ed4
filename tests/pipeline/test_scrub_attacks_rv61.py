"""Review rv61: attacks on session 49's scrub (m57). An object under the jobs' prefix that is not a
job, beside a staged copy a stopped scrub left (a damaged job, or one put there by a writer of the
store), stopped ``kho ingest scrub`` and ``kho fsck --repair`` with a traceback; both now report
it unreadable (a Vietnamese line, the JSON key ``unreadable``) and leave it and the staged copy as
they are. Real CLI, the local folder."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kho.config import Settings
from repository.ingest_jobs import JOBS_PREFIX, STAGED_PREFIX
from web.cli import main
from web.context import Kho

KEY = f"{JOBS_PREFIX}{'ab' * 32}.json"
STAGED = f"{STAGED_PREFIX}{'ab' * 32}.json"
STAGED_BODY = json.dumps({"job_id": "ab" * 32, "format_version": 2, "summary": {}}).encode()

NOT_JOBS = {
    "not-json": b"\x00\xffnot json",
    "a-list": b"[1, 2]",
    "summary-a-number": json.dumps({"job_id": "ab" * 32, "summary": 5}).encode(),
    "format-unknown": json.dumps({"job_id": "ab" * 32, "format_version": "zz"}).encode(),
}


def _no_traceback(result: object) -> None:
    exception = getattr(result, "exception", None)
    assert exception is None or isinstance(exception, SystemExit), repr(exception)
    assert "Traceback" not in getattr(result, "output", "")


@pytest.mark.parametrize("staged", [True, False], ids=["staged-copy-left", "no-staged-copy"])
@pytest.mark.parametrize("name", list(NOT_JOBS))
def test_a_job_object_that_is_not_a_job_is_reported_unreadable_by_the_scrub_and_fsck(
    name: str, staged: bool, env: dict[str, str]
) -> None:
    body = NOT_JOBS[name]
    store = Kho(Settings.from_env()).repo.store
    store.put(KEY, body)
    if staged:
        store.put(STAGED, STAGED_BODY)
    runner = CliRunner()

    scrub = runner.invoke(main, ["ingest", "scrub", "--json"])
    _no_traceback(scrub)  # before: JSONDecodeError / AttributeError / TypeError / FormatInvalid
    assert scrub.exit_code == 0, scrub.output
    report = json.loads(scrub.stdout)
    assert report["unreadable"] == [KEY] and report["finished"] == [] and report["scrubbed"] == []
    assert store.get(KEY) == body  # left as it is
    assert [i.key for i in store.list(STAGED_PREFIX)] == ([STAGED] if staged else [])

    text = runner.invoke(main, ["ingest", "scrub"])
    _no_traceback(text)
    assert text.exit_code == 0 and "1 lượt không đọc được (xem kho fsck)" in text.output, text.output

    for argv in (["fsck"], ["fsck", "--repair"], ["fsck", "--deep"], ["fsck", "--deep", "--repair"]):
        checked = runner.invoke(main, argv)
        _no_traceback(checked)  # before: TypeError in the plaintext check (summary-a-number)
        deep = "--deep" in argv
        assert checked.exit_code == (1 if staged or deep else 0), checked.output
        assert ("job-scrub-unfinished" in checked.output) is staged
        assert (f"[format] {KEY}" in checked.output) is deep  # the object named by the format check
    assert store.get(KEY) == body
    assert [i.key for i in store.list(STAGED_PREFIX)] == ([STAGED] if staged else [])
