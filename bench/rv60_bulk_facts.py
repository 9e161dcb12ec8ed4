"""Review rv60: what the bulk import's check that a created record is still its latest version
costs. ``kho ingest files --workers 1 --json`` (the worker runs in the importing process, so
every request is counted) of N born-digital signed PDFs (test PKI, 1 page) on a fresh S3
bucket of the running gateway, as a văn thư of the agency. Printed per file: every HTTP request
of the import, and the wall time; min / median over the rounds, the trees interleaved in each
round (main: the importer reads each record; m55: the worker hands over facts; rv60: the same,
after one listing of the record's versions).

    source /work/runs/svc46/env.sh && eval "$(bash /work/main/scripts/services.sh env)"
    git worktree add /tmp/rv60-main main && git worktree add /tmp/rv60-m55 m55
    nice -n 10 .venv/bin/python bench/rv60_bulk_facts.py --count 24 --rounds 3 \\
        main=/tmp/rv60-main m55=/tmp/rv60-m55 rv60=.

Each measurement is a child process whose tree's folder is first on ``sys.path``. Not a test."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one(tree: str, count: int) -> None:
    for sub in ("tests/support", ""):
        sys.path.insert(0, os.path.join(os.path.abspath(tree), sub))
    import logging

    import urllib3
    from click.testing import CliRunner
    from kho_buckets import drop_made
    from kho_people import make_people
    from kho_testing import s3_options, s3_store_env

    from ingest.testpki import TestPKI, Variant, make_variant

    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)
    options = s3_options()
    assert options is not None, "KHO_TEST_S3_ENDPOINT is not set: eval the services' env first"
    pki = TestPKI.build()
    with tempfile.TemporaryDirectory(prefix="rv60-facts-") as tmp:
        trust = Path(tmp) / "trust"
        trust.mkdir()
        pki.write_trust_dir(trust)
        folder = Path(tmp) / "in"
        folder.mkdir()
        for n in range(count):
            pdf = make_variant(Variant.NO_TIMESTAMP, pki=pki, seed=600 + n, pages=1)
            (folder / f"qd-{n}.pdf").write_bytes(pdf)
        os.environ.update(
            KHO_DATA_DIR=str(Path(tmp) / "kho"), KHO_TRUST_DIR=str(trust), KHO_FSYNC="false",
            KHO_BROKER_URL="", KHO_TIKA_URL="", KHO_AGENCY_ID="000.00.18.H40",
            KHO_PASSWORD_MEMORY_KB="1024", KHO_PASSWORD_TIME_COST="1",
            KHO_TOKEN_FILE=str(Path(tmp) / "tokens.json"), **s3_store_env(options, "rv60b"),
        )
        try:
            from kho.config import Settings
            from web.cli import main
            from web.context import Kho

            kho = Kho(Settings.from_env(), follow_index=False)
            os.environ["KHO_TOKEN"] = make_people(kho).tokens["van_thu"]
            kho.close()
            sent = [0]
            real = urllib3.PoolManager.urlopen

            def counted(self: urllib3.PoolManager, method: str, url: str, *a: object, **kw: object) -> object:
                sent[0] += 1
                return real(self, method, url, *a, **kw)

            urllib3.PoolManager.urlopen = counted  # type: ignore[method-assign]
            began = time.perf_counter()
            result = CliRunner().invoke(main, [
                "ingest", "files", str(folder), "--workers", "1", "--json",
                "--manifest", str(Path(tmp) / "manifest.jsonl"),
            ])
            seconds = time.perf_counter() - began
            urllib3.PoolManager.urlopen = real  # type: ignore[method-assign]
            report = json.loads(result.output)
            named = sum(1 for i in report["items"] if i["record_id"])
            assert result.exit_code == 0 and report["done"] == count and named == count, result.output[:500]
            import ingest.bulk

            code = ingest.bulk.__file__
            print(json.dumps({"requests": sent[0] / count, "seconds": seconds / count, "code": code}))
        finally:
            drop_made()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("trees", nargs="*", help="name=path")
    parser.add_argument("--count", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--one")
    args = parser.parse_args()
    if args.one:
        one(args.one, args.count)
        return
    trees = [t.split("=", 1) for t in args.trees]
    seen: dict[str, list[dict[str, float]]] = {name: [] for name, _ in trees}
    for _ in range(args.rounds):
        for name, path in trees:
            out = subprocess.run(
                [sys.executable, __file__, "--one", path, "--count", str(args.count)],
                check=True, capture_output=True, text=True,
            ).stdout.strip().splitlines()[-1]
            seen[name].append(json.loads(out))
    print(f"{args.count} files, --workers 1, S3, {args.rounds} rounds interleaved; per file: min / median")
    for name, runs in seen.items():
        req = [r["requests"] for r in runs]
        sec = [r["seconds"] * 1000 for r in runs]
        print(f"  {name:5} requests {min(req):6.1f} / {statistics.median(req):6.1f}"
              f"   ms {min(sec):6.0f} / {statistics.median(sec):6.0f}")


if __name__ == "__main__":
    main()
