"""NOTES-rv5: RecordRepository.grant/.distribute give the same versions, grants and audit events
as before u4 (3cf34be) for random sequences of grants, revokes and distributions.

    .venv/bin/python bench/rv5_grant_diff.py /tmp/rv5-pre-3cf34be

Runs the same seeded sequences in a child process for each tree (that tree's code first on
sys.path, a fresh LocalStore each): a document and a hồ sơ holding it, then 60 operations each
of 40 seeds: grant (users and/or units, repeated names, names already held, empty), revoke
(held, not held, all), distribute (the same shapes, as tuples, lists and generators). Each
operation's result (version, grant_users, grant_units, or the error code) and the record and
audit events at the end are compared; exits 1 if they differ.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, random, sys, tempfile
from pathlib import Path
sys.path[:0] = [ROOT, ROOT + "/tests/support"]
from kho_testing import CLERK, incoming, new_repository
from repository.records import SYSTEM
from repository.storage.local import LocalStore
from kho.errors import KhoError

USERS = ["a.nguyen", "b.tran", "c.le", "d.pham"]
UNITS = ["000.01.18.H40", "000.02.18.H40", "000.03.18.H40"]

def pick(rng, pool):
    n = rng.choice([0, 0, 1, 1, 2, 3])
    return [rng.choice(pool) for _ in range(n)]

def shaped(rng, names):
    how = rng.randrange(3)
    return tuple(names) if how == 0 else list(names) if how == 1 else (n for n in names)

out = []
for seed in range(SEEDS):
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        repo = new_repository(LocalStore(Path(tmp) / "s"), LocalStore(Path(tmp) / "k"))
        doc = repo.create_document("den", incoming(code_number=str(seed + 1)), b"%PDF-1.4\nx",
                                   "a.pdf", CLERK)
        targets = [doc.record_id]
        log = []
        for step in range(STEPS):
            rid = rng.choice(targets)
            op = rng.choice(["grant", "grant", "revoke", "distribute", "distribute"])
            users, units = pick(rng, USERS), pick(rng, UNITS)
            try:
                if op == "distribute":
                    r = repo.distribute(rid, users=shaped(rng, users), units=shaped(rng, units),
                                        actor=SYSTEM)
                else:
                    r = repo.grant(rid, users=tuple(users), units=tuple(units),
                                   revoke=op == "revoke", actor=SYSTEM)
                log.append([op, users, units, r.version, list(r.grant_users), list(r.grant_units)])
            except KhoError as exc:
                log.append([op, users, units, "error", exc.code])
        final = repo.get(doc.record_id, actor=SYSTEM)
        events = [[e.action, e.record_id == doc.record_id, e.details] for e in repo.audit.events()
                  if e.action.startswith("record:")]
        out.append({"log": log, "final": [final.version, list(final.grant_users),
                    list(final.grant_units)], "events": events})
print(json.dumps(out, ensure_ascii=False, default=str))
"""


def run(root: Path, seeds: int, steps: int) -> list:
    code = CHILD.replace("ROOT", repr(str(root))).replace("SEEDS", str(seeds)).replace(
        "STEPS", str(steps))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=root)
    return json.loads(done.stdout)


def main(before_root: Path) -> int:
    before, after = run(before_root, 40, 60), run(HERE, 40, 60)
    ops = sum(len(s["log"]) for s in after)
    kinds = {}
    for s in after:
        for entry in s["log"]:
            key = entry[0] + (":error" if entry[3] == "error" else "")
            kinds[key] = kinds.get(key, 0) + 1
    events = sum(len(s["events"]) for s in after)
    differ = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    print(f"sequences: {len(after)}, operations: {ops} {kinds}, record events: {events}")
    print(f"sequences that differ: {len(differ)} {differ[:5]}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
