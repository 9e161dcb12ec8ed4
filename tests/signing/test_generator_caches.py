"""The signed-corpus generator's per-process caches change no byte of what they stand for:
the test TSA's ``signing_certificate`` attribute (built once per certificate, loaded from its
DER after) and the text widths ``pdfgen.wrap`` lays lines out with."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from asn1crypto import cms as asn1_cms
from asn1crypto import core as asn1_core
from pyhanko.sign.general import as_signing_certificate, simple_cms_attribute
from reportlab.pdfbase import pdfmetrics

from ingest import pdfgen
from ingest.signatures import trustlist, verify_pdf
from ingest.testpki import (
    FIXTURE_TIME,
    TestPKI,
    _signing_certificate_attribute,
    sign_personal_then_organisation,
    timestamper,
)


def test_the_tsa_signs_the_same_attributes_as_built_afresh(tmp_path: Path) -> None:
    pki = TestPKI.build()
    tsa = timestamper(pki, FIXTURE_TIME)
    afresh = simple_cms_attribute("signing_certificate", as_signing_certificate(pki.tsa.cert))
    assert _signing_certificate_attribute(pki.tsa.cert.dump()) == afresh.dump()

    signature, attrs = tsa._sign_tst_info(b"tst-info", "sha256", FIXTURE_TIME)

    assert [a["type"].native for a in attrs] == [
        "content_type", "signing_time", "signing_certificate", "message_digest",
    ]
    assert attrs[2].dump() == afresh.dump()
    # the whole attribute set, byte for byte, as the former code built it
    reference = asn1_cms.CMSAttributes([
        attrs[0], simple_cms_attribute(
            "signing_time", asn1_cms.Time({"utc_time": asn1_core.UTCTime(FIXTURE_TIME)})
        ), afresh, attrs[3],
    ])
    assert attrs.dump() == reference.dump()
    # RSA PKCS#1 v1.5 is deterministic: the same bytes give the same signature
    assert tsa._sign_tst_info(b"tst-info", "sha256", FIXTURE_TIME)[0] == signature

    pki.write_trust_dir(tmp_path / "trust")
    trust = trustlist.resolve(tmp_path / "trust", tmp_path)
    signed = sign_personal_then_organisation(
        pdfgen.render_pdf(pdfgen.sample_document(7, 3)).data, pki,
        at=FIXTURE_TIME + timedelta(minutes=7),
    )
    assert verify_pdf(signed, trust).verdict.indication.value == "TOTAL-PASSED"


def test_remembered_widths_are_reportlabs() -> None:
    pdfgen._width.cache_clear()
    pdfgen.render_pdf(pdfgen.sample_document(3, 2))  # registers the fonts, fills the cache
    info = pdfgen._width.cache_info()
    assert info.currsize > 50 and info.hits > 0
    names = pdfgen._font_names()
    for text, style, size in [("Quyết", "R", 13.0), ("ĐỊNH", "B", 14.0), (" ", "I", 13.0)]:
        assert pdfgen._width(text, style, size) == pdfmetrics.stringWidth(text, names[style], size)
