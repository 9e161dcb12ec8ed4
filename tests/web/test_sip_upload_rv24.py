"""rv24: a package larger than it says, streaming into ``POST /api/retention/transfers/import``.
Chunked (no Content-Length, as gunicorn passes it), it is cut at the upload limit with a 413;
with a Content-Length shorter than the body, only the declared bytes are read and the cut
package is refused with a code. Neither checks, audits as checked, or leaves a working folder.
(Held on main: werkzeug bounds both; kept as a guard of the import's own door.)"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from kho_people import People

from kho.config import Settings
from web.context import Kho


@pytest.fixture
def kho(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Kho]:
    monkeypatch.setenv("KHO_MAX_FILE_MB", "1")  # the upload limit: 1 MiB + 1 MiB of form
    installation = Kho(Settings.from_env())
    yield installation
    installation.close()


def _multipart(payload: bytes) -> tuple[bytes, str]:
    boundary = "rv24boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="goi-tin.zip"\r\n'
            "Content-Type: application/zip\r\n\r\n"
        ).encode()
        + payload
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def _big_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("pkg/METS.xml", b"<mets/>")
        zf.writestr("pkg/data/big.bin", bytes(range(256)) * 12_000)  # 3 MB stored
    return out.getvalue()


def _left(kho: Kho) -> list[Path]:
    """Working folders left under the installation's ``<data>/tmp``."""
    return sorted(kho.work_root.glob("kho-*")) if kho.work_root.is_dir() else []


def _checked(kho: Kho) -> list[str]:
    return [e.action for e in kho.repo.audit.events() if e.action.startswith("transfer:import")]


def test_a_chunked_package_past_the_upload_limit_is_cut_with_a_413(
    kho: Kho, people: People, client: FlaskClient
) -> None:
    body, content_type = _multipart(_big_zip())
    answer = client.post(
        "/api/retention/transfers/import",
        input_stream=io.BytesIO(body),
        content_type=content_type,
        headers={"Transfer-Encoding": "chunked", **people.headers("luu_tru")},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert answer.status_code == 413 and answer.get_json()["error"]["code"] == "FILE_TOO_LARGE"
    assert _checked(kho) == []
    assert _left(kho) == []


def test_a_body_longer_than_its_content_length_is_read_to_the_length_and_refused(
    kho: Kho, people: People, client: FlaskClient
) -> None:
    payload = _big_zip()[:900_000]  # under the limit as declared; the rest follows unannounced
    body, content_type = _multipart(payload)
    declared = len(body) - 300_000
    answer = client.post(
        "/api/retention/transfers/import",
        input_stream=io.BytesIO(body),
        content_type=content_type,
        headers={"Content-Length": str(declared), **people.headers("luu_tru")},
    )
    assert 400 <= answer.status_code < 500, answer.get_data(as_text=True)[:300]
    assert answer.get_json()["error"]["code"]
    assert "transfer:import-checked" not in _checked(kho)
    assert _left(kho) == []
