"""The CPU of one file created the way the local store creates them, on the disk of a folder, as
documents accumulate: with and without Kho's own inode frees, and after a bulk deletion (issue
14, session 50; a figure of a script, not a test).

    python bench/s24_create_cost.py [--docs 2000] [--delete-first 0] [--order AB] [--dir /tmp]

Each "document" creates the files a bulk ingest's document creates on the local store
(``bench/s24_files_per_doc.py``): 14 files made in ``tmp/`` (``O_CREAT|O_EXCL``), 12 of them
linked to a name of their own and their temp name removed (no inode freed), and in run A the
other 2 renamed over one ``witness`` file, as the audit witness is replaced twice a document
(2 inodes freed a document); in run B those 2 are linked like the rest (nothing freed). Printed:
the CPU per create (``time.process_time``) for each 250 documents. ``--delete-first N`` makes
and removes N files in a folder of ``--dir`` first (what the bench's removal of its temporary
store, or any test run's cleanup, does before the next run); each run removes its own folder at
its end, so the second run of ``--order`` follows the first one's removal.

On ext4 without a journal the kernel skips, for every inode it allocates, each inode of the
group freed in the last 60-360 s (``recently_deleted``): a create costs what the minutes
before it deleted (``bench/NOTES-lead49.md``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

BLOCK = 250
FILES = 14
REPLACED = 2


def run(folder: str, docs: int, *, frees: bool) -> list[float]:
    """Microseconds of CPU per create, for each :data:`BLOCK` documents."""
    base = tempfile.mkdtemp(prefix="s24-create-", dir=folder)
    tmp = os.path.join(base, "tmp")
    objects = os.path.join(base, "objects")
    os.makedirs(tmp)
    os.makedirs(objects)
    out: list[float] = []
    made = creates = 0
    began = time.process_time()
    try:
        for doc in range(docs):
            for i in range(FILES):
                name = os.path.join(tmp, f"t{made}")
                made += 1
                os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                creates += 1
                if frees and i >= FILES - REPLACED:
                    os.rename(name, os.path.join(objects, "witness"))
                else:
                    os.link(name, os.path.join(objects, f"o{made}"))
                    os.unlink(name)
            if (doc + 1) % BLOCK == 0:
                out.append((time.process_time() - began) / creates * 1e6)
                began, creates = time.process_time(), 0
    finally:
        shutil.rmtree(base)
    return out


def delete_files(folder: str, count: int) -> None:
    base = tempfile.mkdtemp(prefix="s24-delete-", dir=folder)
    for i in range(count):
        os.close(os.open(os.path.join(base, f"d{i}"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    shutil.rmtree(base)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--delete-first", type=int, default=0)
    parser.add_argument("--order", default="AB", help="A: with 2 replaces a document; B: without")
    parser.add_argument("--dir", default=tempfile.gettempdir())
    args = parser.parse_args(argv)
    if args.delete_first:
        delete_files(args.dir, args.delete_first)
        print(f"made and removed {args.delete_first} files first")
    for which in args.order:
        figures = run(args.dir, args.docs, frees=which == "A")
        label = "A: 2 inodes freed a document" if which == "A" else "B: none freed            "
        print(f"{label}  us of CPU per create, each {BLOCK} documents:",
              " ".join(f"{x:.0f}" for x in figures), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
