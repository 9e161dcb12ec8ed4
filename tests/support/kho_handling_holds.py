"""Handling steps met by a legal hold (u5, u6): the document submitted to the lãnh đạo, the step
that directs it, the store's write of a step observed, and the audit events of a record."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from kho_people import People
from kho_retention import Clock
from kho_testing import incoming

from kho.timeutil import vn_date
from repository.workflow import Act
from web.context import Kho

BACKENDS = pytest.mark.parametrize("kho", ["local", pytest.param("s3", marks=pytest.mark.s3)], indirect=True)


class Died(BaseException):
    """The writing process ends here (nothing after this point of ``take`` runs)."""


def events(kho: Kho, record_id: str, action: str) -> list[Any]:
    return [e for e in kho.repo.audit.events() if e.record_id == record_id and e.action == action]


def submitted(kho: Kho, people: People, clock: Clock, number: str) -> str:
    kho.handling.clock = clock
    doc = kho.repo.create_document("den", incoming(code_number=number), None, None, people.actor("van_thu"))
    kho.handling.take(
        doc.record_id,
        Act.SUBMIT,
        expected_seq=0,
        actor=people.actor("van_thu"),
        users=[people.usernames["lanh_dao"]],
    )
    return doc.record_id


def direct(kho: Kho, people: People, record_id: str) -> Any:
    deadline = (vn_date(kho.handling.clock()) + timedelta(days=14)).isoformat()
    return kho.handling.take(
        record_id,
        Act.DIRECT,
        expected_seq=1,
        actor=people.actor("lanh_dao"),
        users=[people.usernames["chuyen_vien_b"]],
        deadline=deadline,
    )


@contextmanager
def after_writing(kho: Kho, key: str, then: Callable[[], None]) -> Iterator[list[str]]:
    """Run ``then`` right after the store wrote ``key`` (create-if-absent)."""
    store = kho.repo.store
    real = store.put_if_absent
    seen: list[str] = []

    def wrapped(at: str, *args: Any, **kwargs: Any) -> Any:
        out = real(at, *args, **kwargs)
        if at == key and not seen:
            seen.append(at)
            then()
        return out

    store.put_if_absent = wrapped  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        store.put_if_absent = real  # type: ignore[method-assign]
    assert seen, f"the store never wrote {key}"
