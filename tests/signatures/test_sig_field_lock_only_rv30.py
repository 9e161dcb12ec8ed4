"""A signer's field lock stated only in the field's ``/Lock`` is enforced (rv30).

ISO 32000-2 12.7.5.5: a signature field's ``/Lock`` "specifies a set of form fields that
shall be locked when this signature field is signed"; 12.8.2.4: the FieldMDP transform in the
signature dictionary states the same lock. pyHanko reads the FieldMDP ``/Reference`` only, so a
signing tool that wrote the ``/Lock`` alone left the lock unenforced: filling a locked field
after signing passed "Hợp lệ" as form filling. Now the ``/Lock`` of the field *as signed*
weighs like the ``/Reference`` (rv25: a broken lock is TOTAL-FAILED, as a DocMDP breach);
removing the lock in the same update does not help, and a lock added after signing is not
the signer's.

Real pyHanko signing with the test PKI over a real unsigned corpus PDF (read where it lies);
the signing session is driven step by step to write a ``/Lock`` without a ``/Reference``, as
such a tool does. Fast and stock readers.
"""

from __future__ import annotations

import asyncio
from io import BytesIO
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

from ingest.signatures import Indication, TrustStore
from ingest.testpki import FIXTURE_TIME, TestPKI, timestamper
from tests.signatures.test_sig_field_lock_rv25 import (
    READERS,
    UNSIGNED,
    _fill,
    _verify,
    _with_text_fields,
)

N = generic.NameObject


def _lock(action: str, *names: str) -> generic.DictionaryObject:
    lock = generic.DictionaryObject({N("/Type"): N("/SigFieldLock"), N("/Action"): N(action)})
    if names:
        lock[N("/Fields")] = generic.ArrayObject([generic.TextStringObject(n) for n in names])
    return lock


async def _sign_with_lock_only(data: bytes, pki: TestPKI, lock: generic.DictionaryObject) -> bytes:
    """An approval signature in a new field whose ``/Lock`` is ``lock``, with no FieldMDP
    ``/Reference`` in the signature dictionary (pyHanko's locking rules run before the lock is
    put on the field)."""
    writer = IncrementalPdfFileWriter(BytesIO(data), strict=False)
    meta = signers.PdfSignatureMetadata(field_name="Sig1", subfilter=fields.SigSeedSubFilter.PADES)
    signer = signers.PdfSigner(
        meta, pki.personal.pyhanko_signer(), timestamper=timestamper(pki, FIXTURE_TIME)
    )
    session = signer.init_signing_session(writer)
    info = await session.perform_presign_validation(writer)
    reserved = await session.estimate_signature_container_size(info, tight=False)
    tbs = session.prepare_tbs_document(validation_info=info, bytes_reserved=reserved)
    session.sig_field[N("/Lock")] = lock
    digest, output = tbs.digest_tbs_document(output=BytesIO())
    signed = await tbs.perform_signature(
        document_digest=digest.document_digest,
        pdf_cms_signed_attrs=PdfCMSSignedAttributes(signing_time=session.system_time),
    )
    await signed.post_signature_processing(output)
    return output.getvalue()


def _signed(data: bytes, pki: TestPKI, lock: generic.DictionaryObject) -> bytes:
    signed = asyncio.run(_sign_with_lock_only(data, pki, lock))
    field = _field(signed, "Sig1")
    assert field["/Lock"]["/Action"] == lock["/Action"]  # the lock is there...
    assert "/Reference" not in field["/V"]  # ...and stated nowhere else
    return signed


def _field(data: bytes, name: str) -> generic.DictionaryObject:
    reader = PdfFileReader(BytesIO(data), strict=False)
    for ref in reader.root["/AcroForm"]["/Fields"]:
        if ref.get_object().get("/T") == name:
            return ref.get_object()
    raise AssertionError(f"no field {name}")


def _set_lock(data: bytes, lock: generic.DictionaryObject | None) -> bytes:
    """An update after signing that puts ``lock`` on (or, ``None``, takes the lock off) the
    signature field Sig1."""
    writer = IncrementalPdfFileWriter(BytesIO(data), strict=False)
    for ref in writer.root["/AcroForm"]["/Fields"]:
        field = ref.get_object()
        if field.get("/T") == "Sig1":
            if lock is None:
                del field["/Lock"]
            else:
                field[N("/Lock")] = lock
            writer.mark_update(ref)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def form(corpus_pdf_dir: Path) -> bytes:
    return _with_text_fields((corpus_pdf_dir / UNSIGNED).read_bytes())


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(
    ("lock", "field"),
    [
        (_lock("/Include", "SoVanBan"), "SoVanBan"),
        (_lock("/All"), "GhiChu"),
        (_lock("/Exclude", "GhiChu"), "SoVanBan"),
    ],
    ids=["include", "all", "exclude"],
)
def test_filling_a_field_locked_only_by_the_lock_dictionary_fails(
    form: bytes,
    pki: TestPKI,
    pki_trust: TrustStore,
    lock: generic.DictionaryObject,
    field: str,
    reader: str,
) -> None:
    forged = _fill(_signed(form, pki, lock), field, "99/QD-GIAMAO")

    result = _verify(forged, pki_trust, reader)

    assert (result.verdict.indication, result.verdict.sub_indication) == (
        Indication.TOTAL_FAILED,
        "FORMAT_FAILURE",
    )
    assert f"Trường biểu mẫu {field} đã bị khóa" in result.verdict.explanation
    assert result.signatures[0].modifications_permitted is False


@pytest.mark.parametrize("reader", READERS)
def test_taking_the_lock_off_after_signing_does_not_pass(
    form: bytes, pki: TestPKI, pki_trust: TrustStore, reader: str
) -> None:
    """An update that drops the lock, then one filling the field. (Held on main: pyHanko
    refuses any change to the signed signature field first; the lock is read as signed.)"""
    unlocked = _set_lock(_signed(form, pki, _lock("/Include", "SoVanBan")), None)
    forged = _fill(unlocked, "SoVanBan", "99/QD-GIAMAO")

    result = _verify(forged, pki_trust, reader)

    assert result.verdict.indication is not Indication.TOTAL_PASSED
    assert not result.summary.startswith("Hợp lệ")


@pytest.mark.parametrize("reader", READERS)
def test_filling_a_field_the_lock_dictionary_leaves_open_still_passes(
    form: bytes, pki: TestPKI, pki_trust: TrustStore, reader: str
) -> None:
    filled = _fill(_signed(form, pki, _lock("/Include", "SoVanBan")), "GhiChu", "Da xem")

    result = _verify(filled, pki_trust, reader)

    assert result.verdict.indication is Indication.TOTAL_PASSED
    assert result.signatures[0].modification_level == "FORM_FILLING"


@pytest.mark.parametrize("reader", READERS)
def test_a_lock_added_after_signing_is_not_the_signers(
    form: bytes, pki: TestPKI, pki_trust: TrustStore, reader: str
) -> None:
    """A lock the signer did not sign cannot turn ordinary form filling into a failure (an
    attacker could otherwise fail a genuine document)."""
    meta = signers.PdfSignatureMetadata(field_name="Sig1", subfilter=fields.SigSeedSubFilter.PADES)
    signer = signers.PdfSigner(
        meta, pki.personal.pyhanko_signer(), timestamper=timestamper(pki, FIXTURE_TIME)
    )
    out = BytesIO()
    asyncio.run(signer.async_sign_pdf(IncrementalPdfFileWriter(BytesIO(form), strict=False), output=out))
    relocked = _set_lock(out.getvalue(), _lock("/All"))
    filled = _fill(relocked, "GhiChu", "Da xem")

    result = _verify(filled, pki_trust, reader)

    assert result.verdict.indication is not Indication.TOTAL_FAILED
    assert "đã bị khóa" not in result.verdict.explanation
