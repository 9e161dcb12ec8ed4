"""The bomb guard's ASCII85 decoder (``guards._a85decode``) is :func:`base64.a85decode`: the same
bytes, and a ``ValueError`` for exactly the inputs the standard library refuses; the guard's
answer on every corpus PDF and on ASCII85 bombs is the one it gives with the standard decoder."""

from __future__ import annotations

import base64
import os
import random
import zlib
from pathlib import Path

import pytest
from pdf_objects import pdf_from_objects

from ingest.text import TextSettings, guards
from ingest.text.guards import check_pdf_streams

SHARED = Path(os.environ.get("KHO_SHARED_DIR", Path(__file__).resolve().parents[3] / "shared"))
CORPUS = SHARED / "corpora" / "pdf"


def _outcome(decode: object, data: bytes, adobe: bool) -> bytes | str:
    try:
        return decode(data, adobe=adobe)  # type: ignore[operator]
    except ValueError:
        return "ValueError"


def _inputs() -> list[bytes]:
    rng = random.Random(14)
    pieces = [bytes([c]) for c in range(33, 118)] + [
        b"z",
        b"z",
        b" ",
        b"\n",
        b"\r",
        b"\t",
        b"\v",
        b"\f",
        b"\0",
        b"~",
        b"~>",
        b"<~",
        b"y",
        b"v",
        b"\x80",
        b"uuuuu",
        b"s8W-!",
        b's8W-"',
    ]
    cases = [b"", b"z", b"!", b"!!", b"uuuuu", b"s8W-!", b's8W-"', b"<~~>", b"~>", b"zz!!!!!z"]
    for _ in range(20000):
        cases.append(b"".join(rng.choice(pieces) for _ in range(rng.randrange(0, 30))))
        encoded = base64.a85encode(
            rng.randbytes(rng.randrange(0, 60)),
            adobe=rng.random() < 0.5,
            wrapcol=rng.choice([0, 0, 7, 75]),
        )
        if encoded and rng.random() < 0.3:  # one character replaced: mostly refused
            at = rng.randrange(len(encoded))
            encoded = encoded[:at] + rng.choice(pieces) + encoded[at + 1 :]
        cases.append(encoded)
    cases.append(base64.a85encode(zlib.compress(rng.randbytes(300_000)), wrapcol=80))
    cases.append(base64.a85encode(bytes(40_000)))  # all "z"
    return cases


@pytest.mark.parametrize("adobe", [False, True])
def test_the_guard_decodes_ascii85_as_the_standard_library(adobe: bool) -> None:
    refused = 0
    inputs = _inputs()
    for data in inputs:
        expected = _outcome(base64.a85decode, data, adobe)
        assert _outcome(guards._a85decode, data, adobe) == expected, data[:80]
        refused += expected == "ValueError"
    assert 1000 < refused < len(inputs) - 1000  # both kinds of answer were compared


SMALL = TextSettings(max_pdf_inflated_bytes=1 << 20, max_pdf_inflate_ratio=20)
"""Limits that an 8 MiB stream passes (a bomb that is quick to make)."""


def _guard_answer(data: bytes, settings: TextSettings) -> str:
    try:
        check_pdf_streams(data, settings)
    except Exception as exc:
        return f"{type(exc).__name__}:{getattr(exc, 'code', '')}:{getattr(exc, 'details', '')}"
    return "passed"


def _a85_flate_pdf(payload: bytes) -> bytes:
    body = base64.a85encode(zlib.compress(payload, 9), adobe=True, wrapcol=72)
    return pdf_from_objects(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [] /Count 0 >>",
            b"<< /Length %d /Filter [/ASCII85Decode /FlateDecode] >>\nstream\n" % len(body)
            + body
            + b"\nendstream",
        ]
    )


def test_the_guard_answers_every_corpus_pdf_as_with_the_standard_decoder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = sorted(CORPUS.glob("*.pdf"))
    assert len(files) >= 40
    documents = [(f.read_bytes(), TextSettings()) for f in files] + [
        (_a85_flate_pdf(b"x" * 1000), SMALL),
        (_a85_flate_pdf(bytes(8 << 20)), SMALL),
    ]
    fast = [_guard_answer(*d) for d in documents]
    with monkeypatch.context() as patch:
        patch.setattr(guards, "_a85decode", base64.a85decode)
        standard = [_guard_answer(*d) for d in documents]
    assert fast == standard
    assert fast[-2] == "passed" and fast[-1].startswith("FileBomb:")  # the made ones do differ
