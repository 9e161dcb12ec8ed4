"""rv27: packages from other agencies, what rv17 and rv24 left standing.

* An XInclude element in a package's XML (``<xi:include href="file:///etc/passwd"
  parse="text"/>`` inside the EAD, listed with its checksum): accepted on main; a tool of the
  archive that processes XInclude reads its own files, or fetches a URL, for the sender.
* Two entries whose names differ only by ``ı`` (dotless i) and ``i``: one file on Windows (the
  archive's share compares names by their upper case, both ``I``), two for ``casefold``: one
  overwrites the other there. Accepted on main.
* A data descriptor that disagrees with the central directory (its CRC or sizes), or a stored
  entry with a data descriptor whose data holds a zip signature: a stream reader (which takes
  the descriptor, or scans for the next signature to find a stored entry's end) reads another
  entry than zipfile does. Accepted on main.

Real services, real validator, real pyHanko."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

from kho_people import People
from kho_sip import good_package, listed_beside_readme, refused, replace_listed, streamed, zipped

from web.context import Kho

EAD = "metadata/descriptive/ead.xml"


def test_an_xinclude_in_a_package_s_xml_is_refused(kho: Kho, people: People, tmp_path: Path) -> None:
    root = good_package(kho, people, tmp_path, docs=1)
    text = (root / EAD).read_text(encoding="utf-8")
    include = (
        '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>'
    )
    close = text.rindex("</")
    replace_listed(root, EAD, (text[:close] + include + text[close:]).encode("utf-8"))

    error = refused(kho, people, zipped(root, tmp_path / "xinclude.zip"))

    assert error.code == "SIP_XML_UNSAFE" and error.details["file"] == EAD and "XInclude" in error.message


def test_names_that_differ_only_by_a_dotless_i_are_one_file_and_refused(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    root = good_package(kho, people, tmp_path, docs=1)
    listed_beside_readme(root, "documentation/Ghi chú i.txt", b"the note Kho checked")
    listed_beside_readme(root, "documentation/Ghi chú \u0131.txt", b"the note Windows keeps")
    error = refused(kho, people, zipped(root, tmp_path / "twins.zip"))
    assert error.code == "SIP_DUPLICATE_NAME"


def _descriptor_of(archive: Path, ending: str) -> int:
    """The offset of the CRC-32 in the data descriptor of the entry whose name ends in ``ending``."""
    raw = archive.read_bytes()
    with zipfile.ZipFile(archive) as zf:
        info = next(i for i in zf.infolist() if i.filename.endswith(ending))
    assert info.flag_bits & 0x08
    name_length, extra_length = struct.unpack_from("<2H", raw, info.header_offset + 26)
    end = info.header_offset + 30 + name_length + extra_length + info.compress_size
    assert raw[end : end + 4] == b"PK\x07\x08"
    return end + 4


def test_a_streamed_package_is_accepted(kho: Kho, people: People, tmp_path: Path) -> None:
    """The guard: a zip written to a pipe has data descriptors that agree."""
    root = good_package(kho, people, tmp_path, docs=1)
    deflated = streamed(root, tmp_path / "deflated.zip", compression=zipfile.ZIP_DEFLATED)
    stored = streamed(root, tmp_path / "stored.zip", compression=zipfile.ZIP_STORED)
    assert kho.import_package(deflated, actor=people.actor("luu_tru"))["files"] > 0
    # The same package stored: it passes every check of the zip, and is then the replay it is.
    assert refused(kho, people, stored).code == "SIP_REPLAYED"


def test_a_data_descriptor_that_disagrees_with_the_central_directory_is_refused(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    root = good_package(kho, people, tmp_path, docs=1)
    archive = streamed(root, tmp_path / "streamed.zip", compression=zipfile.ZIP_DEFLATED)
    raw = bytearray(archive.read_bytes())
    at = _descriptor_of(archive, "001_cv0.pdf")
    raw[at + 4 : at + 8] = struct.pack("<L", struct.unpack_from("<L", raw, at + 4)[0] - 1)  # its size
    archive.write_bytes(bytes(raw))
    with zipfile.ZipFile(archive) as zf:  # zipfile reads the central directory: no fault there
        assert zf.testzip() is None

    error = refused(kho, people, archive)

    assert error.code == "SIP_HIDDEN_ENTRY"


def test_a_stored_entry_with_a_descriptor_whose_data_holds_a_signature_is_refused(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    root = good_package(kho, people, tmp_path, docs=1)
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:  # a stream reader ends the entry here and reads on
        zf.writestr("003_an.pdf", b"%PDF-1.7 not checked by Kho")
    listed_beside_readme(root, "documentation/Phụ lục.bin", b"appendix" + inner.getvalue())
    archive = streamed(root, tmp_path / "stored.zip", compression=zipfile.ZIP_STORED)

    error = refused(kho, people, archive)

    assert error.code == "SIP_HIDDEN_ENTRY"


def test_a_local_zip64_size_that_disagrees_with_the_central_directory_is_refused(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    """A local header whose sizes are in its ZIP64 field (0xFFFFFFFF in the 32-bit ones) states
    a shorter stored length than the central directory: a stream reader ends the entry there and
    reads a local entry hidden in the rest of its data, which zipfile takes as the entry's."""
    root = good_package(kho, people, tmp_path, docs=1)
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("003_an.pdf", b"%PDF-1.7 not checked by Kho")
    visible = b"appendix"
    listed_beside_readme(root, "documentation/Phụ lục.bin", visible + inner.getvalue())
    archive = tmp_path / "zip64.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                name = f"{root.name}/{path.relative_to(root).as_posix()}"
                with zf.open(name, "w", force_zip64=name.endswith(".bin")) as entry:
                    entry.write(path.read_bytes())
    raw = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as zf:
        info = next(i for i in zf.infolist() if i.filename.endswith(".bin"))
    name_length = struct.unpack_from("<H", raw, info.header_offset + 26)[0]
    wide = info.header_offset + 30 + name_length + 4  # the local ZIP64 field's data
    assert struct.unpack_from("<2Q", raw, wide) == (info.file_size, info.compress_size)
    struct.pack_into("<2Q", raw, wide, len(visible), len(visible))
    archive.write_bytes(bytes(raw))
    with zipfile.ZipFile(archive) as zf:  # zipfile reads the central directory: no fault there
        assert zf.testzip() is None

    error = refused(kho, people, archive)

    assert error.code == "SIP_HIDDEN_ENTRY"
