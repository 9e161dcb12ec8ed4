"""rv33: the memory an import check takes for a package holding one large honest PDF (a scan:
one incompressible image stream), by the PDF's size. Prints max RSS per size; not a test.

    .venv/bin/python bench/rv33_sip_memory.py OUT_DIR 5 20 45

Builds, per size in MiB, a good package of a closed hồ sơ of one document replaced by that PDF
(unsigned: verified, NO_SIGNATURE), then runs ``check_package`` on it in its own interpreter
under ``/usr/bin/time -v``: the max RSS wait4 reports, which on Linux is the largest of the
process and its waited-for children (the verification is a forked child)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, sys
from pathlib import Path
from retention import sip_import
report = sip_import.check_package(Path(sys.argv[1]))
print(json.dumps({"pdfs": len(report.documents), "bytes": report.bytes}))
"""


def scan_pdf(mib: int) -> bytes:
    """A one-page PDF whose page draws an image of ``mib`` MiB of random bytes."""
    sys.path[:0] = [str(Path(__file__).resolve().parent.parent / "tests" / "support")]
    from pdf_objects import pdf_from_objects

    image = os.urandom(mib * 1024**2)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im0 4 0 R >> >>"
        b" /Contents 5 0 R >>",
        b"<< /Type /XObject /Subtype /Image /Width 1024 /Height %d /ColorSpace /DeviceGray"
        b" /BitsPerComponent 8 /Length %d >>\nstream\n"
        % (len(image) // 1024, len(image))
        + image
        + b"\nendstream",
        b"<< /Length 34 >>\nstream\nq 595 0 0 842 0 0 cm /Im0 Do Q\nendstream",
    ]
    return pdf_from_objects(objects)


def build(out: Path, mib: int) -> Path:
    here = Path(__file__).resolve().parent.parent
    sys.path[:0] = [str(here), str(here / "tests" / "support")]
    from kho_people import make_people
    from kho_retention import Clock, kho_env, open_kho
    from kho_sip import good_package, replace_document, zipped

    tmp = Path(tempfile.mkdtemp(dir=out))  # left to the caller's OUT_DIR (a timer may write on close)
    kho = open_kho(kho_env(tmp), Clock())
    people = make_people(kho)
    root = good_package(kho, people, tmp, docs=1)
    document = next((root / "representations" / "rep1" / "data").iterdir())
    replace_document(root, document.relative_to(root).as_posix(), scan_pdf(mib))
    archive = zipped(root, out / f"scan-{mib}.zip")
    kho.close()
    return archive


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for mib in (int(a) for a in sys.argv[2:]):
        archive = build(out, mib)
        run = subprocess.run(
            ["/usr/bin/time", "-v", sys.executable, "-c", CHILD, str(archive)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        )
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr)
        answer = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-400:]
        print(
            f"PDF {mib} MiB: check_package max RSS {int(rss.group(1)) // 1024 if rss else '?'} MiB; {answer}"
        )


if __name__ == "__main__":
    main()
