"""``retention:due`` notifications written before m5 (format 1) keep a hồ sơ's title in plaintext.

m5 made the daily alert store the hồ sơ by reference (format 2: ``record_id`` and
:data:`~repository.accounts.RECORD_REFERENCE` in the message, resolved under the access policy
when read). The notifications written before stayed as they were: ``Hồ sơ “<title>” đã quá hạn
…`` in a plain object of the store, in every older object version a versioned store keeps, and in
every backup. :func:`rewrite_audited` (run by ``kho fsck --repair``) rewrites each into format 2.

The hồ sơ is found again from what the alert left: the marker ``retention/alerts/<hồ sơ>/<level>
-<due>.json`` of the level and due date the message words, among which the one whose title is the
one in the message. A message no marker and title single out (the hồ sơ gone, two hồ sơ of one
title alerted for the same day) keeps no title either: it says :data:`UNRESOLVED` instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kho.errors import AlreadyExists, KhoError, NotFound
from repository import formats
from repository.accounts import RECORD_REFERENCE, next_notification_number
from repository.audit import AuditLog
from repository.storage.base import ObjectStore, Replaced, replace_every_version

DUE_KIND = "retention:due"
ALERT_PREFIX = "retention/alerts/"
"""``retention/alerts/<hồ sơ>/<level>-<due>.json``: one alert sent (:mod:`retention.service`);
``….claim`` beside it while a run sends it."""
NOTIFICATIONS_PREFIX = "notifications/"
STAGED_PREFIX = "staging/notifications/"
"""A rewritten notification, staged before its old object (and versions) are removed."""
UNRESOLVED = "(tên hồ sơ không còn lưu trong thông báo cũ)"

_WORDINGS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "overdue",
        re.compile(
            r"^Hồ sơ “(?P<title>.*)” (?P<rest>đã quá hạn nộp lưu \d+ ngày \(hạn (?P<due>[\d/]+)\)\.)$"
        ),
    ),
    (
        "keep_expired",
        re.compile(r"^Hồ sơ “(?P<title>.*)” (?P<rest>đã hết thời gian được giữ lại: phải nộp lưu ngay\.)$"),
    ),
    (
        "soon",
        re.compile(
            r"^Hồ sơ “(?P<title>.*)” (?P<rest>đến hạn nộp lưu ngày (?P<due>[\d/]+) \(còn -?\d+ ngày\)\.)$"
        ),
    ),
)


@dataclass(frozen=True)
class DueWording:
    """What a format-1 ``retention:due`` message says (pure parse)."""

    title: str
    rest: str
    """The message after the hồ sơ's name (level and date, no title)."""
    level: str
    due: str | None
    """ISO date, as in the alert's marker (none for ``keep_expired``)."""


def parse_wording(message: str) -> DueWording | None:
    for level, pattern in _WORDINGS:
        found = pattern.match(message)
        if found:
            due = found.groupdict().get("due")
            iso = datetime.strptime(due, "%d/%m/%Y").date().isoformat() if due else None
            return DueWording(found["title"], found["rest"], level, iso)
    return None


def keeps_title(data: Mapping[str, Any]) -> bool:
    """Does this stored notification keep a hồ sơ's title in plaintext (pure)?"""
    return (
        data.get("kind") == DUE_KIND
        and not data.get("record_id")
        and RECORD_REFERENCE not in str(data.get("message", ""))
        and UNRESOLVED not in str(data.get("message", ""))
    )


def rewritten(data: Mapping[str, Any], record_id: str | None) -> dict[str, Any]:
    """``data`` in format 2: the title replaced by the reference (or :data:`UNRESOLVED`)."""
    wording = parse_wording(str(data.get("message", "")))
    rest = wording.rest if wording else "đến hạn hoặc quá hạn nộp lưu."
    named = RECORD_REFERENCE if record_id else UNRESOLVED
    out = {**data, "message": f"Hồ sơ {named} {rest}", "record_id": record_id}
    return formats.stamp(formats.NOTIFICATION.name, out)


@dataclass(frozen=True)
class RewriteReport:
    rewritten: tuple[str, ...]
    """Notifications rewritten (their keys)."""
    unresolved: tuple[str, ...]
    """Of those, the ones whose hồ sơ could not be singled out (no title, no reference)."""
    finished: tuple[str, ...]
    """Notifications a stopped run had staged, finished now."""


def plaintext_notices(store: ObjectStore) -> list[str]:
    """The keys of notifications that keep a title."""
    left = []
    for info in store.list(NOTIFICATIONS_PREFIX):
        try:
            data = json.loads(store.get(info.key))
        except (NotFound, ValueError):
            continue
        if isinstance(data, dict) and keeps_title(data):
            left.append(info.key)
    return left


def _resolver(
    store: ObjectStore, title_of: Callable[[str], str | None]
) -> Callable[[DueWording], str | None]:
    sent: dict[tuple[str, str], set[str]] = {}
    for info in store.list(ALERT_PREFIX):
        if not info.key.endswith(".json"):
            continue  # a run's claim (``.claim``), not an alert sent
        file_id, _, name = info.key.removeprefix(ALERT_PREFIX).partition("/")
        level, _, due = name.removesuffix(".json").partition("-")
        sent.setdefault((level, due), set()).add(file_id)
        sent.setdefault((level, ""), set()).add(file_id)

    def resolve(wording: DueWording) -> str | None:
        candidates = sent.get((wording.level, wording.due or ""), set())
        named = [f for f in sorted(candidates) if title_of(f) == wording.title]
        return named[0] if len(named) == 1 else None

    return resolve


def _refile(store: ObjectStore, key: str, body: bytes, staged: str) -> str:
    """File the rewritten notification ``body`` under the next free number of its person, since
    another notification took ``key``'s while the old one was removed; the staged copy removed.
    Its new key."""
    prefix = key.rsplit("/", 1)[0] + "/"
    data = json.loads(body)
    seq = next_notification_number(store, prefix)
    while True:
        data["notification_id"] = f"{seq:06d}"
        moved = f"{prefix}{seq:06d}.json"
        try:
            store.put_if_absent(moved, json.dumps(data, ensure_ascii=False, sort_keys=True).encode())
            break
        except AlreadyExists:
            seq += 1
    store.delete(staged)
    return moved


def rewrite(store: ObjectStore, title_of: Callable[[str], str | None]) -> RewriteReport:
    """Rewrite every notification that keeps a title: staged copy first, then the old object
    removed with every version it has (a ``put`` over it would keep them on a versioned bucket
    or folder), the new one written, the staged copy removed. Resumable (a staged copy left by a
    stopped run is finished first) and idempotent; the caller audits it."""
    finished = []
    for info in list(store.list(STAGED_PREFIX)):
        key = NOTIFICATIONS_PREFIX + info.key.removeprefix(STAGED_PREFIX)
        try:
            staged = store.get(info.key)
        except NotFound:
            continue
        if not store.exists(key) or keeps_title(json.loads(store.get(key))):
            store.delete(key)
            store.put(key, staged)
            finished.append(key)
        elif store.get(key) != staged:  # another notification took its number meanwhile
            finished.append(_refile(store, key, staged, info.key))
            continue
        store.delete(info.key)
    resolve = _resolver(store, title_of)
    done, unresolved = [], []
    for key in plaintext_notices(store):
        data = json.loads(store.get(key))
        wording = parse_wording(str(data.get("message", "")))
        record_id = resolve(wording) if wording else None
        body = json.dumps(rewritten(data, record_id), ensure_ascii=False, sort_keys=True).encode()
        staged = STAGED_PREFIX + key.removeprefix(NOTIFICATIONS_PREFIX)
        if replace_every_version(store, key, body, staged) is not Replaced.REPLACED:
            key = _refile(store, key, body, staged)
        done.append(key)
        if record_id is None:
            unresolved.append(key)
    return RewriteReport(tuple(done), tuple(unresolved), tuple(finished))


def rewrite_audited(
    store: ObjectStore, audit: AuditLog, title_of: Callable[[str], str | None], user: str, source: str
) -> RewriteReport:
    """:func:`rewrite`, audited ``notification:rewrite`` (the keys, no title) when it rewrote
    anything. The one path of ``kho fsck --repair``."""
    report = rewrite(store, title_of)
    if report.rewritten or report.finished:
        audit.append(
            user,
            "notification:rewrite",
            source=source,
            details={
                "format": formats.KINDS[formats.NOTIFICATION.name].current,
                "rewritten": list(report.rewritten),
                "unresolved": list(report.unresolved),
                "finished": list(report.finished),
            },
        )
    return report


def title_reader(load: Callable[[str], Any]) -> Callable[[str], str | None]:
    """A hồ sơ's title by id through ``load`` (None if it cannot be read)."""

    def title_of(file_id: str) -> str | None:
        try:
            return str(getattr(load(file_id).metadata, "title", "") or "") or None
        except (KhoError, ValueError):
            return None

    return title_of
