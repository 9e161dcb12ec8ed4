"""A hold placed by a lãnh đạo, and the release a writer of the store forges for it (review rv19
open item 0, rv20, rv22): shared by the tests of the audit event seals."""

from __future__ import annotations

import audit_tamper as tamper
import pytest
from kho_people import People
from kho_retention import closed_file

from kho.errors import LegalHold
from repository.audit import AuditEvent
from retention.holds import Holds
from web.context import Kho


def placed_hold(kho: Kho, people: People) -> tuple[str, AuditEvent]:
    """A document of a closed hồ sơ, held ("Phục vụ điều tra"), and its ``hold:place`` event."""
    _, docs = closed_file(kho, people, end="", docs=1)
    Holds(kho.repo).place([docs[0]], "Phục vụ điều tra", actor=people.actor("lanh_dao"))
    (placed,) = [e for e in kho.repo.audit.record_events(docs[0]) if e.action == "hold:place"]
    return docs[0], placed


def forge_release(kho: Kho, record_id: str, placed: AuditEvent, **how: object) -> AuditEvent:
    """rv19's forgery: a ``hold:release`` in the placer's name at the next key
    (:func:`audit_tamper.append_forged`, ``how`` its options), the witness moved, the hold object
    deleted."""
    forged = tamper.append_forged(
        kho.repo.store,
        {
            "actor": placed.actor,
            "action": "hold:release",
            "record_id": record_id,
            "details": {"hold_id": placed.details["hold_id"], "reason": "Kết thúc điều tra"},
        },
        **how,  # type: ignore[arg-type]
    )
    for info in list(kho.repo.store.list(f"holds/{record_id}/")):
        kho.repo.store.delete(info.key)
    return forged


def assert_still_held(kho: Kho, people: People, record_id: str) -> None:
    """An edit of the document is refused ``HOLD_MISSING`` (the log says it is held, its hold
    object is gone) and no version is written."""
    current = kho.repo._load(record_id)
    with pytest.raises(LegalHold) as refused:
        kho.repo.update_metadata(
            record_id,
            {"subject": "Đổi trích yếu"},
            expected_version=current.version,
            actor=people.actor("van_thu"),
        )
    assert refused.value.code == "HOLD_MISSING"
    assert kho.repo._load(record_id).version == current.version
