"""rv33 (rv27's open items): a PDF hidden behind more than 1,024 bytes of other content, and
external ``xsi:schemaLocation`` URLs.

* A polyglot: ``documentation/Phụ lục.bin`` is 2 KiB of text and then a signed PDF changed
  after signing (the corpus's ``dss__hello_signed_INCSAVE_signed_EDITED.pdf``). Kho takes a
  file for a PDF by ``%PDF-`` in its first 1,024 bytes, so on main the file is never verified
  and the package is accepted; a PDF reader that searches further opens the PDF. Now refused
  ``SIP_HIDDEN_PDF``.
* ``xsi:schemaLocation`` naming URLs (other tools' METS do): decided **ignored**. Kho and the
  validator never fetch a schema (the package's own ``schemas/`` and the validator's bundled
  ones are used); the guard test points the URLs at a live HTTP server on this machine and
  asserts the package is accepted and the server asked nothing. It passes on main too.

Real services, real validator, real pyHanko on the corpus PDF."""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from kho_people import People
from kho_sip import good_package, listed_beside_readme, refused, replace_listed, zipped

from web.context import Kho

EDITED = Path("/work/shared/corpora/pdf/dss__hello_signed_INCSAVE_signed_EDITED.pdf")


def test_a_signed_pdf_hidden_behind_other_content_is_refused(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    cover = ("Phụ lục kèm theo hồ sơ.\n" * 100).encode("utf-8")
    assert len(cover) > 1024 and b"%PDF-" not in cover
    root = good_package(kho, people, tmp_path, docs=1)
    listed_beside_readme(root, "documentation/Phụ lục.bin", cover + EDITED.read_bytes())

    error = refused(kho, people, zipped(root, tmp_path / "polyglot.zip"))

    assert error.code == "SIP_HIDDEN_PDF" and error.details["file"] == "documentation/Phụ lục.bin"
    assert not list(kho.repo.store.list("retention/sip-imports/"))


def test_the_same_pdf_on_its_own_is_refused_for_its_signature(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    """The guard: what the hidden PDF gets once it is seen."""
    root = good_package(kho, people, tmp_path, docs=1)
    listed_beside_readme(root, "documentation/Phụ lục.bin", EDITED.read_bytes())
    assert refused(kho, people, zipped(root, tmp_path / "plain.zip")).code == "SIP_SIGNATURE_INVALID"


@pytest.fixture
def schema_server() -> Iterator[tuple[str, list[str]]]:
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", asked
    server.shutdown()
    server.server_close()


def test_external_schema_locations_are_never_fetched(
    kho: Kho, people: People, tmp_path: Path, schema_server: tuple[str, list[str]]
) -> None:
    url, asked = schema_server
    root = good_package(kho, people, tmp_path, docs=1)
    rep = "representations/rep1/METS.xml"
    for name in ("METS.xml", rep):
        text = (root / name).read_text(encoding="utf-8")
        changed = re.sub(
            r'xsi:schemaLocation="[^"]*"',
            f'xsi:schemaLocation="http://www.loc.gov/METS/ {url}/mets.xsd'
            f' http://www.w3.org/1999/xlink {url}/xlink.xsd"',
            text,
            count=1,
        )
        assert changed != text
        if name == "METS.xml":
            (root / name).write_text(changed, encoding="utf-8")
        else:
            replace_listed(root, name, changed.encode("utf-8"))

    answer = kho.import_package(zipped(root, tmp_path / "schemas.zip"), actor=people.actor("luu_tru"))

    assert answer["package_version"] == 1
    assert asked == []
