"""The seals the tests of "which agency a seal names" share (a10, r31, r33), and a văn bản đến
typed as sent by a given cơ quan ban hành. The certificate fields of ``UBND_QUANG_NGAI`` are the
real ones of ``/work/shared/corpora/pdf`` (vn-quangngai__*, MANIFEST.tsv)."""

from __future__ import annotations

from typing import Any

from kho_testing import incoming

from repository.metadata import parse_document
from repository.registration import SealAgency
from repository.vocabulary import Direction

SO_TAI_CHINH = SealAgency(cn="Sở Tài chính", o="UBND tỉnh Thử Nghiệm")
BO_TU_PHAP = SealAgency(cn="Bộ Tư pháp", o="Bộ Tư pháp")
UBND_QUANG_NGAI = SealAgency(cn="Ủy ban nhân dân tỉnh Quảng Ngãi", o="Tỉnh Quảng Ngãi")


def typed(organ: str) -> Any:
    """A văn bản đến whose cơ quan ban hành is typed as ``organ``."""
    return parse_document(incoming(organ_name=organ, issued_date="2026-03-05"), Direction.DEN)
