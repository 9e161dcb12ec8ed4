"""The duplicate detector feeding eligibility's ``duplicate_of``: pure over facts, and the scan
of a real store."""

from __future__ import annotations

from datetime import date, timedelta

from kho_people import People
from kho_retention import Clock, closed_file
from kho_testing import incoming, pdf_bytes

from retention.duplicates import DocumentFacts, find_duplicates, scan, with_duplicates
from retention.eligibility import Reason, RetentionFacts, assess
from web.context import Kho

DAY = date(2026, 3, 2)


def doc(rid: str, at: str, sha: str = "", number: str | None = "12", notation: str = "UBND-VP", **kw: object):
    return DocumentFacts(
        rid,
        f"2026-03-{at}T01:00:00Z",
        (sha,) if sha else (),
        number,
        notation,
        kw.get("issuer", "000.00.18.H40"),  # type: ignore[arg-type]
        kw.get("issued", DAY),  # type: ignore[arg-type]
    )


def test_same_original_or_same_number_issuer_and_date_is_a_duplicate_of_the_first() -> None:
    found = find_duplicates(
        [
            doc("b", "05", sha="x", number="012", notation="ubnd-vp "),  # same identity, later
            doc("a", "04", sha="y"),
            doc("c", "06", sha="x", number="99"),  # same bytes as b, so a copy of a
            doc("d", "07", number="12", issued=date(2026, 3, 3)),  # another date: another document
            doc("e", "08", number="12", issuer="000.00.19.H40"),  # another issuer
            doc("f", "09", number=None),  # no number: identity unknown, nothing shared
        ]
    )
    assert found == {"b": "a", "c": "a"}


def test_a_duplicate_is_listed_for_review_even_when_kept_permanently_the_first_is_not() -> None:
    dups = find_duplicates([doc("a", "04", sha="y"), doc("b", "05", sha="y")])
    today = date(2027, 1, 1)
    copy = with_duplicates(RetentionFacts("b", "Vĩnh viễn", DAY), dups)
    kept = with_duplicates(RetentionFacts("a", "Vĩnh viễn", DAY), dups)
    assert copy.duplicate_of == "a" and assess(copy, today).reason is Reason.DUPLICATE
    assert kept.duplicate_of is None and not assess(kept, today).eligible
    held = with_duplicates(RetentionFacts("b", "Vĩnh viễn", DAY, on_hold=True), dups)
    assert assess(held, today).code == "LEGAL_HOLD"


def test_a_document_registered_twice_in_the_store_is_found_and_listed_as_a_duplicate(
    kho: Kho, people: People, clock: Clock
) -> None:
    _, distinct = closed_file(kho, people, docs=2)
    assert scan(kho.repo) == {}, "distinct registrations are no duplicates"
    clerk = people.actor("van_thu")
    first = kho.repo.create_document("den", incoming(code_number="55"), pdf_bytes("a"), "a.pdf", clerk)
    clock.now = clock.now + timedelta(hours=1)
    again = kho.repo.create_document(
        "den",
        incoming(code_number="55"),
        pdf_bytes("b"),
        "b.pdf",
        clerk,
        duplicate_reason="Bộ Nội vụ gửi lại bản quét khác",
    )
    found = scan(kho.repo)
    assert found == {again.record_id: first.record_id}
    today = clock().date()
    facts = with_duplicates(RetentionFacts(again.record_id, "Vĩnh viễn", today), found)
    assert assess(facts, today).reason is Reason.DUPLICATE
    assert not assess(
        with_duplicates(RetentionFacts(first.record_id, "Vĩnh viễn", today), found), today
    ).eligible
    assert distinct[0] not in found
