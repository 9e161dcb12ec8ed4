"""The test PKI is deterministic and mirrors the real VGCA hierarchy."""

from __future__ import annotations

from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509

from ingest import testpki
from ingest.signing import SignatureRole
from ingest.testpki import POLICY_OID, REVOCATION_TIME, TestPKI


def _ext(cert: asn1_x509.Certificate, name: str):  # -> native value or None
    for ext in cert["tbs_certificate"]["extensions"]:
        if ext["extn_id"].native == name:
            return ext["critical"].native, ext["extn_value"].parsed.native
    return None


def test_build_is_byte_identical_across_rebuilds(pki: TestPKI) -> None:
    testpki._build.cache_clear()
    again = TestPKI.build()
    assert again is not pki
    assert again == pki  # every certificate, key, CRL and OCSP response, byte for byte


def test_hierarchy_root_ca_leaves(pki: TestPKI) -> None:
    root, ca = pki.root.cert, pki.ca.cert
    assert root.subject == root.issuer
    assert root.subject.native["common_name"] == "Kho Test RootCA chuyên dùng"
    assert ca.issuer == root.subject
    assert ca.subject.native["common_name"] == "Kho Test CA phục vụ các cơ quan Nhà nước"
    assert _ext(ca, "basic_constraints") == (True, {"ca": True, "path_len_constraint": 0})
    for leaf in (pki.personal, pki.organisation, pki.expired_personal, pki.revoked_personal):
        assert leaf.cert.issuer == ca.subject
        assert leaf.chain_der[0] == pki.ca.cert_der
    assert pki.tsa.cert.issuer == root.subject


def test_personal_certificate_names_a_person_with_title(pki: TestPKI) -> None:
    subject = pki.personal.cert.subject.native
    assert subject["common_name"] == "Nguyễn Văn An"
    assert subject["title"] == "Chủ tịch"
    assert subject["organization_name"] == "ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM"
    assert subject["country_name"] == "VN"
    assert pki.personal.role is SignatureRole.PERSONAL


def test_organisation_certificate_names_only_the_organisation(pki: TestPKI) -> None:
    subject = pki.organisation.cert.subject.native
    assert subject["common_name"] == subject["organization_name"]
    assert "title" not in subject and "organizational_unit_name" not in subject
    assert pki.organisation.role is SignatureRole.ORGANISATION


def test_leaf_extensions_copy_the_real_vgca_leaves(pki: TestPKI, corpus_pdf_dir: Path) -> None:
    raw = (corpus_pdf_dir / "trust" / "cpcag2.crt").read_bytes()
    real_ca = asn1_x509.Certificate.load(pem.unarmor(raw)[2] if pem.detect(raw) else raw)
    real_policies = {p["policy_identifier"] for p in _ext(real_ca, "certificate_policies")[1]}
    assert POLICY_OID in real_policies
    for leaf in (pki.personal, pki.organisation):
        critical, usage = _ext(leaf.cert, "key_usage")
        assert critical and usage == {"digital_signature", "non_repudiation"}
        assert _ext(leaf.cert, "basic_constraints") == (True, {"ca": False,
                                                               "path_len_constraint": None})
        policies = {p["policy_identifier"] for p in _ext(leaf.cert, "certificate_policies")[1]}
        assert policies == {POLICY_OID}
        assert "client_auth" in _ext(leaf.cert, "extended_key_usage")[1]
        assert _ext(leaf.cert, "crl_distribution_points") is not None


def test_tsa_certificate_is_for_time_stamping_only(pki: TestPKI) -> None:
    critical, usage = _ext(pki.tsa.cert, "extended_key_usage")
    assert critical and usage == ["time_stamping"]


def test_expired_certificate_ended_before_the_fixture_time(pki: TestPKI) -> None:
    not_after = pki.expired_personal.cert["tbs_certificate"]["validity"]["not_after"].native
    assert not_after < testpki.FIXTURE_TIME


def test_crl_and_ocsp_report_the_revoked_certificate(pki: TestPKI) -> None:
    crl = asn1_crl.CertificateList.load(pki.ca_crl)
    revoked = crl["tbs_cert_list"]["revoked_certificates"].native
    assert [(r["user_certificate"], r["revocation_date"]) for r in revoked] == [
        (pki.revoked_personal.cert.serial_number, REVOCATION_TIME)
    ]
    assert not asn1_crl.CertificateList.load(pki.root_crl)["tbs_cert_list"][
        "revoked_certificates"
    ].native
    for name, der in pki.ocsp_responses.items():
        single = asn1_ocsp.OCSPResponse.load(der).basic_ocsp_response["tbs_response_data"][
            "responses"
        ][0]
        expected = "revoked" if name == "revoked_personal" else "good"
        assert single["cert_status"].name == expected
        assert single["cert_id"]["serial_number"].native == getattr(pki, name).cert.serial_number


def test_write_trust_dir_writes_only_the_root(pki: TestPKI, tmp_path: Path) -> None:
    directory = pki.write_trust_dir(tmp_path / "trust")
    files = list(directory.iterdir())
    assert [f.name for f in files] == ["kho-test-root.crt"]
    assert files[0].read_bytes() == pki.root.cert_der
