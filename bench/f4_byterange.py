"""NOTES-f4: CPU time to verify a PDF whose rewritten signature dictionary lists the whole
file again in ``PAIRS`` extra /ByteRange pairs, before (another code tree) and after (this
one), interleaved, 3 runs each; min and median of the verification's CPU seconds.

    .venv/bin/python bench/f4_byterange.py /tmp/base-f4 [PAIRS]

Each run is a fresh process with its tree first on ``sys.path``; the document is made by the
test PKI (deterministic), so both trees verify the same bytes.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
CHILD = r"""
import json, sys, tempfile, time
import atexit, shutil
def _scratch(**options):
    folder = tempfile.mkdtemp(**options)
    atexit.register(shutil.rmtree, folder, True)
    return folder
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from ingest import testpki
from ingest.signatures import TrustStore
from ingest.signatures._reader import CachingPdfReader
from ingest.signatures.verify import _verify_pdf
pki = testpki.TestPKI.build()
trust = TrustStore.from_dir(pki.write_trust_dir(Path(_scratch())))
signed = testpki.sign_as(testpki.document_for(pki.personal).data, pki, pki.personal, at=testpki.FIXTURE_TIME)
w = IncrementalPdfFileWriter(BytesIO(signed))
ref = w.root["/AcroForm"]["/Fields"][0].get_object().raw_get("/V")
sig = ref.get_object()
whole = [generic.NumberObject(0), generic.NumberObject(10**12)]
sig["/ByteRange"] = generic.ArrayObject(list(sig["/ByteRange"]) + whole * int(sys.argv[1]))
w.mark_update(ref)
out = BytesIO(); w.write(out); data = out.getvalue()
t = time.process_time()
r = _verify_pdf(data, trust, False, datetime(2026, 12, 3, tzinfo=UTC), CachingPdfReader)
print(json.dumps({"cpu": time.process_time() - t, "size": len(data),
                  "verdict": f"{r.verdict.indication.value}/{r.verdict.sub_indication}"}))
"""


def run(tree: Path, pairs: int) -> dict[str, object]:
    env = {"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", CHILD, str(pairs)], cwd=tree, env=env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    base = Path(sys.argv[1])
    pairs = int(sys.argv[2]) if len(sys.argv) > 2 else 30000
    times: dict[str, list[float]] = {"before": [], "after": []}
    seen: dict[str, object] = {}
    for _ in range(3):
        for label, tree in (("before", base), ("after", HERE)):
            found = run(tree, pairs)
            times[label].append(float(found["cpu"]))  # type: ignore[arg-type]
            seen[label] = (found["size"], found["verdict"])
    for label, values in times.items():
        size, verdict = seen[label]  # type: ignore[misc]
        print(f"{label}: {pairs} extra pairs, {size} bytes, {verdict}, CPU s min "
              f"{min(values):.2f} median {statistics.median(values):.2f}")


if __name__ == "__main__":
    main()
