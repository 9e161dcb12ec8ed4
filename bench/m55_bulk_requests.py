"""S3 requests per document of ``kho ingest files`` as a văn thư runs it (task m55, issue 14):
the whole command in this process (``--workers 1``: the pipeline runs here too, so every request
of the import is counted), N born-digital signed PDFs (test PKI, 1 page), against the running S3
gateway; an empty folder first, whose requests (the login, the installation) are the fixed cost.

    eval "$(bash /work/main/scripts/services.sh env)"
    nice -n 10 .venv/bin/python bench/m55_bulk_requests.py <tree> [--count 20] [--rounds 3]

``<tree>`` is the checkout whose code runs (its folder first on ``sys.path``): run main's and
this one's to compare. Requests are counted by kind (method, bucket, key family). Not a test."""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

TREE = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else "."
for sub in ("bench", "tests/support", ""):
    sys.path.insert(0, os.path.join(os.path.abspath(TREE), sub))

import urllib3  # noqa: E402

_urlopen = urllib3.PoolManager.urlopen
_lock = threading.Lock()
COUNTS: collections.Counter[str] = collections.Counter()


def _kind(method: str, url: str) -> str:
    path, _, query = url.split("://", 1)[-1].partition("?")
    parts = path.split("/")
    bucket = parts[1] if len(parts) > 1 else ""
    where = "claims" if bucket.endswith("-claims") else "keys" if bucket.endswith("-keys") else "data"
    key = [p for p in parts[2:] if p]
    if key[:1] == ["records"]:
        family = "records/<id>/" + (key[2] if len(key) > 2 and not key[2].startswith("v") else "v<n>")
    elif key[:1] in (["keys"], ["tokens"], ["accounts"], [".kho-probe"]) or len(key) < 2:
        family = "/".join(key[:1])
    else:
        family = "/".join(key[:2])
    if "prefix=" in query or "list-type" in query or "versions" in query:
        family += " (LIST)"
    return f"{method:4s} {where:6s} {family}"


def _counted(self: urllib3.PoolManager, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
    with _lock:
        COUNTS[_kind(method, url)] += 1
    return _urlopen(self, method, url, *args, **kwargs)


urllib3.PoolManager.urlopen = _counted  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tree")
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from kho_buckets import drop_made, new_bucket

    from ingest.testpki import TestPKI, Variant, make_variant

    options = {
        "endpoint": os.environ["KHO_TEST_S3_ENDPOINT"],
        "access_key": os.environ["KHO_TEST_S3_ACCESS_KEY"],
        "secret_key": os.environ["KHO_TEST_S3_SECRET_KEY"],
        "secure": False,
    }
    pki = TestPKI.build()
    per_doc: list[float] = []
    kinds: collections.Counter[str] = collections.Counter()
    for round_ in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="m55-req-") as tmp:
            root = Path(tmp)
            trust = root / "trust"
            trust.mkdir()
            pki.write_trust_dir(trust)
            os.environ.update(
                KHO_DATA_DIR=str(root / "kho"), KHO_TRUST_DIR=str(trust), KHO_FSYNC="false",
                KHO_BROKER_URL="", KHO_TIKA_URL="", KHO_AGENCY_ID="000.00.18.H40",
                KHO_PASSWORD_MEMORY_KB="1024", KHO_PASSWORD_TIME_COST="1",
                KHO_STORE_URL=f"s3://{new_bucket('m55r', options)}",
                KHO_KEYSTORE_URL=f"s3://{new_bucket('m55r-keys', options)}",
                KHO_S3_ENDPOINT=options["endpoint"], KHO_S3_ACCESS_KEY=options["access_key"],
                KHO_S3_SECRET_KEY=options["secret_key"],
                KHO_TOKEN_FILE=str(root / "tokens.json"),
            )
            try:
                fixed, total, counts = measure(root, pki, make_variant, Variant, args.count, round_)
            finally:
                drop_made()
        per_doc.append((total - fixed) / args.count)
        kinds.update(counts)
        print(f"round {round_ + 1}: {args.count} documents, {per_doc[-1]:.2f} requests a document "
              f"(the command's fixed cost {fixed} requests, not counted)", flush=True)
    median = sorted(per_doc)[len(per_doc) // 2]
    print(f"{TREE}: requests a document min {min(per_doc):.2f} / median {median:.2f}")
    print("  by kind (a document, all rounds, the fixed cost included):")
    for kind, n in sorted(kinds.items()):
        print(f"    {kind:<60} {n / (args.count * args.rounds):6.2f}")


def measure(
    root: Path, pki: Any, make_variant: Any, variant: Any, count: int, round_: int
) -> tuple[int, int, collections.Counter[str]]:
    import logging

    from click.testing import CliRunner
    from kho_people import make_people

    from kho.config import Settings
    from web.cli import main as kho
    from web.context import Kho

    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    installation = Kho(Settings.from_env(), follow_index=False)
    people = make_people(installation)
    os.environ["KHO_TOKEN"] = people.tokens["van_thu"]
    empty, folder = root / "empty", root / "in"
    empty.mkdir()
    folder.mkdir()
    for n in range(count):
        pdf = make_variant(variant.NO_TIMESTAMP, pki=pki, seed=5500 + 100 * round_ + n, pages=1)
        (folder / f"qd-{n}.pdf").write_bytes(pdf)
    runner = CliRunner()
    COUNTS.clear()
    result = runner.invoke(kho, ["ingest", "files", str(empty), "--workers", "1", "--json"])
    assert result.exit_code == 0, result.output
    fixed = sum(COUNTS.values())
    COUNTS.clear()
    result = runner.invoke(kho, ["ingest", "files", str(folder), "--workers", "1", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["done"] == count and all(i["record_id"] for i in report["items"]), report
    counts = collections.Counter(COUNTS)
    installation.close()
    return fixed, sum(counts.values()), counts


if __name__ == "__main__":
    main()
