"""A create refused before its commit point (a duplicate) leaves nothing in the store (f2).

A document or hồ sơ is written in flight first (catalog marker, data key, sealed original),
then its duplicate guard is taken. When the guard was held, the write was refused (409
``DUPLICATE_DOCUMENT``) and what it had written stayed until ``kho fsck``: each refused upload
of a file already in the store kept one more sealed copy of the whole file, a marker and a
key; each refused opening of a hồ sơ already opened, a marker and a key. The fuzz of the routes
on real objects found it (``POST /api/plans/<year>/files``: 409, yet a catalog marker more).
"""

from __future__ import annotations

import pytest
from kho_files import new_file
from kho_people import People
from kho_testing import incoming, pdf_bytes

from kho.errors import Duplicate
from repository.fsck import fsck
from web.context import Kho

pytestmark = pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)


def everything(kho: Kho) -> set[tuple[str, int]]:
    """Every object of the store and the key store but the audit log (a refusal is audited)."""
    stored = {(i.key, i.size) for i in kho.repo.store.list("") if not i.key.startswith("audit/")}
    return stored | {(i.key, i.size) for i in kho.repo.keys.store.list("keys/")}


def test_a_refused_duplicate_upload_leaves_no_copy_of_the_file(kho: Kho, people: People) -> None:
    clerk = people.actor("van_thu")
    pdf = pdf_bytes("a" * 20_000)
    kho.repo.create_document("den", incoming(code_number="11"), pdf, "a.pdf", clerk)
    before = everything(kho)
    records = sorted(kho.repo.record_ids())
    for number in ("12", "13", "14"):
        with pytest.raises(Duplicate):
            kho.repo.create_document("den", incoming(code_number=number), pdf, "a.pdf", clerk)
    left = everything(kho) - before
    assert not left, sorted(left)  # main: 3 sealed originals of 20 kB, 3 markers, 3 keys
    assert sorted(kho.repo.record_ids()) == records


def test_a_refused_duplicate_number_leaves_nothing(kho: Kho, people: People) -> None:
    clerk = people.actor("van_thu")
    kho.repo.create_document("den", incoming(code_number="21"), pdf_bytes("one"), "a.pdf", clerk)
    before = everything(kho)
    with pytest.raises(Duplicate):
        kho.repo.create_document("den", incoming(code_number="21"), pdf_bytes("two"), "b.pdf", clerk)
    assert not everything(kho) - before


def test_a_refused_second_opening_of_a_file_leaves_nothing(kho: Kho, people: People) -> None:
    officer = people.actor("chuyen_vien")
    new_file(kho, officer, "02.TH", "Công văn chung", "Phạm Minh Chính")
    before = everything(kho)
    for _ in range(2):
        with pytest.raises(Duplicate):
            new_file(kho, officer, "02.TH", "Công văn chung", "Phạm Minh Chính")
    assert not everything(kho) - before
    assert not [i for i in fsck(kho.repo, grace_seconds=0).issues if i.kind == "uncommitted"]
