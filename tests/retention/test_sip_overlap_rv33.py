"""rv33 (rv27's open item): partial overlap between packages. Package B (another hồ sơ, another
METS OBJID) holds one document of package A, accepted before, beside a new one. On main it is
accepted: the one document is taken in twice, silently (rv27 claimed a package's documents as
one set only). Now it is refused ``SIP_OVERLAP``, naming the shared file and the import that
brought it; nothing of B is stored and nothing of A changes. On the local folder and on S3.

Real services, real validator, real pyHanko."""

from __future__ import annotations

from pathlib import Path

import pytest
from kho_people import People
from kho_sip import good_package, refused, replace_document, zipped

from web.context import Kho

FIRST = "representations/rep1/data/001_cv0.pdf"


def _stored(kho: Kho, prefix: str) -> dict[str, bytes]:
    return {i.key: kho.repo.store.get(i.key) for i in kho.repo.store.list(prefix)}


@pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)
def test_a_package_holding_documents_of_an_accepted_one_beside_new_ones_is_refused(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    a_root = good_package(kho, people, tmp_path / "a", docs=2)
    a = kho.import_package(zipped(a_root, tmp_path / "a.zip"), actor=people.actor("luu_tru"))
    b_root = good_package(kho, people, tmp_path / "b", docs=2, notation="02.VP")
    replace_document(b_root, FIRST, (a_root / FIRST).read_bytes())  # one of A's, one new
    before = _stored(kho, "retention/")
    events = len(list(kho.repo.audit.events()))

    error = refused(kho, people, zipped(b_root, tmp_path / "b.zip"))

    assert error.code == "SIP_OVERLAP"
    assert error.details["earlier_import"] == a["import_id"] and a["import_id"] in error.message
    assert error.details["overlap_total"] == 1
    assert error.details["overlap"] == [
        {
            "file": FIRST,
            "earlier_import": a["import_id"],
            "earlier_object_id": a["object_id"],
            "earlier_at": error.details["earlier_at"],
        }
    ]
    assert _stored(kho, "retention/") == before  # nothing of B stored, nothing of A changed
    added = list(kho.repo.audit.events())[events:]
    assert [e.action for e in added] == ["transfer:import-rejected"]
    assert added[0].details["earlier_import"] == a["import_id"]
