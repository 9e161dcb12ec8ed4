"""The one shape of the per-operation snapshots (:class:`kho.scoped.RequestView`, s28): the
accounts' view of one operation and the audit log's one catch-up per record view use it."""

from __future__ import annotations

import contextvars
import threading

from kho.scoped import RequestView
from repository import accounts, audit


def test_a_scope_keeps_its_snapshot_for_the_code_inside_only() -> None:
    view: RequestView[list[str]] = RequestView("test_view", list)
    assert view.get() is None
    with view.scope() as outer:
        outer.append("read once")
        with view.scope() as inner:  # nested: the outermost's snapshot
            assert inner is outer
        assert view.get() == ["read once"]
    assert view.get() is None


def test_begin_opens_a_new_snapshot_until_its_end() -> None:
    view: RequestView[set[int]] = RequestView("test_view", set)
    first = view.begin()
    view.get().add(1)  # type: ignore[union-attr]
    second = view.begin()
    assert view.get() == set()
    view.end(second)
    assert view.get() == {1}
    view.end(first)
    assert view.get() is None


def test_a_snapshot_is_not_seen_by_another_thread_nor_outlives_its_context() -> None:
    view: RequestView[set[int]] = RequestView("test_view", set)
    seen: list[object] = []
    with view.scope():
        thread = threading.Thread(target=lambda: seen.append(view.get()))
        thread.start()
        thread.join()
    assert seen == [None]
    token = contextvars.copy_context().run(view.begin)  # begun in another context
    view.end(token)
    assert view.get() is None


def test_the_accounts_view_and_the_audit_catch_up_are_request_views() -> None:
    assert isinstance(accounts._VIEW, RequestView) and isinstance(audit._CAUGHT_UP, RequestView)
    token = audit.one_catch_up_begin()
    assert audit._CAUGHT_UP.get() == set()
    audit.one_catch_up_end(token)
    assert audit._CAUGHT_UP.get() is None
