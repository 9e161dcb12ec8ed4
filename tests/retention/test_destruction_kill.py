"""A destruction killed midway (SIGKILL after the first record is shredded) rolls forward to the
same end state when it is run again."""

from __future__ import annotations

import signal
from pathlib import Path

from kho_people import PASSWORD, People
from kho_retention import SECRET_WORD, closed_file, council_ready, kho_env, run_child, search_count

from repository.fsck import fsck
from web.context import Kho

CHILD = r"""
import json, os, signal, sys
from kho.config import Settings
from retention.destruction import Destructions
from web.context import Kho

env, case_id, username, password = json.loads(sys.argv[1])
kho = Kho(Settings.from_env(env))
seen = []

def stop(case, step):
    seen.append(step)
    if step.startswith("destroyed:") and len(seen) == 2:
        os.kill(os.getpid(), signal.SIGKILL)  # mid-way: one record shredded, the next one too

d = Destructions(kho.repo, kho.accounts, kho.backend, on_step=stop)
d.execute(case_id, password, actor=kho.actor_of(kho.accounts.get(username), "child"))
"""


def test_killed_destruction_resumes_to_the_same_end_state(kho: Kho, people: People, tmp_path: Path) -> None:
    file, docs = closed_file(kho, people, docs=3)
    d, case = council_ready(kho, people, [file.record_id])
    case = d.decide(case["case_id"], "QĐ 09/QĐ-UBND", approve=True, actor=people.actor("lanh_dao"))
    env = kho_env(tmp_path)
    child = run_child(CHILD, [env, case["case_id"], people.usernames["luu_tru"], PASSWORD], env)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]

    half = d.cases.latest(case["case_id"])
    assert half["state"] == "executing"
    shredded = [r for r in [*docs, file.record_id] if not kho.repo.keys.exists(r)]
    assert shredded == docs[:2]  # the kill came midway

    done = d.execute(case["case_id"], PASSWORD, actor=people.actor("luu_tru"))
    assert done["state"] == "done"
    for rid in [*docs, file.record_id]:
        assert not kho.repo.keys.exists(rid) and kho.repo.destroyed(rid) is not None
    assert search_count(kho, people, SECRET_WORD) == 0
    assert fsck(kho.repo, deep=True).clean
    assert kho.repo.audit.verify().ok
    resumed = [e.action for e in kho.repo.audit.events() if e.action.startswith("destruction:execute")]
    assert resumed == ["destruction:execute-start", "destruction:execute-resume"]
    assert done["execution"]["dossier_file_id"]
