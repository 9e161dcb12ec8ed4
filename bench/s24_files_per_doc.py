"""Files (inodes) an ingest creates per document, by what creates them (issue 14, session 50).

    .venv/bin/python bench/s24_files_per_doc.py [--count 100] [--workers 2] [--tree DIR]

Runs ``bench/bench_ingest.py --only a`` of ``--tree`` (default: this one; give a worktree of
``main`` for the baseline) under ``strace -ff`` (``openat``, ``link``, ``rename``, ``unlink``,
``mkdir``) and reads every successful call on the bench's temporary Kho folder:

* a file created: an ``openat`` with ``O_CREAT|O_EXCL`` that succeeded (the store's temp files
  and Tantivy's), or with ``O_CREAT`` alone on a name not there (never made, or removed since:
  SQLite's journal, the written-head note); a temp file of the store is counted under the
  object it became (the ``link`` or ``rename`` of its name);
* a directory created: a ``mkdir`` that succeeded;
* an inode freed by Kho during the run: a ``rename`` onto a name that held a file this run made
  or renamed there before (the old file had no other name unless a ``link`` archived it first
  into ``versions/``), and an ``unlink`` in the search index's folder (SQLite's journal,
  Tantivy's merged segments; the store's ``unlink`` calls drop the name of a temp file linked
  into place, not its inode). The bench's own removal of its temporary folder at the end is
  not counted (it happens after the run).

Each figure is divided by the documents ingested. Why it matters on this machine: ``/`` is ext4
without a journal, where every inode allocated scans the inodes of its group freed in the last
60-360 s (``bench/NOTES-lead49.md``). A figure of a script, not a test.
"""

from __future__ import annotations

import argparse
import collections
import glob
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_CALL = re.compile(r"^(\d+\.\d+) (\w+)\((.*)\)\s+=\s+(-?\d+)")
_NAME = re.compile(r'"((?:[^"\\]|\\.)*)"')
_FOLDER = re.compile(r"kho-bench-ingest-[^/]+/")


def kind_of(rel: str) -> str:
    """What a path below the bench's Kho folder is (the key families of the store)."""
    for pattern, kind in (
        (r"^store/objects/records/[^/]+/content/", "record: original (encrypted)"),
        (r"^store/objects/records/[^/]+/v\d+$", "record: version"),
        (r"^store/objects/records/[^/]+/derived/(\w+)\.json$", "record: derived {0}.json"),
        (r"^store/objects/audit/events/", "audit: event"),
        (r"^store/objects/audit/witness\.json$", "audit: witness"),
        (r"^store/objects/ingest/jobs/", "job"),
        (r"^store/objects/claims/sha256/", "claim: SHA-256 guard"),
        (r"^store/objects/catalog/records/", "catalog: record marker"),
        (r"^keys/objects/keys/", "key store: record key"),
        (r"^store/objects/records/[^/]+$", "dir: record folder"),
        (r"^store/objects/records/[^/]+/content$", "dir: record content/"),
        (r"^store/objects/records/[^/]+/derived$", "dir: record derived/"),
        (r"^store/versions/ingest/jobs/[^/]+$", "dir: job's versions/ folder"),
        (r"^store/versions/ingest/jobs/", "job: archived version (link)"),
        (r"^index/search\.sqlite3-journal$", "index: SQLite rollback journal"),
        (r"^index/", "index: Tantivy files"),
        (r"^audit-checkpoints/", "audit: written-head note"),
    ):
        match = re.search(pattern, rel)
        if match:
            return kind.format(*match.groups())
    return "set-up of the run (folders, databases, manifest)"


def count(trace_dir: Path) -> tuple[collections.Counter[str], collections.Counter[str], int]:
    """(files and directories created by kind, inodes freed by kind, documents) from the traces."""
    created: collections.Counter[str] = collections.Counter()
    freed: collections.Counter[str] = collections.Counter()
    temps: dict[str, str] = {}  # a store temp file -> the name it became
    placed: set[str] = set()  # names this run linked or renamed a file to
    archived: set[str] = set()  # names whose current file a link archived before its replace
    existing: set[str] = set()  # names this run made that are still there
    calls = []
    for trace in sorted(glob.glob(str(trace_dir / "t.*"))):
        with open(trace, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                match = _CALL.match(line)
                if match and int(match.group(4)) >= 0 and "kho-bench-ingest-" in line:
                    calls.append((float(match.group(1)), match.group(2), match.group(3)))
    calls.sort(key=lambda c: c[0])  # one trace per thread: merged in the order of the calls
    for _, call, args in calls:
        names = [_FOLDER.split(n, 1)[-1] for n in _NAME.findall(args)]
        if not names:
            continue
        if call == "openat" and "O_CREAT" in args:
            rel = names[-1]
            if "O_EXCL" in args or rel not in existing:
                existing.add(rel)
                if re.match(r"^(store|keys)/tmp/", rel):
                    temps[rel] = ""
                else:
                    created[kind_of(rel)] += 1
        elif call in ("mkdir", "mkdirat"):
            created[kind_of(names[-1])] += 1
        elif call in ("link", "linkat", "rename", "renameat", "renameat2") and len(names) >= 2:
            source, target = names[-2], names[-1]
            if source.startswith("store/objects/") and target.startswith("store/versions/"):
                archived.add(source)  # the current file keeps a name: its replace frees nothing
                continue
            if source in temps:
                created[kind_of(target)] += 1
                temps[source] = target
            if call.startswith("rename"):
                if target in placed and target not in archived:
                    freed[kind_of(target)] += 1
                archived.discard(target)
                existing.discard(source)
            placed.add(target)
            existing.add(target)
        elif call in ("unlink", "unlinkat"):
            existing.discard(names[-1])
            if temps.get(names[-1]) == "":  # a temp file given up (a lost race): its inode goes
                freed["store temp file never placed"] += 1
            if names[-1].startswith("index/"):  # (the store's unlinks drop a temp name only)
                freed[kind_of(names[-1])] += 1
    unplaced = sum(1 for target in temps.values() if not target)
    if unplaced:
        created["store temp file never placed"] += unplaced
    documents = created["record: original (encrypted)"] or 1
    return created, freed, documents


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100, help="documents (a cached corpus size)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tree", type=Path, default=ROOT, help="the Kho tree whose bench runs")
    parser.add_argument("--traces", type=Path, help="read these traces instead of running")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="s24-strace-") as tmp:
        trace_dir = args.traces or Path(tmp)
        if args.traces is None:
            subprocess.run(
                ["strace", "-ff", "-qq", "-ttt", "-e",
                 "trace=openat,link,linkat,rename,renameat,renameat2,unlink,unlinkat,mkdir,mkdirat",
                 "-o", str(trace_dir / "t"), sys.executable,
                 str(args.tree / "bench" / "bench_ingest.py"), "--only", "a",
                 "--count", str(args.count), "--workers", str(args.workers)],
                check=True, cwd=args.tree, stdout=subprocess.DEVNULL,
            )
        created, freed, documents = count(trace_dir)
    print(f"tree {args.tree}: {documents} documents ingested")
    print(f"  {'created per document':<44} {'per doc':>8}")
    for kind, n in sorted(created.items()):
        print(f"  {kind:<44} {n / documents:>8.2f}")
    inodes = sum(n for kind, n in created.items() if "(link)" not in kind)
    print(f"  {'inodes created (files + directories)':<44} {inodes / documents:>8.2f}")
    directories = sum(n for kind, n in created.items() if kind.startswith("dir:"))
    print(f"  {'of them directories':<44} {directories / documents:>8.2f}")
    print(f"  {'inodes freed during the run':<44} {sum(freed.values()) / documents:>8.2f}"
          f"  ({', '.join(f'{k} {n / documents:.2f}' for k, n in sorted(freed.items()))})")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
