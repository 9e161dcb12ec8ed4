"""Official metadata extraction from the text of Vietnamese official documents.

Public API: ``extract_metadata(text) -> ExtractedMetadata``; each field is an
``Extracted(value, confidence, source)``; citations of the "Căn cứ" preamble are ``Citation``.
The rules (dates, số/ký hiệu, type titles, signer names, citations) are in ``rules``.
"""

from .extract import extract_metadata
from .model import Citation, Extracted, ExtractedMetadata
from .rules import (
    detect_type_title,
    find_dates,
    find_so_ky_hieu,
    parse_citations,
    parse_place_date,
    parse_quyen_han,
    parse_vn_date,
    person_name,
    type_from_so_ky_hieu,
)

__all__ = [
    "Citation",
    "Extracted",
    "ExtractedMetadata",
    "detect_type_title",
    "extract_metadata",
    "find_dates",
    "find_so_ky_hieu",
    "parse_citations",
    "parse_place_date",
    "parse_quyen_han",
    "parse_vn_date",
    "person_name",
    "type_from_so_ky_hieu",
]
