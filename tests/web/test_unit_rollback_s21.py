"""Through the real API (Werkzeug's client) and the ``kho`` command (review s21): a unit deleted
whole from the store (every version) is refused, ``UNIT_ROLLED_BACK`` (503, Vietnamese), where
the unit tree is needed — never a 500, never a silent disappearance — and ``kho unit
accept-rollback`` refuses it with ``UNIT_ROLLBACK_NOTHING_STORED`` (nothing to write on: the way
out is a restore from a backup). Local store sealed with ``KHO_MASTER_KEY``; on the Ceph S3
gateway: ``tests/repository/test_unit_rollback_s21.py``."""

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


def test_a_unit_deleted_whole_is_refused_and_its_accept_says_to_restore_it(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    """Every version of a unit deleted. Before: ``GET /api/units`` answered 200 without it. Now
    503 ``UNIT_ROLLED_BACK`` (NFC, naming the unit); ``kho unit accept-rollback`` exits non-zero
    with ``UNIT_ROLLBACK_NOTHING_STORED`` and writes nothing; put back, the list answers 200."""
    store = kho.repo.store
    versions = [i.key for i in store.list(f"units/{UNIT_B}/")]
    assert versions
    backup = {key: store.get(key) for key in versions}
    for key in versions:
        store.delete(key)
    listed = client.get("/api/units", headers=people.headers("quan_tri"))
    assert listed.status_code == 503 and error_code(listed) == "UNIT_ROLLED_BACK", listed.get_json()
    message = listed.get_json()["error"]["message"]
    assert UNIT_B in message and unicodedata.is_normalized("NFC", message)
    ran = CliRunner().invoke(main, ["unit", "accept-rollback", UNIT_B, "--reason", "Ổ đĩa hỏng"])
    assert ran.exit_code != 0 and "UNIT_ROLLBACK_NOTHING_STORED" in ran.output, ran.output
    assert "Traceback" not in ran.output
    assert [i.key for i in store.list(f"units/{UNIT_B}/")] == []
    for key, data in backup.items():
        store.put(key, data)
    again = client.get("/api/units", headers=people.headers("quan_tri"))
    assert again.status_code == 200 and UNIT_B in {u["unit_id"] for u in again.get_json()["items"]}
