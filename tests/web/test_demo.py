"""``kho demo`` loads handling data too: the leader has a document waiting for direction and
the chuyên viên an open task with a deadline, so "Việc của tôi" shows counts."""

from __future__ import annotations

from click.testing import CliRunner

from kho.config import Settings
from web.cli import main
from web.context import Kho


def test_the_demo_shows_handling_counts_to_the_leader_and_the_handler(env: dict[str, str]) -> None:
    run = CliRunner()
    done = run.invoke(main, ["demo"])
    assert done.exit_code == 0, done.output
    assert "hunglq.ubnd" in done.output and "chinhpm.ubnd" in done.output
    kho = Kho(Settings.from_env())
    try:
        leader = kho.actor_of(kho.accounts.get("hunglq.ubnd"), "test")
        handler = kho.actor_of(kho.accounts.get("chinhpm.ubnd"), "test")
        lead, mine = kho.handling.counts(leader), kho.handling.counts(handler)
        assert lead.to_direct == 1 and lead.inbox == 2
        assert mine.open == 1 and mine.inbox == 1 and mine.overdue == 0
        [task] = kho.handling.my_work(handler)
        assert task.deadline is not None and task.deadline > kho.handling.today().isoformat()
        assert kho.repo.get(task.record_id, actor=handler).record_id == task.record_id
        again = run.invoke(main, ["demo"])  # idempotent: nothing added, counts unchanged
        assert again.exit_code == 0, again.output
        assert kho.handling.counts(handler).open == 1
    finally:
        kho.close()
