"""rv24: the page that checks a package tells the archivist when a PDF's signature could not be
determined (its CA not trusted here), and refuses a package whose PDF was changed after signing,
naming the file. Real pyHanko on corpus PDFs, through the page's form."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient
from kho_people import People
from kho_sip import good_package, replace_document, zipped
from kho_web import login, post, text

from web.context import Kho

CORPUS = Path("/work/shared/corpora/pdf")
FIRST = "representations/rep1/data/001_cv0.pdf"


def _check(web: FlaskClient, archive: Path) -> str:
    with archive.open("rb") as fh:
        answer = post(
            web,
            "/retention/transfers/check",
            {"package": (fh, "goi-tin.zip")},
            page="/retention",
            follow_redirects=True,
        )
    return text(answer)


def test_the_page_says_a_pdf_s_signature_is_undetermined_and_names_a_changed_one(
    kho: Kho, people: People, web: FlaskClient, tmp_path: Path
) -> None:
    login(web, people, "luu_tru")
    root = good_package(kho, people, tmp_path, docs=1)
    replace_document(root, FIRST, (CORPUS / "dss__pades-bes.pdf").read_bytes())
    said = _check(web, zipped(root, tmp_path / "undetermined.zip"))
    assert "Gói tin hợp lệ" in said and "1 tệp PDF có chữ ký số chưa xác định được" in said

    replace_document(root, FIRST, (CORPUS / "dss__hello_signed_INCSAVE_signed_EDITED.pdf").read_bytes())
    said = _check(web, zipped(root, tmp_path / "changed.zip"))
    assert "Gói tin bị từ chối" in said and "001_cv0.pdf" in said and "SIP_SIGNATURE_INVALID" in said
