"""Review z3: the audit export cites as "signed" only a checkpoint whose signature holds.

Its header named the newest checkpoint *in the store* by number, unchecked: one who can write
the store rewrote the chain, wrote ``audit/checkpoints/<n>.json`` with a higher number and the
rewritten head, and the auditor's export said "Điểm mốc đã ký số <n> … mã băm <forged head>"."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from flask.testing import FlaskClient
from kho_people import People
from kho_web import login, logout, register_one

from repository.anchor import Anchor, checkpoint_key, generate_key, make_checkpoint


def _header(web: FlaskClient, query: str) -> list[str]:
    exported = web.get("/audit/export.csv?" + query)
    assert exported.status_code == 200
    return [c for row in csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))) for c in row]


def test_a_checkpoint_written_into_the_store_is_not_cited_as_signed(
    web: FlaskClient, people: People, signed: dict[str, bytes], tmp_path: Path
) -> None:
    login(web, people, "van_thu")
    register_one(web, signed["valid"])
    logout(web)
    repo = people.kho.repo
    key = tmp_path / "audit.key"
    generate_key(key)
    repo.anchor = Anchor(signing_key=key)
    genuine = make_checkpoint(repo.store, repo.anchor)
    forged = {**genuine, "number": 999, "head": "f" * 64, "seq": genuine["seq"] + 500}
    repo.store.put_if_absent(checkpoint_key(999), json.dumps(forged).encode())
    login(web, people, "kiem_toan")
    flat = _header(web, "action=record:create")
    assert f"Điểm mốc đã ký số {genuine['number']} lúc {genuine['at']}" in flat
    assert not any("f" * 64 in c for c in flat)  # before: "Điểm mốc đã ký số 999", its head cited

    repo.anchor = Anchor()  # no key to check a signature with: nothing is cited as signed
    flat = _header(web, "action=record:create")
    assert not any(c.startswith("Điểm mốc đã ký số") for c in flat)
    assert any("không kiểm tra được chữ ký" in c for c in flat)
