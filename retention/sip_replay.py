"""Packages accepted before: a package re-sent (the same METS OBJID, or the same documents
under a new OBJID) is never taken in twice without a word.

Each accepted package is a versioned record, ``retention/sip-imports/<sha256(OBJID)>/v<n>``
(kind ``sip-import``): its OBJID, the SHA-256 of every file its METS list (checked against the
files before this record is written), who accepted it and when. The documents it brought (the
files under ``representations/*/data/``) are claimed by their digests together,
``retention/sip-contents/<sha256 of their sorted digests>`` (kind ``sip-content``), naming the
package that brought them first. Both are written with ``put_if_absent``: two imports of one
package at the same time cannot both be accepted.

What an import of a package seen before gets (:func:`judge`, pure):

* the same OBJID and the same files: ``SIP_REPLAYED``, naming the earlier import;
* the same documents under another OBJID: ``SIP_REPLAYED``, naming the package that brought
  them (the same hồ sơ sent again under a new id would be two packages of one hồ sơ);
* the same OBJID with files changed, added or removed (a corrected re-send, after the archive
  returned the package): refused with ``SIP_RESENT`` listing the changes, unless the archivist
  says it is a re-send (``resend``); then it is the package's next version, which names the
  version it replaces and the changes, and the earlier version stays readable. The archivist
  decides, knowingly: a corrected re-send is ordinary (ND30: the archive returns a package with
  its faults, the unit sends it again), a silent change of a package already received is not;
* some of its documents brought before by another package (another OBJID), beside new ones
  (rv33): ``SIP_OVERLAP``, naming each such file of this package (50, and their total) and the
  import that brought it. Nothing of this package is stored and nothing of the earlier one is
  changed: a văn bản is handed over once, in one hồ sơ; the unit removes from the package what
  it handed over before (or the two packages are one hồ sơ, sent as one re-send of its OBJID).
  Each document is claimed alone for this, ``retention/sip-documents/<sha256>`` (kind
  ``sip-content``, the same body as the set's claim), with ``put_if_absent``: of two concurrent
  packages sharing a document, one is refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from kho.errors import AlreadyExists, NotFound
from kho.timeutil import to_iso_utc
from repository import formats
from repository.storage.base import ObjectStore
from retention.sip import SipError

IMPORTS = "retention/sip-imports/"
CONTENTS = "retention/sip-contents/"
DOCUMENTS = "retention/sip-documents/"
AUDITED = "retention/sip-audited/"
CHANGES_LISTED = 50
"""How many changed files a refusal or an answer names (with their total)."""


@dataclass(frozen=True)
class Changes:
    """How a re-sent package's files differ from the version accepted before (paths in the
    package, ``/``-separated, sorted)."""

    changed: tuple[str, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def total(self) -> int:
        return len(self.changed) + len(self.added) + len(self.removed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "changed": list(self.changed[:CHANGES_LISTED]),
            "added": list(self.added[:CHANGES_LISTED]),
            "removed": list(self.removed[:CHANGES_LISTED]),
            "changes_total": self.total,
        }


def changes(before: Mapping[str, str], now: Mapping[str, str]) -> Changes:
    """The difference between two listings (path → SHA-256) of one package (pure)."""
    return Changes(
        changed=tuple(sorted(p for p in now if p in before and before[p] != now[p])),
        added=tuple(sorted(p for p in now if p not in before)),
        removed=tuple(sorted(p for p in before if p not in now)),
    )


def documents(files: Mapping[str, str]) -> dict[str, str]:
    """The documents a package brings (path → SHA-256 of the files under
    ``representations/*/data/``)."""
    return {
        path: digest
        for path, digest in files.items()
        if (parts := PurePosixPath(path).parts)[:1] == ("representations",) and parts[2:3] == ("data",)
    }


def documents_digest(files: Mapping[str, str]) -> str | None:
    """One digest of the documents a package brings (the files under ``representations/*/data/``,
    by content, whatever they are named); None for a package without documents."""
    digests = sorted(documents(files).values())
    if not digests:
        return None
    return hashlib.sha256("\n".join(digests).encode("ascii")).hexdigest()


def _said(earlier: Mapping[str, Any]) -> str:
    return (
        f"gói tin “{str(earlier.get('object_id', ''))[:120]}” đã được {earlier.get('by', '')} tiếp nhận lúc"
        f" {earlier.get('at', '')} (lượt nhận {earlier.get('import_id', '')})"
    )


def _named(earlier: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "earlier_import": earlier.get("import_id"),
        "earlier_object_id": str(earlier.get("object_id", ""))[:255],
        "earlier_at": earlier.get("at"),
    }


def judge(
    object_id: str,
    files: Mapping[str, str],
    earlier: Mapping[str, Any] | None,
    owner: Mapping[str, Any] | None,
    *,
    resend: bool,
) -> Changes | None:
    """Whether a checked package (``object_id``, its ``files``) may be accepted given the
    latest accepted version of its OBJID (``earlier``) and the package that first brought its
    documents (``owner``), pure: raises ``SIP_REPLAYED`` or ``SIP_RESENT``; returns the changes
    of an accepted re-send, or None for a package never seen."""
    if owner is not None and owner.get("object_id") != object_id:
        raise SipError(
            f"Các tài liệu của gói tin này đã được nhận trong {_said(owner)}, với mã gói tin khác."
            " Kho không nhận cùng tài liệu hai lần dưới hai mã gói tin.",
            code="SIP_REPLAYED",
            **_named(owner),
        )
    if earlier is None:
        return None
    difference = changes(earlier.get("files", {}), files)
    if difference.total == 0:
        raise SipError(
            f"Gói tin này đã được nhận: {_said(earlier)}, với đúng các tệp này. Kho không nhận lại.",
            code="SIP_REPLAYED",
            **_named(earlier),
        )
    if not resend:
        raise SipError(
            f"Gói tin cùng mã đã được nhận: {_said(earlier)}; bản gửi lại này khác ở {difference.total} tệp"
            f" ({len(difference.changed)} thay đổi, {len(difference.added)} thêm, {len(difference.removed)}"
            " bớt). Nếu đây là bản gửi lại đã sửa, hãy xác nhận nhận bản gửi lại; bản đã nhận trước vẫn"
            " được giữ.",
            code="SIP_RESENT",
            **_named(earlier),
            **difference.as_dict(),
        )
    return difference


def overlap(object_id: str, files: Mapping[str, str], owners: Mapping[str, Mapping[str, Any]]) -> None:
    """Refuse (``SIP_OVERLAP``) a package ``object_id`` some of whose documents were brought
    by another package: ``owners`` maps a document's SHA-256 to the claim of the package that
    brought it first (pure)."""
    shared = sorted(
        ((path, owners[digest]) for path, digest in documents(files).items() if digest in owners),
        key=lambda item: item[0],
    )
    shared = [(path, owner) for path, owner in shared if owner.get("object_id") != object_id]
    if not shared:
        return
    first = shared[0][1]
    listed = [{"file": path, **_named(owner)} for path, owner in shared[:CHANGES_LISTED]]
    raise SipError(
        f"{len(shared)} tài liệu của gói tin này đã được nhận trong gói tin khác, đầu tiên là"
        f" “{shared[0][0][:120]}”: {_said(first)}. Kho không nhận một tài liệu hai lần: đề nghị đơn vị"
        " bỏ các tài liệu đã nộp khỏi gói tin rồi gửi lại; gói tin đã nhận trước không thay đổi.",
        code="SIP_OVERLAP",
        **_named(first),
        overlap=listed,
        overlap_total=len(shared),
    )


class PackageImports:
    """The accepted packages of one installation, in its store."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    @staticmethod
    def _folder(object_id: str) -> str:
        return f"{IMPORTS}{hashlib.sha256(object_id.encode('utf-8')).hexdigest()}/"

    def latest(self, object_id: str) -> dict[str, Any] | None:
        """The newest accepted version of the package ``object_id``, or None."""
        keys = sorted(i.key for i in self.store.list(self._folder(object_id) + "v"))
        for key in reversed(keys):
            data = formats.loads(formats.SIP_IMPORT.name, self.store.get(key))
            if data.get("object_id") == object_id:  # (a digest collision names another package)
                return data
        return None

    def owner(self, digest: str | None, *, taken: bool = False) -> dict[str, Any] | None:
        """The package that first brought the documents of ``digest``, or None (``taken``: the
        claim was just reported taken, and may be a moment behind on some S3 servers)."""
        if digest is None:
            return None
        key = f"{CONTENTS}{digest}"
        try:
            # Taken, on S3 claims mode, by a writer that died before its claim landed: refused
            # (CLAIM_PENDING) until that claim is stale and taken over. Read as "no owner", the
            # package was accepted with its contents claim unwritten, so a later package of the
            # same documents under another OBJID was not told a replay (review s19).
            raw = (
                self.store.get_landed(
                    key,
                    "Một lượt nhận gói tin có cùng tài liệu đang bị giữ bởi một lượt ghi chưa hoàn tất"
                    " (có thể lượt ghi đó đã dừng ở máy khác); gói tin này chưa được nhận. Hãy thử lại"
                    " sau ít phút.",
                )
                if taken
                else self.store.get(key)
            )
        except NotFound:
            return None
        return formats.loads(formats.SIP_CONTENT.name, raw)

    def _document_owners(self, files: Mapping[str, str], *, taken: bool = False) -> dict[str, dict[str, Any]]:
        """The claim of each of ``files``' documents already brought by a package, by digest."""
        owners = {}
        for digest in sorted(set(documents(files).values())):
            key = f"{DOCUMENTS}{digest}"
            try:
                raw = self.store.get_after_conflict(key) if taken else self.store.get(key)
            except NotFound:
                continue
            owners[digest] = formats.loads(formats.SIP_CONTENT.name, raw)
        return owners

    def mark_audited(self, accepted: Mapping[str, Any]) -> None:
        """Note that the accepted import ``accepted`` has its ``transfer:import-checked`` event
        (written after the event: a process killed between the two leaves the mark missing)."""
        claim = {key: accepted[key] for key in ("object_id", "import_id", "by", "at")}
        with contextlib.suppress(AlreadyExists):
            self.store.put_if_absent(
                f"{AUDITED}{accepted['import_id']}", formats.dumps(formats.SIP_CONTENT.name, claim)
            )

    def unaudited(self, object_id: str, refusal: SipError) -> dict[str, Any] | None:
        """The import a ``SIP_REPLAYED`` ``refusal`` of the package ``object_id`` names, when it
        is this very package's latest version, recorded by an import killed before its audit
        event (its record expects an audit mark, and there is none); else None. Packages
        recorded before rv33 expect no mark: a replay of one stays refused."""
        if refusal.code != "SIP_REPLAYED":
            return None
        earlier = self.latest(object_id)
        if earlier is None or earlier.get("import_id") != refusal.details.get("earlier_import"):
            return None
        if not earlier.get("audit_marker"):
            return None
        try:
            self.store.get(f"{AUDITED}{earlier['import_id']}")
        except NotFound:
            return earlier
        return None

    def accept(
        self,
        object_id: str,
        files: Mapping[str, str],
        *,
        package: str,
        by: str,
        at: datetime,
        resend: bool = False,
    ) -> dict[str, Any]:
        """Record the checked package ``object_id`` as accepted, or raise ``SIP_REPLAYED`` /
        ``SIP_RESENT`` (:func:`judge`). The documents' claim is written first, then the
        package's version: a package seen by a concurrent import loses one or the other
        ``put_if_absent`` and is refused as a replay of the winner."""
        earlier = self.latest(object_id)
        digest = documents_digest(files)
        difference = judge(object_id, files, earlier, self.owner(digest), resend=resend)
        overlap(object_id, files, self._document_owners(files))
        version = (earlier or {}).get("version", 0) + 1
        body: dict[str, Any] = {
            "import_id": uuid.uuid4().hex[:16],
            "object_id": object_id,
            "version": version,
            "package": package[:255],
            "by": by,
            "at": to_iso_utc(at),
            "files": dict(sorted(files.items())),
            "documents": digest,
            "replaces": earlier["import_id"] if earlier else None,
            "changes": difference.as_dict() if difference else None,
            "audit_marker": True,
        }
        if digest is not None:
            claim = {"object_id": object_id, "import_id": body["import_id"], "by": by, "at": body["at"]}
            try:
                self.store.put_if_absent(
                    f"{CONTENTS}{digest}", formats.dumps(formats.SIP_CONTENT.name, claim)
                )
            except AlreadyExists:
                judge(object_id, files, self.latest(object_id), self.owner(digest, taken=True), resend=resend)
            for document in sorted(set(documents(files).values())):
                try:
                    self.store.put_if_absent(
                        f"{DOCUMENTS}{document}", formats.dumps(formats.SIP_CONTENT.name, claim)
                    )
                except AlreadyExists:
                    overlap(object_id, files, self._document_owners(files, taken=True))
        raw = json.dumps(formats.stamp(formats.SIP_IMPORT.name, body), ensure_ascii=False, sort_keys=True)
        try:
            self.store.put_if_absent(f"{self._folder(object_id)}v{version:06d}", raw.encode("utf-8"))
        except AlreadyExists:
            judge(object_id, files, self.latest(object_id), None, resend=False)
            raise
        return body
