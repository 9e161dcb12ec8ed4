"""Nothing half-written: a process killed right after it committed a handling step (before the
grant, the work index and the notices) leaves a step whose effects roll forward — on the next
read or step of the document, and in ``kho handling reindex``. "Seen" marks live in the store,
so a rebuilt work index keeps them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from click.testing import CliRunner
from kho_people import PASSWORD, People
from kho_testing import incoming

from kho.errors import NotFound
from kho.timeutil import vn_date
from repository import formats
from repository.fsck import check_formats
from repository.handling import SEEN_PREFIX
from repository.workflow import Act
from web.cli import main
from web.context import Kho

# The service's own take(), in a separate process that dies (SIGKILL: no cleanup, no finally)
# at the first derived effect, i.e. right after the step was written and audited.
KILLED_TAKE = textwrap.dedent(
    """
    import os, signal, sys
    from kho.config import Settings
    from repository.records import Repository
    from repository.workflow import Act
    from web.context import Kho

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    Repository.distribute = die
    record_id, leader, handler, deadline = sys.argv[1:5]
    kho = Kho(Settings.from_env())
    actor = kho.actor_of(kho.accounts.get(leader), "test")
    kho.handling.take(record_id, Act.DIRECT, expected_seq=1, actor=actor, users=[handler], deadline=deadline)
    print("not killed")
    """
)


def _submitted(kho: Kho, people: People, number: str) -> str:
    doc = kho.repo.create_document("den", incoming(code_number=number), None, None, people.actor("van_thu"))
    h = kho.handling
    h.take(
        doc.record_id,
        Act.SUBMIT,
        expected_seq=0,
        actor=people.actor("van_thu"),
        users=[people.usernames["lanh_dao"]],
    )
    return doc.record_id


def _killed_direction(kho: Kho, people: People, record_id: str) -> None:
    deadline = (vn_date(kho.handling.clock()) + timedelta(days=14)).isoformat()
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            KILLED_TAKE,
            record_id,
            people.usernames["lanh_dao"],
            people.usernames["chuyen_vien_b"],
            deadline,
        ],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == -signal.SIGKILL, (run.returncode, run.stdout, run.stderr)
    assert "not killed" not in run.stdout
    # Half-written: the step is committed, its effects are not.
    assert [s.act for s in kho.handling.steps(record_id)] == [Act.SUBMIT, Act.DIRECT]
    assert not kho.repo.may_see(people.actor("chuyen_vien_b"), kho.repo._load(record_id))
    assert kho.handling.index.seq_of(record_id) == 1


def test_a_step_whose_process_was_killed_rolls_forward_on_reindex(kho: Kho, people: People) -> None:
    h = kho.handling
    handler = people.actor("chuyen_vien_b")
    rid = _submitted(kho, people, "311")
    _killed_direction(kho, people, rid)
    assert h.counts(handler).open == 0 and h.counts(handler).inbox == 0
    with pytest.raises(NotFound):  # not theirs to know of: refused as an absent id (a15)
        kho.repo.get(rid, actor=handler)

    run = CliRunner()
    login = ["login", people.usernames["van_thu"], "--password-stdin"]
    assert run.invoke(main, login, input=PASSWORD + "\n").exit_code == 0
    rebuilt = run.invoke(main, ["handling", "reindex"])
    assert rebuilt.exit_code == 0, rebuilt.output

    assert kho.repo.get(rid, actor=handler).record_id == rid  # the reached person sees it now
    counts = h.counts(handler)
    assert (counts.open, counts.inbox) == (1, 1)
    assert h.counts(people.actor("lanh_dao")).to_direct == 0
    assert [w.record_id for w in h.my_work(handler)] == [rid]
    assert h.index.seq_of(rid) == 2
    # Idempotent: a second rebuild grants nothing more and counts the same.
    version = kho.repo._load(rid).version
    assert run.invoke(main, ["handling", "reindex"]).exit_code == 0
    assert kho.repo._load(rid).version == version
    assert (h.counts(handler).open, h.counts(handler).inbox) == (1, 1)


def test_a_step_whose_process_was_killed_rolls_forward_when_the_document_is_next_read(
    kho: Kho, people: People
) -> None:
    h = kho.handling
    handler, leader = people.actor("chuyen_vien_b"), people.actor("lanh_dao")
    rid = _submitted(kho, people, "312")
    other = _submitted(kho, people, "313")
    _killed_direction(kho, people, rid)
    assert h.counts(leader).to_direct == 2  # the index still shows it waiting for direction

    h.state(rid, actor=leader)  # the leader opens it again: the effects roll forward

    assert kho.repo.get(rid, actor=handler).record_id == rid
    assert (h.counts(handler).open, h.counts(handler).inbox) == (1, 1)
    assert h.counts(leader).to_direct == 1  # only the other document is left to direct
    assert [r for r, *_ in h.to_direct(leader)] == [other]
    events = kho.repo.audit_events(actor=leader, record_id=rid, action="handling:roll-forward")
    assert [e.details["seqs"] for e in events] == [[2]]
    # Up to date now: reading again writes nothing more.
    version = kho.repo._load(rid).version
    h.state(rid, actor=leader)
    assert kho.repo._load(rid).version == version
    assert len(kho.repo.audit_events(actor=leader, record_id=rid, action="handling:roll-forward")) == 1


def test_a_grant_withdrawn_after_the_step_is_not_given_back(kho: Kho, people: People) -> None:
    h = kho.handling
    handler = people.actor("chuyen_vien_b")
    rid = _submitted(kho, people, "314")
    h.take(
        rid,
        Act.DIRECT,
        expected_seq=1,
        actor=people.actor("lanh_dao"),
        users=[handler.user],
        deadline=(vn_date(h.clock()) + timedelta(days=14)).isoformat(),
    )
    assert kho.repo.may_see(handler, kho.repo._load(rid))
    kho.repo.grant(rid, users=(handler.user,), revoke=True, actor=people.actor("quan_tri"))
    assert not kho.repo.may_see(handler, kho.repo._load(rid))
    h.rebuild_index()
    h.state(rid, actor=people.actor("lanh_dao"))
    assert not kho.repo.may_see(handler, kho.repo._load(rid))


def test_seen_marks_survive_a_rebuild_of_the_work_index(kho: Kho, people: People) -> None:
    h = kho.handling
    leader = people.actor("lanh_dao")
    seen_doc = _submitted(kho, people, "315")
    unseen_doc = _submitted(kho, people, "316")
    assert h.counts(leader).inbox == 2
    h.state(seen_doc, actor=leader)
    assert h.counts(leader).inbox == 1
    [mark] = list(kho.repo.store.list(f"{SEEN_PREFIX}{seen_doc}/"))
    assert mark.key == f"{SEEN_PREFIX}{seen_doc}/{leader.user}/000001"
    stored = formats.loads(
        formats.WORKFLOW_SEEN.name, kho.repo.keys.open(seen_doc, kho.repo.store.get(mark.key), mark.key)
    )
    assert stored[formats.FORMAT_KEY] == formats.WORKFLOW_SEEN.current and stored["seq"] == 1
    h.state(seen_doc, actor=leader)  # nothing unseen: no second mark
    assert len(list(kho.repo.store.list(f"{SEEN_PREFIX}{seen_doc}/"))) == 1
    assert check_formats(kho.repo) == []  # fsck opens the mark the way its reader does

    kho.close()
    for lost in kho.settings.data_dir.glob("work-index.sqlite*"):  # the index is lost
        lost.unlink()
    fresh = Kho(kho.settings)
    try:
        fresh.handling.rebuild_index()
        notices = {n.record_id: n.seen for n in fresh.handling.notices(leader)}
        assert notices == {seen_doc: True, unseen_doc: False}
        assert fresh.handling.counts(leader).inbox == 1
        # A step after the mark is news again.
        fresh.handling.take(
            seen_doc,
            Act.FORWARD,
            expected_seq=1,
            actor=people.actor("van_thu"),
            users=[leader.user],
        )
        assert fresh.handling.counts(leader).inbox == 2
        fresh.handling.rebuild_index()
        assert fresh.handling.counts(leader).inbox == 2
    finally:
        fresh.close()
