"""Review rv47, the unit twin of rv44's forged-account attack (s20/s21's unit rollback check).

A writer of the store without the seal key (no ``KHO_MASTER_KEY``) appends an unsealed event
chained after the last with a correct hash (:func:`audit_tamper.append_forged`). It must not:
make a genuine unit look rolled back (``UNIT_ROLLED_BACK`` locks every read of the unit tree:
every access decision), make a unit that never existed look deleted whole, or make
``kho unit accept-rollback`` keep a parent or name it says. Local folder and the real S3
gateway, sealed, services opened as the application opens them; this host (its index caught up
from the log) and another host (its own empty index, one scan)."""

from __future__ import annotations

from pathlib import Path

import audit_tamper as tamper
import pytest
from kho_sealing import GOOD, VP
from kho_testing import AGENCY, BACKENDS
from kho_unit_rollback import ADMIN, OTHER, agency_with_office_moved, open_service, unit_keys

from repository.accounts import AccountService
from repository.audit import AuditLog
from repository.storage.local import LocalStore


def _forge(svc: AccountService, action: str, unit_id: str, version: int, after: dict[str, object]) -> None:
    tamper.append_forged(
        svc.store,
        {
            "actor": ADMIN,
            "action": action,
            "details": {"unit_id": unit_id, "object": f"units/{unit_id}/v{version:06d}", "after": after},
        },
    )


def _hosts(svc: AccountService, tmp_path: Path) -> list[AccountService]:
    """This host (its index caught up, as a token request does) and another one."""
    svc.audit.newest_named(f"units/{VP}", catch_up=True)
    other = open_service(svc.store, LocalStore(tmp_path / "keys"), tmp_path / "other-data")
    other.audit.newest_named(f"units/{VP}", catch_up=True)
    return [svc, other]


@pytest.mark.parametrize("backend", BACKENDS)
def test_forged_unit_events_neither_roll_a_unit_back_nor_invent_a_deleted_one(
    backend: str, tmp_path: Path
) -> None:
    svc = agency_with_office_moved(backend, tmp_path, "rv47unit")
    _forge(svc, "unit:update", VP, 99, {"name": "Giả", "parent_id": AGENCY})
    _forge(svc, "unit:create", "000.99.18.H40", 1, {"name": "Không có", "parent_id": AGENCY})
    _forge(svc, "unit:delete", OTHER, 7, {})
    for service in _hosts(svc, tmp_path):
        tree = {u.unit_id: (u.parent_id, u.name, u.version) for u in service.units()}
        assert tree[VP][0] == OTHER and tree[VP][2] == 2, tree
        assert "000.99.18.H40" not in tree
        assert service.get_unit(VP).version == 2
        assert VP in service.units_below(OTHER)
    admin = svc.authenticate(ADMIN, GOOD)
    svc.update_unit(VP, name="Văn phòng UBND", actor=admin)  # writes version 3, not 100
    assert unit_keys(svc, VP)[-1].endswith("v000003")
    assert any(f.kind == "seal" for f in AuditLog(svc.store, sealer=svc.audit.sealer).verify().findings)


def test_an_accept_keeps_the_lost_versions_sealed_state_not_a_forged_one(tmp_path: Path) -> None:
    """Version 2 (moved under Phòng Nội vụ) deleted; then a forged event naming version 2 with
    another parent and name, and a forged accept: the accept keeps what the sealed event said."""
    svc = agency_with_office_moved("local", tmp_path, "rv47accept")
    svc.store.delete(unit_keys(svc, VP)[-1])
    _forge(svc, "unit:update", VP, 2, {"name": "Giả", "parent_id": AGENCY})
    tamper.append_forged(
        svc.store,
        {
            "actor": "operator",
            "action": "unit:rollback-accept",
            "details": {"unit_id": VP, "object": f"units/{VP}/v000002", "name": "Giả", "parent_id": AGENCY},
        },
    )
    svc.audit.newest_named(f"units/{VP}", catch_up=True)
    accepted = svc.accept_unit_rollback(VP, "Phiên bản 2 mất; không có bản sao lưu")
    assert (accepted.version, accepted.parent_id) == (3, OTHER), accepted
    assert accepted.name != "Giả"
