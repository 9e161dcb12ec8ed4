"""A guard's stored format (``claim``) names its version, as every stored kind does (m8).

m7 added ``decision`` to destruction claims without a new format version (r29 left it open):
a Kho that knew only version 2 read a claim carrying a field it did not know as its own. Claims
are now format 3 (``decision``, None on other guards); version 1 and 2 claims read with
``decision`` None (or the one an m7 claim carried), and a newer one is refused with a code."""

from __future__ import annotations

import json

import pytest

from kho.timeutil import utcnow
from repository import formats
from repository.formats import FormatUnsupported
from repository.records import claim_body

RID = "0190a1b2c3d4e5f6a7b8c9d0"


def test_a_claim_is_written_in_format_3_naming_its_decision() -> None:
    stored = json.loads(claim_body(RID, utcnow(), decision="QĐ 12/QĐ-UBND"))
    assert stored[formats.FORMAT_KEY] == 3 == formats.CLAIM.current
    assert stored["decision"] == "QĐ 12/QĐ-UBND"
    guard = json.loads(claim_body(RID, utcnow()))  # a duplicate guard belongs to no destruction
    assert (guard[formats.FORMAT_KEY], guard["decision"]) == (3, None)


@pytest.mark.parametrize(
    ("older", "decision"),
    [
        ({"record_id": RID}, None),  # version 0: no format key at all
        ({formats.FORMAT_KEY: 1, "record_id": RID, "at": "2026-01-02T03:04:05Z"}, None),
        ({formats.FORMAT_KEY: 2, "record_id": RID, "host": "h/b", "pid": 7}, None),
        ({formats.FORMAT_KEY: 2, "record_id": RID, "host": "h/b", "pid": 7, "decision": "QĐ 1"}, "QĐ 1"),
    ],
)
def test_older_claims_read_with_their_decision_or_none(
    older: dict[str, object], decision: str | None
) -> None:
    holder = formats.loads(formats.CLAIM.name, json.dumps(older))
    assert holder[formats.FORMAT_KEY] == 3
    assert holder["record_id"] == RID and holder["decision"] == decision


def test_a_claim_of_a_newer_format_is_refused_with_a_code() -> None:
    newer = {formats.FORMAT_KEY: 4, "record_id": RID, "decision": "QĐ 1", "by": "x"}
    with pytest.raises(FormatUnsupported) as refused:
        formats.loads(formats.CLAIM.name, json.dumps(newer))
    assert refused.value.code == "FORMAT_UNSUPPORTED"
    assert "phiên bản 4" in refused.value.message
