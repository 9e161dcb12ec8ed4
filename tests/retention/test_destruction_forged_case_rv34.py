"""A destruction case edited in the store is not carried out (review rv34).

A case is a versioned object in the store (``retention/destruction/<id>/v…``), unsealed. A writer
of the store (the threat of rv19/rv20/r22) wrote its next version and a lưu trữ viên's execution
destroyed what it said:

* a decided case with one more expired hồ sơ in its danh mục: destroyed without the council or
  the head ever seeing it;
* a case put back to ``executing`` with any record among its targets (a Vĩnh viễn hồ sơ, a
  loose document): the resumed run shredded them with no check at all.

The head's approval is now also written, per hồ sơ, into the sealed audit log under the hồ sơ's
id (``destruction:approved``: the case, the decision, the documents). Execution, started or
resumed, destroys only what a trusted approval names, and no target outside the danh mục
(``DESTRUCTION_NOT_APPROVED``, nothing destroyed).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kho_people import PASSWORD, People, make_people
from kho_retention import Clock, closed_file, council_ready, kho_env, open_kho, s3_env

from kho.errors import KhoError
from repository import formats
from retention.destruction import Destructions
from web.context import Kho

MASTER = base64.b64encode(bytes(range(32))).decode()


@pytest.fixture(params=["local", "s3"])
def sealed(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[Kho]:
    env = kho_env(tmp_path) if request.param == "local" else s3_env(tmp_path)
    installation = open_kho({**env, "KHO_MASTER_KEY": MASTER}, clock)
    yield installation
    installation.close()


@pytest.fixture
def staff(sealed: Kho) -> People:
    return make_people(sealed)


def _forge(d: Destructions, case: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """What a writer of the store can do: write the case's next version as it likes."""
    body = {k: v for k, v in {**case, **changes}.items() if k != formats.FORMAT_KEY}
    return d.cases.write(case["case_id"], body, expected=case["version"])


def _intact(kho: Kho, record_ids: list[str]) -> None:
    """Nothing of ``record_ids`` destroyed, and the refusal is in the audit log for an auditor."""
    refused = [e for e in kho.repo.audit.events() if e.details.get("code") == "DESTRUCTION_NOT_APPROVED"]
    assert refused and refused[-1].action == "access:denied"
    for record_id in record_ids:
        assert kho.repo.keys.exists(record_id), record_id
        assert kho.repo._load(record_id).state != "destroyed"


def test_a_hồ_sơ_added_to_a_decided_case_in_the_store_is_not_destroyed(sealed: Kho, staff: People) -> None:
    kho, people = sealed, staff
    decided_file, decided_docs = closed_file(kho, people)
    other, other_docs = closed_file(kho, people, notation="02.TCCB", words="khácbímật")
    d, case = council_ready(kho, people, [decided_file.record_id])
    case = d.decide(case["case_id"], "QĐ 09", approve=True, actor=people.actor("lanh_dao"))
    whole = d.cases.latest(case["case_id"])
    added = {**whole["items"][0], "record_id": other.record_id, "documents": other_docs}
    _forge(d, whole, items=[*whole["items"], added])
    with pytest.raises(KhoError) as info:
        d.execute(case["case_id"], PASSWORD, actor=people.actor("luu_tru"))
    assert info.value.code == "DESTRUCTION_NOT_APPROVED" and other.record_id in info.value.message
    _intact(kho, [*decided_docs, decided_file.record_id, *other_docs, other.record_id])
    assert d.cases.latest(case["case_id"])["state"] == "decided"


def test_a_decided_items_documents_edited_in_the_store_are_not_destroyed(sealed: Kho, staff: People) -> None:
    kho, people = sealed, staff
    file, docs = closed_file(kho, people)
    d, case = council_ready(kho, people, [file.record_id])
    case = d.decide(case["case_id"], "QĐ 09", approve=True, actor=people.actor("lanh_dao"))
    whole = d.cases.latest(case["case_id"])
    _forge(d, whole, items=[{**whole["items"][0], "documents": docs[:1]}])  # one taken out of the list
    with pytest.raises(KhoError) as info:
        d.execute(case["case_id"], PASSWORD, actor=people.actor("luu_tru"))
    assert info.value.code == "DESTRUCTION_NOT_APPROVED"
    _intact(kho, [*docs, file.record_id])


def test_a_whole_case_forged_in_the_store_is_not_carried_out(sealed: Kho, staff: People) -> None:
    kho, people = sealed, staff
    file, docs = closed_file(kho, people)
    d, case = council_ready(kho, people, [file.record_id])  # reviewed, never decided
    whole = d.cases.latest(case["case_id"])
    decision = {
        "ref": "QĐ giả",
        "approve": True,
        "by": people.usernames["lanh_dao"],
        "at": whole["created_at"],
    }
    _forge(d, whole, state="decided", decision={**decision, "deadline": "2027-03-10"})
    with pytest.raises(KhoError) as info:
        d.execute(case["case_id"], PASSWORD, actor=people.actor("luu_tru"))
    assert info.value.code == "DESTRUCTION_NOT_APPROVED"
    _intact(kho, [*docs, file.record_id])


def test_a_case_put_back_to_executing_with_other_targets_destroys_none_of_them(
    sealed: Kho, staff: People
) -> None:
    kho, people = sealed, staff
    file, _ = closed_file(kho, people)
    kept, kept_docs = closed_file(kho, people, notation="02.TCCB", maintenance="Vĩnh viễn", words="giữlại")
    d, case = council_ready(kho, people, [file.record_id])
    case = d.decide(case["case_id"], "QĐ 09", approve=True, actor=people.actor("lanh_dao"))
    done = d.execute(case["case_id"], PASSWORD, actor=people.actor("luu_tru"))
    assert done["state"] == "done"
    whole = d.cases.latest(case["case_id"])
    execution = {**whole["execution"], "targets": [*kept_docs, kept.record_id], "finished_at": None}
    _forge(d, whole, state="executing", execution=execution)
    with pytest.raises(KhoError) as info:
        d.execute(case["case_id"], PASSWORD, actor=people.actor("luu_tru"))
    assert info.value.code == "DESTRUCTION_NOT_APPROVED" and kept.record_id in info.value.message
    _intact(kho, [*kept_docs, kept.record_id])


def test_a_genuine_case_is_still_carried_out_and_resumed(sealed: Kho, staff: People) -> None:
    """The guard: the approval events do not stop a decided case, nor its resumption."""
    kho, people = sealed, staff
    file, docs = closed_file(kho, people)
    d, case = council_ready(kho, people, [file.record_id])
    case = d.decide(case["case_id"], "QĐ 09", approve=True, actor=people.actor("lanh_dao"))
    approved = [e for e in kho.repo.audit.record_events(file.record_id) if e.action == "destruction:approved"]
    assert [(e.details["case_id"], e.details["documents"]) for e in approved] == [
        (case["case_id"], sorted(docs))
    ]

    stops: list[str] = []

    def stop(case_id: str, step: str) -> None:
        if step.startswith("destroyed:") and not stops:
            stops.append(step)
            raise KeyboardInterrupt

    d.on_step = stop
    with pytest.raises(KeyboardInterrupt):
        d.execute(case["case_id"], PASSWORD, actor=people.actor("luu_tru"))
    d.on_step = None
    assert d.execute(case["case_id"], PASSWORD, actor=people.actor("luu_tru"))["state"] == "done"
    assert all(not kho.repo.keys.exists(r) for r in [*docs, file.record_id])
