"""Zip archives with one entry rewritten in place: what an attacker's or a broken tool's
archive looks like to a reader (flags, compression method, damaged data)."""

from __future__ import annotations

import struct


def patch_zip_entry(
    data: bytes, suffix: bytes, *, flag: int = 0, method: int | None = None, scramble: int | None = None
) -> bytes:
    """``data`` (a zip archive) with the entry whose name ends in ``suffix`` given the
    general-purpose ``flag`` bits and the compression ``method`` in both its local and central
    headers, or 40 of its compressed bytes scrambled from offset ``scramble``."""
    out = bytearray(data)
    for signature, name_at, flags_at in ((b"PK\x03\x04", 26, 6), (b"PK\x01\x02", 28, 8)):
        at = out.find(signature)
        while at >= 0:
            length = struct.unpack_from("<H", out, at + name_at)[0]
            start = at + (30 if signature == b"PK\x03\x04" else 46)
            if bytes(out[start : start + length]).endswith(suffix):
                flags = struct.unpack_from("<H", out, at + flags_at)[0]
                struct.pack_into("<H", out, at + flags_at, flags | flag)
                if method is not None:
                    struct.pack_into("<H", out, at + flags_at + 2, method)
                if scramble is not None and signature == b"PK\x03\x04":
                    body = start + length + struct.unpack_from("<H", out, at + 28)[0] + scramble
                    for i in range(body, body + 40):
                        out[i] ^= 0xA5
            at = out.find(signature, at + 4)
    return bytes(out)


def bare_central_directory(entries: int, *, head: bytes = b"") -> bytes:
    """A zip of ``entries`` empty files that has only a central directory (all zipfile reads
    when it opens a file) after ``head``, with an end record whose counts say 0: about 47
    bytes an entry, so a million of them fit in 50 MB."""
    header = struct.Struct("<4s6H3L5H2L")
    records = bytearray()
    for i in range(entries):
        name = b"p/%x" % i
        records += header.pack(b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0, 0, len(records), len(head), 0)
    return head + bytes(records) + end


def rewrite_entry_header(
    data: bytes, name: bytes, *, new_name: bytes | None = None, local: bool = True,
    central: bool = True, version: int | None = None
) -> bytes:
    """``data`` (a zip archive) with the entry called ``name`` renamed in place to ``new_name``
    (as many bytes; its flags kept, so a name zipfile wrote as UTF-8 stays marked UTF-8) in its
    local and/or central header, and its central "version needed to extract" set to ``version``."""
    assert new_name is None or len(new_name) == len(name)
    out = bytearray(data)
    found = 0
    for signature, name_at, wanted in ((b"PK\x03\x04", 26, local), (b"PK\x01\x02", 28, central)):
        at = out.find(signature)
        while at >= 0:
            length = struct.unpack_from("<H", out, at + name_at)[0]
            start = at + (30 if signature == b"PK\x03\x04" else 46)
            if bytes(out[start : start + length]) == name:
                found += 1
                if wanted and new_name is not None:
                    out[start : start + length] = new_name
                if signature == b"PK\x01\x02" and version is not None:
                    struct.pack_into("<H", out, at + 6, version)
            at = out.find(signature, at + 4)
    assert found == 2, found
    return bytes(out)
