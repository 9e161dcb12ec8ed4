"""Grants are added in order, each once, and asking again for grants a record already has writes
no new version and no audit event (RecordRepository.grant and .distribute share this rule)."""

from __future__ import annotations

from kho_people import UNIT_B, People
from kho_retention import closed_file

from web.context import Kho


def _events(kho: Kho, record_id: str, action: str) -> int:
    return sum(1 for e in kho.repo.audit.events() if e.record_id == record_id and e.action == action)


def test_a_grant_or_distribution_already_held_writes_nothing_and_new_ones_keep_their_order(
    kho: Kho, people: People
) -> None:
    file, _ = closed_file(kho, people)
    boss = people.actor("lanh_dao")
    first_user, second_user = people.usernames["chuyen_vien_b"], people.usernames["van_thu_b"]

    granted = kho.repo.grant(file.record_id, units=(UNIT_B,), actor=boss)
    assert granted.version == file.version + 1 and granted.grant_units == (UNIT_B,)
    again = kho.repo.grant(file.record_id, units=(UNIT_B,), actor=boss)
    assert again.version == granted.version and _events(kho, file.record_id, "record:grant") == 1

    more = kho.repo.grant(file.record_id, users=(first_user,), units=(UNIT_B,), actor=boss)
    assert more.version == granted.version + 1
    assert (more.grant_users, more.grant_units) == ((first_user,), (UNIT_B,))

    same = kho.repo.distribute(file.record_id, users=(first_user,), units=(UNIT_B,), actor=boss)
    assert same.version == more.version and _events(kho, file.record_id, "record:distribute") == 0

    spread = kho.repo.distribute(file.record_id, users=(second_user, first_user), actor=boss)
    assert spread.version == more.version + 1
    assert spread.grant_users == (first_user, second_user) and spread.grant_units == (UNIT_B,)
    assert _events(kho, file.record_id, "record:distribute") == 1
    assert kho.repo.get(file.record_id, actor=boss).grant_users == (first_user, second_user)
