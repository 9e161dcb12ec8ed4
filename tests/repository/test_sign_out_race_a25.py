"""A login racing "sign out everywhere" (review a25; a22's and a24's open item).

``sign_out_everywhere`` listed the account's tokens, then wrote the account (a new device key)
and revoked the list. A login whose password was checked before that write but whose token was
written after the list was taken kept a working token: the thief's browser, logging in at the
moment the owner pressed "Đăng xuất khỏi mọi trình duyệt", stayed signed in. Both orders of the
race are forced here on a real local store, in two threads, by a store that stops one party at
the exact step: (a) the sign-out is written between the login's check and its token's write;
(b) the login's token is written, and the account read again, between the sign-out's list and
its write. Either way the racing token no longer works; the kept one does."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from kho_people import create_person
from kho_testing import ManualClock

from kho.errors import Conflict, TokenInvalid
from repository.accounts import AccountService, Role, token_digest
from repository.audit import AuditLog
from repository.storage.base import ObjectInfo
from repository.storage.local import LocalStore

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
ROOT, VP = "000.00.18.H40", "000.01.18.H40"
PASSWORD = "Kho@2026-của-An"


class PausingStore(LocalStore):
    """A local store that, once armed, runs ``pause`` the first time a listing of ``prefix``
    has been read (the party listing it waits there until ``pause`` returns)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.armed: tuple[str, Callable[[], None]] | None = None

    def list(self, prefix: str, start_after: str | None = None) -> Iterator[ObjectInfo]:
        listed = list(super().list(prefix, start_after))
        if self.armed is not None and prefix.startswith(self.armed[0]):
            _, pause = self.armed
            self.armed = None
            pause()
        return iter(listed)


def _world(tmp_path: Path) -> tuple[AccountService, PausingStore, str]:
    store = PausingStore(tmp_path / "store")
    svc = AccountService(store, AuditLog(store), ManualClock(), hasher=CHEAP)
    _, admin, _ = svc.bootstrap(ROOT, "Ủy ban nhân dân tỉnh", "ubnd", "Quản Trị Viên")
    svc.create_unit(VP, "Văn phòng UBND tỉnh", "vpub", ROOT, admin)
    head, _ = create_person(svc, "Lê Văn Trưởng", VP, [Role.LANH_DAO], 0, None, admin, password=PASSWORD)
    person, _ = create_person(
        svc,
        "Nguyễn Văn An",
        VP,
        [Role.CHUYEN_VIEN],
        0,
        None,
        admin,
        confirmer=svc.get(head.username),
        password=PASSWORD,
    )
    return svc, store, person.username


def _in_thread(work: Callable[[], object]) -> list[object]:
    """Run ``work`` in another thread and wait for it: its result, or the exception it raised."""
    out: list[object] = []

    def run() -> None:
        try:
            out.append(work())
        except Exception as exc:  # handed back to the test
            out.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    return out


def test_a_sign_out_written_between_a_logins_check_and_its_token_ends_that_login(tmp_path: Path) -> None:
    svc, _, name = _world(tmp_path)
    kept = svc.issue_token(name, "owner", svc.authenticate(name, PASSWORD))
    thief = svc.authenticate(name, PASSWORD, "198.51.100.7")  # password checked, no token yet
    owner = svc.resolve_token(kept)
    done = _in_thread(lambda: svc.sign_out_everywhere(owner, token_digest(kept), "203.0.113.5"))
    assert not isinstance(done[0], Exception)
    issued: list[str] = []
    with pytest.raises(Conflict) as refused:  # before: a working token came out
        issued.append(svc.issue_token(name, "api-login", thief, "198.51.100.7"))
    assert refused.value.code == "SIGNED_OUT_MEANWHILE" and refused.value.http_status == 409
    assert not issued
    (late,) = [t for t in svc.tokens_of(name) if t.name == "api-login"]
    assert late.revoked  # written, then revoked: nothing of it works
    assert svc.resolve_token(kept).username == name  # the owner's own browser stays


def test_a_token_written_between_the_sign_outs_list_and_its_write_is_ended(tmp_path: Path) -> None:
    svc, store, name = _world(tmp_path)
    kept = svc.issue_token(name, "owner", svc.authenticate(name, PASSWORD))
    owner = svc.resolve_token(kept)
    stolen: list[object] = []

    def login_meanwhile() -> None:
        # The thief's whole login runs while the sign-out waits after reading its list.
        stolen.extend(
            _in_thread(
                lambda: svc.issue_token(
                    name, "api-login", svc.authenticate(name, PASSWORD, "198.51.100.7"), "198.51.100.7"
                )
            )
        )

    store.armed = (f"token-index/{name}/", login_meanwhile)
    done = _in_thread(lambda: svc.sign_out_everywhere(owner, token_digest(kept), "203.0.113.5"))
    assert not isinstance(done[0], Exception), done
    assert stolen and isinstance(stolen[0], str), stolen  # it got a token while the list was read
    with pytest.raises(TokenInvalid):  # before: it kept working after the sign-out
        svc.resolve_token(stolen[0])
    assert svc.resolve_token(kept).username == name
    revoked = [t for t in svc.tokens_of(name) if t.revoked]
    assert {t.name for t in revoked} == {"api-login"}
    events = [e for e in svc.audit.events() if e.action == "account:token-revoke"]
    assert any((e.details or {}).get("reason") == "signed-out-everywhere" for e in events)
