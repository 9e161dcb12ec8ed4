"""A request view: what one operation has read of the store, kept for the operation only.

Some reads are made several times by one operation (an account's creation reads the unit tree for
each of its checks, a record page catches the audit index up for its token check and again for
its events). Inside a :class:`RequestView`'s scope the first read is kept and the later ones use
it; outside any scope nothing is kept and every read goes to the store. The state is a context
variable: per thread and per task, so two requests never share one, and a scope never outlives
the operation that opened it (its end forgets it, in a ``finally``). No I/O here (s28: one shape
for :data:`repository.accounts._VIEW` and :data:`repository.audit._CAUGHT_UP`, which were two).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Generic, TypeVar

T = TypeVar("T")


class RequestView(Generic[T]):
    """A snapshot of type ``T`` (made empty by ``make``) that exists only inside a scope."""

    def __init__(self, name: str, make: Callable[[], T]) -> None:
        self._var: ContextVar[T | None] = ContextVar(name, default=None)
        self._make = make

    def get(self) -> T | None:
        """The snapshot of the scope running in this thread or task (None: outside any)."""
        return self._var.get()

    def begin(self) -> Token[T | None]:
        """Open a scope with a new, empty snapshot (inside another: a new one until its end)."""
        return self._var.set(self._make())

    def end(self, token: Token[T | None]) -> None:
        """Close the scope :meth:`begin` opened (the one before, if any, is current again)."""
        try:
            self._var.reset(token)
        except ValueError:  # (another context: nothing of this scope outlives it there either)
            self._var.set(None)

    @contextmanager
    def scope(self) -> Iterator[T]:
        """One scope for the code inside; nested in another, the outermost one's snapshot."""
        current = self._var.get()
        if current is not None:
            yield current
            return
        snapshot = self._make()
        token = self._var.set(snapshot)
        try:
            yield snapshot
        finally:
            self.end(token)
