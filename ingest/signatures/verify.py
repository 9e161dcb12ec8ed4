"""Verify every signature in a PDF with pyHanko and turn the result into a verdict.

Offline by default: certificates, OCSP responses and CRLs embedded in the PDF (the DSS and
the signatures' own revocation archives) are used; nothing is fetched unless
``allow_fetching=True``. The CRLs an agency loaded into the trust list (``kho trust add-crl``)
are looked up after pyHanko for every signature (:meth:`TrustStore.revocation`,
:func:`rules.listed_revocation_problem`). One reader is shared by all signatures (its object, historical-view
and reference-path-map caches serve every signature), see :mod:`ingest.signatures._reader`.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from io import BytesIO
from typing import TYPE_CHECKING, Any

from asn1crypto import crl, ocsp, x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESFailure
from pyhanko.sign.diff_analysis import (
    DEFAULT_DIFF_POLICY,
    DiffResult,
    MetadataUpdateRule,
    ModificationLevel,
    StandardDiffPolicy,
    SuspiciousModification,
)
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation import (
    DocumentSecurityStore,
    EmbeddedPdfSignature,
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
)
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko_certvalidator import ValidationContext

from ingest.signatures import _asn1, _certs, _fastpath, _paths, _pool, _sigcheck, _structure, rules
from ingest.signatures._annotations import (
    AnnotationRule,
    CommentFreeingPolicy,
    FieldLockBreached,
    adds_annotations,
    need_appearances_turned_on,
    pictures_added,
    replaced_appearances,
    unsigned_signature_appearances,
)
from ingest.signatures._digests import PrefixDigests, SharedDigestSignature
from ingest.signatures._locks import LockReadingSignature
from ingest.signatures._reader import CachingPdfReader
from ingest.signatures.model import (
    CertificateInfo,
    Indication,
    PdfVerification,
    SignatureReport,
    SignatureType,
    SignerKind,
    TimestampInfo,
)
from ingest.signatures.trust import TrustStore
from kho.timelimit import raise_lost_limit

if TYPE_CHECKING:
    # imported where a document is rendered (content after a signed revision): its module and
    # data classes are ~3 ms of every kho verify process that never renders
    from ingest.signatures import _viewer

logger = logging.getLogger(__name__)
_MEMORY_ADDRESS = re.compile(r" object at 0x[0-9a-fA-F]+")

_SIG_SUBFILTERS = frozenset({"/adbe.pkcs7.detached", "/ETSI.CAdES.detached", "/PBAD.PAdES"})
_TS_SUBFILTERS = frozenset({"/ETSI.RFC3161"})
# SHA-1 is judged by the verdict rules (INDETERMINATE/CRYPTO_CONSTRAINTS_FAILURE) after the
# chain is evaluated, so pyHanko must not stop at it; MD2/MD5 stay forbidden outright.
_PYHANKO_WEAK_HASHES = frozenset({"md2", "md5"})
# Certificate problems that a trusted signature timestamp inside the validity period resolves.
_TIME_PROBLEMS = frozenset(
    {"EXPIRED", "OUT_OF_BOUNDS_NO_POE", "OUT_OF_BOUNDS_NOT_REVOKED", "REVOCATION_OUT_OF_BOUNDS_NO_POE"}
)
# pyHanko's default difference analysis, except that an XMP metadata stream (never rendered)
# that is not well-formed XML is no reason to call a document changed after signing: the
# metadata rule still accepts only an update of the catalog's /Metadata stream. A real
# ministry PDF whose signed revision carries an empty metadata stream was a false alarm.
# Annotation-only revisions are classified as ModificationLevel.ANNOTATIONS (pyHanko has no
# rule for them; see :mod:`._annotations`), which DocMDP P=3 and approval signatures permit;
# a revision may free objects only when they were comments (a deleted comment, DSS's
# annotation deletion), anything else freed stays refused as in pyHanko's policy.
_DIFF_POLICY = CommentFreeingPolicy(
    global_rules=[
        *(
            MetadataUpdateRule(check_xml_syntax=False).as_qualified(ModificationLevel.LTA_UPDATES)
            if isinstance(getattr(rule, "rule", None), MetadataUpdateRule)
            else rule
            for rule in DEFAULT_DIFF_POLICY.global_rules
        ),
        AnnotationRule().as_qualified(ModificationLevel.ANNOTATIONS),
    ],
    form_rule=DEFAULT_DIFF_POLICY.form_rule,
)
# The policy in use: Kho's, or pyHanko's own (``upstream_diff=True``) when the evaluation
# compares Kho's verdicts with what stock pyHanko alone concludes.
_diff_policy: ContextVar[StandardDiffPolicy] = ContextVar("diff_policy", default=_DIFF_POLICY)
_QC_STATEMENTS_OID = "1.3.6.1.5.5.7.1.3"
_QC_TYPE_DER = {
    rules.QC_TYPE_ESIGN: bytes.fromhex("060704008e46010601"),
    rules.QC_TYPE_ESEAL: bytes.fromhex("060704008e46010602"),
}


class _Unreadable(Exception):
    def __init__(self, reason: str, *, is_pdf: bool = True, encrypted: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.is_pdf = is_pdf
        self.encrypted = encrypted


@dataclass(frozen=True)
class _Knowledge:
    """Validation material embedded in the document (DSS)."""

    certs: tuple[x509.Certificate, ...] = ()
    ocsps: tuple[ocsp.OCSPResponse, ...] = ()
    crls: tuple[crl.CertificateList, ...] = ()

    @property
    def has_revocation_data(self) -> bool:
        return bool(self.ocsps or self.crls)


def verify_pdf(
    data: bytes,
    trust: TrustStore,
    *,
    allow_fetching: bool = False,
    now: datetime | None = None,
    pool: _pool.VerifierPool | _pool.ForkVerifier | None = None,
    policy: rules.CryptoPolicy = rules.SAFE_CRYPTO,
) -> PdfVerification:
    """Verify every signature in ``data`` in the shared worker pool (see :mod:`._pool`), or
    in ``pool``. Never raises for bad input: a broken, hostile or too slow file gets a verdict."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    try:
        status, payload = (pool or _pool.shared_pool()).verify(
            data, trust.der, trust.source, allow_fetching, moment, policy, crls=trust.crl_der,
            material=trust.worker_material,
        )
    except Exception as exc:  # the pool itself failed: still a verdict, never a crash
        logger.warning("signature worker pool failed", exc_info=exc)
        status, payload = "error", _short(exc)
    raise_lost_limit()  # a soft time limit a finalizer swallowed while we waited: not a verdict
    if status == "ok":
        return PdfVerification.from_dict(payload)
    reason = _pool.verdict_for_problem(status, payload)
    verdict = rules.unverifiable_file_verdict(reason)
    nd30 = rules.nd30_check([])
    return PdfVerification(
        verdict=verdict,
        signatures=(),
        nd30=nd30,
        summary=rules.summary_text(verdict, 0, nd30),
        return_reason=rules.return_reason(verdict),
        sha256=hashlib.sha256(data).hexdigest(),
        validated_at=_iso(moment) or "",
        trust_store=trust.fingerprint,
        offline=not allow_fetching,
        appended_bytes=None,
    )


def verify_in_process(
    data: bytes,
    trust: TrustStore,
    *,
    allow_fetching: bool = False,
    now: datetime | None = None,
    policy: rules.CryptoPolicy = rules.SAFE_CRYPTO,
    cleanup: list[Callable[[], None]] | None = None,
) -> PdfVerification:
    """``verify_pdf`` in this process, with the fast reader when :mod:`._fastpath` is active
    here (the pool's workers) and the stock reader otherwise.

    ``cleanup``: where a worker wants the verification's housekeeping (freeing the reader's
    object graph, re-enabling the paused collector) handed back instead of done before the
    result is returned; it runs those steps after it has sent the result, while the caller
    is already reading it. Nothing of the verdict depends on them."""
    _asn1.install()  # asn1crypto's dump() as read, in every mode: one encoding rule for all verdicts
    reader_class = CachingPdfReader if _fastpath.uses("reader") else PdfFileReader
    return _verify_pdf(data, trust, allow_fetching, now, reader_class, policy=policy, cleanup=cleanup)


def _verify_pdf(
    data: bytes,
    trust: TrustStore,
    allow_fetching: bool,
    now: datetime | None,
    reader_class: type[PdfFileReader],
    *,
    cross_check: bool = True,
    policy: rules.CryptoPolicy = rules.SAFE_CRYPTO,
    upstream_diff: bool = False,
    cleanup: list[Callable[[], None]] | None = None,
) -> PdfVerification:
    """``verify_pdf`` with a chosen reader class: ``PdfFileReader`` gives the stock pyHanko
    result that the fast reader must reproduce (see ``bench/eval_signatures.py --compare``).
    ``cross_check=False`` leaves out the whole-document checks (:mod:`._structure`,
    :mod:`._viewer`), which gives what stock pyHanko alone concludes; ``upstream_diff=True``
    uses pyHanko's default difference analysis instead of Kho's (no annotation rule, XMP
    syntax checked)."""
    if upstream_diff:
        token = _diff_policy.set(DEFAULT_DIFF_POLICY)
        try:
            return _verify_pdf(
                data, trust, allow_fetching, now, reader_class, cross_check=cross_check,
                policy=policy, cleanup=cleanup,
            )
        finally:
            _diff_policy.reset(token)
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    reports: tuple[SignatureReport, ...] = ()
    document_findings: tuple[str, ...] = ()
    appended: int | None = None
    # With the fast reader, the signatures' /ByteRange digests and the document's SHA-256
    # share the hashing of common prefixes (see :mod:`._digests`); the stock path hashes
    # as pyHanko does.
    digests = PrefixDigests(data) if issubclass(reader_class, CachingPdfReader) else None
    try:
        with _cycle_collection_paused(cleanup):
            reports, recovery = asyncio.run(
                _verify_all(
                    data, trust, allow_fetching, moment, reader_class, cross_check, policy, digests,
                    cleanup,
                )
            )
        verdict = rules.file_verdict([r.verdict for r in reports])
        if cross_check:
            appended = _structure.appended_after_eof(data)
            try:
                facts = _document_facts(data, reports, recovery, verdict, appended, cleanup)
                checked, document_findings = rules.document_verdict(verdict, facts)
            except Exception as exc:  # the check itself broke on this file: withhold, never relax
                logger.info("whole-document check failed: %s", exc)
                checked, document_findings = rules.document_check_failed(verdict, _short(exc))
            if checked != verdict:
                reports, verdict = _withhold(reports, checked), checked
    except _Unreadable as exc:
        verdict = rules.unreadable_file_verdict(
            exc.reason, is_pdf=exc.is_pdf, encrypted=exc.encrypted
        )
        if cross_check and exc.is_pdf:
            # what the bytes alone prove still counts when pyHanko cannot open the file
            facts = rules.DocumentFacts(
                signature_dictionary_replaced=tuple(_structure.replaced_signature_dictionaries(data))
            )
            verdict, document_findings = rules.document_verdict(verdict, facts)
    except MemoryError:
        raise  # the worker's memory limit: its own verdict (INDETERMINATE), never a format failure
    except Exception as exc:  # a verdict, never a crash: pyHanko raises many types on junk
        # One line (the verdict names the reason); the traceback only for debugging.
        logger.warning("signature verification failed unexpectedly: %s", _short(exc))
        logger.debug("signature verification failure", exc_info=exc)
        verdict = rules.unreadable_file_verdict(_short(exc), is_pdf=_looks_like_pdf(data))
    kinds = [r.signer_kind for r in reports if r.type is SignatureType.SIGNATURE]
    nd30 = rules.nd30_check(kinds)
    return PdfVerification(
        verdict=verdict,
        signatures=reports,
        nd30=nd30,
        summary=rules.summary_text(verdict, len(reports), nd30),
        return_reason=rules.return_reason(verdict),
        sha256=digests.hexdigest() if digests is not None else hashlib.sha256(data).hexdigest(),
        validated_at=_iso(moment) or "",
        trust_store=trust.fingerprint,
        offline=not allow_fetching,
        document_findings=document_findings,
        appended_bytes=appended,
    )


@dataclass(frozen=True)
class _Recovery:
    """What the strict reading of the revisions after the first signature found."""

    signed_ends: tuple[int, ...]  # end of each signed revision (its /ByteRange)
    problems: tuple[str, ...]
    appearance_replaced: tuple[str, ...] = ()
    signature_dictionary_replaced: tuple[str, ...] = ()
    picture_only_signatures: tuple[str, ...] = ()  # unsigned signature fields drawn after
    shared_signatures: tuple[tuple[str, str], ...] = ()  # (field, field whose signature it holds)
    pictures_added: tuple[str, ...] = ()  # comments showing a picture or stamp after signing
    need_appearances_on: bool = False  # /NeedAppearances set after the first signature


def _document_facts(
    data: bytes,
    reports: tuple[SignatureReport, ...],
    recovery: _Recovery | None,
    verdict: Any,
    appended: int,
    cleanup: list[Callable[[], None]] | None = None,
) -> rules.DocumentFacts:
    """Compare the document as pdfium shows it with the signed revisions, where that can
    change the verdict: a pass, revisions read only leniently, or changes after signing
    that the modification analysis could not explain. Housekeeping a worker deferred
    (``cleanup``) is done before pdfium renders, so that the reader's objects and pdfium's
    pages are never held at once (the worker's memory limit sees the same peak as before)."""
    if recovery is None or not recovery.signed_ends:
        return rules.DocumentFacts(
            appended_bytes=appended,
            signature_dictionary_replaced=tuple(_structure.replaced_signature_dictionaries(data)),
            # no signature listed: signed revisions in the bytes were hidden after signing
            hidden_signatures=_structure.signed_revisions(data) if not reports else 0,
        )
    unexplained = any(r.modification_level == "OTHER" for r in reports)
    wanted = verdict.indication is Indication.TOTAL_PASSED or recovery.problems or unexplained
    first, last = min(recovery.signed_ends), max(recovery.signed_ends)
    difference = error = None
    drawn_over: tuple[int, ...] = ()
    # comments or form filling after the first signature: what they draw over its content
    commented = any(r.modification_level in ("ANNOTATIONS", "FORM_FILLING") for r in reports)
    if wanted and len(data[first:].strip(b" \t\r\n\f\x00")) > 0:
        from ingest.signatures import _viewer

        _settle(cleanup)
        try:
            final = _final_view(data)
        except _viewer.Unrenderable as exc:
            error = _short(exc)
        else:
            for end in sorted({first, last}):
                if end == len(data):
                    # the signed revision is the whole file: its view is `final` (the same
                    # bytes), so there is no difference to find; pdfium need not read it twice
                    continue
                try:
                    signed = _signed_view(data[:end])
                except _viewer.Unrenderable:
                    continue  # the signature's own checks judge its revision
                difference = _viewer.differences(signed, final)
                if difference is not None:
                    break
                if end == first and commented:
                    drawn_over = _viewer.drawn_over_content(data[:end], signed, data, final)
    return rules.DocumentFacts(
        recovery_problems=recovery.problems,
        view_difference=difference,
        viewer_error=error,
        appended_bytes=appended,
        drawn_over_pages=drawn_over,
        appearance_replaced=recovery.appearance_replaced,
        signature_dictionary_replaced=recovery.signature_dictionary_replaced,
        picture_only_signatures=recovery.picture_only_signatures,
        shared_signatures=recovery.shared_signatures,
        pictures_added=recovery.pictures_added,
        need_appearances_on=recovery.need_appearances_on,
    )


# The final document's view read by this worker's own pdfium in the same request, before
# pyHanko (ingest.signatures.combined: one read gives the view and the text layer); never a
# reading from another process.
_given_view: ContextVar[tuple[bytes, _viewer.DocumentView] | None] = ContextVar(
    "given_view", default=None
)


@contextmanager
def final_view_given(data: bytes, view: _viewer.DocumentView) -> Iterator[None]:
    """Within the block, :func:`_final_view` of ``data`` (the same object) is ``view``."""
    token = _given_view.set((data, view))
    try:
        yield
    finally:
        _given_view.reset(token)


def _final_view(data: bytes) -> _viewer.DocumentView:
    """The viewer's view of the final document: the one given for these bytes, else read."""
    from ingest.signatures import _viewer

    given = _given_view.get()
    if given is not None and given[0] is data:
        return given[1]
    return _viewer.page_view(data)


def _settle(cleanup: list[Callable[[], None]] | None) -> None:
    """Run the deferred housekeeping steps now, in order (each once)."""
    while cleanup:
        cleanup.pop(0)()


_SIGNED_VIEWS: OrderedDict[bytes, _viewer.DocumentView | str] = OrderedDict()
_SIGNED_VIEWS_KEPT = 8


def _signed_view(signed: bytes) -> _viewer.DocumentView:
    """The viewer's view of a signed revision, remembered by its SHA-256 for the next few
    documents: every later version of a signed document (a re-check, a new signature, the
    fuzzer's mutants) shares the signed revision's bytes, so its rendering is done once."""
    from ingest.signatures import _viewer

    key = hashlib.sha256(signed).digest()
    view = _SIGNED_VIEWS.get(key)
    if view is None:
        try:
            view = _viewer.page_view(signed)
        except _viewer.Unrenderable as exc:
            view = str(exc)
        _SIGNED_VIEWS[key] = view
        while len(_SIGNED_VIEWS) > _SIGNED_VIEWS_KEPT:
            _SIGNED_VIEWS.popitem(last=False)
    else:
        _SIGNED_VIEWS.move_to_end(key)
    if isinstance(view, str):
        raise _viewer.Unrenderable(view)
    return view


def _withhold(
    reports: tuple[SignatureReport, ...], verdict: Any
) -> tuple[SignatureReport, ...]:
    """A signature cannot pass in a document whose whole-document checks withheld the pass."""
    return tuple(
        replace(r, verdict=verdict, findings=(verdict.explanation, *r.findings))
        if r.verdict.indication is Indication.TOTAL_PASSED
        else r
        for r in reports
    )


@contextmanager
def _cycle_collection_paused(cleanup: list[Callable[[], None]] | None = None) -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a document is verified (only where the
    fast path is active: a verification worker, never the caller's process).

    Reading a tagged document creates tens of thousands of long-lived PDF objects (all kept
    by the reader until the verification ends); every automatic collection re-scans them, which
    took about a third of the verification time of the largest corpus document. Peak memory
    is unchanged (the reader holds those objects anyway). The collector is re-enabled at the
    end, only if it was enabled at the start; with ``cleanup``, by the last of its steps (the
    worker runs them after sending the result, so that the first collection after the pause,
    which scans what the verification allocated, is not part of the caller's wait)."""
    if not _fastpath.uses("gc"):
        yield
        return
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if cleanup is None:
                gc.enable()
            else:
                cleanup.append(gc.enable)


def _looks_like_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:1024]


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _open(data: bytes, reader_class: type[PdfFileReader]) -> PdfFileReader:
    if not _looks_like_pdf(data):
        raise _Unreadable("thiếu phần đầu %PDF-" if data else "tệp rỗng", is_pdf=False)
    try:
        reader = reader_class(BytesIO(data), strict=False)
    except Exception as exc:
        raise _Unreadable(_short(exc), encrypted=b"/Encrypt" in data) from exc
    try:
        encrypted = reader.encrypted
    except Exception as exc:  # e.g. a spoofed /Encrypt entry that is no dictionary
        raise _Unreadable(_short(exc)) from exc
    if encrypted:
        try:
            result = reader.decrypt(b"")
            ok = result is not None and getattr(result, "status", None) is not None
            ok = ok and result.status.name != "FAILED"
        except Exception as exc:
            raise _Unreadable(_short(exc), encrypted=True) from exc
        if not ok:
            raise _Unreadable("cần mật khẩu", encrypted=True)
    return reader


_MAX_DSS_REVISIONS = 64  # earlier revisions whose DSS is read besides the final one


def _read_knowledge(reader: PdfFileReader) -> _Knowledge:
    """The certificates, OCSP responses and CRLs of the document's DSS: the final revision's,
    and those an earlier revision held that a later one dropped or replaced (rv30: an update
    emptying the DSS turned a signature proven revoked into a pass). Revocation data signs
    itself, so keeping what was once embedded can add evidence, never forge it."""
    certs: list[x509.Certificate] = []
    ocsps: list[ocsp.OCSPResponse] = []
    crls: list[crl.CertificateList] = []
    seen: set[bytes] = set()
    share = _certs.shared if _fastpath.uses("certs") else (lambda cert: cert)
    for holder in _dss_holders(reader):
        try:
            dss = DocumentSecurityStore.read_dss(holder)
        except NoDSSFoundError:
            continue
        except Exception as exc:  # a broken DSS is not fatal: validate without it
            logger.info("unreadable DSS ignored: %s", exc)
            continue
        try:
            for cert in dss.load_certs():
                if _new(cert.dump(), seen):
                    certs.append(share(cert))
            for ref in dss.ocsps:
                if _new(data := ref.get_object().data, seen):
                    ocsps.append(ocsp.OCSPResponse.load(data))
            for ref in dss.crls:
                if _new(data := ref.get_object().data, seen):
                    crls.append(crl.CertificateList.load(data))
        except Exception as exc:
            logger.info("partly unreadable DSS: %s", exc)
    return _Knowledge(tuple(certs), tuple(ocsps), tuple(crls))


def _dss_holders(reader: PdfFileReader) -> Iterator[Any]:
    """The reader (final revision), then each earlier revision, newest first, whose catalog
    has a ``/DSS`` (at most :data:`_MAX_DSS_REVISIONS`)."""
    yield reader
    last = reader.xrefs.total_revisions - 1
    for revision in range(last - 1, max(-1, last - 1 - _MAX_DSS_REVISIONS), -1):
        try:
            resolver = reader.get_historical_resolver(revision)
            if "/DSS" not in resolver.root:
                continue
        except Exception:
            continue
        yield resolver


def _new(data: bytes, seen: set[bytes]) -> bool:
    if data in seen:
        return False
    seen.add(data)
    return True


def _archival(emb: EmbeddedPdfSignature) -> tuple[list[Any], list[Any]]:
    """OCSP responses and CRLs in the signature's adbe-revocationInfoArchival attribute."""
    try:
        for attr in emb.signer_info["signed_attrs"]:
            if attr["type"].native == "adobe_revocation_info_archival":
                value = attr["values"][0]
                return list(value["ocsp"] or []), list(value["crl"] or [])
    except Exception as exc:
        logger.info("unreadable revocation archive: %s", exc)
    return [], []


async def _verify_all(
    data: bytes,
    trust: TrustStore,
    allow_fetching: bool,
    moment: datetime,
    reader_class: type[PdfFileReader],
    cross_check: bool = True,
    policy: rules.CryptoPolicy = rules.SAFE_CRYPTO,
    digests: PrefixDigests | None = None,
    cleanup: list[Callable[[], None]] | None = None,
) -> tuple[tuple[SignatureReport, ...], _Recovery | None]:
    reader = _open(data, reader_class)
    try:
        try:
            fields = list(enumerate_sig_fields(reader, filled_status=True))
        except Exception as exc:
            raise _Unreadable(_short(exc)) from exc
        fields, shared = _one_field_per_signature(reader, fields)
        knowledge = _read_knowledge(reader)
        ordered: list[tuple[int, int, SignatureReport]] = []
        for position, (name, sig_ref, sig_field) in enumerate(fields):
            report = await _verify_one(
                reader, name, sig_ref, sig_field, trust, knowledge, allow_fetching, moment, policy,
                digests,
            )
            ordered.append((_revision_key(report), position, report))
        ordered.sort(key=lambda item: (item[0], item[1]))
        reports = tuple(report for _, _, report in ordered)
        recovery = _recovery(data, reader, fields, reports) if cross_check else None
        # a second field written after the signature it holds: not the signer's doing
        signed = {r.field_name: r.signed_revision for r in reports}
        added = tuple(
            (extra, kept) for extra, kept, born in shared
            if signed.get(kept) is None or born > signed[kept]
        )
        if recovery is not None and added:
            recovery = replace(recovery, shared_signatures=added)
        return reports, recovery
    finally:
        if isinstance(reader, CachingPdfReader):
            # freeing the reader's object graph (~30 ms on the largest corpus document) is
            # housekeeping: a worker does it after sending the result
            if cleanup is None:
                reader.release()
            else:
                cleanup.append(reader.release)


def _one_field_per_signature(
    reader: PdfFileReader, fields: list[Any]
) -> tuple[list[Any], tuple[tuple[str, str, int], ...]]:
    """``fields`` with each signature dictionary once, and (field, field kept, revision that
    wrote the field) for each other field whose value is the same signature dictionary.
    ISO 32000-2 12.7.5.5: a signature is the value of its field; a second field holding it
    would count and show one signature twice (DSS, too, reports one signature with two field
    names), and one added after signing may show it on a page the signer never signed. The
    field kept is the one written first (the signer's)."""
    groups: dict[Any, list[tuple[int, int, Any]]] = {}
    for position, field in enumerate(fields):
        value = field[1]
        key = value.reference if isinstance(value, generic.IndirectObject) else position
        groups.setdefault(key, []).append((_introduced(reader, field[2]), position, field))
    kept: list[tuple[int, int, Any]] = []
    shared: list[tuple[str, str, int]] = []
    for members in groups.values():
        members.sort(key=lambda member: member[:2])
        kept.append(members[0])
        shared += [(str(m[2][0]), str(members[0][2][0]), m[0]) for m in members[1:]]
    kept.sort(key=lambda member: member[1])
    return [field for _, _, field in kept], tuple(shared)


def _introduced(reader: PdfFileReader, field_ref: Any) -> int:
    """The revision that first wrote the field object (late when unknown)."""
    try:
        return int(reader.xrefs.get_introducing_revision(field_ref.reference))
    except Exception:
        return 1 << 30


def _recovery(
    data: bytes,
    reader: PdfFileReader,
    fields: list[Any],
    reports: tuple[SignatureReport, ...] = (),
) -> _Recovery:
    ends: list[int] = []
    for _, sig_ref, _ in fields:
        try:
            byte_range = [int(v) for v in sig_ref.get_object()["/ByteRange"]]
            ends.append(byte_range[-2] + byte_range[-1])
        except Exception:
            continue
    ends = [end for end in ends if 0 < end <= len(data)]
    replaced_dicts = _structure.replaced_signature_dictionaries(data)
    replaced_dicts += _rewritten_signature_objects(reader, fields, reports)
    if not ends:
        return _Recovery((), (), signature_dictionary_replaced=tuple(replaced_dicts))
    audit = _structure.audit(data, min(ends), reader)
    revisions = [r.signed_revision for r in reports if r.signed_revision is not None]
    appearances: list[str] = []
    pictures: list[str] = []
    stamps: list[str] = []
    # a picture added after the last person's or agency's signature has nobody behind it
    signed_last = [
        r.signed_revision for r in reports
        if r.signed_revision is not None and r.type is SignatureType.SIGNATURE
    ]
    redrawn = False
    if revisions:
        try:
            redrawn = need_appearances_turned_on(reader, min(revisions))
            appearances = replaced_appearances(reader, min(revisions))
            pictures = unsigned_signature_appearances(reader, min(revisions))
            if signed_last:
                stamps = pictures_added(reader, max(signed_last))
        except Exception as exc:  # unreadable objects: the other checks judge the file
            logger.info("appearance comparison failed: %s", _short(exc))
    return _Recovery(
        tuple(ends), tuple(audit.problems), tuple(appearances), tuple(replaced_dicts),
        tuple(pictures), pictures_added=tuple(stamps), need_appearances_on=redrawn,
    )


def _rewritten_signature_objects(
    reader: PdfFileReader, fields: list[Any], reports: tuple[SignatureReport, ...]
) -> list[str]:
    """Signature dictionaries that a revision after the one they sign defines again (for
    example inside an object stream, where the byte scan of :mod:`._structure` cannot see)."""
    signed = {r.field_name: r.signed_revision for r in reports if r.signed_revision is not None}
    found: list[str] = []
    for name, sig_ref, _ in fields:
        revision = signed.get(str(name))
        if revision is None or not isinstance(sig_ref, generic.IndirectObject):
            continue
        try:
            last = reader.xrefs.get_last_change(sig_ref.reference)
        except Exception:
            continue
        if last > revision:
            found.append(
                f"từ điển chữ ký của trường {name} được định nghĩa lại ở phiên bản {last + 1} "
                f"sau phiên bản đã ký ({revision + 1})."
            )
    return found


def _revision_key(report: SignatureReport) -> int:
    return report.signed_revision if report.signed_revision is not None else 1 << 30


def _validation_context(
    trust: TrustStore,
    knowledge: _Knowledge,
    archival: tuple[list[Any], list[Any]],
    allow_fetching: bool,
    moment: datetime,
) -> ValidationContext:
    vc = ValidationContext(
        trust_manager=trust.trust_manager,
        other_certs=list(knowledge.certs),
        ocsps=list(knowledge.ocsps) + archival[0],
        # the trust list's CRLs (kho trust add-crl) are not given to pyHanko: they are judged
        # after it (:meth:`TrustStore.revocation`, :func:`rules.listed_revocation_problem`)
        crls=list(knowledge.crls) + archival[1],
        allow_fetching=allow_fetching,
        moment=moment,
        revocation_mode="soft-fail",
        weak_hash_algos=_PYHANKO_WEAK_HASHES,
        # in a worker, signature checks already passed on the same bytes are remembered
        # (:mod:`._sigcheck`); elsewhere pyhanko-certvalidator's default validator
        signature_validator=_sigcheck.shared_validator() if _fastpath.uses("certs") else None,
    )
    if _fastpath.uses("certs"):
        _paths.register(vc)  # its validated paths may be remembered (:mod:`._paths`)
    return vc


async def _verify_one(
    reader: PdfFileReader,
    name: str,
    sig_ref: Any,
    sig_field: Any,
    trust: TrustStore,
    knowledge: _Knowledge,
    allow_fetching: bool,
    moment: datetime,
    policy: rules.CryptoPolicy = rules.SAFE_CRYPTO,
    digests: PrefixDigests | None = None,
) -> SignatureReport:
    field_name = str(name)
    sig_type = SignatureType.SIGNATURE
    try:
        sig_obj = sig_ref.get_object()
        if sig_obj.get("/Type") == "/DocTimeStamp":
            sig_type = SignatureType.DOCUMENT_TIMESTAMP
        subfilter = str(sig_obj.get("/SubFilter", ""))
        allowed = _TS_SUBFILTERS if sig_type is SignatureType.DOCUMENT_TIMESTAMP else _SIG_SUBFILTERS
        if subfilter not in allowed:
            return _format_failure(
                field_name, sig_type, f"định dạng /SubFilter {subfilter or '(trống)'} không được hỗ trợ"
            )
        problem = _byte_range_problem(reader, sig_obj)
        if problem is not None:
            return _format_failure(field_name, sig_type, problem)
        emb = (
            LockReadingSignature(reader, sig_field, field_name)
            if digests is None
            else SharedDigestSignature(reader, sig_field, field_name, digests)
        )
    except MemoryError:
        raise  # out of memory says nothing about the signature (the pool's verdict names it)
    except Exception as exc:
        return _format_failure(field_name, sig_type, f"cấu trúc chữ ký hỏng: {_short(exc)}")

    archival = _archival(emb)
    try:
        if sig_type is SignatureType.DOCUMENT_TIMESTAMP:
            vc = _validation_context(trust, knowledge, archival, allow_fetching, moment)
            status = await async_validate_pdf_timestamp(
                emb, validation_context=vc, diff_policy=_diff_policy.get()
            )
        else:
            status = await _validate_signature(emb, trust, knowledge, archival, allow_fetching, moment)
    except MemoryError:
        raise  # out of memory says nothing about the signature (the pool's verdict names it)
    except Exception as exc:
        reason = _short(exc)
        if sig_type is SignatureType.SIGNATURE:
            # pyHanko's path validation asserts when a certificate's signature algorithm does
            # not fit the named issuer's key (an ECDSA certificate under an RSA CA's name)
            try:
                named = trust.impersonated(_embedded_certs(emb, emb.signer_cert))
            except Exception:
                named = None
            if named:
                reason = rules.impersonation_text(named)
        return _format_failure(
            field_name, sig_type, reason, signed_revision=_signed_revision(emb), emb=emb
        )
    impersonated = None
    if status.trust_problem_indic is not None and sig_type is SignatureType.SIGNATURE:
        impersonated = trust.impersonated(_embedded_certs(emb, status.signing_cert))
    listed = _listed_revocation(trust, status) if sig_type is SignatureType.SIGNATURE else None
    return _report(
        emb, sig_type, status, knowledge, archival, moment, policy, impersonated, listed, trust=trust
    )


def _listed_revocation(trust: TrustStore, status: Any) -> rules.Revocation | None:
    """The revocation of a certificate of the signer's validated path that a CRL of the
    trust list records (:meth:`TrustStore.revocation`); None without a path or CRLs."""
    if not trust.crls or getattr(status, "validation_path", None) is None:
        return None
    try:
        path = list(status.validation_path.iter_certs(include_root=True))  # anchor first
    except Exception:  # no certificates to look up: pyHanko's verdict stands
        return None
    return trust.revocation(path)


def _embedded_certs(emb: EmbeddedPdfSignature, signer: x509.Certificate) -> list[x509.Certificate]:
    """The signer's certificate, then every certificate the CMS carries."""
    certs = [signer]
    try:
        for choice in emb.signed_data["certificates"] or []:
            if choice.name == "certificate":
                certs.append(choice.chosen)
    except Exception:  # a malformed certificate set: the signer alone is checked
        pass
    return certs


def _byte_range_problem(reader: PdfFileReader, sig_obj: Any) -> str | None:
    """:func:`rules.byte_range_problem` of a signature dictionary, before pyHanko hashes it."""
    try:
        values = [int(v) if isinstance(v, int) and not isinstance(v, bool) else v
                  for v in sig_obj["/ByteRange"]]
        size = len(reader.stream.getbuffer())  # the BytesIO of the document's bytes
    except Exception:  # a missing or malformed /ByteRange: pyHanko judges it as before
        return None
    return rules.byte_range_problem(values, size)


async def _validate_signature(
    emb: EmbeddedPdfSignature,
    trust: TrustStore,
    knowledge: _Knowledge,
    archival: tuple[list[Any], list[Any]],
    allow_fetching: bool,
    moment: datetime,
) -> Any:
    vc = _validation_context(trust, knowledge, archival, allow_fetching, moment)
    status = await async_validate_pdf_signature(
        emb, signer_validation_context=vc, diff_policy=_diff_policy.get()
    )
    problem = _problem_name(status.trust_problem_indic)
    ts = status.timestamp_validity
    if problem in _TIME_PROBLEMS and ts is not None and _timestamp_trusted(ts, moment, trust):
        # The certificate is out of its validity now, but a trusted timestamp proves the
        # signature existed at ts.timestamp: validate the certificate at that time (AdES-T).
        signer_vc = _validation_context(trust, knowledge, archival, allow_fetching, ts.timestamp)
        ts_vc = _validation_context(trust, knowledge, archival, allow_fetching, moment)
        status = await async_validate_pdf_signature(
            emb, signer_validation_context=signer_vc, ts_validation_context=ts_vc,
            diff_policy=_diff_policy.get(),
        )
    return status


def _timestamp_problem(
    status: Any, time: datetime | None, moment: datetime, trust: TrustStore | None = None
) -> str | None:
    """The trust problem of a time-stamp token: pyHanko's (its TSA's chain, checked at the
    validation time ``moment``), or Kho's rules that the TSA's certificate must have been
    issued by the time the token states, that this time must have come by ``moment``, and
    that no CRL of the trust list ``trust`` revokes the TSA's path
    (:func:`rules.timestamp_problem`)."""
    problem = _problem_name(status.trust_problem_indic)
    revoked = _listed_revocation(trust, status) if trust is not None and problem is None else None
    return rules.timestamp_problem(problem, _valid_from(status.signing_cert), time, moment, revoked)


def _timestamp_trusted(ts: Any, moment: datetime, trust: TrustStore | None = None) -> bool:
    """A signature time-stamp is proof of existence at its time: intact, valid, and without
    a trust problem (:func:`_timestamp_problem`)."""
    return bool(ts.intact and ts.valid) and _timestamp_problem(ts, ts.timestamp, moment, trust) is None


def _signed_revision(emb: EmbeddedPdfSignature | None) -> int | None:
    try:
        return int(emb.signed_revision) if emb is not None else None
    except Exception:
        return None


def _problem_name(indic: Any) -> str | None:
    return None if indic is None else str(getattr(indic, "name", indic))


def _format_failure(
    field_name: str,
    sig_type: SignatureType,
    reason: str,
    *,
    signed_revision: int | None = None,
    emb: EmbeddedPdfSignature | None = None,
) -> SignatureReport:
    facts = rules.SignatureFacts(type=sig_type, format_error=reason)
    verdict, findings = rules.signature_verdict(facts)
    signer: CertificateInfo | None = None
    kind = SignerKind.UNKNOWN
    if emb is not None:
        try:
            cert = emb.signer_cert
            signer = certificate_info(cert)
            kind = _classify(cert) if sig_type is SignatureType.SIGNATURE else SignerKind.UNKNOWN
        except Exception:
            signer = None
    return SignatureReport(
        field_name=field_name,
        type=sig_type,
        verdict=verdict,
        findings=findings,
        signer=signer,
        signer_kind=kind,
        intact=None,
        valid=None,
        trusted=None,
        trust_problem=None,
        coverage=None,
        modification_level=None,
        modifications_permitted=None,
        docmdp_permission=None,
        signed_revision=signed_revision,
        digest_algorithm=None,
        signature_mechanism=None,
        signing_time=None,
        timestamp=None,
        revocation_data_embedded=False,
        chain=(),
    )


def _report(
    emb: EmbeddedPdfSignature,
    sig_type: SignatureType,
    status: Any,
    knowledge: _Knowledge,
    archival: tuple[list[Any], list[Any]],
    moment: datetime,
    policy: rules.CryptoPolicy,
    impersonated_issuer: str | None = None,
    listed_revocation: rules.Revocation | None = None,
    trust: TrustStore | None = None,
) -> SignatureReport:
    diff = status.diff_result
    if isinstance(diff, DiffResult):
        level: str | None = diff.modification_level.name
        explained, detail = True, None
    elif isinstance(diff, SuspiciousModification):
        level, explained = None, False
        # Object reprs carry memory addresses: meaningless to people and different every run.
        text = _MEMORY_ADDRESS.sub("", str(diff).strip())
        detail = text.splitlines()[0][:300] if text else None
    else:
        level, explained, detail = None, True, None
    docmdp = emb.docmdp_level if sig_type is SignatureType.SIGNATURE else None
    locked_field = diff.field if isinstance(diff, FieldLockBreached) else None
    least_level = None
    if not explained and docmdp is not None and docmdp.value in (1, 2):
        # DocMDP forbids annotation changes here: an annotation added after signing proves
        # the lock broken even where no rule could clear the revision (a link, an action)
        least_level = "ANNOTATIONS" if _adds_annotations(emb) else None
    problem = _problem_name(status.trust_problem_indic)
    if sig_type is SignatureType.DOCUMENT_TIMESTAMP:
        problem = _timestamp_problem(status, status.timestamp, moment, trust)
    ts_facts: rules.TimestampFacts | None = None
    ts_info: TimestampInfo | None = None
    signing_time: datetime | None = None
    best_time: datetime | None = moment  # the validation time, unless a trusted timestamp
    if sig_type is SignatureType.SIGNATURE:
        ts = status.timestamp_validity
        signing_time = status.signer_reported_dt
        if ts is not None:
            ts_problem = _timestamp_problem(ts, ts.timestamp, moment, trust)
            ts_facts = rules.TimestampFacts(ts.intact, ts.valid, ts_problem)
            ts_info = TimestampInfo(
                time=_iso(ts.timestamp),
                intact=bool(ts.intact),
                valid=bool(ts.valid),
                trusted=ts.intact and ts.valid and ts_problem is None,
                problem=ts_problem,
                tsa=_cn(ts.signing_cert),
            )
            if ts_info.trusted and ts.timestamp is not None:
                best_time = ts.timestamp
    else:
        signing_time = status.timestamp
    # the signer's kind, read once from its certificate's subject and QC statements
    kind = (
        _classify(status.signing_cert) if sig_type is SignatureType.SIGNATURE
        else SignerKind.UNKNOWN
    )
    facts = rules.SignatureFacts(
        type=sig_type,
        intact=bool(status.intact),
        valid=bool(status.valid),
        coverage=status.coverage.name if status.coverage is not None else None,
        modification_level=level,
        modifications_explained=explained,
        modification_detail=detail,
        least_level=least_level,
        docmdp_permission=docmdp.value if docmdp is not None else None,
        locked_field_changed=locked_field,
        trust_problem=problem,
        trust_problem_is_failure=isinstance(status.trust_problem_indic, AdESFailure),
        impersonated_issuer=impersonated_issuer,
        digest_algorithm=status.md_algorithm,
        timestamp=ts_facts,
        revoked_before_timestamp=_revoked_before_timestamp(status, moment, trust),
        listed_revocation=listed_revocation,
        signer_kind=kind,
        best_signature_time=best_time,
        certificate_valid_from=_valid_from(status.signing_cert),
        claimed_time=signing_time if sig_type is SignatureType.SIGNATURE else None,
        key_purposes=_key_purposes(status.signing_cert),
        signer_subject=_subject(status.signing_cert),
    )
    verdict, findings = rules.signature_verdict(facts, policy)
    cert = status.signing_cert
    revocation = knowledge.has_revocation_data or bool(archival[0] or archival[1])
    try:
        revocation = revocation or bool(len(emb.signed_data["crls"] or []))
    except Exception:
        pass
    return SignatureReport(
        field_name=emb.field_name,
        type=sig_type,
        verdict=verdict,
        findings=findings,
        signer=certificate_info(cert),
        signer_kind=kind,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.intact and status.valid)
        and rules.certificate_identifies_signer(facts, seal=kind is SignerKind.ORGANISATION),
        trust_problem=problem,
        coverage=facts.coverage,
        modification_level=level if explained else "OTHER",
        modifications_permitted=None if diff is None else explained and not rules.docmdp_violated(
            facts.docmdp_permission, rules.known_level(facts)
        ),
        docmdp_permission=facts.docmdp_permission,
        signed_revision=_signed_revision(emb),
        digest_algorithm=status.md_algorithm,
        signature_mechanism=str(status.pkcs7_signature_mechanism),
        signing_time=_iso(signing_time),
        timestamp=ts_info,
        revocation_data_embedded=revocation,
        chain=_chain(status.validation_path),
    )


def _valid_from(cert: x509.Certificate | None) -> datetime | None:
    try:
        return None if cert is None else cert.not_valid_before.astimezone(UTC)
    except Exception:  # an unreadable validity: pyHanko's own checks judge the certificate
        return None


def _subject(cert: x509.Certificate | None) -> dict[str, str] | None:
    try:
        return None if cert is None else subject_fields(cert.subject)
    except Exception:  # an unreadable name: pyHanko's parse of the certificate judges it
        return None


def _key_purposes(cert: x509.Certificate | None) -> tuple[str, ...] | None:
    """The certificate's extended key usages (None without the extension). An unreadable
    extension reads as none listed: pyHanko's parse of the certificate judges it."""
    try:
        value = None if cert is None else cert.extended_key_usage_value
        return None if value is None else tuple(str(p) for p in value.native)
    except Exception:
        return None


def _adds_annotations(emb: EmbeddedPdfSignature) -> bool:
    revision = _signed_revision(emb)
    if revision is None:
        return False
    try:
        return adds_annotations(emb.reader, revision)
    except Exception as exc:  # proves nothing: the change stays unexplained
        logger.info("annotation check failed: %s", _short(exc))
        return False


def _revoked_before_timestamp(status: Any, moment: datetime, trust: TrustStore | None = None) -> bool:
    details = getattr(status, "revocation_details", None)
    ts = getattr(status, "timestamp_validity", None)
    if details is None or ts is None or getattr(details, "ca_revoked", False):
        return False
    if not _timestamp_trusted(ts, moment, trust):
        return False
    return bool(details.revocation_date <= ts.timestamp)


def _chain(path: Any) -> tuple[str, ...]:
    if path is None:
        return ()
    try:
        certs = [c.subject.human_friendly for c in path.iter_certs(include_root=True)]
        return tuple(reversed(certs))  # pyHanko yields anchor first; report signer first
    except Exception:
        return ()


def _cn(cert: x509.Certificate | None) -> str | None:
    if cert is None:
        return None
    value = cert.subject.native.get("common_name")
    return _text(value)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def subject_fields(name: x509.Name) -> dict[str, str]:
    """Subject attributes as ``{asn1crypto attribute name: text}`` (multi-values joined)."""
    out: dict[str, str] = {}
    for key, value in name.native.items():
        text = _text(value)
        if text:
            out[str(key)] = text
    return out


def _qc_types(cert: x509.Certificate) -> list[str]:
    found: list[str] = []
    for ext in cert["tbs_certificate"]["extensions"] or []:
        if ext["extn_id"].dotted == _QC_STATEMENTS_OID:
            raw = ext["extn_value"].contents
            found.extend(oid for oid, der in _QC_TYPE_DER.items() if der in raw)
    return found


def _classify(cert: x509.Certificate) -> SignerKind:
    try:
        return rules.classify_signer(subject_fields(cert.subject), _qc_types(cert))
    except Exception:
        return SignerKind.UNKNOWN


def certificate_info(cert: x509.Certificate) -> CertificateInfo:
    subject = subject_fields(cert.subject)
    issuer = subject_fields(cert.issuer)
    return CertificateInfo(
        subject=cert.subject.human_friendly,
        common_name=subject.get("common_name"),
        organisation=subject.get("organization_name"),
        organisational_unit=subject.get("organizational_unit_name"),
        title=subject.get("title"),
        locality=subject.get("locality_name"),
        email=subject.get("email_address"),
        user_id=subject.get("user_id"),
        serial_hex=format(cert.serial_number, "X"),
        issuer=cert.issuer.human_friendly,
        issuer_common_name=issuer.get("common_name"),
        not_before=_iso(cert.not_valid_before) or "",
        not_after=_iso(cert.not_valid_after) or "",
        sha256=hashlib.sha256(cert.dump()).hexdigest(),
    )
