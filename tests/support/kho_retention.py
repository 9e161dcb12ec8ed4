"""Retention tests: an installation with a controlled clock, closed hồ sơ to retain."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from kho_buckets import bucket_name, drop_bucket, new_bucket
from kho_people import PASSWORD as PASSWORD
from kho_people import People
from kho_testing import es_url_or_skip, incoming, pdf_bytes, s3_options_or_skip

from ingest.indexing import follow
from kho.config import Settings
from kho.errors import KhoError
from repository import formats
from repository.records import Record, claim_body, destroyed_key, destroying_key
from retention.destruction import Destructions
from search.elasticsearch import ElasticsearchBackend
from search.query import Principal, Query
from web.context import Kho

NOW = datetime(2027, 3, 1, 3, 0, tzinfo=UTC)

PLAN: dict[str, Any] = {
    "year": 2026,
    "headings": [
        {"number": "I", "title": "Tổng hợp", "abbreviation": "TH"},
        {"number": "II", "title": "Tổ chức cán bộ", "abbreviation": "TCCB"},
    ],
    "items": [
        {
            "notation": "01.TH",
            "title": "Hồ sơ triển khai hệ thống quản lý văn bản",
            "maintenance": "20 năm",
            "creator": "Văn phòng",
            "heading": "I",
        },
        {
            "notation": "02.TH",
            "title": "Công văn trao đổi chung",
            "maintenance": "10 năm",
            "creator": "Văn phòng",
            "heading": "I",
        },
        {
            "notation": "03.TCCB",
            "title": "Hồ sơ bổ nhiệm",
            "maintenance": "70 năm",
            "creator": "Phòng TCCB",
            "heading": "II",
        },
    ],
}
"""A Danh mục hồ sơ of 2026 as the API takes it: two headings, three rows."""


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


def kho_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "KHO_DATA_DIR": str(tmp_path / "kho"),
        "KHO_AGENCY_ID": "000.00.18.H40",
        "KHO_AGENCY_NAME": "Ủy ban nhân dân tỉnh Ninh Bình",
        "KHO_FSYNC": "false",
        "KHO_BROKER_URL": "",
        "KHO_TIKA_URL": "",
        "KHO_ELASTICSEARCH_URL": "",
        "KHO_PASSWORD_MEMORY_KB": "1024",
        "KHO_PASSWORD_TIME_COST": "1",
        **extra,
    }


def s3_env(tmp_path: Path, *, object_lock: bool = False, kept: bool = False) -> dict[str, str]:
    """The settings of an installation on fresh buckets of the test gateway, removed when the
    test ends; ``kept``: by no test's end, for a fixture of a wider scope, which removes them
    itself (:func:`drop_env_buckets`, kho_buckets' rule)."""
    gateway = s3_options_or_skip()
    name = bucket_name if kept else (lambda tag: new_bucket(tag, gateway))
    return kho_env(
        tmp_path,
        KHO_STORE_URL=f"s3://{name('ret')}",
        KHO_KEYSTORE_URL=f"s3://{name('retk')}",
        KHO_S3_ENDPOINT=gateway["endpoint"],
        KHO_S3_ACCESS_KEY=gateway["access_key"],
        KHO_S3_SECRET_KEY=gateway["secret_key"],
        KHO_S3_SECURE="false",
        KHO_S3_OBJECT_LOCK="true" if object_lock else "false",
    )


def drop_env_buckets(env: dict[str, str]) -> None:
    """Remove the buckets of ``s3_env(..., kept=True)`` (a problem is a warning, as at a test's
    end)."""
    gateway = s3_options_or_skip()
    for key in ("KHO_STORE_URL", "KHO_KEYSTORE_URL"):
        for problem in drop_bucket(env[key].removeprefix("s3://"), gateway):
            warnings.warn(problem, stacklevel=2)


def env_of(kho: Kho, tmp_path: Path) -> dict[str, str]:
    """The settings of ``kho`` (made by the ``kho`` fixture in ``tmp_path``) for a child process
    that opens the same installation: its data folder, and its buckets when it is on S3."""
    env = kho_env(tmp_path)
    settings = kho.settings
    if settings.store_url.startswith("s3://"):
        env.update(
            KHO_STORE_URL=settings.store_url,
            KHO_KEYSTORE_URL=settings.keystore_url,
            KHO_S3_ENDPOINT=settings.s3_endpoint,
            KHO_S3_ACCESS_KEY=settings.s3_access_key,
            KHO_S3_SECRET_KEY=settings.s3_secret_key,
            KHO_S3_SECURE="true" if settings.s3_secure else "false",
            KHO_S3_OBJECT_LOCK="true" if settings.s3_object_lock else "false",
        )
    return env


def run_child(script: str, payload: Any, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    """``script`` run by another Python process from the repository's root, ``payload`` given as
    JSON in its ``sys.argv[1]``, with ``env`` over this process's environment (a test that kills
    a step midway: the child kills itself)."""
    return subprocess.run(
        [sys.executable, "-c", script, json.dumps(payload)],
        cwd=Path(__file__).parents[2],
        env={**os.environ, **env},
        capture_output=True,
        timeout=300,
    )


def open_kho(env: dict[str, str], clock: Clock) -> Kho:
    kho = Kho(Settings.from_env(env))
    kho.repo.clock = clock
    kho.accounts.clock = clock
    return kho


_CODE_NUMBERS = itertools.count(100)
"""Số of the documents :func:`closed_file` registers: distinct in a test run, so two of one test
never collide as duplicates (a random number of 9,000 did, about once in 600 runs)."""

SECRET_WORD = "thuốcnổbímật"
"""A word only the destroyed document's text holds (searched for after destruction)."""


def closed_file(
    kho: Kho,
    people: People,
    *,
    notation: str = "01.TCCB",
    maintenance: str = "05 năm",
    end: str = "2015-12-31",
    docs: int = 2,
    words: str = SECRET_WORD,
) -> tuple[Record, list[str]]:
    """A closed hồ sơ (its end date set) holding ``docs`` registered incoming documents whose
    text (as ingest would store it) is indexed."""
    repo = kho.repo
    clerk, officer = people.actor("van_thu"), people.actor("chuyen_vien")
    ids = []
    for n in range(docs):
        rec = repo.create_document(
            "den",
            incoming(code_number=str(next(_CODE_NUMBERS)), issued_date="2015-03-02"),
            pdf_bytes(f"{notation}-{n}-{uuid.uuid4().hex}"),
            f"cv{n}.pdf",
            clerk,
        )
        text = {"parts": [{"page": 1, "text": f"Nội dung mật {words} số {n}"}], "format": "pdf"}
        repo.put_derived(rec.record_id, "text.json", formats.dump_derived(text, "text.json"))
        repo._emit(repo._load(rec.record_id))
        ids.append(rec.record_id)
    file = repo.create_file(
        {
            "file_notation": notation,
            "title": f"Hồ sơ {notation}",
            "maintenance": maintenance,
            "creator": "Phạm Minh Chính",
            "start_date": "2015-01-05",
            "end_date": end,
        },
        officer,
    )
    for rid in ids:
        file = repo.add_to_file(file.record_id, rid, expected_version=file.version, actor=officer)
    if end:  # closed through the one closing path (retention.service); end="" leaves it open
        file = kho.retention.close_file(
            file.record_id, end_date=date.fromisoformat(end), expected_version=file.version, actor=officer
        )
    return file, ids


def council_ready(kho: Kho, people: People, file_ids: list[str]) -> tuple[Destructions, dict[str, Any]]:
    d = Destructions(kho.repo, kho.accounts, kho.backend)
    archivist, head = people.actor("luu_tru"), people.actor("lanh_dao")
    case = d.propose(file_ids, "Hồ sơ hết thời hạn bảo quản 05 năm theo danh mục.", actor=archivist)
    members = [people.usernames[w] for w in ("lanh_dao", "luu_tru", "chuyen_vien")]
    case = d.establish_council(
        case["case_id"], members, "Quyết định số 05/QĐ-UBND ngày 02/01/2027", actor=head
    )
    for who in ("lanh_dao", "luu_tru", "chuyen_vien"):
        case = d.review(case["case_id"], "agree", "Đồng ý hủy", actor=people.actor(who))
    case = d.record_minutes(case["case_id"], "Biên bản họp: 3/3 thành viên đồng ý.", actor=archivist)
    case = d.attach_appraisal(case["case_id"], "Công văn thẩm định số 12/SNV-LT", actor=archivist)
    return d, case


def search_count(kho: Kho, people: People, text: str) -> int:
    everyone = Principal(user_id="test", everything=True)
    return kho.backend.search(Query(principal=everyone, terms=(text,))).total


@contextmanager
def acting_at(kho: Kho, key: str, act: Callable[[], Any]) -> Iterator[list[Any]]:
    """Run ``act`` once, just before the real store creates ``key`` (create-if-absent): another
    act forced between two writes of the one under way. Its outcome in the yielded list."""
    store = kho.repo.store
    real = store.put_if_absent
    outcome: list[Any] = []

    def hooked(k: str, data: bytes, *args: Any, **kwargs: Any) -> Any:
        if k == key and not outcome:
            outcome.append(act())
        return real(k, data, *args, **kwargs)

    store.put_if_absent = hooked  # type: ignore[method-assign]
    try:
        yield outcome
    finally:
        store.put_if_absent = real  # type: ignore[method-assign]


@contextmanager
def destroying(kho: Kho, people: People, record_id: str, wait_s: float = 30.0) -> Iterator[list[Any]]:
    """The destruction of ``record_id`` (by the quản trị, as the last step of a case) running in
    another thread on the real store, stopped after its hold check, just before its "đã hủy" row
    is written; it goes on when the block ends. Yields the list its outcome (the tombstone, or the
    :class:`KhoError` it raised) is put in once it has ended."""
    store = kho.repo.store
    real = store.put_if_absent
    reached, go = threading.Event(), threading.Event()
    outcome: list[Any] = []

    def hooked(key: str, data: bytes) -> Any:
        if key == destroyed_key(record_id) and not reached.is_set():
            reached.set()
            assert go.wait(wait_s)
        return real(key, data)

    def run() -> None:
        try:
            outcome.append(
                kho.repo.destroy(record_id, decision="QĐ 12/QĐ-UBND", actor=people.actor("quan_tri"))
            )
        except KhoError as exc:
            outcome.append(exc)

    store.put_if_absent = hooked  # type: ignore[method-assign]
    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert reached.wait(wait_s), "the destruction did not reach its row"
        yield outcome
    finally:
        go.set()
        thread.join(wait_s)
        store.put_if_absent = real  # type: ignore[method-assign]


def dead_pid() -> int:
    """The id of a process of this machine that has ended."""
    command = [sys.executable, "-c", "import os; print(os.getpid())"]
    done = subprocess.run(command, capture_output=True, text=True)
    return int(done.stdout)


def left_destruction_claim(kho: Kho, record_id: str, pid: int, **holder: Any) -> None:
    """``claims/destroying/<record_id>`` as a destruction of process ``pid`` left it (``holder``:
    other fields of the claim, e.g. ``host``, ``at``, ``decision``)."""
    left_claim(kho, destroying_key(record_id), record_id, pid, **holder)


def left_claim(kho: Kho, key: str, record_id: str, pid: int, **holder: Any) -> None:
    """The claim ``key`` (format ``claim``, for ``record_id``) as an act of process ``pid`` left it
    (``holder``: other fields, e.g. ``host``, ``at``)."""
    body = formats.loads(formats.CLAIM.name, claim_body(record_id, kho.repo.clock()))
    body.update(pid=pid, **holder)
    kho.repo.store.put(key, formats.dumps(formats.CLAIM.name, body))


def recall_outcome(
    kho: Kho, people: People, document_id: str, order_ref: str = "Công văn số 20/BNV-VP"
) -> Any:
    """The văn thư recalls văn bản đến ``document_id``: the recall, or the refusal (KhoError)."""
    from retention.recall import Recalls

    try:
        return Recalls(kho.repo, kho.backend).recall_incoming(
            document_id, order_ref, "Bên gửi thu hồi", actor=people.actor("van_thu")
        )
    except KhoError as exc:
        return exc


def submit_outcome(kho: Kho, people: People, file: Record) -> Any:
    """The chuyên viên submits hồ sơ ``file`` for nộp lưu: the new version, or the refusal."""
    try:
        return kho.retention.submit(
            file.record_id, expected_version=file.version, actor=people.actor("chuyen_vien")
        )
    except KhoError as exc:
        return exc


@contextmanager
def incoming_on_elasticsearch(
    kho: Kho, people: People, *, code_number: str, word: str, tag: str
) -> Iterator[tuple[ElasticsearchBackend, str]]:
    """An incoming document whose text holds ``word``, stored by the văn thư and indexed in a
    fresh index of the test Elasticsearch server, which ``kho`` then searches and follows; the
    index is dropped when the block ends. Without a server the test is skipped, which
    ``KHO_REQUIRE_SERVICES`` (scripts/test.sh) turns into a failure."""
    es_url = es_url_or_skip()
    backend = ElasticsearchBackend(es_url, prefix=f"kho-{tag}-{uuid.uuid4().hex[:8]}", refresh=True)
    kho._backend = backend
    follow(kho.repo, backend)
    try:
        doc = kho.repo.create_document(
            "den", incoming(code_number=code_number), pdf_bytes("den"), "cv.pdf", people.actor("van_thu")
        )
        text = {"parts": [{"page": 1, "text": word}], "format": "pdf"}
        kho.repo.put_derived(doc.record_id, "text.json", formats.dump_derived(text, "text.json"))
        kho.repo._emit(kho.repo._load(doc.record_id))
        yield backend, doc.record_id
    finally:
        backend.drop_all()
