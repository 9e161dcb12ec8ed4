"""Issue 14, m55: a bulk import's own process does not read again the records its workers create.

``kho ingest files`` reports each file's record id only as the importer may see it (rv29), and
for that asked the access policy with the record read again in the importing process: four
requests on S3 (its versions listed, its version and key read, its links listed) for every new
file, one file after another, on top of the ~26 its worker sent to store it. The worker that
created the record holds its last version: it now hands the record's facts over with the
file's result, and the policy decides on them. A file whose record the import did not create
(the same bytes already stored, perhaps another unit's Mật record) is read and decided as it
is now, as before. Real S3 gateway, real pipeline in two forked workers, the importing
process's HTTP requests counted (the workers' are their own).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_counting import NamedRequests, named_requests
from kho_people import make_people
from kho_testing import s3_options_or_skip, s3_store_env

from ingest.testpki import TestPKI, Variant, make_variant
from kho.config import Settings
from web.cli import main
from web.context import Kho

pytestmark = pytest.mark.s3

FILES = 4


@pytest.fixture()
def requests_made(monkeypatch: pytest.MonkeyPatch) -> NamedRequests:
    return named_requests(monkeypatch)


def test_the_importing_process_reads_no_record_its_workers_created(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, requests_made: NamedRequests
) -> None:
    for key, value in s3_store_env(s3_options_or_skip(), "m55f").items():
        monkeypatch.setenv(key, value)
    folder = tmp_path / "in"
    folder.mkdir()
    pki = TestPKI.build()
    for n in range(FILES):
        pdf = make_variant(Variant.NO_TIMESTAMP, pki=pki, seed=550 + n, pages=1)
        (folder / f"qd-{n}.pdf").write_bytes(pdf)
    kho = Kho(Settings.from_env(), follow_index=False)
    people = make_people(kho)
    monkeypatch.setenv("KHO_TOKEN_FILE", str(tmp_path / "tokens.json"))
    monkeypatch.setenv("KHO_TOKEN", people.tokens["van_thu"])
    runner = CliRunner()

    requests_made.seen.clear()
    result = runner.invoke(main, [
        "ingest", "files", str(folder), "--workers", "2",
        "--manifest", str(tmp_path / "first.jsonl"), "--json",
    ])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    made = {i["path"]: i["record_id"] for i in report["items"]}
    # Every file became a record, named to the văn thư who imported it (the policy's answer).
    assert report["done"] == FILES and len(made) == FILES and all(made.values()), report
    # before m55: four requests in this process for each new record
    read_again = [r for r in requests_made.seen if any(i in r for i in made.values())]
    assert read_again == [], read_again

    # The same files again under another manifest: the records exist, this import created
    # none of them, so each is read and decided by the policy as it is now.
    requests_made.seen.clear()
    result = runner.invoke(main, [
        "ingest", "files", str(folder), "--workers", "2",
        "--manifest", str(tmp_path / "second.jsonl"), "--json",
    ])
    assert result.exit_code == 0, result.output
    again = {i["path"]: i["record_id"] for i in json.loads(result.output)["items"]}
    assert again == made
    assert all(any(i in r for r in requests_made.seen) for i in made.values()), requests_made.seen
    kho.close()
