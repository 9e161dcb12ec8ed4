"""Issue 14, m54: a resumed bulk import does not read the records of the files it skips.

``kho ingest files`` resumed from its manifest asked the access policy, for every file the
manifest had as finished, whether the importer may see its record id (rv29: an id is reported
only as the importer may see it). Each answer reads the record: four requests on S3 (its
versions listed, its version and key read, its links listed). The resume of the 100,000-document
import, 32,421 of them done, sent ~130,000 requests and waited minutes before its first new
file, to decide ids the text report never prints (it counts the files done before). Now the text
report names none of them and reads nothing for them; ``--json``, which lists every item with its
id, still asks the policy for each. Real S3 gateway, real pipeline, every HTTP request counted.
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

FILES = 3


@pytest.fixture()
def reads(monkeypatch: pytest.MonkeyPatch) -> NamedRequests:
    return named_requests(monkeypatch)


def _ingest(runner: CliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(main, ["ingest", "files", *args])
    return result.exit_code, result.output


def test_a_resumed_import_reads_no_record_of_the_files_it_skips(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, reads: NamedRequests
) -> None:
    for key, value in s3_store_env(s3_options_or_skip(), "m54r").items():
        monkeypatch.setenv(key, value)
    folder = tmp_path / "in"
    folder.mkdir()
    pki = TestPKI.build()
    for n in range(FILES):
        pdf = make_variant(Variant.NO_TIMESTAMP, pki=pki, seed=540 + n, pages=1)
        (folder / f"qd-{n}.pdf").write_bytes(pdf)
    kho = Kho(Settings.from_env(), follow_index=False)
    people = make_people(kho)
    monkeypatch.setenv("KHO_TOKEN_FILE", str(tmp_path / "tokens.json"))
    monkeypatch.setenv("KHO_TOKEN", people.tokens["van_thu"])
    manifest = str(tmp_path / "manifest.jsonl")
    runner = CliRunner()

    code, out = _ingest(runner, str(folder), "--workers", "1", "--manifest", manifest, "--json")
    assert code == 0, out
    first = {i["path"]: i["record_id"] for i in json.loads(out)["items"]}
    assert len(first) == FILES and all(first.values()), first

    reads.seen.clear()
    code, out = _ingest(runner, str(folder), "--workers", "1", "--manifest", manifest)
    assert code == 0, out
    assert f"bỏ qua (đã xử lý trước): {FILES} / {FILES} tệp" in out, out
    # before m54: 4 requests for each file skipped (its versions, version, key and links)
    assert not [r for r in reads.seen if any(i in r for i in first.values())], reads.seen
    assert not any(record_id in out for record_id in first.values()), out

    # --json names each file's record, so each is still decided by the policy (rv29)
    reads.seen.clear()
    code, out = _ingest(runner, str(folder), "--workers", "1", "--manifest", manifest, "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["skipped"] == FILES
    assert {i["path"]: i["record_id"] for i in report["items"]} == first
    assert all(any(record_id in r for r in reads.seen) for record_id in first.values()), reads.seen
    kho.close()
