"""Saved searches: a person's named query with its filters and chosen columns (Phụ lục VI
III.6.h). Each is a stored object of the versioned ``saved-search`` format, under the person's
own prefix; only its owner lists, opens or deletes it. Saving and deleting are audited.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kho.errors import Conflict, FieldError, NotFound, ValidationFailed
from kho.timeutil import to_iso_utc
from repository import formats
from repository.policy import Action
from repository.records import Actor, Repository
from repository.vocabulary import blank, typed_text

SAVED_SEARCH = formats.SAVED_SEARCH
MAX_PER_PERSON = 100
MAX_NAME = 200
MAX_VALUES = 50
_ID = re.compile(r"^[0-9a-f]{24}$")


@dataclass(frozen=True)
class SavedSearch:
    search_id: str
    owner: str
    name: str
    query: str
    filters: dict[str, tuple[str, ...]]
    columns: tuple[str, ...]
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return formats.stamp(SAVED_SEARCH.name, {
            "search_id": self.search_id,
            "owner": self.owner,
            "name": self.name,
            "query": self.query,
            "filters": {k: list(v) for k, v in self.filters.items()},
            "columns": list(self.columns),
            "created_at": self.created_at,
        })

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any]) -> SavedSearch:
        data = formats.upcast(SAVED_SEARCH.name, stored)
        return cls(
            search_id=data["search_id"],
            owner=data["owner"],
            name=data["name"],
            query=data["query"],
            filters={k: tuple(v) for k, v in data["filters"].items()},
            columns=tuple(data["columns"]),
            created_at=data["created_at"],
        )

    def params(self) -> list[tuple[str, str]]:
        """The search page's query string for this search."""
        pairs = [("q", self.query)] if self.query else []
        pairs += [(k, v) for k, vs in self.filters.items() for v in vs]
        pairs += [("cols", c) for c in self.columns]
        return pairs


def _prefix(user: str) -> str:
    return f"saved-searches/{hashlib.sha256(user.encode()).hexdigest()[:32]}/"


def _invalid(code: str, message: str, field: str = "name") -> ValidationFailed:
    return ValidationFailed([FieldError(field, code, message)])


class SavedSearches:
    """The saved searches of every person, in the repository's store."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo

    def list(self, *, actor: Actor) -> list[SavedSearch]:
        self.repo.authorize(actor, Action.SEARCH)
        out = []
        for info in self.repo.store.list(_prefix(actor.user)):
            out.append(SavedSearch.from_dict(formats.loads(SAVED_SEARCH.name, self.repo.store.get(info.key))))
        return sorted(out, key=lambda s: s.created_at, reverse=True)

    def get(self, search_id: str, *, actor: Actor) -> SavedSearch:
        self.repo.authorize(actor, Action.SEARCH)
        if not _ID.match(search_id):
            raise NotFound("Không tìm thấy câu tìm kiếm đã lưu.", code="SAVED_SEARCH_NOT_FOUND")
        try:
            raw = self.repo.store.get(_prefix(actor.user) + search_id + ".json")
        except NotFound:
            raise NotFound("Không tìm thấy câu tìm kiếm đã lưu.", code="SAVED_SEARCH_NOT_FOUND") from None
        return SavedSearch.from_dict(formats.loads(SAVED_SEARCH.name, raw))

    def save(
        self,
        name: str,
        query: str,
        filters: Mapping[str, Sequence[str]],
        columns: Sequence[str],
        *,
        actor: Actor,
    ) -> SavedSearch:
        self.repo.authorize(actor, Action.SEARCH)
        name = typed_text(name or "", "name", "Tên câu tìm kiếm", line_breaks=False)
        if blank(name):
            raise _invalid("SAVED_SEARCH_NAME_REQUIRED", "Hãy đặt tên cho câu tìm kiếm.")
        if len(name) > MAX_NAME:
            raise _invalid("SAVED_SEARCH_NAME_INVALID", f"Tên câu tìm kiếm tối đa {MAX_NAME} ký tự.")
        query = unicodedata.normalize("NFC", query or "")
        clean = {
            k: tuple(unicodedata.normalize("NFC", str(v)) for v in vs if str(v))
            for k, vs in filters.items()
        }
        clean = {k: v for k, v in clean.items() if v}
        if sum(len(v) for v in clean.values()) + len(columns) > MAX_VALUES or len(query) > 2000:
            raise _invalid("SAVED_SEARCH_TOO_LARGE", "Câu tìm kiếm có quá nhiều điều kiện để lưu.", "filters")
        existing = list(self.repo.store.list(_prefix(actor.user)))
        if len(existing) >= MAX_PER_PERSON:
            raise Conflict(
                f"Mỗi người lưu tối đa {MAX_PER_PERSON} câu tìm kiếm: hãy xóa bớt câu cũ.",
                code="SAVED_SEARCH_LIMIT",
            )
        saved = SavedSearch(
            search_id=os.urandom(12).hex(),
            owner=actor.user,
            name=name,
            query=query,
            filters=clean,
            columns=tuple(dict.fromkeys(str(c) for c in columns)),
            created_at=to_iso_utc(self.repo.clock()),
        )
        key = _prefix(actor.user) + saved.search_id + ".json"
        self.repo.store.put(key, formats.dumps(SAVED_SEARCH.name, saved.to_dict(), ensure_ascii=False))
        self.repo.audit.append(
            actor.user, "search:save", source=actor.source,
            details={"search_id": saved.search_id, "name": name, "query": query},
        )
        return saved

    def delete(self, search_id: str, *, actor: Actor) -> None:
        saved = self.get(search_id, actor=actor)
        self.repo.store.delete(_prefix(actor.user) + saved.search_id + ".json")
        self.repo.audit.append(
            actor.user, "search:delete-saved", source=actor.source, details={"search_id": search_id}
        )
