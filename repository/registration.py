"""Registration rules (NĐ 30 Điều 15, 22; Phụ lục I, IV, VI), as pure functions.

Every way a document gets its số đến / số đi — ``kho record create``, the API, an ingested
document confirmed by a văn thư — goes through :func:`plan_registration`, so default dates,
the agency's own code, the number series and the duplicate guard are decided in one place.
:func:`signature_gate` decides whether a document may be registered given its signature verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from repository.metadata import DocumentMetadata
from repository.registers import series_for
from repository.vocabulary import Direction


@dataclass(frozen=True)
class RegistrationPlan:
    metadata: DocumentMetadata
    """The metadata as it will be stored (dates and agency code filled in)."""
    registration_date: date
    """Ngày đến (incoming) or ngày ban hành (outgoing): its year is the register's year."""
    series: str | None
    """The number series, or None when the document is only stored, not registered."""
    duplicate_year: int
    """The year of the (số, ký hiệu, cơ quan, năm) duplicate guard."""

    @property
    def year(self) -> int:
        return self.registration_date.year


def plan_registration(
    metadata: DocumentMetadata,
    *,
    today: date,
    agency_id: str,
    agency_name: str,
    register: bool = True,
    advisory_body: str | None = None,
) -> RegistrationPlan:
    """Fill what the văn thư may leave out and choose the number series.

    * incoming: ngày đến defaults to today (Vietnam time);
    * outgoing: ngày ban hành defaults to today; the agency's own name gets its mã định danh;
    * the register year is the year of that date; the series comes from :func:`series_for`.
    """
    md = metadata
    if md.direction is Direction.DEN and md.arrival_date is None:
        md = replace(md, arrival_date=today)
    if md.direction is Direction.DI and md.issued_date is None:
        md = replace(md, issued_date=today)
    if md.direction is Direction.DI and md.organ_id is None and md.organ_name == agency_name:
        md = replace(md, organ_id=agency_id)
    day = md.arrival_date if md.direction is Direction.DEN else md.issued_date
    assert day is not None
    return RegistrationPlan(
        metadata=md,
        registration_date=day,
        series=series_for(md, advisory_body) if register else None,
        duplicate_year=md.issued_date.year if md.issued_date else day.year,
    )


# Signature verdicts (ETSI EN 319 102-1 main indications, as ingest stores them).
PASSED = "TOTAL-PASSED"
FAILED = "TOTAL-FAILED"
INDETERMINATE = "INDETERMINATE"


@dataclass(frozen=True)
class GateDecision:
    allowed: bool
    override: bool = False
    """True when the document goes in only because a person overrode a FAILED verdict."""
    code: str = ""
    message: str = ""


def signature_gate(
    verdict: str | None, override_reason: str | None, reason_detail: str = "", *, checkable: bool = False
) -> GateDecision:
    """A document whose signature check FAILED is registered only with an explicit override
    and its reason (audited by the caller). INDETERMINATE and unsigned documents pass, their
    reason shown to the văn thư beforehand.

    ``checkable``: the document's original is a PDF, whose signatures ingest verifies. Without a
    verdict it was not checked yet (its job still queued, or the worker died mid-task): refused
    (``SIGNATURES_NOT_CHECKED``), override or not, since nobody can override what nobody saw."""
    if verdict is None and checkable:
        return GateDecision(
            False,
            code="SIGNATURES_NOT_CHECKED",
            message=(
                "Chữ ký số của văn bản chưa được kiểm tra xong, nên chưa vào sổ được. Hãy chờ"
                " việc tiếp nhận hoàn tất (hoặc chạy lại: kho ingest retry) rồi vào sổ."
            ),
        )
    if verdict != FAILED:
        return GateDecision(True)
    if override_reason and override_reason.strip():
        return GateDecision(True, override=True)
    detail = f" ({reason_detail})" if reason_detail else ""
    return GateDecision(
        False,
        code="SIGNATURE_FAILED",
        message=(
            f"Chữ ký số của văn bản KHÔNG HỢP LỆ{detail}. Hãy trả lại văn bản, hoặc nếu vẫn vào sổ"
            " thì phải ghi rõ lý do (được ghi vào nhật ký kiểm toán)."
        ),
    )
