"""NOTES-rv5: the intake and outgoing pages read the same metadata from a form as before u4
(7992f03): same values, keys and key order.

    .venv/bin/python bench/rv5_forms_diff.py /tmp/rv5-pre-3cf34be

Each tree's ``_metadata`` of both pages runs in a child process (that tree first on sys.path)
over the same seeded forms (werkzeug MultiDict, as Flask gives): every field of both pages
(outgoing's issued_amount and recipients included, on the intake page too), each blank,
spaces only, digits of other scripts, signs, huge runs, nơi nhận of several lines with blank
ones and Unicode line breaks (\x1c, \u2028, \x85), repeated keys; urgency and secrecy missing,
empty or odd. Exits 1 if any result differs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, random, sys
sys.path.insert(0, ROOT)
from werkzeug.datastructures import MultiDict
from web.pages import intake, outgoing

NAMES = sorted({f[0] for f in intake.FIELDS} | {f[0] for f in outgoing.FIELDS}
               | {"urgency", "secrecy"})
PIECES = ["", " ", "  \t", "12", "０１２", "٣", "²", "-3", "+4", "1e3", "007", "9" * 30, "x",
          "Sở Tư pháp", "\n", "\r\n", "\x1c", "\u2028", "\x85", "Bộ Nội vụ\nUBND tỉnh\n\n  ",
          " a \n b ", "0", "4", "5", "1.5", "١٢", "\u00a0"]

rng = random.Random(7)
out = []
for _ in range(N):
    pairs = []
    for name in NAMES:
        for _ in range(rng.choice([0, 1, 1, 1, 2])):
            pairs.append((name, "".join(rng.choice(PIECES) for _ in range(rng.randrange(4)))))
    form = MultiDict(pairs)
    out.append([intake._metadata(form), list(intake._metadata(form)),
                outgoing._metadata(form), list(outgoing._metadata(form))])
print(json.dumps(out, ensure_ascii=False))
"""


def run(root: Path, n: int) -> list:
    code = CHILD.replace("ROOT", repr(str(root))).replace("N)", f"{n})")
    return json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                     text=True, check=True, cwd=root).stdout)


def main(before_root: Path) -> int:
    before, after = run(before_root, 20000), run(HERE, 20000)
    differ = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    print(f"forms: {len(after)}; forms whose metadata differs: {len(differ)} {differ[:5]}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
