"""A document's handling names its answer only to who may see the answer (rv29).

A chuyên viên handles an incoming document and attaches the văn bản đi that answers it; the văn
thư then raises that answer to Mật. The handling of the incoming document (``HandlingService.state``:
the handling page, ``GET /api/handling/<id>``) still gave every reader of it the answer's record
id and its số, ký hiệu (``answers``, and the step's ``ref``/``ref_label``): the number of a Mật
document, to a Thường reader. A reference the reader may not see is now shown unnamed; the
reader cleared for it keeps it.
"""

from __future__ import annotations

from flask.testing import FlaskClient
from kho_directed import directed
from kho_people import People
from kho_testing import outgoing

from repository.workflow import Act
from web.context import Kho


def test_an_answer_the_reader_may_not_see_is_not_named(kho: Kho, people: People, client: FlaskClient) -> None:
    h = kho.handling
    clerk, handler = people.actor("van_thu"), people.actor("chuyen_vien")
    doc_id = directed(kho, people, "5601", days=3)
    answer = kho.repo.create_document("di", outgoing(subject="Trả lời về phương án"), None, None, clerk)
    label = answer.so_ky_hieu
    assert label
    h.take(doc_id, Act.ANSWER, expected_seq=2, actor=handler, task="1", ref=answer.record_id)
    _, before = h.state(doc_id, actor=handler)
    assert before.answers == ((answer.record_id, label),)

    current = kho.repo.get(answer.record_id, actor=clerk)
    kho.repo.update_metadata(answer.record_id, {"secrecy": 2}, expected_version=current.version, actor=clerk)
    assert not kho.repo.may_see(handler, kho.repo.get(answer.record_id, actor=clerk))

    _, shown = h.state(doc_id, actor=handler)
    assert answer.record_id not in repr(shown) and label not in repr(shown), shown
    assert len(shown.answers) == 1  # an answer is there; which one is not told
    api = client.get(f"/api/handling/{doc_id}", headers=people.headers("chuyen_vien"))
    assert api.status_code == 200
    assert answer.record_id not in api.get_data(as_text=True) and label not in api.get_data(as_text=True)

    # The văn thư, cleared for it, still gets it.
    _, whole = h.state(doc_id, actor=clerk)
    assert whole.answers == ((answer.record_id, label),)
