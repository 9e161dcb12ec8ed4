"""Transfer packages for the Lưu trữ lịch sử: SIPs derived from E-ARK CSIP (TT 05/2025).

A closed hồ sơ kept “Vĩnh viễn” becomes one information package::

    <OBJID>/METS.xml                               root METS (CSIP + E-ARK SIP profile)
    <OBJID>/metadata/descriptive/ead.xml           EAD: the hồ sơ and its documents (mục lục)
    <OBJID>/metadata/preservation/premis.xml       PREMIS: objects, fixity, events, agents
    <OBJID>/representations/rep1/METS.xml          the representation's METS
    <OBJID>/representations/rep1/data/NN_<name>    the originals, as stored (checked on read)

Every file carries its SHA-256 and size; every date is ISO 8601 with +07:00. Before it is sent
a package is checked by Kho (checksums, layout) *and* by an independent E-ARK validator
(``eark-validator`` from PyPI, run in its own environment by :func:`validate_with_eark`); an
imported package goes through the same checks after a safe extraction (:mod:`retention.sip_import`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import unicodedata
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from kho.errors import KhoError
from kho.timeutil import to_iso_utc, to_vn, vn_date
from kho.xmltext import xml_bytes, xml_safe
from repository import formats
from repository.metadata import MAINTENANCE_PERMANENT, DocumentMetadata, FileMetadata
from repository.policy import ALLOW, UNKNOWN_RECORD, Action, Decision, decide, unknown
from repository.records import KIND_FILE, UNOPENABLE, Actor, Record, Repository
from repository.vocabulary import blank, typed_text
from retention.destruction import closed_on
from retention.workflow import Versions

METS_NS = "http://www.loc.gov/METS/"
XLINK_NS = "http://www.w3.org/1999/xlink"
CSIP_NS = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"
SIP_NS = "https://DILCIS.eu/XML/METS/SIPExtensionMETS"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
EAD_NS = "urn:isbn:1-931666-22-9"
PREMIS_NS = "http://www.loc.gov/premis/v3"
CSIP_PROFILE = "https://earksip.dilcis.eu/profile/E-ARK-SIP.xml"
SOFTWARE = "Kho"
SOFTWARE_VERSION = "1.0"

for prefix, uri in (
    ("mets", METS_NS),
    ("xlink", XLINK_NS),
    ("csip", CSIP_NS),
    ("sip", SIP_NS),
    ("xsi", XSI_NS),
    ("ead", EAD_NS),
    ("premis", PREMIS_NS),
):
    ET.register_namespace(prefix, uri)


class SipError(KhoError):
    http_status = 422


@dataclass(frozen=True)
class PackedFile:
    path: str
    """Relative to the package root, ``/``-separated."""
    size: int
    sha256: str
    mime: str


@dataclass(frozen=True)
class ValidationResult:
    """The independent validator's verdict on one package."""

    valid: bool
    errors: tuple[dict[str, Any], ...] = ()
    warnings: int = 0
    validator: str = ""


OMISSION_REASONS: dict[str, str] = {
    "destroyed": "đã hủy theo quyết định hủy tài liệu, không còn tệp gốc",
    "no_file": "chỉ có dữ liệu đặc tả, không có tệp gốc",
}
"""Why a document of the hồ sơ is not in its package (code → Vietnamese)."""


@dataclass(frozen=True)
class OmittedDocument:
    """A document of the hồ sơ that its package does not carry, and why (:data:`OMISSION_REASONS`):
    named to the person exporting and in the package's own description, never left out silently."""

    record_id: str
    label: str
    """Its số, ký hiệu (or its id when it has none)."""
    reason: str

    @property
    def message(self) -> str:
        return f"{self.label} ({self.record_id}): {OMISSION_REASONS[self.reason]}"

    def to_dict(self) -> dict[str, str]:
        return {
            "record_id": self.record_id,
            "label": self.label,
            "reason": self.reason,
            "message": self.message,
        }


@dataclass(frozen=True)
class Package:
    object_id: str
    root: Path
    files: tuple[PackedFile, ...] = field(default_factory=tuple)
    omitted: tuple[OmittedDocument, ...] = ()
    """Documents of the hồ sơ left out of the package (described in its EAD and documentation)."""

    @property
    def bytes(self) -> int:
        return sum(f.size for f in self.files)


def vn_iso(moment: datetime) -> str:
    """ISO 8601 with the +07:00 offset (no microseconds)."""
    return to_vn(moment).replace(microsecond=0).isoformat()


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def safe_name(name: str) -> str:
    """A file name for inside a package: ASCII letters, digits, ``._-``; no path."""
    folded = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    ascii_name = folded.encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_name).strip("._") or "file"
    return cleaned[:100]


def package_id(file_code: str) -> str:
    """The package's name (its OBJID after ``urn:kho:``, and its folder) for a mã hồ sơ: the
    code itself when :func:`safe_name` keeps it as it is, else the safe name and 12 hex digits
    of the code's SHA-256. Two hồ sơ must never share a package identity at the historical
    archive (which takes a second package of one OBJID as a new version of the first), and
    safe_name folds distinct codes together: ``….01.ĐT`` and ``….01.DT`` both gave
    ``….01.DT``."""
    safe = safe_name(file_code)
    if safe == file_code:
        return safe
    return f"{safe[:80]}-{hashlib.sha256(file_code.encode()).hexdigest()[:12]}"


def _write(root: Path, rel: str, data: bytes, mime: str) -> PackedFile:
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return PackedFile(rel, len(data), hashlib.sha256(data).hexdigest(), mime)


def _xml(element: ET.Element) -> bytes:
    """Every XML file of a package: well-formed whatever stored text it carries (a title or trích
    yếu stored before control characters were refused: :func:`kho.xmltext.xml_bytes`)."""
    return xml_bytes(element)


_CIT = {
    _q(CSIP_NS, "CONTENTINFORMATIONTYPE"): "OTHER",
    _q(CSIP_NS, "OTHERCONTENTINFORMATIONTYPE"): "TT05/2025/TT-BNV",
}
"""Content information type of each file group: the Vietnamese archival package rules."""


def _file_attrs(f: PackedFile, file_id: str, created: str) -> dict[str, str]:
    return {
        "ID": file_id,
        "MIMETYPE": f.mime,
        "SIZE": str(f.size),
        "CREATED": created,
        "CHECKSUM": f.sha256.upper(),
        "CHECKSUMTYPE": "SHA-256",
    }


def _flocat(parent: ET.Element, href: str) -> None:
    ET.SubElement(
        parent,
        _q(METS_NS, "FLocat"),
        {"LOCTYPE": "URL", _q(XLINK_NS, "type"): "simple", _q(XLINK_NS, "href"): href},
    )


def _md_ref(parent: ET.Element, f: PackedFile, mdtype: str, created: str) -> None:
    """The METS reference to a metadata file of the package (EAD, PREMIS): where it is, its
    size and SHA-256, as the package's checks (here and in :mod:`retention.sip_import`) read it."""
    ET.SubElement(
        parent,
        _q(METS_NS, "mdRef"),
        {
            "LOCTYPE": "URL",
            _q(XLINK_NS, "type"): "simple",
            _q(XLINK_NS, "href"): f.path,
            "MDTYPE": mdtype,
            "MIMETYPE": f.mime,
            "SIZE": str(f.size),
            "CREATED": created,
            "CHECKSUM": f.sha256.upper(),
            "CHECKSUMTYPE": "SHA-256",
        },
    )


def _mets_root(
    object_id: str,
    label: str,
    created: str,
    *,
    content_type: str = "Mixed",
    agency: tuple[str, str] | None = None,
) -> ET.Element:
    mets = ET.Element(
        _q(METS_NS, "mets"),
        {
            "OBJID": object_id,
            "LABEL": label,
            "TYPE": content_type,
            "PROFILE": CSIP_PROFILE,
            _q(CSIP_NS, "CONTENTINFORMATIONTYPE"): "MIXED",
            _q(XSI_NS, "schemaLocation"): f"{METS_NS} schemas/mets.xsd {XLINK_NS} schemas/xlink.xsd"
            f" {CSIP_NS} schemas/DILCISExtensionMETS.xsd {SIP_NS} schemas/DILCISExtensionSIPMETS.xsd",
        },
    )
    hdr = ET.SubElement(
        mets,
        _q(METS_NS, "metsHdr"),
        {
            "CREATEDATE": created,
            "LASTMODDATE": created,
            "RECORDSTATUS": "NEW",
            _q(CSIP_NS, "OAISPACKAGETYPE"): "SIP",
        },
    )
    agent = ET.SubElement(
        hdr, _q(METS_NS, "agent"), {"ROLE": "CREATOR", "TYPE": "OTHER", "OTHERTYPE": "SOFTWARE"}
    )
    ET.SubElement(agent, _q(METS_NS, "name")).text = SOFTWARE
    ET.SubElement(
        agent, _q(METS_NS, "note"), {_q(CSIP_NS, "NOTETYPE"): "SOFTWARE VERSION"}
    ).text = SOFTWARE_VERSION
    if agency is not None:
        # The organisation that submits: an ARCHIVIST-role agent (CSIP keeps CREATOR for the software).
        organ_id, name = agency
        org = ET.SubElement(hdr, _q(METS_NS, "agent"), {"ROLE": "ARCHIVIST", "TYPE": "ORGANIZATION"})
        ET.SubElement(org, _q(METS_NS, "name")).text = name
        ET.SubElement(
            org, _q(METS_NS, "note"), {_q(CSIP_NS, "NOTETYPE"): "IDENTIFICATIONCODE"}
        ).text = organ_id
    return mets


def _ead(file: Record, docs: Sequence[Record], agency: str, omitted: Sequence[OmittedDocument] = ()) -> bytes:
    md = file.metadata
    assert isinstance(md, FileMetadata)
    ead = ET.Element(_q(EAD_NS, "ead"))
    header = ET.SubElement(ead, _q(EAD_NS, "eadheader"))
    ET.SubElement(header, _q(EAD_NS, "eadid")).text = md.file_code
    desc = ET.SubElement(header, _q(EAD_NS, "filedesc"))
    title = ET.SubElement(desc, _q(EAD_NS, "titlestmt"))
    ET.SubElement(title, _q(EAD_NS, "titleproper")).text = md.title
    arch = ET.SubElement(ead, _q(EAD_NS, "archdesc"), {"level": "file"})
    did = ET.SubElement(arch, _q(EAD_NS, "did"))
    ET.SubElement(did, _q(EAD_NS, "unitid")).text = md.file_code
    ET.SubElement(did, _q(EAD_NS, "unittitle")).text = md.title
    end = closed_on(file)
    dates = f"{md.start_date.isoformat()}/{end.isoformat() if end else ''}"
    ET.SubElement(did, _q(EAD_NS, "unitdate"), {"normal": dates}).text = dates
    ET.SubElement(did, _q(EAD_NS, "origination")).text = agency
    ET.SubElement(did, _q(EAD_NS, "langmaterial")).text = md.language
    access = ET.SubElement(arch, _q(EAD_NS, "accessrestrict"))
    ET.SubElement(
        access, _q(EAD_NS, "p")
    ).text = f"Chế độ sử dụng: {md.rights}; thời hạn bảo quản: {md.maintenance}"
    dsc = ET.SubElement(arch, _q(EAD_NS, "dsc"))
    for n, doc in enumerate(docs, 1):
        dmd = doc.metadata
        c = ET.SubElement(dsc, _q(EAD_NS, "c"), {"level": "item", "id": f"doc-{n:03d}"})
        cdid = ET.SubElement(c, _q(EAD_NS, "did"))
        ET.SubElement(cdid, _q(EAD_NS, "unitid")).text = (
            dmd.so_ky_hieu if isinstance(dmd, DocumentMetadata) else None
        ) or doc.record_id
        ET.SubElement(cdid, _q(EAD_NS, "unittitle")).text = (
            f"{dmd.type_name}: {dmd.subject}" if isinstance(dmd, DocumentMetadata) else doc.record_id
        )
        if isinstance(dmd, DocumentMetadata) and dmd.issued_date:
            ET.SubElement(
                cdid, _q(EAD_NS, "unitdate"), {"normal": dmd.issued_date.isoformat()}
            ).text = dmd.issued_date.isoformat()
        if isinstance(dmd, DocumentMetadata):
            ET.SubElement(cdid, _q(EAD_NS, "origination")).text = dmd.organ_name
    for n, left in enumerate(omitted, 1):  # described, with why its file is absent
        c = ET.SubElement(dsc, _q(EAD_NS, "c"), {"level": "item", "id": f"omitted-{n:03d}"})
        cdid = ET.SubElement(c, _q(EAD_NS, "did"))
        ET.SubElement(cdid, _q(EAD_NS, "unitid")).text = left.label
        ET.SubElement(cdid, _q(EAD_NS, "unittitle")).text = left.label
        info = ET.SubElement(c, _q(EAD_NS, "processinfo"))
        ET.SubElement(
            info, _q(EAD_NS, "p")
        ).text = f"Không có trong gói tin: {OMISSION_REASONS[left.reason]} (mã {left.record_id})."
    return _xml(ead)


def _premis(files: Sequence[PackedFile], created: str, who: str) -> bytes:
    premis = ET.Element(_q(PREMIS_NS, "premis"), {"version": "3.0"})
    for n, f in enumerate(files, 1):
        obj = ET.SubElement(premis, _q(PREMIS_NS, "object"), {_q(XSI_NS, "type"): "premis:file"})
        ident = ET.SubElement(obj, _q(PREMIS_NS, "objectIdentifier"))
        ET.SubElement(ident, _q(PREMIS_NS, "objectIdentifierType")).text = "local"
        ET.SubElement(ident, _q(PREMIS_NS, "objectIdentifierValue")).text = f.path
        chars = ET.SubElement(obj, _q(PREMIS_NS, "objectCharacteristics"))
        fixity = ET.SubElement(chars, _q(PREMIS_NS, "fixity"))
        ET.SubElement(fixity, _q(PREMIS_NS, "messageDigestAlgorithm")).text = "SHA-256"
        ET.SubElement(fixity, _q(PREMIS_NS, "messageDigest")).text = f.sha256
        ET.SubElement(chars, _q(PREMIS_NS, "size")).text = str(f.size)
        fmt = ET.SubElement(ET.SubElement(chars, _q(PREMIS_NS, "format")), _q(PREMIS_NS, "formatDesignation"))
        ET.SubElement(fmt, _q(PREMIS_NS, "formatName")).text = f.mime
        del n
    for kind, detail in (
        ("creation", "Gói tin SIP được lập từ hồ sơ đã kết thúc"),
        ("message digest calculation", "SHA-256 của từng tệp"),
    ):
        event = ET.SubElement(premis, _q(PREMIS_NS, "event"))
        eid = ET.SubElement(event, _q(PREMIS_NS, "eventIdentifier"))
        ET.SubElement(eid, _q(PREMIS_NS, "eventIdentifierType")).text = "local"
        ET.SubElement(eid, _q(PREMIS_NS, "eventIdentifierValue")).text = f"event-{uuid.uuid4().hex[:12]}"
        ET.SubElement(event, _q(PREMIS_NS, "eventType")).text = kind
        ET.SubElement(event, _q(PREMIS_NS, "eventDateTime")).text = created
        info = ET.SubElement(event, _q(PREMIS_NS, "eventDetailInformation"))
        ET.SubElement(info, _q(PREMIS_NS, "eventDetail")).text = detail
        link = ET.SubElement(event, _q(PREMIS_NS, "linkingAgentIdentifier"))
        ET.SubElement(link, _q(PREMIS_NS, "linkingAgentIdentifierType")).text = "local"
        ET.SubElement(link, _q(PREMIS_NS, "linkingAgentIdentifierValue")).text = who
    for name, kind in ((who, "person"), (f"{SOFTWARE} {SOFTWARE_VERSION}", "software")):
        agent = ET.SubElement(premis, _q(PREMIS_NS, "agent"))
        aid = ET.SubElement(agent, _q(PREMIS_NS, "agentIdentifier"))
        ET.SubElement(aid, _q(PREMIS_NS, "agentIdentifierType")).text = "local"
        ET.SubElement(aid, _q(PREMIS_NS, "agentIdentifierValue")).text = name
        ET.SubElement(agent, _q(PREMIS_NS, "agentName")).text = name
        ET.SubElement(agent, _q(PREMIS_NS, "agentType")).text = kind
    return _xml(premis)


def _structmap(mets: ET.Element, object_id: str) -> ET.Element:
    smap = ET.SubElement(
        mets, _q(METS_NS, "structMap"), {"ID": "structmap-csip", "TYPE": "PHYSICAL", "LABEL": "CSIP"}
    )
    return ET.SubElement(smap, _q(METS_NS, "div"), {"ID": "div-root", "LABEL": object_id})


def _representation_mets(object_id: str, data: Sequence[PackedFile], created: str) -> bytes:
    mets = _mets_root(f"{object_id}-rep1", "rep1", created)
    file_sec = ET.SubElement(mets, _q(METS_NS, "fileSec"), {"ID": "filesec-rep1"})
    grp = ET.SubElement(file_sec, _q(METS_NS, "fileGrp"), {"ID": "filegrp-data", "USE": "Data", **_CIT})
    for n, f in enumerate(data, 1):
        el = ET.SubElement(grp, _q(METS_NS, "file"), _file_attrs(f, f"file-{n:04d}", created))
        _flocat(el, f.path.split("representations/rep1/", 1)[1])
    root = _structmap(mets, f"{object_id}-rep1")
    div = ET.SubElement(root, _q(METS_NS, "div"), {"ID": "div-data", "LABEL": "Data"})
    for n in range(1, len(data) + 1):
        ET.SubElement(div, _q(METS_NS, "fptr"), {"FILEID": f"file-{n:04d}"})
    return _xml(mets)


SCHEMAS = Path(__file__).with_name("eark") / "schemas"
"""The XML schemas a package uses, shipped inside it (CSIP113)."""

README = """Gói tin nộp lưu vào Lưu trữ lịch sử (SIP theo E-ARK CSIP/SIP 2.1.0), do phần mềm Kho lập.
METS.xml: cấu trúc gói tin; metadata/descriptive/ead.xml: mô tả hồ sơ và mục lục văn bản (EAD);
metadata/preservation/premis.xml: thông tin bảo quản (PREMIS 3), mã băm SHA-256 từng tệp;
representations/rep1/data: các tệp gốc của văn bản trong hồ sơ.
documentation/omitted.txt (nếu có): văn bản của hồ sơ không có tệp trong gói tin và lý do.
"""

OMITTED_HEADER = (
    "Văn bản của hồ sơ không có tệp trong gói tin này (vẫn được mô tả trong metadata/descriptive/ead.xml):\n"
)


def write_package(
    out_dir: Path,
    file: Record,
    documents: Sequence[tuple[Record, str, bytes]],
    *,
    agency: str,
    who: str,
    now: datetime,
    organ_id: str = "",
    omitted: Sequence[OmittedDocument] = (),
) -> Package:
    """Lay out one package under ``out_dir/<OBJID>`` (pure apart from writing the files).
    ``documents``: (record, original name, bytes) in the hồ sơ's order; ``omitted``: the hồ sơ's
    documents without a file to carry, each described in the EAD (``processinfo``) and listed
    in ``documentation/omitted.txt``."""
    md = file.metadata
    assert isinstance(md, FileMetadata)
    folder = package_id(md.file_code)
    object_id = f"urn:kho:{folder}"
    root = out_dir / folder
    if root.exists():
        shutil.rmtree(root)
    created = vn_iso(now)
    data: list[PackedFile] = []
    for n, (_, name, content) in enumerate(documents, 1):
        data.append(
            _write(
                root,
                f"representations/rep1/data/{n:03d}_{safe_name(name)}",
                content,
                "application/pdf" if content.startswith(b"%PDF") else "application/octet-stream",
            )
        )
    rep_mets = _write(
        root, "representations/rep1/METS.xml", _representation_mets(object_id, data, created), "text/xml"
    )
    ead = _write(
        root,
        "metadata/descriptive/ead.xml",
        _ead(file, [d for d, _, _ in documents], agency, omitted),
        "text/xml",
    )
    premis = _write(root, "metadata/preservation/premis.xml", _premis(data, created, who), "text/xml")
    docs = [_write(root, "documentation/README.txt", README.encode(), "text/plain")]
    if omitted:
        listing = OMITTED_HEADER + "".join(f"{n}. {o.message}\n" for n, o in enumerate(omitted, 1))
        # Its labels are stored số, ký hiệu: shown as the EAD shows them (a lone surrogate of an
        # old text cannot even be encoded as UTF-8).
        docs.append(_write(root, "documentation/omitted.txt", xml_safe(listing).encode(), "text/plain"))
    schemas = [
        _write(root, f"schemas/{p.name}", p.read_bytes(), "text/xml") for p in sorted(SCHEMAS.glob("*.xsd"))
    ]

    mets = _mets_root(object_id, md.title, created, agency=(organ_id or md.organ_id, agency))
    dmd = ET.SubElement(
        mets, _q(METS_NS, "dmdSec"), {"ID": "dmd-ead", "CREATED": created, "STATUS": "CURRENT"}
    )
    _md_ref(dmd, ead, "EAD", created)
    amd = ET.SubElement(mets, _q(METS_NS, "amdSec"), {"ID": "amd"})
    digi = ET.SubElement(
        amd, _q(METS_NS, "digiprovMD"), {"ID": "digiprov-premis", "CREATED": created, "STATUS": "CURRENT"}
    )
    _md_ref(digi, premis, "PREMIS", created)
    file_sec = ET.SubElement(mets, _q(METS_NS, "fileSec"), {"ID": "filesec"})
    for use, group_id, group in (
        ("Documentation", "filegrp-doc", docs),
        ("Schemas", "filegrp-schemas", schemas),
    ):
        grp = ET.SubElement(file_sec, _q(METS_NS, "fileGrp"), {"ID": group_id, "USE": use, **_CIT})
        for n, f in enumerate(group, 1):
            el = ET.SubElement(grp, _q(METS_NS, "file"), _file_attrs(f, f"{group_id}-{n:02d}", created))
            _flocat(el, f.path)
    grp = ET.SubElement(
        file_sec, _q(METS_NS, "fileGrp"), {"ID": "filegrp-rep1", "USE": "Representations/rep1", **_CIT}
    )
    el = ET.SubElement(grp, _q(METS_NS, "file"), _file_attrs(rep_mets, "file-rep1-mets", created))
    _flocat(el, rep_mets.path)
    root_div = _structmap(mets, object_id)
    ET.SubElement(
        root_div,
        _q(METS_NS, "div"),
        {"ID": "div-metadata", "LABEL": "Metadata", "DMDID": "dmd-ead", "ADMID": "digiprov-premis"},
    )
    for label, group_id, group in (
        ("Documentation", "filegrp-doc", docs),
        ("Schemas", "filegrp-schemas", schemas),
    ):
        div = ET.SubElement(root_div, _q(METS_NS, "div"), {"ID": f"div-{group_id}", "LABEL": label})
        for n in range(1, len(group) + 1):
            ET.SubElement(div, _q(METS_NS, "fptr"), {"FILEID": f"{group_id}-{n:02d}"})
    reps = ET.SubElement(
        root_div, _q(METS_NS, "div"), {"ID": "div-representations", "LABEL": "Representations"}
    )
    ET.SubElement(reps, _q(METS_NS, "fptr"), {"FILEID": "file-rep1-mets"})
    rep_div = ET.SubElement(reps, _q(METS_NS, "div"), {"ID": "div-rep1", "LABEL": "Representations/rep1"})
    ET.SubElement(
        rep_div,
        _q(METS_NS, "mptr"),
        {
            "LOCTYPE": "URL",
            _q(XLINK_NS, "type"): "simple",
            _q(XLINK_NS, "href"): rep_mets.path,
            _q(XLINK_NS, "title"): "filegrp-rep1",
        },
    )
    root_mets = _write(root, "METS.xml", _xml(mets), "text/xml")
    return Package(
        object_id, root, (root_mets, ead, premis, *docs, *schemas, rep_mets, *data), tuple(omitted)
    )


def zip_package(package: Package, target: Path) -> str:
    """Zip the package folder (its folder name at the top, as E-ARK expects); SHA-256 of the zip."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(package.root.rglob("*")):
            if path.is_file():
                zf.write(path, f"{package.root.name}/{path.relative_to(package.root).as_posix()}")
    digest = hashlib.sha256()
    with target.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# -- the independent validator --------------------------------------------------------------------
LAUNCHER = Path(__file__).with_name("eark") / "launcher.py"


def validator_python() -> Path:
    """The Python of the validator's own environment (``scripts/install.sh`` makes it)."""
    configured = os.environ.get("KHO_EARK_DIR")
    if configured:
        return Path(configured) / "bin" / "python"
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "kho" / "eark-validator" / "bin" / "python"


def validate_with_eark(path: Path, *, timeout: float = 300) -> ValidationResult:
    """Run ``eark-validator`` (E-ARK CSIP/SIP 2.1.0) on a package folder or zip."""
    python = validator_python()
    if not python.exists():
        raise SipError(
            "Chưa cài công cụ kiểm tra gói tin E-ARK (chạy scripts/install.sh).",
            code="VALIDATOR_UNAVAILABLE",
            path=str(python),
        )
    try:
        run = subprocess.run(
            [str(python), str(LAUNCHER), str(path)], capture_output=True, timeout=timeout, check=False
        )
        line = run.stdout.decode().strip().splitlines()[-1]
        report = json.loads(line)
    except (subprocess.TimeoutExpired, IndexError, ValueError, OSError) as exc:
        raise SipError("Công cụ kiểm tra gói tin E-ARK không chạy được.", code="VALIDATOR_FAILED") from exc
    return ValidationResult(
        bool(report["valid"]),
        tuple(report["errors"]),
        int(report["warnings"]),
        "eark-validator 1.1.3 (E-ARK CSIP/SIP 2.1.0)",
    )


# -- the service ------------------------------------------------------------------------------------
TRANSFER_YEARS = 5
"""Permanent hồ sơ pass to the Lưu trữ lịch sử within 5 years of their nộp lưu into the agency's
archive (Luật Lưu trữ 2024)."""
TRANSFER_HORIZON_DAYS = 180
"""How far ahead :func:`transfers_due` lists hồ sơ whose transfer falls due."""


def transfer_due(archived_on: date) -> date:
    """The last day to transfer a permanent hồ sơ accepted into the agency archive on
    ``archived_on`` (pure; 29 February falls back to the 28th)."""
    try:
        return archived_on.replace(year=archived_on.year + TRANSFER_YEARS)
    except ValueError:
        return archived_on.replace(year=archived_on.year + TRANSFER_YEARS, day=28)


@dataclass(frozen=True)
class TransferDue:
    """A permanent hồ sơ in the agency archive whose transfer is due soon or overdue."""

    record_id: str
    notation: str
    title: str
    archived_on: date
    due: date
    overdue: bool


def transfers_due(
    files: Sequence[tuple[str, str, str, str, date | None]],
    transferred: set[str],
    today: date,
    horizon_days: int = TRANSFER_HORIZON_DAYS,
) -> list[TransferDue]:
    """Of ``files`` (record id, notation, title, maintenance, date accepted into the agency
    archive), the permanent ones not yet ``transferred`` whose 5-year transfer deadline falls
    within ``horizon_days`` of ``today`` or has passed — most urgent first (pure)."""
    out = []
    for record_id, notation, title, maintenance, archived_on in files:
        if maintenance != MAINTENANCE_PERMANENT or archived_on is None or record_id in transferred:
            continue
        due = transfer_due(archived_on)
        if (due - today).days <= horizon_days:
            out.append(TransferDue(record_id, notation, title, archived_on, due, due < today))
    return sorted(out, key=lambda d: (d.due, d.record_id))


class Transfers:
    """Build, check, export SIPs of closed permanent hồ sơ and record their receipt."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.transfers = Versions(
            repo.store, "transfers", formats.TRANSFER_RECEIPT.name, "lượt nộp lưu lịch sử"
        )

    def build(self, file_id: str, out_dir: Path, *, actor: Actor) -> Package:
        """The package of one hồ sơ, decided on the hồ sơ by the transfer's one rule
        (``policy.HOLDER_STEPS``: its holder, or the Lưu trữ cơ quan holding it as the archive,
        as :meth:`due` lists it); its documents are read as the exporter reads them."""
        self.repo.authorize(actor, Action.TRANSFER)
        file = self.repo._load(file_id)
        self.repo.authorize(actor, Action.TRANSFER, file)
        md = file.metadata
        if not isinstance(md, FileMetadata):
            raise SipError("Chỉ lập gói tin cho hồ sơ.", code="FILE_REQUIRED", record_id=file_id)
        if closed_on(file) is None:
            raise SipError("Hồ sơ chưa kết thúc: không lập gói tin nộp lưu lịch sử.", code="SIP_NOT_CLOSED")
        if md.maintenance != MAINTENANCE_PERMANENT:
            raise SipError(
                "Chỉ hồ sơ bảo quản vĩnh viễn mới nộp vào Lưu trữ lịch sử.",
                code="SIP_NOT_PERMANENT",
                maintenance=md.maintenance,
            )
        documents = []
        omitted = []
        for doc_id in file.documents:
            doc = self.repo.get(doc_id, actor=actor)
            if doc.state == "destroyed" or not doc.files:
                reason = "destroyed" if doc.state == "destroyed" else "no_file"
                omitted.append(OmittedDocument(doc_id, doc.so_ky_hieu or doc_id, reason))
                continue
            stored, content = self.repo.read_content(doc_id, actor=actor, action="content:transfer")
            documents.append((doc, stored.original_name, content))
        return write_package(
            out_dir,
            file,
            documents,
            agency=self.repo.agency_name or self.repo.agency_id,
            who=actor.user,
            now=self.repo.clock(),
            organ_id=self.repo.agency_id,
            omitted=omitted,
        )

    def export(self, file_id: str, out_dir: Path, *, actor: Actor) -> dict[str, Any]:
        """Build, check (Kho's checksums and the independent validator), zip; refused with
        ``SIP_INVALID`` (nothing exported) when the validator finds an error. Audited.

        Each export builds in its own folder and writes its own zip (named with its transfer
        id): two exports of one hồ sơ at the same time (allowed until the historical archive's
        receipt, a lost package being redone) never delete or overwrite each other's files, so
        every receipt's SHA-256 is that of the package it names."""
        self._refuse_if_transferred(file_id)
        transfer_id = uuid.uuid4().hex[:16]
        package = self.build(file_id, out_dir / "build" / transfer_id, actor=actor)
        from retention.sip_import import check_checksums

        check_checksums(package.root)
        verdict = validate_with_eark(package.root)
        if not verdict.valid:
            raise SipError(
                "Gói tin không đạt kiểm tra E-ARK: không xuất.",
                code="SIP_INVALID",
                errors=list(verdict.errors)[:20],
            )
        target = out_dir / f"{package.root.name}.{transfer_id}.zip"
        digest = zip_package(package, target)
        receipt = self.transfers.write(
            transfer_id,
            {
                "transfer_id": transfer_id,
                "file_id": file_id,
                "object_id": package.object_id,
                "package": target.name,
                "sha256": digest,
                "bytes": target.stat().st_size,
                "files": len(package.files),
                "validator": verdict.validator,
                "warnings": verdict.warnings,
                "exported_by": actor.user,
                "exported_at": to_iso_utc(self.repo.clock()),
                "state": "exported",
                "receipt": None,
            },
            expected=0,
        )
        self.repo.audit.append(
            actor.user,
            "transfer:export",
            record_id=file_id,
            source=actor.source,
            details={
                "transfer_id": transfer_id,
                "sha256": digest,
                "omitted": [{"record_id": o.record_id, "reason": o.reason} for o in package.omitted],
            },
        )
        return {**receipt, "path": str(target), "omitted": [o.to_dict() for o in package.omitted]}

    def record_receipt(self, transfer_id: str, reference: str, *, actor: Actor) -> dict[str, Any]:
        """The historical archive's biên bản giao nhận for an exported package. Its reference is
        a typed text (:func:`~repository.vocabulary.typed_text`, on one line): a hidden character
        is refused before anything is read or written, as a receipt cannot be recorded twice."""
        self.repo.authorize(actor, Action.TRANSFER)
        reference = typed_text(reference, "reference", "Số, ngày của biên bản giao nhận", line_breaks=False)
        if blank(reference):
            raise SipError("Cần số, ngày của biên bản giao nhận.", code="RECEIPT_REQUIRED")
        current = self.transfers.latest(transfer_id)
        if self._transfers(actor, str(current["file_id"])).code == UNKNOWN_RECORD:
            # Decided as its export was (the role alone let a phòng's lưu trữ viên mark the
            # agency's hồ sơ transferred for ever). Answered as an unknown transfer: the hồ sơ's
            # id is not named to who may not know of it.
            raise self.transfers.absent(transfer_id)
        self.repo.authorize(actor, Action.TRANSFER, self.repo._load(str(current["file_id"])))
        if current["state"] != "exported":
            raise SipError("Gói tin này đã được ghi nhận giao nhận.", code="RECEIPT_EXISTS")
        self._refuse_if_transferred(str(current["file_id"]))
        body = {
            **current,
            "state": "received",
            "receipt": {"ref": reference, "by": actor.user, "at": to_iso_utc(self.repo.clock())},
        }
        body.pop(formats.FORMAT_KEY, None)
        receipt = self.transfers.write(transfer_id, body, expected=current["version"])
        self.repo.audit.append(
            actor.user,
            "transfer:receipt",
            record_id=current["file_id"],
            source=actor.source,
            details={"transfer_id": transfer_id, "ref": reference},
        )
        return receipt

    def _refuse_if_transferred(self, file_id: str) -> None:
        """A hồ sơ goes to the Lưu trữ lịch sử once: refused (``SIP_ALREADY_TRANSFERRED``) when
        the archive's receipt of one of its packages is recorded. (A package exported but not yet
        received may be exported again, e.g. when the first copy was lost on the way.)"""
        for transfer in self.transfers.all():
            if transfer.get("file_id") == file_id and transfer.get("state") == "received":
                receipt = transfer.get("receipt") or {}
                raise SipError(
                    "Hồ sơ này đã được nộp vào Lưu trữ lịch sử (biên bản giao nhận"
                    f" “{receipt.get('ref', '')}”): không nộp lần thứ hai.",
                    code="SIP_ALREADY_TRANSFERRED",
                    record_id=file_id,
                    transfer_id=transfer.get("transfer_id"),
                )

    def list(self, *, actor: Actor) -> list[dict[str, Any]]:
        """The transfers of the hồ sơ ``actor`` may transfer (:meth:`_transfers`, the rule of
        the export and its receipt): the role alone named every exported hồ sơ, its code and its
        size, to a phòng's lưu trữ viên."""
        self.repo.authorize(actor, Action.TRANSFER)
        return [t for t in self.transfers.all() if self._transfers(actor, str(t["file_id"]))]

    def _transfers(self, actor: Actor, file_id: str) -> Decision:
        """The transfer's rule on hồ sơ ``file_id`` (``policy.HOLDER_STEPS``), asked without
        acting; a hồ sơ gone or unopenable is one nobody may know of here (answered as absent)."""
        if actor.system:
            return ALLOW
        try:
            file = self.repo._load(file_id)
        except UNOPENABLE:
            return unknown(file_id, Decision(False, "RECORD_UNREADABLE"))
        return decide(actor.as_principal, Action.TRANSFER, self.repo.facts(file))

    def due(self, *, actor: Actor, today: date | None = None) -> list[TransferDue]:
        """Permanent hồ sơ of the agency archive whose transfer to the Lưu trữ lịch sử is due
        within :data:`TRANSFER_HORIZON_DAYS` or overdue, skipping those the Lưu trữ lịch sử has
        received (its biên bản giao nhận recorded). A package exported and never received (lost,
        or thrown away) is no transfer: its hồ sơ stays due. Only the hồ sơ the person holds
        as Lưu trữ cơ quan are listed (:func:`~repository.policy.receives_submission`, as the
        archived list): no title of another unit's, or of one above their clearance."""
        self.repo.authorize(actor, Action.TRANSFER)
        transferred = {
            str(t.get("file_id", "")) for t in self.transfers.all() if t.get("state") == "received"
        }
        files = []
        for file in self.repo.records():
            md = file.metadata
            if file.kind != KIND_FILE or file.state != "archived" or not isinstance(md, FileMetadata):
                continue
            if not self.repo.receives_submission(actor, file):
                continue
            archived_at = file.extra.get("archived_at")
            archived_on = (
                vn_date(datetime.fromisoformat(archived_at)) if isinstance(archived_at, str) else None
            )
            files.append((file.record_id, md.file_notation, md.title, md.maintenance, archived_on))
        return transfers_due(files, transferred, today or vn_date(self.repo.clock()))
