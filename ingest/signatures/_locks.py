"""The form fields a signature locks: its FieldMDP reference and its field's ``/Lock``.

ISO 32000-2 12.7.5.5: a signature field's ``/Lock`` dictionary "specifies a set of form
fields that shall be locked when this signature field is signed"; 12.8.2.4: the FieldMDP
transform in the signature dictionary's ``/Reference`` states the same lock in the signed
signature. pyHanko enforces the ``/Reference`` only (its ``fieldmdp`` carries a "fall back to
/Lock" TODO), so a signing tool that writes the ``/Lock`` alone left the signer's lock
unenforced: a locked field filled after signing passed as form filling (rv30).

:class:`LockReadingSignature` answers ``fieldmdp`` with both: a field is locked when the
``/Reference`` or the ``/Lock`` locks it. The ``/Lock`` is read from the field as it was in
the signed revision (what the signer signed), never from a later revision, so an update
after signing can neither drop the lock nor add one to fail a genuine document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.sign.fields import FieldMDPSpec
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

__all__ = ["EitherLock", "LockReadingSignature", "signed_field_lock"]


@dataclass(frozen=True)
class EitherLock:
    """Several statements of one signer's field lock: a field is locked when any locks it
    (pyHanko's difference analysis asks ``is_locked`` only)."""

    specs: tuple[FieldMDPSpec, ...]

    def is_locked(self, field_name: str) -> bool:
        return any(spec.is_locked(field_name) for spec in self.specs)


def signed_field_lock(emb: EmbeddedPdfSignature) -> FieldMDPSpec | None:
    """The ``/Lock`` of ``emb``'s signature field in the revision the signature signs, or
    ``None`` (no lock, no signed revision, the field not an indirect object there, or a lock
    without a readable ``/Action`` and ``/Fields``: a ``/Lock`` may carry only a DocMDP
    ``/P``, which pyHanko reads itself)."""
    field_ref = getattr(emb.sig_field, "container_ref", None)
    if not isinstance(field_ref, generic.Reference):
        return None
    try:
        revision = emb.signed_revision
        signed = emb.reader.get_historical_resolver(revision)(field_ref)
        lock = signed.get("/Lock") if isinstance(signed, generic.DictionaryObject) else None
    except Exception:  # the signature's own checks judge an unreadable signed revision
        return None
    if lock is None:
        return None
    try:
        return FieldMDPSpec.from_pdf_object(lock.get_object())
    except Exception:
        return None


class LockReadingSignature(EmbeddedPdfSignature):
    """pyHanko's embedded signature whose field lock is the FieldMDP ``/Reference`` and the
    signed field's ``/Lock`` together; everything else is pyHanko's."""

    @property
    def fieldmdp(self) -> Any:
        stated = super().fieldmdp
        field_lock = signed_field_lock(self)
        if field_lock is None:
            return stated
        if stated is None:
            return field_lock
        return EitherLock((stated, field_lock))
