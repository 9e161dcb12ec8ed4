"""Verification imports pyHanko's validation parts without its signing stack (aiohttp), and
what the signing stack does on import besides signing - registering ASN.1 types with
asn1crypto - still happens, so signatures parse exactly as with the whole of ``pyhanko.sign``.

The registrations are the reason an earlier attempt was backed out: without ``asn1crypto.pdf``
imported, a signature's ``adbe-revocationInfoArchival`` attribute read as an unknown type and
a corpus document (dss-2236) reported no embedded revocation data where stock pyHanko found it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

_SNAPSHOT = """
import json, sys
{imports}
import asn1crypto.core as core

def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)

tables = {{}}
for cls in set(subclasses(core.Asn1Value)):
    for attr in ("_map", "_oid_specs", "_reverse_map"):
        value = cls.__dict__.get(attr)
        if isinstance(value, dict):
            tables[f"{{cls.__module__}}.{{cls.__qualname__}}.{{attr}}"] = {{
                str(k): getattr(v, "__qualname__", None) or str(v) for k, v in value.items()
            }}
print(json.dumps({{"tables": tables, "modules": sorted(sys.modules)}}))
"""


def _run(imports: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", _SNAPSHOT.format(imports=imports)],
        capture_output=True, text=True, timeout=180, check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def lazy() -> dict[str, object]:
    return _run("import ingest.signatures.verify")


def test_verification_does_not_import_the_signing_stack(lazy: dict[str, object]) -> None:
    modules = set(lazy["modules"])  # type: ignore[arg-type]
    assert "pyhanko.sign.validation" in modules and "pyhanko.sign.diff_analysis" in modules
    assert "aiohttp" not in modules
    assert "pyhanko.sign.signers.pdf_signer" not in modules
    assert "pyhanko.sign.timestamps" not in modules


def test_asn1_types_are_registered_as_by_the_whole_signing_stack(
    lazy: dict[str, object],
) -> None:
    full = _run("import pyhanko.sign\nimport ingest.signatures.verify")
    assert "aiohttp" in set(full["modules"])  # type: ignore[arg-type]  # the stack was there
    assert _different_tables(lazy, full) == []
    assert full["tables"]["asn1crypto.cms.CMSAttributeType._map"]["1.2.840.113583.1.1.8"] == (  # type: ignore[index]
        "adobe_revocation_info_archival"
    )


def _different_tables(one: dict[str, object], other: dict[str, object]) -> list[str]:
    tables, others = one["tables"], other["tables"]
    assert isinstance(tables, dict) and isinstance(others, dict)
    # asn1crypto builds a ``_reverse_map`` on first use (a cache): compared where both have it
    return sorted(
        key for key in set(tables) | set(others)
        if tables.get(key) != others.get(key)
        and not (key.endswith("._reverse_map") and not (key in tables and key in others))
    )


_BULK_PRELOAD = "from ingest import bulk\nfrom kho.config import Settings\nbulk.preload(Settings.from_env())"


def test_a_bulk_import_parent_loads_no_validation_stack_and_has_stock_tables(
    lazy: dict[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The parent of a bulk import (and each worker it forks) loads the trust store but never
    verifies: pyHanko's reader and validation and the path validator are imported by the
    verification workers alone (~0.27 s of CPU and of serial start-up per run). Every ASN.1
    registration is made all the same: a trust anchor's full parse depends on them."""
    monkeypatch.setenv("KHO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KHO_TIKA_URL", "")
    preloaded = _run(_BULK_PRELOAD)
    modules = set(preloaded["modules"])  # type: ignore[arg-type]
    unused = {
        "ingest.signatures.verify", "pyhanko.pdf_utils.reader", "pyhanko.sign.validation",
        "pyhanko_certvalidator.validate", "pyhanko_certvalidator.context",
    }
    assert unused & modules == set()
    assert "ingest.signatures.trust" in modules and "ingest.signatures.combined" in modules
    assert _different_tables(preloaded, lazy) == []


@pytest.mark.parametrize(
    ("extension", "oid"),
    [("qc_statements", "1.3.6.1.5.5.7.1.3"), ("no_rev_avail", "2.5.29.56")],
)
def test_a_trust_anchor_with_a_malformed_extension_is_refused_by_a_bulk_import_parent(
    extension: str, oid: str, tmp_path: Path,
) -> None:
    """Both extensions parse as opaque bytes in plain asn1crypto and are refused only with
    pyHanko's registrations (``qualified_asn1``, ``pyhanko_certvalidator.asn1_types``): the
    parent must refuse such an anchor as every verifier does, though it imports no validator."""
    trust = tmp_path / "trust"
    trust.mkdir()
    (trust / f"{extension}.pem").write_bytes(_self_signed_with(oid, bytes.fromhex("020101")))
    code = (
        f"{_BULK_PRELOAD}\n"
        "from ingest.signatures.trust import TrustStore\n"
        "from kho.errors import ConfigError\n"
        "try:\n"
        f"    TrustStore.from_dir({str(trust)!r})\n"
        "except ConfigError as exc:\n"
        "    print(exc.code)\n"
        "else:\n"
        "    print('accepted')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180,
                          check=False, env={**os.environ, "KHO_DATA_DIR": str(tmp_path / "kho")})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["TRUST_STORE_INVALID"]


def _self_signed_with(oid: str, value: bytes) -> bytes:
    """A self-signed CA certificate carrying the extension ``oid`` with the DER ``value``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID, ObjectIdentifier

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CA thử phần mở rộng hỏng")])
    start = datetime(2025, 1, 1, tzinfo=UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(start).not_valid_after(start + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.UnrecognizedExtension(ObjectIdentifier(oid), value), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize(
    "first",
    [
        # an encrypted document with a MAC makes the reader import pdfmac, which imports
        # pyhanko.sign.signers.pdf_byterange: this was a circular ImportError
        "import pyhanko.pdf_utils.crypt.pdfmac",
        "import pyhanko.sign.signers.pdf_signer",
        "from pyhanko.sign import signers",
        "import pyhanko.sign.timestamps",
        "from pyhanko.sign import *",
    ],
)
def test_signing_code_imports_in_any_order_after_verification(first: str) -> None:
    code = (
        "import ingest.signatures.verify\n"
        f"{first}\n"
        "import pyhanko.sign\n"
        "from pyhanko.sign import signers, fields, timestamps\n"
        "from pyhanko.sign.signers import pdf_signer\n"
        "from pyhanko.pdf_utils.crypt import pdfmac\n"
        "assert pyhanko.sign.PdfSigner is signers.PdfSigner is pdf_signer.PdfSigner\n"
        "assert pyhanko.sign.sign_pdf is signers.sign_pdf\n"
        "assert callable(pdfmac.validate_pdf_mac) and fields.SigFieldSpec\n"
        "assert timestamps.HTTPTimeStamper\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["ok"]


def test_verification_leaves_the_pkcs12_and_local_time_zone_modules_unrun(
    lazy: dict[str, object],
) -> None:
    """cryptography's PKCS#12 module (and with it ``cryptography.x509``) and ``tzlocal`` are
    imported by pyHanko's reader for decrypting with a key file and for writing "now":
    verification never runs them (start-up of ``kho verify``)."""
    modules = set(lazy["modules"])  # type: ignore[arg-type]
    assert "pyhanko.pdf_utils.crypt.pubkey" in modules and "pyhanko.pdf_utils.metadata.info" in modules
    assert "cryptography.x509" not in modules
    assert "tzlocal.unix" not in modules and "zoneinfo" not in modules


_USE_DEFERRED = """
import json, sys
import ingest.signatures.verify
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.crypt import pubkey
from pyhanko.pdf_utils.metadata import info
import tzlocal

out = {"same": serialization.pkcs12 is pubkey.pkcs12}
try:
    pubkey.pkcs12.load_key_and_certificates(b"not a PKCS#12 file", None)
except ValueError:
    out["pkcs12_ran"] = "cryptography.x509" in sys.modules
d = generic.DictionaryObject()
out["wrote_date"] = info._write_meta_date(d, "/ModDate", "now", False) and "/ModDate" in d
out["zone"] = str(tzlocal.get_localzone()) != ""
from cryptography.hazmat.primitives.serialization.pkcs12 import PKCS12KeyAndCertificates
out["class"] = PKCS12KeyAndCertificates.__name__
print(json.dumps(out))
"""


def test_the_deferred_modules_run_when_used() -> None:
    """Code that does use them (a key file, a date written) gets the real modules."""
    out = subprocess.run([sys.executable, "-c", _USE_DEFERRED], capture_output=True, text=True,
                         timeout=180, check=True).stdout
    assert json.loads(out.strip().splitlines()[-1]) == {
        "same": True, "pkcs12_ran": True, "wrote_date": True, "zone": True,
        "class": "PKCS12KeyAndCertificates",
    }
