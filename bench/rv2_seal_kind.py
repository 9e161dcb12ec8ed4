"""NOTES-rv2: what Kho says about a seal named with its organisation word second.

    .venv/bin/python bench/rv2_seal_kind.py                               # this branch
    PYTHONPATH=/tmp/f4-rv2 .venv/bin/python bench/rv2_seal_kind.py       # f4's code
    PYTHONPATH=/tmp/base-rv2 .venv/bin/python bench/rv2_seal_kind.py     # main's code

Nguyễn Văn An (test PKI) signs, then a seal certificate with CN = the agency, O = the ministry
above it (as VGCA issues them, no MST) seals. Prints the kinds, the NĐ 30 check, the signers
the văn bản đi gate compares, the stored agencies and whether the agency's own name matches its
seal. Then the classification of a list of real agency and personal names.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import scratch

if not os.environ.get("PYTHONPATH"):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography import x509
from cryptography.x509.oid import NameOID

from ingest import testpki
from ingest.pipeline import signing_agencies, signing_people
from ingest.signatures import TrustStore
from ingest.signatures._reader import CachingPdfReader
from ingest.signatures.rules import classify_signer
from ingest.signatures.verify import _verify_pdf
from ingest.signing import SignatureRole
from ingest.testpki import TestPKI
from repository.registration import SealAgency, seal_names_sender

NAMES = [
    "CẢNG VỤ HÀNG HẢI QUẢNG NGÃI", "THƯ VIỆN QUỐC GIA VIỆT NAM", "TỈNH ĐOÀN QUẢNG NGÃI",
    "Công Đoàn Ngành Y Tế", "Chi Bộ Văn Phòng", "Hiệp Hội Doanh Nghiệp", "UBND TỈNH QUẢNG NGÃI",
    "SỞ TÀI CHÍNH TỈNH QUẢNG NGÃI", "Bệnh Viện Bạch Mai", "Cục Thuế", "Công Ty TNHH Minh Anh",
    "Trần Văn Sở", "Lê Thị Cúc", "Đoàn Văn Hội", "Nguyễn Bảo Ngọc", "Vũ Văn Phong",
    "Lê Trường Sơn", "Lâm Trường Giang",
]


def main() -> None:
    import ingest.signatures.rules as rules

    print("rules from", rules.__file__)
    pki = TestPKI.build()
    trust = TrustStore.from_dir(pki.write_trust_dir(Path(scratch.mkdtemp(prefix="rv2-"))))
    name, ministry = NAMES[0], "BỘ GIAO THÔNG VẬN TẢI"
    ca = x509.load_der_x509_certificate(pki.ca.cert_der)
    key = testpki.derive_key("rv2-bench-seal")
    cert = testpki._leaf_cert(
        subject=testpki._name([(NameOID.COUNTRY_NAME, "VN"),
                               (NameOID.ORGANIZATION_NAME, ministry),
                               (NameOID.COMMON_NAME, name)]),
        key=key, serial=0x4B48525699, validity=testpki.LEAF_VALIDITY, issuer=ca,
        issuer_key=testpki.derive_key("ca"), issuer_file="kho-test-ca", email="cv@qn.gov.vn",
    )
    seal = testpki._identity("rv2-bench-seal", cert, key, (ca,), SignatureRole.ORGANISATION)
    signed = testpki.sign_personal_then_organisation(
        testpki.document_for(pki.personal).data, pki, organisation=seal)
    result = _verify_pdf(signed, trust, False, datetime(2026, 12, 4, tzinfo=UTC), CachingPdfReader)
    stored = signing_agencies(result.signatures)["agencies"]
    agencies = [a for a in (SealAgency.of(i) for i in stored) if a is not None]
    print("verdict", result.verdict.indication.value,
          "kinds", [s.signer_kind.value for s in result.signatures])
    print("nd30", result.nd30.ok, result.nd30.message)
    print("signing_people", signing_people(result.signatures))
    print("agencies", [(a["kind"], a.get("cn"), a.get("o")) for a in stored])
    print("seal names 'Cảng vụ Hàng hải Quảng Ngãi':",
          seal_names_sender("Cảng vụ Hàng hải Quảng Ngãi", agencies).matches)
    for n in NAMES:
        print(f"{classify_signer({'common_name': n, 'organization_name': ministry}).value:13} {n}")


if __name__ == "__main__":
    main()
