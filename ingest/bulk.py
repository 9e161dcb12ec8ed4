"""Bulk import of files and folders: resumable, no duplicates, progress as it goes.

* Every file is one job whose id is the SHA-256 of its bytes: the same bytes (twice in a
  folder, or again after a kill) are the same job and the same original, never a second record.
* A manifest (JSON lines, appended and flushed as each file finishes) remembers which files —
  by path, size and modification time — reached a final state; a re-run skips them without
  reading them. Without the manifest a re-run is still correct (finished jobs are found by
  their SHA-256), only slower.
* Embedded mode runs the pipeline in a pool of worker processes (one per core by default);
  with a broker, the originals are stored here and the rest of each job is queued for the
  Celery workers (``--wait`` follows them to the end).
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import resource
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.source_files import Identity, read_source, source_refused
from ingest.source_files import identity as source_identity
from ingest.status import JobState, JobStatus, JobStore
from kho.config import Settings
from kho.errors import KhoError
from kho.files import FOLDER, kind, printable
from repository.originals import FORMATS, extension_of

if TYPE_CHECKING:
    from repository.policy import RecordFacts

MANIFEST_DIR = "ingest-manifests"
BATCH = 64
"""Files a worker ingests before it commits their search documents in one go (m39: 64, was 16;
a Tantivy commit costs ~20 ms of CPU however few documents it holds, ~1.2 ms a document at 16;
no file is reported ``xong`` before the commit that holds it, so a crash loses nothing more
that was acknowledged; ``_run_embedded`` still makes at least four chunks a worker)."""

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BulkItem:
    path: str
    job_id: str | None
    state: str
    reason_code: str | None = None
    reason: str | None = None
    record_id: str | None = None
    skipped: bool = False
    """Already final in the manifest: not read again."""
    steps: dict[str, float] = field(default_factory=dict)
    """Seconds per step (what ran now)."""
    facts: RecordFacts | None = field(default=None, compare=False, repr=False)
    """What the access policy knows of the record this import created for the file, from the
    version its worker wrote last (:attr:`ingest.pipeline.Pipeline.created`) if that is still
    the latest once the worker's chunk is indexed (``Repository.facts_if_latest``): ``shown``
    decides on them instead of reading the record again (four requests on S3, in the importing
    process, one file after another). None for a record it did not create (a duplicate of one
    already stored) or that someone changed meanwhile (review rv60): read and decided as it is
    now. Not kept past the decision (:meth:`Manifest.add`), not in the report."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "job_id": self.job_id,
            "state": self.state,
            "reason_code": self.reason_code,
            "reason": self.reason,
            "record_id": self.record_id,
            "skipped": self.skipped,
        }


@dataclass(frozen=True)
class BulkReport:
    total: int
    done: int
    failed: int
    waiting: int
    skipped: int
    seconds: float
    items: tuple[BulkItem, ...]
    system: int = 0
    """System files found in a folder (:func:`system_file`): listed ``bỏ qua``, not read, not
    an error."""

    @property
    def rate(self) -> float:
        ran = self.total - self.skipped - self.system
        return ran / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "done": self.done,
            "failed": self.failed,
            "waiting": self.waiting,
            "skipped": self.skipped,
            "system": self.system,
            "seconds": round(self.seconds, 3),
            "docs_per_second": round(self.rate, 2),
            "items": [i.to_dict() for i in self.items],
        }


Progress = Callable[[int, int, float, BulkItem], None]


def collect_files(
    paths: Iterable[str | os.PathLike[str]], hidden: set[Path] | None = None,
    system: dict[Path, str] | None = None,
) -> list[Path]:
    """Files named, and every file under folders named (recursive), in a stable order. A hidden
    entry found in a folder (its name starts with ".": ``.~lock.x.docx#``, a ``.git`` folder, a
    ``.DS_Store`` that is not Finder's) is listed as itself, not read and not walked into, and
    added to ``hidden``: :func:`import_paths` reports it ``SOURCE_HIDDEN`` (before u9 it was
    left out without a word, so a văn thư could not tell that nothing was lost). A hidden name
    typed on the command line is read as any other. A file a computer writes beside documents
    by itself (``.DS_Store``, ``._*``, ``Thumbs.db``, ``desktop.ini``: :func:`system_file`)
    found in a folder is listed and put in ``system`` (with who wrote it) instead (reported
    ``bỏ qua``, not an error; u10). Follows the one rule of :func:`ingest.source_files.kind`: a
    symbolic link, named or found in a folder, is listed as itself and never followed (whatever it points to:
    a file, a folder, a FIFO, nothing), and so is a FIFO, device or socket; :func:`import_paths`
    refuses each with its code (``SOURCE_SYMLINK``, ``SOURCE_NOT_FILE``) in the report and the
    total instead of reading it or leaving it out without a word. Only a real folder is walked
    (``rglob`` does not descend into a linked folder)."""
    out: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        named = Path(raw).absolute()
        # The folders above the name are the operator's way to it (a mount, a share): resolved.
        # The name itself is not: a link there is refused as a link found in a folder is.
        path = named.parent.resolve() / named.name if named.name else named.resolve()
        what = kind(path)
        if what == FOLDER:
            found = sorted(p for p in path.rglob("*") if _listed(p, path, hidden, system))
        elif what is not None:
            found = [path]
        else:
            from kho.errors import NotFound

            raise NotFound(f"Không tìm thấy tệp hoặc thư mục “{printable(raw)}”.", path=printable(raw))
        for p in found:
            if p not in seen:
                seen.add(p)
                out.append(p)
    return out


def _listed(
    p: Path, root: Path, hidden: set[Path] | None, system: dict[Path, str] | None = None
) -> bool:
    """Whether a walk of ``root`` lists ``p``: every entry but a folder, and a hidden entry
    (file or folder) whose folders above are not hidden (what is inside a hidden folder is
    covered by the folder's own line), when ``hidden`` collects it; without ``hidden`` a hidden
    entry is left out, never listed as a file to read (review rv9). A system file
    (:func:`system_file`) goes to ``system`` when that collects it, whether its name is hidden
    or not."""
    parts = p.relative_to(root).parts
    if any(part.startswith(".") for part in parts[:-1]):
        return False
    if system is not None and (who := system_folder(p) or system_file(p)) is not None:
        system[p] = who
        return True
    if parts[-1].startswith("."):
        if hidden is None:  # a caller that does not collect them: left out, as before u9 (rv9)
            return False
        hidden.add(p)
        return True
    return kind(p) not in (FOLDER, None)


def _desktop_ini(head: bytes) -> bool:
    """Windows' folder settings: an INI text (UTF-16 or 8-bit) that opens with a section."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head[2:].decode("utf-16-le" if head[0] == 0xFF else "utf-16-be", "replace")
    else:
        text = head.removeprefix(b"\xef\xbb\xbf").decode("latin-1")
    return text.lstrip(" \t\r\n").startswith(("[", ";"))


def _office_owner_file(head: bytes, size: int) -> bool:
    """Microsoft Office's owner file ``~$name.docx`` (Word: 162 bytes, Excel and PowerPoint:
    165): the user's name length (1..52) as a byte, the name, padding, then the same length as
    a 16-bit word at offset 54 (Word) or 55 (Excel, PowerPoint) before the name in UTF-16."""
    if size not in (162, 165) or len(head) < 57 or not 1 <= head[0] <= 52:
        return False
    return any(head[at] == head[0] and head[at + 1] == 0 for at in (54, 55))


def _office_owner_name(name: str) -> bool:
    """``~$`` and a name that does not claim a format Kho takes whose content carries no mark
    (.txt, .csv): such a file cannot be told from a document by its bytes, so it is read as one
    (review rv15: a text document named ``~$bien-ban.txt`` in an owner file's shape was skipped)."""
    if not name.startswith("~$"):
        return False
    known = FORMATS.get(extension_of(name))
    return known is None or known[1] is not None


# name rule → (what the first bytes and the size must be, who writes it). Both must hold: a
# real document that bears such a name keeps the rule of its name (a hidden one SOURCE_HIDDEN,
# another read). An empty ``.DS_Store`` (Finder writes one before its first entry) carries
# nothing and is skipped as Finder's (u11).
_SYSTEM_FILES: tuple[tuple[Callable[[str], bool], Callable[[bytes, int], bool], str], ...] = (
    (
        lambda n: n == ".DS_Store",
        lambda h, size: size == 0 or h.startswith(b"\x00\x00\x00\x01Bud1"),
        "macOS Finder",
    ),
    (
        lambda n: n.startswith("._"),
        lambda h, size: h.startswith(b"\x00\x05\x16\x07"),
        "macOS (AppleDouble)",
    ),
    (
        lambda n: n.lower() in ("thumbs.db", "ehthumbs.db"),
        lambda h, size: h.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
        "Windows Explorer",
    ),
    (lambda n: n.lower() == "desktop.ini", lambda h, size: _desktop_ini(h), "Windows Explorer"),
    (
        _office_owner_name,
        _office_owner_file,
        "Microsoft Office, tệp đánh dấu người đang mở văn bản",
    ),
)
_SYSTEM_HEAD = 64
_SYSTEM_MAX_BYTES = 64 * 1024 * 1024
"""A "system file" larger than this is not judged one (its rule of name applies: read, or
SOURCE_HIDDEN): Finder's and Explorer's files of a folder stay far below."""
_DOCUMENT_MARKS = (
    b"%PDF-", b"PK\x03\x04", b"{\\rtf",  # PDF; DOCX, XLSX, ODT, ODS (ZIP); RTF
    "WordDocument".encode("utf-16-le"), "Workbook".encode("utf-16-le"),  # DOC, XLS streams
    "PowerPoint Document".encode("utf-16-le"),
)
"""Bytes a document of a format Kho takes carries, and none of the system files does: a file
with a system file's name and first bytes that carries one of them is not skipped (review rv13:
Finder's ``Bud1`` or AppleDouble's header followed by a PDF, an OLE file with a Word stream
named ``Thumbs.db``, were ``bỏ qua`` while the folder's import exited 0)."""


def _carries_document(fd: int, head: bytes) -> bool:
    """Whether the rest of the file (read from after ``head``) holds a :data:`_DOCUMENT_MARKS`
    mark, or an OLE file's signature past its start (a .doc or .xls inside Finder's or
    AppleDouble's format); True as well for a file too large to be a system file."""
    if os.fstat(fd).st_size > _SYSTEM_MAX_BYTES:
        return True
    chunks = [head]
    while chunk := os.read(fd, 1024 * 1024):
        chunks.append(chunk)
    data = b"".join(chunks)
    if any(mark in data for mark in _DOCUMENT_MARKS):
        return True
    return data.find(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 1) != -1


def system_file(path: Path) -> str | None:
    """Who wrote ``path`` if it is a file a computer writes beside documents by itself (macOS
    ``.DS_Store`` and ``._*``, Windows ``Thumbs.db`` and ``desktop.ini``, Office's ``~$*`` owner
    files), else None. Its name
    and its first bytes must both be those of the format, and it must be a regular file (opened
    without following a link or waiting on a FIFO): only its first 64 bytes are read."""
    name = path.name
    rules = [(head_rule, who) for name_rule, head_rule, who in _SYSTEM_FILES if name_rule(name)]
    if not rules:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        size = os.fstat(fd).st_size
        head = os.read(fd, _SYSTEM_HEAD)
        who = next((who for head_rule, who in rules if head_rule(head, size)), None)
        if who is None or _carries_document(fd, head):
            return None
    except OSError:
        return None
    finally:
        os.close(fd)
    return who


def _spotlight(top: dict[str, bool]) -> bool:
    return top.get("VolumeConfiguration.plist") is False or any(
        top.get(n) is True for n in ("Store-V1", "Store-V2")
    )


def _fseventsd(top: dict[str, bool]) -> bool:
    return top.get("fseventsd-uuid") is False


def _trashes(top: dict[str, bool]) -> bool:
    return all(is_dir and name.isdigit() for name, is_dir in top.items())  # one folder per uid


# name → (what its first level must hold: name → is a folder; whether every file inside must
# itself be a system file, who writes it). The Trash holds what people deleted: their files are
# theirs, so only a Trash of system files alone is the OS's.
_SYSTEM_FOLDERS: dict[str, tuple[Callable[[dict[str, bool]], bool], bool, str]] = {
    ".Spotlight-V100": (_spotlight, False, "macOS Spotlight"),
    ".fseventsd": (_fseventsd, False, "macOS"),
    ".Trashes": (_trashes, True, "macOS, thùng rác của ổ đĩa"),
}
_SYSTEM_FOLDER_MAX_ENTRIES = 10_000
_SYSTEM_FOLDER_MAX_BYTES = 256 * 1024 * 1024


def system_folder(path: Path) -> str | None:
    """Who wrote ``path`` if it is a folder macOS writes on a disk by itself
    (``.Spotlight-V100``, ``.fseventsd``, ``.Trashes``), else None. Its name and its first
    level must be the OS's, and nothing inside may be a document: every entry a real folder or
    regular file (no link, FIFO, device), no file named with a format Kho takes, none carrying
    a document mark (:func:`_carries_document`); within the bounds of entries and bytes read.
    Otherwise the folder keeps the rule of its name (a hidden folder: one SOURCE_HIDDEN line),
    never a silent skip of what it holds (rv13's rule)."""
    rule = _SYSTEM_FOLDERS.get(path.name)
    if rule is None:
        return None
    first_level, system_only, who = rule
    try:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            return None
        with os.scandir(path) as entries:
            top = {e.name: e.is_dir(follow_symlinks=False) for e in entries}
        if not first_level(top):
            return None
        entries_seen, bytes_read = 0, 0
        for folder, dirs, files in os.walk(path):
            entries_seen += len(dirs) + len(files)
            if entries_seen > _SYSTEM_FOLDER_MAX_ENTRIES:
                return None
            for name in dirs:  # os.walk lists a link to a folder among dirs and does not enter it
                if not stat.S_ISDIR(os.lstat(os.path.join(folder, name)).st_mode):
                    return None
            for name in files:
                file = Path(folder, name)
                if system_only:
                    if system_file(file) is None:
                        return None
                    continue
                if extension_of(name) in FORMATS:
                    return None
                fd = os.open(file, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
                try:
                    info = os.fstat(fd)
                    bytes_read += info.st_size
                    if (
                        not stat.S_ISREG(info.st_mode)
                        or bytes_read > _SYSTEM_FOLDER_MAX_BYTES
                        or _carries_document(fd, b"")
                    ):
                        return None
                finally:
                    os.close(fd)
    except OSError:
        return None
    return who


def system_skipped(path: Path, who: str) -> BulkItem:
    """The report's line for a system file or folder found in a folder: ``bỏ qua``, not an
    error."""
    what = "thư mục" if path.name in _SYSTEM_FOLDERS else "tệp"
    return BulkItem(
        printable(path),
        None,
        SYSTEM_STATE,
        "SOURCE_SYSTEM_FILE",
        f"“{printable(path.name)}” là {what} hệ thống do máy tính tự tạo ({who}), không phải văn"
        " bản: Kho bỏ qua, không nhập.",
    )


SYSTEM_STATE = "bỏ qua"
"""The state of a system file's line: neither done nor failed (the exit code stays 0)."""


def hidden_refused(path: Path) -> KhoError:
    """A hidden entry of a folder walked for import: listed, not read (a system or editor file,
    a version-control folder), so the report accounts for every name in the folder."""
    return KhoError(
        f"“{printable(path.name)}” là tệp hoặc thư mục ẩn (tên bắt đầu bằng dấu chấm): Kho không "
        "nhập. Nếu đây là văn bản cần nhập, hãy đổi tên bỏ dấu chấm đầu rồi nhập lại.",
        code="SOURCE_HIDDEN",
    )


def _source_item(path: Path, exc: KhoError) -> BulkItem:
    return BulkItem(printable(path), None, JobState.FAILED.value, exc.code, exc.message)


def _file_key(path: Path) -> str:
    """What a re-run compares to skip a file unread: path, size, modification time, and the
    inode and change time, which whoever writes the folder cannot set (a file rewritten with
    the same size and its old mtime put back, ``touch -r``, was otherwise skipped unread and
    reported as the record of its old bytes)."""
    st = path.stat()
    return f"{path}\x1f{st.st_size}\x1f{st.st_mtime_ns}\x1f{st.st_ino}\x1f{st.st_ctime_ns}"


class Manifest:
    """JSON lines ``{"key", "path", "job_id", "state", ...}``; the last line of a key wins.

    It sits in the data folder (or where ``--manifest`` says), and names records: it is
    readable by the account that wrote it only (mode 0600, its folder 0700), one file per
    person and set of roots (:meth:`default_path`), and an item is written as ``shown`` lets
    the importer see it (``import_paths(shown=)``: no record id of a record they may not see,
    review rv29). It kept the record id of another unit's Mật document sent again by a văn thư
    of phòng B, in a file any local account could read, and another person importing the same
    folder resumed from it."""

    def __init__(self, path: Path, shown: Callable[[BulkItem], BulkItem] | None = None) -> None:
        self.path = path
        self.shown: Callable[[BulkItem], BulkItem] = shown or (lambda item: item)
        self.entries: dict[str, dict[str, Any]] = {}
        if path.exists():
            with path.open(encoding="utf-8") as fh:
                for line in fh:
                    try:
                        entry = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # a line cut short by a kill
                    if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
                        continue  # not an entry (an edited file): its file is read again
                    self.entries[entry["key"]] = entry
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        if os.fstat(fd).st_mode & 0o077:  # written before rv29 with the umask's mode
            os.fchmod(fd, 0o600)
        self._fh = os.fdopen(fd, "a", encoding="utf-8")

    @staticmethod
    def default_path(settings: Settings, roots: Iterable[Path], owner: str = "") -> Path:
        # os.fsencode: a root named in an old code page (its bytes kept by Python as lone
        # surrogates) hashes as its bytes, not a UnicodeEncodeError ending the run; a UTF-8
        # root's name is unchanged. ``owner``: the account importing (one manifest each).
        named = "\n".join(sorted(str(r) for r in roots)) + (f"\n\x00{owner}" if owner else "")
        digest = hashlib.sha256(os.fsencode(named)).hexdigest()[:16]
        return settings.data_dir / MANIFEST_DIR / f"{digest}.jsonl"

    def add(self, key: str, item: BulkItem) -> BulkItem:
        """Write ``item`` as :attr:`shown` lets the importer see it; returns that."""
        item = replace(self.shown(item), facts=None)
        entry = {"key": key, **item.to_dict()}
        entry.pop("skipped", None)
        self.entries[key] = entry
        self._fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._fh.flush()
        return item

    def close(self) -> None:
        self._fh.close()


def _item(path: Path, status: JobStatus, facts: RecordFacts | None = None) -> BulkItem:
    return BulkItem(
        path=str(path),
        job_id=status.job_id,
        state=status.state.value,
        reason_code=status.reason_code,
        reason=status.reason,
        record_id=status.record_id,
        steps={name: rec.seconds for name, rec in status.steps.items()},
        facts=facts,
    )


# -- embedded: a pool of worker processes ---------------------------------------------------------
_worker: Any = None

WORKER_MODULES = (
    "ingest.pipeline",
    "ingest.indexing",
    "ingest.metadata",
    "ingest.signatures.combined",  # the request to the verification worker, and its reply
    "ingest.signatures._pool",
    "ingest.signatures.rules",
    "ingest.signatures.trustlist",
    "ingest.text",
    "ingest.text.extractor",  # (the package exports it lazily: named, or each worker imports it)
    "ingest.text.pdf",
    "repository.service",
    "search",
    "search.documents",
    "search.embedded",
)
"""What a pool worker imports to ingest a document (except what only a verification worker
or an office/OCR file needs: pyHanko's validation stack, ``ingest.signatures.verify``, is
imported by the verification workers alone, ~0.24 s of CPU the parent no longer spends before
it forks): imported once by the parent before the pool forks, they are
shared by every worker instead of imported again in each (~0.8 s of CPU per worker, and again
for each worker the pool replaces)."""


def preload(settings: Settings | None = None) -> None:
    """Import :data:`WORKER_MODULES` here (before the pool forks), and the object store
    modules ``settings`` name. Imports only: no store, index, thread or verification worker is
    opened, so a forked worker starts from nothing but code."""
    import importlib

    names = list(WORKER_MODULES)
    if settings is not None:
        for url in (settings.store_url, settings.keystore_url):
            names.append("repository.storage.s3" if url.startswith("s3://") else "repository.storage.local")
    for name in names:
        importlib.import_module(name)


def _init_worker(direction: str) -> None:
    global _worker
    from ingest.pipeline import Pipeline, prestart_workers
    from ingest.text import TextSettings

    # The verification worker (a fresh interpreter) starts now and imports while this worker
    # opens its repository and stores its first originals; a failure is only logged (the pool
    # would replace a worker whose initializer raised, for ever). The text worker starts only
    # when a document needs it: the pipeline reads a PDF's text layer in the verification
    # worker (Pipeline.read_once), so a folder of born-digital PDFs never starts one.
    text_settings = TextSettings.from_env()
    prestart_workers(text_settings.text_layer_memory_mb, text=False)
    pipeline = Pipeline.from_settings(Settings.from_env(), text_settings=text_settings, read_once=True)
    _worker = (pipeline, direction)


def _ingest_chunk(chunk: list[tuple[str, str, Identity]]) -> list[tuple[str, BulkItem]]:
    """Ingest a few files (path, manifest key, identity), then index them in one commit (the
    index commit dominates)."""
    pipeline, direction = _worker
    pipeline.defer_index = True
    results: list[tuple[str, Path, JobStatus | BulkItem]] = []
    for path_str, key, identity in chunk:
        path = Path(path_str)
        try:
            data = read_source(path, identity, max_bytes=pipeline.repo.max_file_bytes)
        except KhoError as exc:
            results.append((key, path, _source_item(path, exc)))
            continue
        results.append((key, path, pipeline.ingest(data, path.name, direction, source=str(path))))
    flushed = {status.job_id: status for status in pipeline.flush_index()}
    created, pipeline.created = pipeline.created, {}
    out = []
    for key, path, result in results:
        if isinstance(result, JobStatus):
            final = flushed.get(result.job_id, result)
            record = created.get(final.job_id)
            facts = None
            if record is not None and record.record_id == final.record_id:
                facts = pipeline.repo.facts_if_latest(record)  # None: changed since, read it
            result = _item(path, final, facts)
        out.append((key, result))
    return out


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory (MB) of this process and of its largest finished child."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def import_paths(
    paths: Iterable[str | os.PathLike[str]],
    *,
    direction: str = "den",
    settings: Settings | None = None,
    workers: int | None = None,
    wait: bool = True,
    manifest_path: Path | None = None,
    retry_failed: bool = False,
    progress: Progress | None = None,
    poll_interval: float = 0.5,
    wait_timeout: float | None = None,
    owner: str = "",
    shown: Callable[[BulkItem], BulkItem] | None = None,
    name_skipped: bool = True,
) -> BulkReport:
    """Import files and folders; returns what became of each file.

    ``workers`` (embedded mode) defaults to the number of cores; 1 runs in this process.
    With a broker and ``wait``, jobs still unfinished after ``wait_timeout`` seconds are
    reported as they stand (``chờ`` / ``đang xử lý``). ``owner`` (the importing account) names
    the default manifest; ``shown`` gives each item as the importer may see it, in the report
    and in the manifest (:class:`Manifest`).

    ``name_skipped=False``: a file the manifest has as finished is reported without its record
    id, and ``shown`` is not asked for it. Asking reads the record (four store requests on S3),
    so a resumed import of 100,000 files spent minutes before its first new file deciding ids
    that a report printing counts only never shows (``kho ingest files`` without ``--json``).
    """
    settings = settings or Settings.from_env()
    hidden: set[Path] = set()
    system: dict[Path, str] = {}
    files = collect_files(paths, hidden, system)
    manifest = Manifest(
        manifest_path or Manifest.default_path(settings, [Path(p).resolve() for p in paths], owner),
        shown,
    )
    started = time.perf_counter()
    items: list[BulkItem] = []
    pending: list[tuple[Path, str, Identity]] = []
    keys: dict[str, Path] = {}
    final_states = {JobState.DONE.value} | (set() if retry_failed else {JobState.FAILED.value})
    links: list[BulkItem] = []
    try:
        for path in files:
            if path in system:
                links.append(system_skipped(path, system[path]))
                continue
            refused = hidden_refused(path) if path in hidden else source_refused(path)
            if refused is not None:
                links.append(_source_item(path, refused))
                continue
            key = _file_key(path)
            identity = source_identity(path)
            keys[key] = path
            entry = manifest.entries.get(key)
            if entry is not None and entry.get("state") in final_states:
                done_before = BulkItem(
                    str(path), entry.get("job_id"), entry["state"], entry.get("reason_code"),
                    entry.get("reason"), entry.get("record_id") if name_skipped else None,
                    skipped=True,
                )
                items.append(manifest.shown(done_before) if name_skipped else done_before)
            else:
                pending.append((path, key, identity))
        total = len(files)

        ran = [0]  # files this run processed (a count, not a scan of ``items``: O(1) per file)

        def report(item: BulkItem) -> None:
            items.append(item)
            ran[0] += not item.skipped
            if progress is not None:
                elapsed = time.perf_counter() - started
                progress(len(items), total, ran[0] / elapsed if elapsed > 0 else 0.0, item)

        for item in links:
            report(item)
        if settings.broker_url:
            _queue_all(pending, direction, settings, manifest, report, wait, poll_interval, wait_timeout)
        else:
            _run_embedded(
                pending, direction, workers or os.cpu_count() or 1, manifest, report, settings
            )
    finally:
        manifest.close()
    seconds = time.perf_counter() - started
    counts = {s: sum(1 for i in items if i.state == s.value) for s in JobState}
    return BulkReport(
        total=len(files),
        done=counts[JobState.DONE],
        failed=counts[JobState.FAILED],
        waiting=counts[JobState.WAITING] + counts[JobState.RUNNING],
        skipped=sum(1 for i in items if i.skipped),
        seconds=seconds,
        items=tuple(items),
        system=sum(1 for i in items if i.state == SYSTEM_STATE),
    )


def _run_embedded(
    pending: list[tuple[Path, str, Identity]], direction: str, workers: int, manifest: Manifest,
    report: Callable[[BulkItem], None], settings: Settings | None = None,
) -> None:
    if not pending:
        return
    names = [(str(path), key, identity) for path, key, identity in pending]
    size = max(1, min(BATCH, len(names) // (workers * 4)))  # enough chunks to balance OCR-heavy files
    chunks = [names[i:i + size] for i in range(0, len(names), size)]
    if workers <= 1 or len(pending) == 1:
        _init_worker(direction)
        results: Iterator[list[tuple[str, BulkItem]]] = map(_ingest_chunk, chunks)
        for batch in results:
            for key, item in batch:
                report(manifest.add(key, item))
        return
    preload(settings)
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers, initializer=_init_worker, initargs=(direction,), maxtasksperchild=200) as pool:
        for batch in pool.imap_unordered(_ingest_chunk, chunks):
            for key, item in batch:
                report(manifest.add(key, item))


def _queue_all(
    pending: list[tuple[Path, str, Identity]], direction: str, settings: Settings, manifest: Manifest,
    report: Callable[[BulkItem], None], wait: bool, poll_interval: float,
    wait_timeout: float | None,
) -> None:
    from ingest.pipeline import Pipeline
    from ingest.tasks import dispatch

    pipeline = Pipeline.from_settings(settings)
    jobs = JobStore(pipeline.repo.store)
    queued: dict[str, tuple[str, Path]] = {}
    for path, key, identity in pending:
        try:
            data = read_source(path, identity, max_bytes=pipeline.repo.max_file_bytes)
        except KhoError as exc:
            report(manifest.add(key, _source_item(path, exc)))
            continue
        status = pipeline.accept(data, path.name, direction, source=str(path))
        if status.state is JobState.WAITING:
            dispatch(status.job_id, settings=settings)
        if status.state.final:
            report(manifest.add(key, _item(path, status)))
        elif wait:
            queued[status.job_id + "\x1f" + key] = (key, path)
        else:
            report(manifest.shown(_item(path, status)))
    deadline = None if wait_timeout is None else time.monotonic() + wait_timeout
    while queued:
        if deadline is not None and time.monotonic() > deadline:
            for token, (_, path) in queued.items():
                report(manifest.shown(_item(path, jobs.get(token.split("\x1f", 1)[0]))))
            return
        time.sleep(poll_interval)
        for token, (key, path) in list(queued.items()):
            status = jobs.get(token.split("\x1f", 1)[0])
            if status.state.final:
                del queued[token]
                report(manifest.add(key, _item(path, status)))
