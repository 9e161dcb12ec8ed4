"""Through the real API (Werkzeug's client) and the ``kho`` command (review s20): a unit whose
newest version was deleted from the store is refused, ``UNIT_ROLLED_BACK`` (503, Vietnamese),
wherever the unit tree is needed — the unit list, an account created in it — never a 500; ``kho
unit accept-rollback UNIT --reason …`` is the way out when no backup holds the lost version.
Local store sealed with ``KHO_MASTER_KEY``; on the Ceph S3 gateway:
``tests/repository/test_unit_rollback_s20.py``."""

from __future__ import annotations

import unicodedata

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from kho_people import UNIT_B, People
from kho_web import error_code

from web.cli import main
from web.context import Kho

pytestmark = pytest.mark.sealed


def _names(client: FlaskClient, people: People) -> dict[str, str]:
    answer = client.get("/api/units", headers=people.headers("quan_tri"))
    assert answer.status_code == 200, answer.get_json()
    return {u["unit_id"]: u["name"] for u in answer.get_json()["items"]}


def test_a_unit_rolled_back_in_the_store_is_refused_until_the_operator_accepts_it(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    """The unit renamed, then that version deleted from the store. Before: the old name came back
    (200) and an account was created in it as if nothing happened. Now both answer 503
    ``UNIT_ROLLED_BACK`` in Vietnamese (NFC), nothing written; ``kho unit accept-rollback`` without
    a reason is refused with its code, with one the tree works again (the lost rename kept, s21)."""
    admin = kho.accounts.get(people.usernames["quan_tri"])
    kho.accounts.update_unit(UNIT_B, name="Phòng Tổng hợp - Hành chính", actor=admin)
    assert _names(client, people)[UNIT_B] == "Phòng Tổng hợp - Hành chính"
    store = kho.repo.store
    versions = [i.key for i in store.list(f"units/{UNIT_B}/")]
    store.delete(versions[-1])
    listed = client.get("/api/units", headers=people.headers("quan_tri"))
    assert listed.status_code == 503 and error_code(listed) == "UNIT_ROLLED_BACK", listed.get_json()
    message = listed.get_json()["error"]["message"]
    assert "nhật ký kiểm toán" in message and unicodedata.is_normalized("NFC", message)
    created = client.post(
        "/api/accounts",
        json={"full_name": "Lê Văn Cường", "unit": UNIT_B, "roles": ["chuyen_vien"]},
        headers=people.headers("quan_tri"),
    )
    assert created.status_code == 503 and error_code(created) == "UNIT_ROLLED_BACK", created.get_json()
    assert [i.key for i in store.list(f"units/{UNIT_B}/")] == versions[:-1]
    no_reason = CliRunner().invoke(main, ["unit", "accept-rollback", UNIT_B, "--reason", " "])
    assert no_reason.exit_code != 0 and "ROLLBACK_REASON_REQUIRED" in no_reason.output, no_reason.output
    ran = CliRunner().invoke(
        main, ["unit", "accept-rollback", UNIT_B, "--reason", "Ổ đĩa hỏng, không có bản sao"]
    )
    assert ran.exit_code == 0, ran.output
    assert "phiên bản 3" in ran.output
    # the lost rename is kept from its trusted event (review s21); before s21: the old name back
    assert _names(client, people)[UNIT_B] == "Phòng Tổng hợp - Hành chính"
    again = CliRunner().invoke(main, ["unit", "accept-rollback", UNIT_B, "--reason", "lần nữa"])
    assert again.exit_code != 0 and "UNIT_NOT_ROLLED_BACK" in again.output, again.output
