"""The reverse link ``links/<document>/<hồ sơ>`` under two edits of one hồ sơ at once (review r28).

a6 made a destruction keep a document that sits in a hồ sơ not in its decision, by listing the
document's reverse links under the destruction's claim (:meth:`Repository._claim_destruction`).
That holds only while every hồ sơ that lists a document has its link. Two tabs adding the same
document to one hồ sơ at once: the second found the link written by the first (``made`` false),
won the version, and the first, refused (409), deleted the link the winner relied on. A removal
and a re-add at once did the same from the other side. Either way the hồ sơ listed the document
with no link, and a destruction of another hồ sơ holding it shredded it.

The interleavings are forced from the real store's ``put_if_absent``/``delete``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from kho_people import People
from kho_retention import closed_file

from kho.errors import Conflict
from repository.records import Actor, Record
from web.context import Kho

pytestmark = pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)


def _two_files(kho: Kho, people: People) -> tuple[Record, Record, str]:
    """An active hồ sơ ``theirs`` holding one document, and an active empty hồ sơ ``mine``."""
    theirs, [doc] = closed_file(kho, people, end="", docs=1)
    mine, _ = closed_file(kho, people, notation="02.TCCB", end="", docs=0)
    return theirs, mine, doc


def _assert_kept_by_link(kho: Kho, people: People, mine: Record, theirs: Record, doc: str) -> None:
    repo = kho.repo
    shredder = Actor(user=people.actor("luu_tru").user, source=None, system=True)  # as execute()
    assert doc in repo._load(mine.record_id).documents
    assert mine.record_id in repo.files_of(doc)  # before: the link was gone
    with pytest.raises(Conflict) as refused:  # destroying "theirs" keeps what "mine" holds
        repo.destroy(doc, decision="QĐ 9/QĐ-UBND", actor=shredder, only_in=[theirs.record_id])
    assert refused.value.code == "DOCUMENT_IN_ANOTHER_FILE"
    assert repo.keys.exists(doc)


def test_two_tabs_adding_one_document_keep_its_link(kho: Kho, people: People) -> None:
    theirs, mine, doc = _two_files(kho, people)
    repo, store = kho.repo, kho.repo.store
    link = f"links/{doc}/{mine.record_id}"
    real_put: Callable[..., Any] = store.put_if_absent
    first_linked, second_done = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def hooked(key: str, data: bytes, *a: Any, **k: Any) -> Any:
        if key == link and threading.current_thread().name == "tab-1":
            result = real_put(key, data, *a, **k)
            first_linked.set()
            assert second_done.wait(60)  # the other tab wins the version meanwhile
            return result
        return real_put(key, data, *a, **k)

    store.put_if_absent = hooked  # type: ignore[method-assign]

    def tab(name: str) -> None:
        try:
            outcome[name] = repo.add_to_file(
                mine.record_id, doc, expected_version=mine.version, actor=people.actor("chuyen_vien")
            )
        except Conflict as exc:
            outcome[name] = exc

    one = threading.Thread(target=tab, args=("tab-1",), name="tab-1")
    one.start()
    try:
        assert first_linked.wait(60)
        tab("tab-2")
    finally:
        second_done.set()
        one.join(60)
        del store.put_if_absent
    assert isinstance(outcome["tab-2"], Record) and isinstance(outcome["tab-1"], Conflict)
    _assert_kept_by_link(kho, people, mine, theirs, doc)


def test_a_removal_and_a_re_add_at_once_keep_the_link(kho: Kho, people: People) -> None:
    theirs, mine, doc = _two_files(kho, people)
    repo, store = kho.repo, kho.repo.store
    officer = people.actor("chuyen_vien")
    mine = repo.add_to_file(mine.record_id, doc, expected_version=mine.version, actor=officer)
    link = f"links/{doc}/{mine.record_id}"
    real_delete: Callable[..., Any] = store.delete
    readded: list[Record] = []

    def hooked(key: str, *a: Any, **k: Any) -> Any:
        if key == link and not readded:  # the removal is written, its link not yet deleted
            current = repo._load(mine.record_id)
            readded.append(
                repo.add_to_file(mine.record_id, doc, expected_version=current.version, actor=officer)
            )
        return real_delete(key, *a, **k)

    store.delete = hooked  # type: ignore[method-assign]
    try:
        repo.remove_from_file(mine.record_id, doc, expected_version=mine.version, actor=officer)
    finally:
        del store.delete
    assert readded and doc in readded[0].documents
    _assert_kept_by_link(kho, people, mine, theirs, doc)
