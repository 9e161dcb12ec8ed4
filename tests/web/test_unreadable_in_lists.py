"""A document that cannot be opened (its key garbled) inside a hồ sơ or a worklist: the hồ sơ
and the list stay readable, and the broken document's id reaches nobody through them (r27,
after m5's ``RECORD_UNREADABLE``)."""

from __future__ import annotations

from flask.testing import FlaskClient
from kho_files import file_with_a_secret
from kho_people import People
from kho_testing import incoming

from repository.workflow import Act
from web.app import create_app
from web.context import Kho


def _garble(kho: Kho, record_id: str) -> Kho:
    """Overwrite ``record_id``'s key blob; a fresh installation (a new process: no key cached)."""
    kho.repo.keys.store.put(f"keys/{record_id}", bytes(40))
    return Kho(kho.settings)


def test_a_hồ_sơ_holding_a_document_whose_key_is_garbled_stays_readable_and_names_it_to_nobody(
    kho: Kho, people: People, client: FlaskClient
) -> None:
    """m5 answers a record whose key is garbled 503 ``RECORD_UNREADABLE`` with its id in the
    details. A hồ sơ holding such a document answered the same 503, naming the *document's* id:
    a Thường reader of the hồ sơ got the id of a Mật document above their clearance (the leak
    a5 closed for the hồ sơ's body), and nobody could open the hồ sơ at all. The hồ sơ now
    answers 200 with the documents that can be shown; the broken one is left out, as one the
    reader may not see (and the totals with it), for every reader."""
    file_id, secret_id, plain_id = file_with_a_secret(kho, people)
    fresh = _garble(kho, secret_id)
    try:
        api = create_app(fresh.settings, kho=fresh).test_client()
        for who in ("chuyen_vien", "van_thu"):  # Thường, and cleared for the Mật document
            answer = api.get(f"/api/records/{file_id}", headers=people.headers(who))
            assert answer.status_code == 200, (who, answer.status_code, answer.json)
            assert answer.json["documents"] == [plain_id], who
            assert secret_id not in answer.get_data(as_text=True), who
            history = api.get(f"/api/records/{file_id}/history", headers=people.headers(who))
            assert history.status_code == 200, (who, history.json)
            assert secret_id not in history.get_data(as_text=True), who
        # The broken document itself is still refused clearly, as m5 made it.
        broken = api.get(f"/api/records/{secret_id}", headers=people.headers("van_thu"))
        assert broken.status_code == 503 and broken.json["error"]["code"] == "RECORD_UNREADABLE"
    finally:
        fresh.close()


def test_a_worklist_holding_a_document_whose_key_is_garbled_stays_readable(
    kho: Kho, people: People, client: FlaskClient
) -> None:
    """Two documents submitted to the lãnh đạo for direction, one of them with its key garbled:
    their work answer (``GET /api/work``, the home page's counts) was the broken document's
    503, so one damaged record took the whole worklist from them. The list and the counts now
    hold the document that can be opened; the broken one is refused where it is read."""
    clerk = people.actor("van_thu")
    leader = people.usernames["lanh_dao"]
    ids = []
    for number in ("81", "82"):
        rid = kho.repo.create_document("den", incoming(code_number=number), None, None, clerk).record_id
        kho.handling.take(
            rid, Act.SUBMIT, expected_seq=len(kho.handling.steps(rid)), actor=clerk, users=[leader]
        )
        ids.append(rid)
    broken, sound = ids
    kho.repo.keys.store.put(f"keys/{broken}", bytes(40))
    kho.repo.keys._cache.clear()  # as a new process: no key cached
    answer = client.get("/api/work", headers=people.headers("lanh_dao"))
    assert answer.status_code == 200, answer.json
    assert broken not in answer.get_data(as_text=True)
    assert [r[0] for r in kho.handling.to_direct(people.actor("lanh_dao"))] == [sound]
    assert answer.json["counts"]["to_direct"] == 1
