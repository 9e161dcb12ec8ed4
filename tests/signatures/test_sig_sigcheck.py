"""Signature checks remembered by the exact bytes checked (:mod:`ingest.signatures._sigcheck`),
and the name checks' messages unchanged by making the shown form only when needed."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from asn1crypto import algos, keys, x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator import sig_validate as upstream
from pyhanko_certvalidator.sig_validate import DefaultSignatureValidator, SignatureValidationContext

from ingest.signatures import _fastpath, _sigcheck, rules, verify
from ingest.signatures.trust import TrustStore
from ingest.testpki import TestPKI, derive_key
from kho.textkey import describe

Check = tuple[bytes, bytes, keys.PublicKeyInfo, algos.SignedDigestAlgorithm]


@pytest.fixture
def raw_checks(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The signed data of every public-key operation pyhanko-certvalidator makes."""
    made: list[bytes] = []
    original = upstream._validate_raw

    def counting(signature: bytes, signed_data: bytes, *args: Any, **kwargs: Any) -> None:
        made.append(signed_data)
        original(signature, signed_data, *args, **kwargs)

    monkeypatch.setattr(upstream, "_validate_raw", counting)
    return made


def _issued(pki: TestPKI) -> Iterator[tuple[str, Check]]:
    """(name, the check of its issuer's signature) for certificates of the test PKI."""
    ca = x509.Certificate.load(pki.ca.cert_der)
    root = x509.Certificate.load(pki.root.cert_der)
    for name, identity, issuer in (("personal", pki.personal, ca), ("ca", pki.ca, root)):
        cert = x509.Certificate.load(identity.cert_der)
        yield (
            name,
            (
                cert["signature_value"].native,
                cert["tbs_certificate"].dump(),
                issuer.public_key,
                cert["signature_algorithm"],
            ),
        )


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def test_a_passed_check_is_answered_again_without_the_public_key_operation(
    pki: TestPKI, raw_checks: list[bytes]
) -> None:
    validator = _sigcheck.RememberingSignatureValidator()
    checks = dict(_issued(pki))
    for _ in range(3):
        for check in checks.values():
            validator.validate_signature(*check)
    assert raw_checks == [check[1] for check in checks.values()]  # one operation each
    assert validator.kept() == len(checks)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda c: (_flip(c[0], len(c[0]) - 1), *c[1:]), id="signature"),
        pytest.param(lambda c: (c[0], _flip(c[1], len(c[1]) // 2), *c[2:]), id="signed-data"),
        pytest.param(lambda c: (c[0], c[1], None, c[3]), id="other-key"),
    ],
)
def test_a_check_one_byte_off_a_remembered_one_is_made_and_refused_every_time(
    pki: TestPKI, raw_checks: list[bytes], tamper: Callable[[Check], Any]
) -> None:
    """Where remembering would be wrong: the same certificate with one byte of its signature
    or of its signed part changed, or checked with another key, right after the genuine check
    passed. Each is verified (a public-key operation) and refused, and a refusal is never
    remembered: the second attempt is verified and refused again."""
    validator = _sigcheck.RememberingSignatureValidator()
    genuine = dict(_issued(pki))["personal"]
    validator.validate_signature(*genuine)
    tampered = list(tamper(genuine))
    if tampered[2] is None:  # the root's key instead of the CA's
        tampered[2] = x509.Certificate.load(pki.root.cert_der).public_key
    for attempt in (1, 2):
        with pytest.raises(InvalidSignature):
            validator.validate_signature(*tampered)
        assert len(raw_checks) == 1 + attempt
    assert validator.kept() == 1


def test_large_signed_data_is_verified_every_time_and_never_kept(raw_checks: list[bytes]) -> None:
    """A CMS without signed attributes signs the document itself: not remembered (memory)."""
    key = derive_key("m14-large-signed-data")
    data = b"%PDF-1.7 " * (_sigcheck.MAX_SIGNED_BYTES // 9 + 1)
    assert len(data) > _sigcheck.MAX_SIGNED_BYTES
    signature = key.sign(data, ec.ECDSA(hashes.SHA256()))
    public = keys.PublicKeyInfo.load(
        key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    algorithm = algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})
    validator = _sigcheck.RememberingSignatureValidator()
    for _ in range(2):
        validator.validate_signature(signature, data, public, algorithm)
    assert len(raw_checks) == 2
    assert validator.kept() == 0


def test_the_check_context_is_part_of_what_is_remembered(pki: TestPKI, raw_checks: list[bytes]) -> None:
    validator = _sigcheck.RememberingSignatureValidator()
    check = dict(_issued(pki))["personal"]
    validator.validate_signature(*check)
    # a pre-hashed check of the same bytes is another check: made again (and refused here,
    # since the bytes are not a digest)
    with pytest.raises((InvalidSignature, ValueError)):
        validator.validate_signature(*check, SignatureValidationContext(prehashed=True))
    assert len(raw_checks) == 2


def test_the_oldest_checks_are_forgotten_beyond_the_capacity(pki: TestPKI, raw_checks: list[bytes]) -> None:
    validator = _sigcheck.RememberingSignatureValidator(capacity=1)
    personal, ca = (check for _, check in _issued(pki))
    for check in (personal, ca, personal):
        validator.validate_signature(*check)
    assert len(raw_checks) == 3 and validator.kept() == 1


def test_a_validation_context_keeps_the_validator() -> None:
    """pyhanko-certvalidator replaces a falsy validator by its default: an empty one must
    still be used (a ``__len__`` made it falsy)."""
    validator = _sigcheck.RememberingSignatureValidator()
    assert ValidationContext(trust_roots=[], signature_validator=validator).sig_validator is validator


def test_only_the_fast_path_s_certs_part_uses_it(
    corpus_trust: TrustStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    moment = datetime(2026, 6, 1, tzinfo=UTC)

    def context_validator() -> object:
        return verify._validation_context(
            corpus_trust, verify._Knowledge(), ([], []), False, moment
        ).sig_validator

    monkeypatch.setattr(_fastpath, "_parts", frozenset())  # the caller's process: stock
    stock = context_validator()
    assert type(stock) is DefaultSignatureValidator
    monkeypatch.setattr(_fastpath, "_parts", frozenset({"reader", "names", "gc"}))
    assert type(context_validator()) is DefaultSignatureValidator
    monkeypatch.setattr(_fastpath, "_parts", frozenset({"certs"}))
    assert context_validator() is _sigcheck.shared_validator()


# -- name_problems: the same messages, the shown form made only for a value with a problem --


def _name_problems_before(subject: dict[str, str]) -> tuple[str, ...]:
    """:func:`rules.name_problems` as it was written before (main at ea4a7b7), verbatim."""
    problems: list[str] = []
    for key, label in rules._NAME_FIELDS_VI.items():
        text = subject.get(key)
        if not text:
            continue
        shown = rules.shown_name(text)
        if unicodedata.normalize("NFC", text) != text:
            problems.append(
                f"{label} “{shown}” không ở dạng Unicode chuẩn NFC (hiển thị giống "
                "nhưng khác với tên viết chuẩn)"
            )
        if any(unicodedata.category(c).startswith("C") for c in text):
            problems.append(f"{label} “{shown}” chứa ký tự ẩn hoặc ký tự điều khiển")
        latin = rules._latin_lookalikes(text)
        if latin:
            problems.append(
                f"{label} “{shown}” có chữ cái trông giống chữ tiếng Việt nhưng là ký "
                f"tự khác ({describe(latin)})"
            )
        scripts = {unicodedata.name(c, "?").split(" ")[0] for c in text if c.isalpha()}
        if len(scripts) > 1:
            problems.append(
                f"{label} “{shown}” trộn chữ của nhiều hệ chữ viết "
                f"({', '.join(sorted(scripts))}): ký tự trông giống nhau nhưng khác nhau"
            )
    return tuple(problems)


_ODD_LETTERS = "ÐƉıАаеоΑΒ\u200b\u202e\u0301\u0323\x00ĐđNguyễn Văn Ủy ban"
_VALUES = st.text(alphabet=st.sampled_from(_ODD_LETTERS) | st.characters(), max_size=24)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from([*sorted(rules._NAME_FIELDS_VI), "serial_number"]), _VALUES))
def test_name_problems_messages_are_unchanged(subject: dict[str, str]) -> None:
    assert rules.name_problems(subject) == _name_problems_before(subject)


@pytest.mark.parametrize(
    "name",
    [
        "Nguyễn Văn A",
        "Nguye\u0302\u0303n Văn A",
        "Nguyễn\u200b Văn A",
        "Nguyễn Văn А",
        "ÐINH VĂN A",
        "Nguyễn\u202e Văn А",
        "ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM",
    ],
)
def test_name_problems_of_named_cases_are_unchanged(name: str) -> None:
    subject = {"common_name": name, "organization_name": name}
    assert rules.name_problems(subject) == _name_problems_before(subject)
