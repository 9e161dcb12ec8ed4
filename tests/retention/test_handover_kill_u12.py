"""A hồ sơ handover killed midway (SIGKILL) leaves each hồ sơ with one keeper, the old or the new,
never both (granted to the successor while the leaver still keeps it) nor neither; run again, it
hands over the rest (u12, rv14's "left open"). Local folder and S3."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from kho_people import People
from kho_retention import closed_file, env_of, run_child

from kho.errors import LegalHold
from repository.fsck import fsck
from retention.holds import Holds
from web.context import Kho

# The child hands over through the one entry the API and the CLI call (``Kho.handover``) and is
# killed (SIGKILL: no cleanup) just after its first version of a hồ sơ reaches the store.
CHILD = r"""
import json, os, signal, sys
from kho.config import Settings
from web.context import Kho

env, files, leaver, successor, head = json.loads(sys.argv[1])
kho = Kho(Settings.from_env(env))
store = kho.repo.store
real = store.put_if_absent

def put_if_absent(key, data, *args, **kwargs):
    done = real(key, data, *args, **kwargs)
    if any(key.startswith(f"records/{f}/v") for f in files):
        os.kill(os.getpid(), signal.SIGKILL)
    return done

store.put_if_absent = put_if_absent
kho.handover(leaver, successor, actor=kho.actor_of(kho.accounts.get(head), "child"))
"""


def _keepers(kho: Kho, file_ids: list[str], leaver: str, successor: str) -> list[str]:
    """Each hồ sơ's state: "old" (the leaver keeps it, the successor has no grant), "new" (the
    successor keeps it and is granted it), anything else is a half handover."""
    out = []
    for file_id in file_ids:
        file = kho.repo._load(file_id)
        keeper, granted = kho.retention.holder(file), successor in file.grant_users
        if (keeper, granted) == (leaver, False):
            out.append("old")
        elif (keeper, granted) == (successor, True):
            out.append("new")
        else:
            out.append(f"half: keeper {keeper}, successor granted {granted}")
    return out


@pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)
def test_a_killed_handover_leaves_one_keeper_per_hoso_and_finishes_when_run_again(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    files = [closed_file(kho, people, notation=n, docs=1, end="")[0].record_id for n in ("01.TH", "02.TH")]
    leaver, successor = people.usernames["chuyen_vien"], people.usernames["luu_tru"]
    assert _keepers(kho, files, leaver, successor) == ["old", "old"]

    env, head = env_of(kho, tmp_path), people.usernames["lanh_dao"]
    child = run_child(CHILD, [env, files, leaver, successor, head], env)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]

    # main: ['half: keeper <leaver>, successor granted True', 'old'] (the grant was its own version)
    assert _keepers(kho, files, leaver, successor) == ["new", "old"]

    moved = kho.handover(leaver, successor, actor=people.actor("lanh_dao"))
    assert moved == [files[1]]
    assert _keepers(kho, files, leaver, successor) == ["new", "new"]
    assert kho.repo.audit.verify().ok
    fsck(kho.repo, repair=True, grace_seconds=0)
    assert fsck(kho.repo, grace_seconds=0).clean


def test_a_handover_refused_for_one_hoso_hands_over_none(kho: Kho, people: People) -> None:
    """The second hồ sơ is under a legal hold. On main the first was handed over before the
    second was refused (LEGAL_HOLD), so the leaver kept one and the successor the other. Every
    hồ sơ is now decided first: refused, nothing handed over."""
    files = [closed_file(kho, people, notation=n, docs=1, end="")[0].record_id for n in ("03.TH", "04.TH")]
    leaver, successor = people.usernames["chuyen_vien"], people.usernames["luu_tru"]
    Holds(kho.repo).place([files[1]], "Thanh tra năm 2027", actor=people.actor("lanh_dao"))
    with pytest.raises(LegalHold):
        kho.handover(leaver, successor, actor=people.actor("lanh_dao"))
    assert _keepers(kho, files, leaver, successor) == ["old", "old"]  # main: ['new', 'old']
