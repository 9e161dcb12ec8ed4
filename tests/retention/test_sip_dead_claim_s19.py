"""s19: the contents claim of an accepted package (``retention/sip-contents/<digest>``: the
package that first brought these documents) met, on S3 claims mode, a claim left by a writer
killed on another machine: ``owner(taken=True)`` read the ``NotFound`` as "no owner" and the
package was accepted with its claim never written, so a later package of the same documents
under another OBJID was accepted too (once the dead claim was stale it took the key over). Now
the import is refused ``CLAIM_PENDING`` until the claim is stale; then it takes the key over,
and the later package is refused ``SIP_REPLAYED``. Real Ceph S3."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from kho_claims import plant_dead_claim
from kho_testing import make_store

from kho.errors import Conflict, KhoError
from retention.sip_replay import CONTENTS, PackageImports, documents_digest

FILES = {
    "METS.xml": "a" * 64,
    "representations/rep1/data/001_cv0.pdf": "b" * 64,
    "representations/rep1/data/002_cv1.pdf": "c" * 64,
}


@pytest.mark.s3
def test_a_package_whose_contents_claim_is_dead_is_refused_then_owns_it_once_stale(tmp_path: Path) -> None:
    store = make_store("s3", tmp_path, "s19sip")
    imports = PackageImports(store)
    at = datetime(2026, 12, 6, tzinfo=UTC)
    digest = documents_digest(FILES)
    assert digest is not None
    plant_dead_claim(store, f"{CONTENTS}{digest}")

    with pytest.raises(Conflict) as refused:
        imports.accept("OBJ-1", FILES, package="goi1.zip", by="luutru.hoang", at=at)
    assert refused.value.code == "CLAIM_PENDING" and "thử lại sau ít phút" in str(refused.value)
    assert imports.latest("OBJ-1") is None  # not accepted

    store.claim_timeout_s = 0.0  # type: ignore[attr-defined]
    accepted = imports.accept("OBJ-1", FILES, package="goi1.zip", by="luutru.hoang", at=at)
    assert imports.owner(digest)["import_id"] == accepted["import_id"]  # type: ignore[index]
    with pytest.raises(KhoError) as replay:
        imports.accept("OBJ-2", FILES, package="goi2.zip", by="luutru.hoang", at=at)
    assert replay.value.code == "SIP_REPLAYED"
