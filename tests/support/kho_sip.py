"""Imported SIP packages for the tests of the import check (test_sip_hostile, f5's METS SIZE):
a good package folder of a closed permanent hồ sơ, the same as a zip with raw entries around
it, and the refusal an import of it must give."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
import time
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from kho_people import People
from kho_retention import closed_file

from kho.errors import KhoError
from retention.sip import Transfers
from web.context import Kho


def good_package(kho: Kho, people: People, tmp_path: Path, *, docs: int, notation: str = "01.VP") -> Path:
    """A good package folder of a closed permanent hồ sơ of ``docs`` documents (it passes every
    check); ``notation`` names the hồ sơ (one per package of an installation)."""
    file, _ = closed_file(kho, people, notation=notation, maintenance="Vĩnh viễn", docs=docs)
    return Transfers(kho.repo).build(file.record_id, tmp_path / "b", actor=people.actor("luu_tru")).root


def zipped(root: Path, out: Path, *, before: Iterable[tuple[str, bytes]] = (),
           after: Iterable[tuple[str, bytes]] = (), extras: Mapping[str, bytes] | None = None) -> Path:
    """The package folder as a zip, with raw entries written before and after its own;
    ``extras`` gives the extra field (both headers) of the entries it names (package-relative)."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in before:
            zf.writestr(name, data)
        for path in sorted(root.rglob("*")):
            if path.is_file():
                relative = path.relative_to(root).as_posix()
                info = zipfile.ZipInfo.from_file(path, f"{root.name}/{relative}")
                info.extra = (extras or {}).get(relative, b"")
                zf.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
        for name, data in after:
            zf.writestr(name, data)
    return out


class Pipe(io.RawIOBase):
    """A stream that cannot seek back (a pipe), keeping what is written to it in ``data``:
    zipfile writes a data descriptor after each entry there."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.data += b
        return len(b)


def streamed(root: Path, out: Path, *, compression: int) -> Path:
    """The package folder as a zip written to a pipe (no seeking back): every entry has a data
    descriptor after its data, as zipfile (and ``zip -``) writes it there."""
    pipe = Pipe()
    with zipfile.ZipFile(pipe, "w", compression) as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                with zf.open(f"{root.name}/{path.relative_to(root).as_posix()}", "w") as entry:
                    entry.write(path.read_bytes())
    out.write_bytes(bytes(pipe.data))
    return out


def refused(kho: Kho, people: People, archive: Path) -> KhoError:
    """The error importing ``archive`` raises: a 422 with a message, its code audited as
    ``transfer:import-rejected``."""
    from retention.sip_import import import_package

    with pytest.raises(KhoError) as info:
        import_package(kho.repo, archive, actor=people.actor("luu_tru"))
    assert info.value.message and info.value.http_status == 422
    last = [e for e in kho.repo.audit.events() if e.action.startswith("transfer:import")][-1]
    assert last.action == "transfer:import-rejected" and last.details["code"] == info.value.code
    return info.value


def replace_listed(root: Path, relative: str, content: bytes) -> None:
    """Write ``relative`` and fix its checksum and size in the package METS, as a sender who
    builds the hostile file before the manifest would."""
    path = root / relative
    old_sum, old_size = hashlib.sha256(path.read_bytes()).hexdigest().upper(), path.stat().st_size
    path.write_bytes(content)
    mets = root / "METS.xml"
    text = mets.read_text(encoding="utf-8")
    assert old_sum in text and f'SIZE="{old_size}"' in text
    mets.write_text(
        text.replace(old_sum, hashlib.sha256(content).hexdigest().upper()).replace(
            f'SIZE="{old_size}"', f'SIZE="{len(content)}"'
        ),
        encoding="utf-8",
    )


def replace_document(root: Path, relative: str, content: bytes) -> None:
    """Write the representation's document ``relative`` and fix everything that states its
    checksum and size (its representation METS, the PREMIS), then their own checksums in the
    package METS: the package a sender who changes a document after building it sends."""
    path = root / relative
    old_sum, old_size = hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size
    new_sum = hashlib.sha256(content).hexdigest()
    path.write_bytes(content)
    rep = Path(relative).parts[:2]
    rep_mets = "/".join(rep) + "/METS.xml"
    text = (root / rep_mets).read_text(encoding="utf-8")
    element = re.search(r'<mets:file [^>]*CHECKSUM="' + old_sum.upper() + r'"[^>]*>', text)
    assert element and f'SIZE="{old_size}"' in element.group(0)
    fixed = element.group(0).replace(old_sum.upper(), new_sum.upper())
    fixed = fixed.replace(f'SIZE="{old_size}"', f'SIZE="{len(content)}"')
    replace_listed(root, rep_mets, text.replace(element.group(0), fixed).encode())
    premis_path = "metadata/preservation/premis.xml"
    premis = (root / premis_path).read_text(encoding="utf-8")
    pattern = re.compile(
        "(" + old_sum + r"</premis:messageDigest>\s*</premis:fixity>\s*<premis:size>)" + str(old_size) + "<"
    )
    assert pattern.search(premis)
    premis = pattern.sub(lambda m: m.group(1).replace(old_sum, new_sum) + f"{len(content)}<", premis)
    replace_listed(root, premis_path, premis.encode())


README = "documentation/README.txt"


def listed_beside_readme(root: Path, name: str, content: bytes) -> None:
    """``name`` written beside the README and listed in the package METS with its checksum."""
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_bytes(content)
    mets = root / "METS.xml"
    text = mets.read_text(encoding="utf-8")
    found = re.search(
        r"<mets:file [^>]*>\s*<mets:FLocat [^>]*xlink:href=\"" + README + r"\"[^>]*/>\s*</mets:file>", text
    )
    assert found
    element = re.sub(
        r'CHECKSUM="[0-9A-F]+"', f'CHECKSUM="{hashlib.sha256(content).hexdigest().upper()}"', found.group(0)
    )
    element = re.sub(r'SIZE="\d+"', f'SIZE="{len(content)}"', element)
    element = re.sub(r'ID="([^"]+)"', r'ID="\1-twin"', element, count=1).replace(
        README, escape(name, {'"': "&quot;"})
    )
    mets.write_text(text.replace(found.group(0), found.group(0) + element), encoding="utf-8")


def wait_for_marker(
    marker: Path, process: subprocess.Popen[bytes], *, what: str, seconds: float = 180
) -> None:
    """Wait until ``process`` writes ``marker`` (it reached the point a test stops it at);
    fails if it ends first or takes longer than ``seconds``. ``what`` names the process."""
    deadline = time.monotonic() + seconds
    while not marker.exists():
        assert process.poll() is None, f"{what} ended before it wrote {marker.name}"
        assert time.monotonic() < deadline, f"{what} never wrote {marker.name}"
        time.sleep(0.05)
