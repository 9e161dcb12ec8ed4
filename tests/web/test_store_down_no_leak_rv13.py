"""rv13: the answer to an unreachable store (503 ``STORE_UNAVAILABLE``, u10) shows nothing of
where the store is. Its message and details named the S3 gateway's host and port, the bucket,
the object key (the JSON of the API gave all of it, to a request with a made-up token too): the
gateway is cut for real here (a TCP relay stopped), nothing is patched. The page and the API
keep the code; the API answers JSON; the same session works once the gateway is back."""

from __future__ import annotations

import pytest
from kho_people import make_people
from kho_relay import Relay
from kho_web import login, text

from web.app import create_app
from web.context import Kho

pytestmark = pytest.mark.s3


def test_the_store_down_answer_names_no_endpoint_bucket_key_or_credential(
    relayed_kho: tuple[Kho, dict[str, str]], relay: Relay
) -> None:
    kho, env = relayed_kho
    people = make_people(kho)
    app = create_app(kho.settings, kho=kho)
    web, api = app.test_client(), app.test_client()
    assert login(web, people, "van_thu").status_code == 302
    token = people.tokens["van_thu"]
    secrets = [relay.address, relay.address.split(":")[0], env["KHO_STORE_URL"].removeprefix("s3://"),
               env["KHO_KEYSTORE_URL"].removeprefix("s3://"), env["KHO_S3_ACCESS_KEY"],
               env["KHO_S3_SECRET_KEY"], "accounts/", "tokens/"]
    relay.stop()
    answers = {
        "page": web.get("/"),
        "api": api.get("/api/me", headers={"Authorization": f"Bearer {token}"}),
        "api-bad-token": api.get("/api/me", headers={"Authorization": "Bearer " + "0" * 43}),
    }
    for name, answer in answers.items():
        body = answer.get_data(as_text=True)
        assert answer.status_code == 503, (name, answer.status_code, body)
        assert "STORE_UNAVAILABLE" in body, (name, body)
        leaked = [s for s in secrets if s and s in body]
        assert leaked == [], (name, leaked, body)
    for name in ("api", "api-bad-token"):
        assert answers[name].is_json and answers[name].get_json()["error"]["code"] == "STORE_UNAVAILABLE"
    assert "kho lưu trữ" in text(answers["page"])
    relay.start()  # the store back: the same session goes on
    again = web.get("/")
    assert again.status_code == 200 and people.usernames["van_thu"] in text(again)
