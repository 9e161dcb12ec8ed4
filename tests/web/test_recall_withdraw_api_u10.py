"""u10: ``POST /api/records/{id}/recall/withdraw`` withdraws the document's unfinished recall
(the person who started it or a lãnh đạo), then answers ``RECALL_NOT_OPEN`` (409); a person who
may not withdraw it gets 403 with the stable code. The route and its codes are in the spec."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from kho_people import People
from kho_testing import outgoing, pdf_bytes

from kho.errors import StoreUnavailable
from web.context import Kho


def _store_down(*args: Any, **kwargs: Any) -> Any:
    raise StoreUnavailable("Kho lưu trữ tạm thời không phản hồi.")


def test_withdraw_an_unfinished_recall_through_the_api(
    client: FlaskClient, kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = kho.repo.create_document(
        "di", outgoing(subject="Quyết định 22"), pdf_bytes("u10api"), "qd.pdf", people.actor("van_thu")
    )
    path = f"/api/records/{doc.record_id}/recall"
    order = {"order_ref": "Công văn số 22/UBND-VP", "reason": "Ban hành sai thẩm quyền"}
    place = kho.repo.place_hold
    monkeypatch.setattr(kho.repo, "place_hold", _store_down)
    stopped = client.post(path, json=order, headers=people.headers("van_thu"))
    assert stopped.status_code == 503, stopped.get_data(as_text=True)
    monkeypatch.setattr(kho.repo, "place_hold", place)

    why = {"reason": "Ghi nhầm căn cứ"}
    refused = client.post(f"{path}/withdraw", json=why, headers=people.headers("chuyen_vien"))
    assert refused.status_code == 403, refused.get_data(as_text=True)
    withdrawn = client.post(f"{path}/withdraw", json=why, headers=people.headers("lanh_dao"))
    assert withdrawn.status_code == 200, withdrawn.get_data(as_text=True)
    assert withdrawn.json["state"] == "withdrawn"
    assert withdrawn.json["withdrawn"]["reason"] == "Ghi nhầm căn cứ"
    again = client.post(f"{path}/withdraw", json=why, headers=people.headers("lanh_dao"))
    assert again.status_code == 409 and again.json["error"]["code"] == "RECALL_NOT_OPEN"
    assert "không có lệnh thu hồi" in again.json["error"]["message"]
    other = {"order_ref": "Quyết định số 102/QĐ-UBND", "reason": "Ban hành sai thẩm quyền"}
    replaced = client.post(path, json=other, headers=people.headers("van_thu"))
    assert replaced.status_code == 200 and replaced.json["state"] == "frozen", replaced.get_data(as_text=True)


def test_kho_archive_recall_withdraw(kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same through ``kho archive recall-withdraw``: the starter withdraws (exit 0, JSON
    state ``withdrawn``), again is ``RECALL_NOT_OPEN`` with exit 2."""
    from click.testing import CliRunner
    from kho_people import PASSWORD

    from retention.recall import Recalls
    from web.cli import main

    doc = kho.repo.create_document(
        "di", outgoing(subject="Quyết định 23"), pdf_bytes("u10cli"), "qd.pdf", people.actor("van_thu")
    )
    place = kho.repo.place_hold
    monkeypatch.setattr(kho.repo, "place_hold", _store_down)
    with pytest.raises(StoreUnavailable):
        Recalls(kho.repo).recall_outgoing(
            doc.record_id, "Công văn số 23/UBND-VP", "Sai", actor=people.actor("van_thu")
        )
    monkeypatch.setattr(kho.repo, "place_hold", place)  # not undo(): the env fixture's too
    runner = CliRunner()
    logged = runner.invoke(
        main, ["login", people.usernames["van_thu"], "--password-stdin"], input=PASSWORD + "\n"
    )
    assert logged.exit_code == 0, logged.output
    args = ["archive", "recall-withdraw", doc.record_id, "--reason", "Ghi nhầm", "--json"]
    done = runner.invoke(main, args)
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["state"] == "withdrawn"
    again = runner.invoke(main, args)  # --json: the refusal as JSON, with its code
    assert again.exit_code == 2, again.output
    assert json.loads(again.output)["error"]["code"] == "RECALL_NOT_OPEN"
