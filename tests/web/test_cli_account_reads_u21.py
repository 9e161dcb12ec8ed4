"""A CLI account command reads the acting account once (review u21, left open by m29).

``kho account …`` acted as the logged-in account by reading it again
(``accounts.get(ctx.actor.user)``) after the token's checks (:meth:`Kho.actor_from_token`)
had read it: one LIST and one GET more of the store per command. The commands now take it from
:meth:`Kho.holder_from_token`, as the web pages do. Counted on the real local store the
installation uses, through the real ``kho`` CLI (click's runner, in process)."""

from __future__ import annotations

import collections
from typing import Any

import pytest
from kho_people import People
from kho_web import cli_as

from repository.storage.local import LocalStore
from web.cli import main
from web.context import Kho


class AccountReads:
    """The LISTs and GETs of ``accounts/<username>/`` by every local store while counting."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.lists: collections.Counter[str] = collections.Counter()
        self.gets: collections.Counter[str] = collections.Counter()
        listing, getting = LocalStore.list, LocalStore.get

        def counted_list(store: LocalStore, prefix: str, *a: Any, **k: Any) -> Any:
            self.lists[prefix] += 1
            return listing(store, prefix, *a, **k)

        def counted_get(store: LocalStore, key: str, *a: Any, **k: Any) -> Any:
            self.gets[key] += 1
            return getting(store, key, *a, **k)

        monkeypatch.setattr(LocalStore, "list", counted_list)
        monkeypatch.setattr(LocalStore, "get", counted_get)

    def clear(self) -> None:
        self.lists.clear()
        self.gets.clear()

    def of(self, username: str) -> tuple[int, int]:
        prefix = f"accounts/{username}/"
        return (
            sum(n for p, n in self.lists.items() if p.startswith(prefix)),
            sum(n for key, n in self.gets.items() if key.startswith(prefix)),
        )


def _counted(reads: AccountReads, username: str, act: Any) -> tuple[int, int]:
    reads.clear()
    act()
    return reads.of(username)


def test_whoami_reads_the_account_once(kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch) -> None:
    """``kho whoami`` reads exactly what the token's checks read (2 LIST + 2 GET before u21)."""
    from web.session import saved_token

    runner = cli_as(people, "quan_tri")
    admin = people.usernames["quan_tri"]
    reads = AccountReads(monkeypatch)
    checks = _counted(reads, admin, lambda: kho.holder_from_token(saved_token(kho.settings), "cli", "GET"))
    assert checks[1] >= 1, "the checks read the account (else this test proves nothing)"
    reads.clear()
    answer = runner.invoke(main, ["whoami"])
    assert answer.exit_code == 0 and admin in answer.output, answer.output
    reads_of_command = reads.of(admin)
    assert reads_of_command == checks, (reads_of_command, checks)


def test_an_account_lock_reads_the_acting_account_once_for_the_command(
    kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``kho account lock`` reads the acting account for the token's checks and for the lock's
    own rule (:meth:`AccountService.lock`), not a third time in the command (4 before u21)."""
    from web.session import saved_token

    runner = cli_as(people, "quan_tri")
    admin = people.usernames["quan_tri"]
    reads = AccountReads(monkeypatch)
    holder: list[Any] = []
    checks = _counted(
        reads, admin, lambda: holder.append(kho.holder_from_token(saved_token(kho.settings), "cli", "POST"))
    )
    # The lock's own reads of its actor, on another account (the same rule, the same actor).
    own = _counted(
        reads, admin, lambda: kho.accounts.lock(people.usernames["van_thu_b"], "admin", holder[0][1], "cli")
    )
    reads.clear()
    answer = runner.invoke(main, ["account", "lock", people.usernames["chuyen_vien_b"]])
    assert answer.exit_code == 0, answer.output
    expected = (checks[0] + own[0], checks[1] + own[1])
    assert reads.of(admin) == expected, (reads.of(admin), expected)
    assert kho.accounts.get(people.usernames["chuyen_vien_b"]).lock_reason is not None
