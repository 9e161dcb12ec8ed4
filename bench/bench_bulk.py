"""Bulk import benchmark (a script, not a test): ``kho ingest files`` over a folder of generated
legacy documents (3 pages, signed: ``bench/make_legacy_corpus.py`` makes 100,000 in ~6 min,
``bench/make_signed_corpus.py`` renders and signs each one afresh), on the local store or the S3
gateway, with an optional kill part-way and the resumed run after it.

    .venv/bin/python bench/make_legacy_corpus.py /tmp/legacy --count 100000
    .venv/bin/python bench/bench_bulk.py /tmp/legacy/pdfs --trust /tmp/legacy/trust \
        --data /tmp/kho-bulk [--s3] [--workers 2] [--kill-after 300] [--stop-after 1800]

The installation in ``--data`` is made on first use (a văn thư account through the account
service, as ``make_people`` does for the tests) and kept, so a second call resumes the same
import (its manifest is ``<data>/bulk-manifest.jsonl``), with a new token of that văn thư
(tokens end after 30 idle minutes). ``--kill-after S`` sends SIGKILL to the whole command
after S seconds and starts it again (the resume); ``--stop-after S`` ends the last run after
S seconds (SIGKILL as well), for a bounded session: the next call goes on.
At the end it counts records, distinct originals and the manifest, and prints the rate of each
run (documents finished by that run / its wall time). With ``--s3``, once the import is complete
(the last run exited 0: the import command ran to its end) the installation's
buckets are removed (the gateway keeps its objects in RAM) with ``bench-env.json`` and the
manifest, so a next call starts a new installation; ``--keep`` keeps them.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "support"))


def _env(data: Path, trust: Path, s3: bool) -> dict[str, str]:
    saved = data / "bench-env.json"
    if saved.exists():
        extra = json.loads(saved.read_text())
        extra["KHO_TOKEN"] = _fresh_token({**os.environ, **extra})
    else:
        extra = {
            "KHO_DATA_DIR": str(data),
            "KHO_TRUST_DIR": str(trust),
            "KHO_FSYNC": os.environ.get("KHO_FSYNC", "false"),
            "KHO_BROKER_URL": "",
            "KHO_TIKA_URL": "",
            "KHO_AGENCY_ID": "000.00.18.H40",
            "KHO_PASSWORD_MEMORY_KB": "1024",
            "KHO_PASSWORD_TIME_COST": "1",
        }
        if s3:
            from kho_buckets import bucket_name

            bucket = bucket_name("bench-bulk")
            extra.update(
                KHO_STORE_URL=f"s3://{bucket}",
                KHO_KEYSTORE_URL=f"s3://{bucket}-keys",
                KHO_S3_ENDPOINT=os.environ["KHO_TEST_S3_ENDPOINT"],
                KHO_S3_ACCESS_KEY=os.environ.get("KHO_TEST_S3_ACCESS_KEY", ""),
                KHO_S3_SECRET_KEY=os.environ.get("KHO_TEST_S3_SECRET_KEY", ""),
            )
        data.mkdir(parents=True, exist_ok=True)
        from kho_people import make_people

        from kho.config import Settings
        from web.context import Kho

        people = make_people(Kho(Settings.from_env({**os.environ, **extra}), follow_index=False))
        extra["KHO_TOKEN"] = people.tokens["van_thu"]
        saved.write_text(json.dumps(extra))
    return {**os.environ, **extra}


def _fresh_token(env: dict[str, str]) -> str:
    """A new token for the import's văn thư: the one saved by the last call is refused once it
    has been idle for the token idle time (30 minutes), so a resume after a longer break would
    stop at its first request (SESSION_EXPIRED)."""
    from kho_people import STAFF

    from kho.config import Settings
    from web.context import Kho

    accounts = Kho(Settings.from_env(env), follow_index=False).accounts
    name = STAFF["van_thu"][0]
    account = next(a for a in accounts.accounts() if a.full_name == name)
    return accounts.issue_token(account.username, "bench-bulk", account)


def _lines(path: Path) -> int:
    return path.read_text(encoding="utf-8").count("\n") if path.exists() else 0


def _run(command: list[str], env: dict[str, str], manifest: Path, limit: float | None,
         log: Path) -> tuple[float, int, int | None]:
    """(seconds, files finished by this run, return code or None when killed)."""
    before = _lines(manifest)
    started = time.monotonic()
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n$ {' '.join(command)}\n")
        out.flush()
        proc = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True,
                                stdout=out, stderr=subprocess.STDOUT)
        try:
            proc.wait(timeout=limit)
            code: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            code = None
        except KeyboardInterrupt:
            _stop(proc)
            raise
    return time.monotonic() - started, _lines(manifest) - before, code


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the import this script was interrupted in (Ctrl-C or SIGTERM): it runs in its own
    session, so the terminal's signal does not reach it, and it would go on alone. SIGTERM, not
    SIGINT: a command started in the background by a non-interactive shell (``nohup … &``)
    ignores SIGINT, and went on. The import is made to be killed at any point (what it finished
    is in the manifest; the next call goes on); SIGKILL if it is still there after 60 s."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    print(f"stopped: the import (pid {proc.pid}) ended with {proc.returncode}", file=sys.stderr)


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--s3", action="store_true", help="store on the S3 gateway (KHO_TEST_S3_*)")
    parser.add_argument("--trust", type=Path, default=None,
                        help="trust anchors (default: CORPUS/trust, as make_signed_corpus writes)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kill-after", type=float, default=None)
    parser.add_argument("--stop-after", type=float, default=None)
    parser.add_argument("--keep", action="store_true",
                        help="keep the S3 buckets of a complete import (default: removed)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _interrupted)  # `kill` stops the import as Ctrl-C does

    env = _env(args.data, args.trust or args.corpus / "trust", args.s3)
    manifest = args.data / "bulk-manifest.jsonl"
    command = [sys.executable, "-m", "web.cli", "ingest", "files", str(args.corpus),
               "--workers", str(args.workers), "--manifest", str(manifest)]
    files = [p for p in args.corpus.iterdir() if p.suffix == ".pdf"]
    extra = len([p for p in args.corpus.iterdir() if p.is_file() and p.suffix != ".pdf"])
    print(f"corpus: {len(files)} PDFs (+{extra} other files) in {args.corpus}; store: "
          f"{'S3 ' + env['KHO_STORE_URL'] if args.s3 else 'local ' + str(args.data)}; "
          f"already in the manifest: {_lines(manifest)}", flush=True)
    log = args.data / "bench-bulk.log"
    runs = []
    if args.kill_after:
        runs.append(("killed", _run(command, env, manifest, args.kill_after, log)))
    runs.append(("run", _run(command, env, manifest, args.stop_after, log)))
    for name, (seconds, finished, code) in runs:
        state = "SIGKILL" if code is None else f"exit {code}"
        print(f"{name:7s} {seconds:8.1f} s  {finished:6d} files finished  "
              f"{finished / seconds:6.2f} docs/s  ({state})", flush=True)

    from ingest.bulk import Manifest
    from kho.config import Settings
    from repository.service import open_repository

    entries = Manifest(manifest).entries
    states: dict[str, int] = {}
    for entry in entries.values():
        states[entry["state"]] = states.get(entry["state"], 0) + 1
    repo = open_repository(Settings.from_env(env))
    committed = [r for r in repo.records() if r.files]
    shas = {r.files[0].sha256 for r in committed}
    print(f"manifest: {len(entries)} files {states}; records with an original: {len(committed)}, "
          f"distinct originals: {len(shas)}; duplicates: {len(committed) - len(shas)}")
    complete = runs[-1][1][2] == 0  # the import command ran to its end, not stopped or killed
    if args.s3 and complete and not args.keep:
        _drop_installation(env, args.data, manifest)
    return 0


def _drop_installation(env: dict[str, str], data: Path, manifest: Path) -> None:
    """Remove the S3 buckets of a complete import, and what names them in ``data``."""
    from kho_buckets import drop_bucket

    gateway = {"endpoint": env["KHO_S3_ENDPOINT"], "access_key": env["KHO_S3_ACCESS_KEY"],
               "secret_key": env["KHO_S3_SECRET_KEY"], "secure": False}
    problems = []
    for url in (env["KHO_STORE_URL"], env["KHO_KEYSTORE_URL"]):
        problems += drop_bucket(url.removeprefix("s3://"), gateway)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:  # bench-env.json is what names the buckets left: kept with the manifest
        print(f"kept {data / 'bench-env.json'} and the manifest: they name what is left",
              file=sys.stderr)
        return
    (data / "bench-env.json").unlink(missing_ok=True)
    manifest.unlink(missing_ok=True)
    print(f"S3 buckets removed: {env['KHO_STORE_URL']}, {env['KHO_KEYSTORE_URL']} (--keep keeps them);"
          " the next import needs a new --data")


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        print("interrupted: what finished is in the manifest; run again to go on", file=sys.stderr)
        raise SystemExit(130) from None
