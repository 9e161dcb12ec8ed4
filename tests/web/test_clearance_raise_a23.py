"""A quản trị does not grant a clearance above their own (review a23, a22's open item 2). Under
Luật Bảo vệ bí mật nhà nước 2018 who may reach state secrets is the head's decision; until a23 a
quản trị holding clearance 0 raised a colleague's clearance to Tuyệt mật
(:meth:`AccountService.set_clearance`, decided by :func:`repository.policy.manages_rights_of`).
The rule is one pure function (:func:`repository.policy.raises_clearance_of`); the service asks it.
Real store."""

from __future__ import annotations

import unicodedata

import pytest
from kho_people import People

from kho.errors import PermissionDenied
from repository.policy import Principal
from web.context import Kho


@pytest.mark.parametrize(
    ("own", "before", "after", "allowed"),
    [
        (0, 0, 3, False),  # a22's finding: clearance 0 gives Tuyệt mật
        (0, 0, 1, False),
        (2, 0, 3, False),
        (2, 0, 2, True),  # up to one's own
        (3, 1, 3, True),
        (0, 3, 1, True),  # lowering is not a raise
        (0, 3, 3, True),  # keeping is not a raise (a roles change carries the clearance as is)
    ],
)
def test_a_raise_of_clearance_goes_no_higher_than_the_granters_own(
    own: int, before: int, after: int, allowed: bool
) -> None:
    from repository.policy import raises_clearance_of  # (here: main has no such rule)

    decision = raises_clearance_of(Principal("qt", clearance=own), before, after)
    assert bool(decision) is allowed
    if not allowed:
        assert decision.code == "SECRECY_CLEARANCE_DENIED"
        assert unicodedata.is_normalized("NFC", decision.message)
        assert "người đứng đầu" in decision.message


def test_a_quan_tri_holding_clearance_0_cannot_raise_a_colleague_to_tuyet_mat(
    kho: Kho, people: People
) -> None:
    """On main: allowed, the chuyên viên then reads Tuyệt mật documents."""
    admin = kho.accounts.get(people.usernames["quan_tri"])
    assert admin.clearance == 0
    name = people.usernames["chuyen_vien"]
    with pytest.raises(PermissionDenied) as refused:
        kho.accounts.set_clearance(name, 3, admin, "10.0.0.9")
    assert refused.value.code == "SECRECY_CLEARANCE_DENIED"
    assert "Tuyệt mật" in refused.value.message and "Thường" in refused.value.message
    assert kho.accounts.get(name).clearance == 0
    denied = [e for e in kho.repo.audit.events() if e.action == "access:denied"][-1]
    assert denied.actor == admin.username
    assert denied.details["action"] == "account:clearance" and denied.details["target"] == name
    assert not [e for e in kho.repo.audit.events() if e.action == "account:clearance"]


def test_a_quan_tri_raises_up_to_their_own_clearance_and_lowers_freely(kho: Kho, people: People) -> None:
    cleared_admin = people.add("quan_tri_2", "Trịnh Văn Mật", "000.00.18.H40", ["quan_tri"], 2)
    name = people.usernames["chuyen_vien"]
    assert kho.accounts.set_clearance(name, 2, cleared_admin).clearance == 2
    with pytest.raises(PermissionDenied) as refused:
        kho.accounts.set_clearance(name, 3, cleared_admin)
    assert refused.value.code == "SECRECY_CLEARANCE_DENIED"
    assert kho.accounts.get(name).clearance == 2
    # Lowering needs no clearance: the quản trị holding none lowers the văn thư's Tuyệt mật.
    admin = kho.accounts.get(people.usernames["quan_tri"])
    assert kho.accounts.set_clearance(people.usernames["van_thu"], 1, admin).clearance == 1
