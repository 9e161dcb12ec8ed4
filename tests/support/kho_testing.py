"""Helpers shared by the repository tests (importable: tests/ is on the path)."""

from __future__ import annotations

import os
import select
import signal
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from kho_buckets import new_bucket

from kho.timeutil import utcnow
from repository.accounts import Account, AccountService
from repository.policy import Principal, Role
from repository.records import Actor, Repository
from repository.storage import ObjectStore, open_store
from repository.storage.local import LocalStore

if TYPE_CHECKING:
    from argon2 import PasswordHasher

    from repository.anchor import Anchor
    from repository.audit import AuditEvent, AuditLog

AGENCY = "000.00.18.H40"
AGENCY_NAME = "Ủy ban nhân dân tỉnh Ninh Bình"
CLERK = Actor(
    user="vanthu.nguyen",
    source="127.0.0.1",
    principal=Principal(
        "vanthu.nguyen",
        roles=frozenset({(AGENCY, Role.VAN_THU), (AGENCY, Role.CHUYEN_VIEN)}),
        clearance=3,
    ),
)
"""A văn thư (and chuyên viên) of the agency, cleared for every secrecy level."""
AUDITOR = Actor(
    user="kiemtoan.le",
    source="127.0.0.1",
    principal=Principal("kiemtoan.le", roles=frozenset({(AGENCY, Role.KIEM_TOAN)}), clearance=3),
)


def person(user: str, *roles: tuple[str, Role], clearance: int = 0, led: tuple[str, ...] = ()) -> Actor:
    """An authenticated person with (unit, role) pairs."""
    return Actor(
        user=user,
        source="127.0.0.1",
        principal=Principal(user, roles=frozenset(roles), clearance=clearance, led_units=frozenset(led)),
    )


def s3_options() -> dict[str, Any] | None:
    endpoint = os.environ.get("KHO_TEST_S3_ENDPOINT")
    if not endpoint:
        return None
    return {
        "endpoint": endpoint,
        "access_key": os.environ.get("KHO_TEST_S3_ACCESS_KEY", ""),
        "secret_key": os.environ.get("KHO_TEST_S3_SECRET_KEY", ""),
        "secure": False,
    }


def s3_options_or_skip() -> dict[str, Any]:
    """``s3_options()`` of the test S3 gateway, or the test skipped with the suite's one message
    (under ``KHO_REQUIRE_SERVICES`` a skip fails the run: tests/conftest.py)."""
    options = s3_options()
    if options is None:
        pytest.skip("KHO_TEST_S3_ENDPOINT is not set: start the S3 gateway with scripts/services.sh")
    return options


def es_url_or_skip() -> str:
    """The test Elasticsearch server's URL, or the test skipped with the suite's one message
    (under ``KHO_REQUIRE_SERVICES`` a skip fails the run: tests/conftest.py)."""
    url = os.environ.get("KHO_TEST_ELASTICSEARCH_URL")
    if not url:
        pytest.skip("KHO_TEST_ELASTICSEARCH_URL is not set: no Elasticsearch server to test")
    return url


def s3_store_env(options: dict[str, Any], prefix: str) -> dict[str, str]:
    """The settings of a Kho on the real S3 gateway, with a fresh record bucket and key bucket
    named from ``prefix`` (removed when the test ends): a test sets them before opening Kho."""
    from kho_buckets import new_bucket

    return {
        "KHO_STORE_URL": f"s3://{new_bucket(prefix, options)}",
        "KHO_KEYSTORE_URL": f"s3://{new_bucket(f'{prefix}-keys', options)}",
        "KHO_S3_ENDPOINT": options["endpoint"],
        "KHO_S3_ACCESS_KEY": options["access_key"],
        "KHO_S3_SECRET_KEY": options["secret_key"],
    }


def backup_s3_options() -> dict[str, Any]:
    """The backup destination's own S3 account on the second S3 server (scripts/services.sh
    starts a second gateway with its own zone and pools, ``KHO_TEST_S3_BACKUP_ENDPOINT``; on a
    stack started before it existed, the account on the store's gateway); skips when the
    gateway is not configured."""
    options = s3_options()
    access = os.environ.get("KHO_TEST_S3_BACKUP_ACCESS_KEY", "")
    if options is None or not access:
        pytest.skip("KHO_TEST_S3_BACKUP_ACCESS_KEY is not set: start the S3 gateway with scripts/services.sh")
    secret = os.environ.get("KHO_TEST_S3_BACKUP_SECRET_KEY", "")
    endpoint = os.environ.get("KHO_TEST_S3_BACKUP_ENDPOINT") or options["endpoint"]
    return {**options, "endpoint": endpoint, "access_key": access, "secret_key": secret}


BACKENDS = ["local", pytest.param("s3", marks=pytest.mark.s3)]

# How an acknowledging auditor logged in, as the audit tests pass it to ``acknowledge``.
LOGIN = {"method": "password", "source": "test"}


def outside_anchor(tmp_path: Path) -> Anchor:
    """A checkpoint anchor whose signing key and checkpoints lie outside the store (as an
    operator keeps them: the one who can write the store cannot write these)."""
    from repository.anchor import Anchor, generate_key  # not at import: the fork tests import it late

    key = tmp_path / "outside" / "audit.key"
    key.parent.mkdir()
    generate_key(key)
    return Anchor(signing_key=key, checkpoint_dir=tmp_path / "outside" / "checkpoints")


def two_event_act(log: AuditLog, name: str) -> list[AuditEvent]:
    """One act of two events (``name`` is the record), one object with group commit."""
    from repository.audit import EventDraft

    drafts = [
        EventDraft("clerk", "record:create", record_id=name),
        EventDraft("clerk", "register:assign", record_id=name),
    ]
    return log.append_many(drafts)


def acknowledge_cut(store: ObjectStore, anchor: Anchor, reason: str) -> AuditEvent:
    """An auditor's acknowledgement of what verification finds open, made with the audit log
    directly by a process started after the cut; asserts it was accepted."""
    from repository.acknowledge import acknowledge, findings_digest
    from repository.anchor import verify_anchored
    from repository.audit import AuditLog

    log = AuditLog(store)
    digest = findings_digest(verify_anchored(log, anchor).open_findings)
    event, _, report = acknowledge(
        log, anchor, actor=AUDITOR.user, source="test", digest=digest, reason=reason, login=LOGIN
    )
    assert report.ok
    return event


def make_store(kind: str, base: Path, name: str) -> ObjectStore:
    if kind == "local":
        return LocalStore(base / name)
    options = s3_options_or_skip()
    return open_store(f"s3://{new_bucket(name, options)}", **options)


def store_url(kind: str, base: Path, name: str) -> tuple[str, dict[str, Any]]:
    """A URL + options another process can open (for multi-process tests); an S3 bucket is
    removed when the test ends."""
    if kind == "local":
        return f"file://{base / name}", {}
    options = s3_options_or_skip()
    return f"s3://{new_bucket(name, options)}", options


def new_repository(
    store: ObjectStore, keystore: ObjectStore, clock: Callable[[], datetime] | None = None
) -> Repository:
    kwargs: dict[str, Any] = {}
    if clock is not None:
        kwargs["clock"] = clock
    repo = Repository(store, keystore, agency_id=AGENCY, agency_name=AGENCY_NAME, **kwargs)
    return repo


def agency_accounts(
    repo: Repository, hasher: PasswordHasher, unit: str, password: str
) -> tuple[AccountService, Account]:
    """The accounts of ``repo``'s agency: its bootstrap quản trị, who has set ``password`` and is
    logged in, and one unit ``unit`` below the agency. Returns the service and the quản trị."""
    svc = AccountService(repo.store, repo.audit, utcnow, hasher=hasher)
    _, admin, initial = svc.bootstrap(AGENCY, "Ủy ban nhân dân tỉnh", "ubnd", "Quản Trị Viên")
    svc.change_password(admin.username, initial, password)
    admin = svc.authenticate(admin.username, password)
    svc.create_unit(unit, "Văn phòng UBND tỉnh", "vpub", AGENCY, admin)
    return svc, admin


def person_with_password(svc: AccountService, admin: Account, unit: str, password: str) -> str:
    """A chuyên viên of ``unit`` made by ``admin``, confirmed by the operator, who has set
    ``password`` (the two halves used once). Returns the username."""
    person, first = svc.create_account("Trần Thị Bình", unit, [Role.CHUYEN_VIEN], 0, None, admin)
    _, second = svc.confirm_by_operator(person.username)
    svc.change_password(person.username, first + second, password)
    return person.username


def incoming(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type_name": "Công văn",
        "code_number": "1234",
        "code_notation": "BNV-VP",
        "organ_name": "Bộ Nội vụ",
        "issued_date": "2026-03-02",
        "subject": "Về việc triển khai Hệ thống quản lý văn bản và điều hành",
        "signer_position": "Chánh Văn phòng",
        "signer_full_name": "Trần Thị Hoà",
        "to_places": "Văn phòng UBND tỉnh",
    }
    data.update(overrides)
    return data


def incoming_signed(seed: int, **overrides: Any) -> dict[str, Any]:
    """:func:`incoming` as the test PKI's signed Quyết định of ``seed`` says it
    (``ingest.testpki.make_variant``): sent by the agency of its seal certificate, with the số,
    ký hiệu and date printed in it, so the metadata gate finds nothing to ask."""
    from ingest.testpki import FIXTURE_TIME
    from kho.timeutil import vn_date
    from repository.vocabulary import format_number

    return incoming(
        **{
            "type_name": "Quyết định",
            "code_number": format_number(1 + seed % 999),
            "code_notation": "QĐ-UBND",
            "organ_name": "Ủy ban nhân dân tỉnh Thử Nghiệm",
            "issued_date": vn_date(FIXTURE_TIME).isoformat(),
            "signer_position": "Chủ tịch",
            "signer_full_name": "Nguyễn Văn An",
            **overrides,
        }
    )


def seal_extra(*names: str) -> dict[str, Any]:
    """A record's ``extra`` as ingest leaves it for a PDF sealed by each of ``names``, each the CN
    and O of its seal certificate (as :func:`ingest.testpki.agency_seal` issues them)."""
    from repository.registration import SealAgency, stored_agencies

    return {"signature_agencies": stored_agencies([SealAgency(cn=n, o=n) for n in names])}


def plain_page(line: str) -> bytes:
    """An unsigned one-page PDF printing ``line`` (ASCII) and nothing else: no seal, no số/ký
    hiệu, no date, so it contradicts no metadata typed for it."""
    import zlib

    from pdf_objects import one_page_pdf

    text = b"BT /F1 12 Tf 72 720 Td (" + line.encode("ascii") + b") Tj ET"
    return one_page_pdf(zlib.compress(text), b"/FlateDecode")


def sealed_cong_van(
    n: int,
    organisation: str = "BỘ NỘI VỤ",
    *,
    printed: bool = False,
    common_name: str | None = None,
    unit: str | None = None,
    code: str = "1234/BNV-VP",
) -> bytes:
    """A one-page công văn signed by the test PKI's Nguyễn Văn An and sealed by ``organisation``
    (:func:`ingest.testpki.agency_seal`, trusted), its text told apart by ``n``. By default its
    text prints no số/ký hiệu or date, so a test types its own (:func:`incoming`); ``printed``:
    the Bộ Nội vụ công văn :func:`incoming` describes, printing "Số: 1234/BNV-VP" (or ``code``)
    and its date. ``common_name``/``unit``: a sub-unit's seal, the agency in CN and
    ``organisation`` (its locality or parent) in O."""
    from dataclasses import replace
    from datetime import date

    from ingest.pdfgen import render_pdf, sample_document
    from ingest.testpki import TestPKI, agency_seal, sign_personal_then_organisation

    pki = TestPKI.build()
    named = f"{organisation}|{common_name or ''}|{unit or ''}" if common_name or unit else organisation
    seal = agency_seal(
        pki,
        organisation,
        serial=0x4B484F7100 + sum(named.encode()) % 0xFF,
        common_name=common_name,
        unit=unit,
    )
    if printed:
        doc = sample_document(
            n, 1, co_quan=common_name or organisation, dia_danh="Hà Nội", ngay=date(2026, 3, 2)
        )
        page = render_pdf(replace(doc, so_ky_hieu=code)).data
    else:
        page = plain_page(f"Cong van ve viec trien khai he thong, ban {n}")
    return sign_personal_then_organisation(page, pki, organisation=seal, embed_revocation=True)


def outgoing(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type_name": "Quyết định",
        "code_notation": "QĐ-UBND",
        "organ_name": AGENCY_NAME,
        "subject": "Ban hành Quy chế quản lý văn bản điện tử",
        "signer_position": "Chủ tịch",
        "signer_full_name": "Nguyễn Văn An",
        "recipients": ["Sở Nội vụ", "Văn phòng UBND tỉnh"],
    }
    data.update(overrides)
    return data


def pdf_bytes(tag: str = "", size: int = 2048) -> bytes:
    head = b"%PDF-1.4\n% " + tag.encode() + b"\n"
    return head + b"0" * max(0, size - len(head))


def register_many(args: tuple[str, dict[str, Any], str, dict[str, Any], int, int]) -> list[int]:
    """Worker of the multi-process register test (importable by spawned processes)."""
    url, options, key_url, key_options, worker, count = args
    repo = new_repository(open_store(url, **options), open_store(key_url, **key_options))
    numbers = []
    for i in range(count):
        if i % 2:
            record = repo.create_document(
                "den", incoming(code_number=f"{worker * 1000 + i + 10}"), None, None, CLERK
            )
        else:
            record = repo.create_document("di", outgoing(), None, None, CLERK)
        assert record.registration is not None
        numbers.append((record.registration.series, record.registration.number))
    return numbers


def exit_code_in_child(work: Callable[[], object]) -> int:
    """Fork; the child runs ``work`` and exits 0, or 1 with its traceback on stderr if it
    raised, unless ``work`` ended it first (``os._exit``, a signal). The child's exit code (a
    signal as its negative number). For the tests that kill a writer at each of its steps in
    turn: a forked child starts with this process's imports, where a fresh interpreter paid
    ~0.6 s of CPU for them at each step."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child: never returns into pytest
        code = 1
        try:
            work()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def in_child(work: Callable[[], None], limit_s: float) -> str:
    """Fork; the child runs ``work`` and reports ``ok`` or its error on a pipe. The child's report
    (``"stuck"`` if it has none within ``limit_s``; the child is then killed)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        os.close(read_end)
        code = 1
        try:
            work()
            os.write(write_end, b"ok")
            code = 0
        except BaseException as exc:
            os.write(write_end, f"{type(exc).__name__}: {exc}".encode()[:4000])
        finally:
            os._exit(code)
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], limit_s)
        report = os.read(read_end, 4096).decode() if ready else "stuck"
    finally:
        os.close(read_end)
        if report == "stuck":
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    return report


@contextmanager
def held_by_another_thread(lock: Any, limit_s: float) -> Iterator[None]:
    """``lock`` held by another thread for as long as the block runs (at most ``2 * limit_s``):
    a fork inside the block copies it held by a thread the child does not have."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            holding.set()
            release.wait(limit_s * 2)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10)
        yield
    finally:
        release.set()
        holder.join()


class ManualClock:
    """A clock the test moves by hand (``advance`` or ``now +=``)."""

    def __init__(self, start: datetime = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class TickingClock(ManualClock):
    """A second passes at every reading (a log whose events all carry one moment reads as one
    first act, which ``checked_witness`` lets through without a witness); moved by hand too."""

    def __init__(self, start: datetime = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)) -> None:
        super().__init__(start)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def checked_by_ingest(repo: Repository, record_id: str) -> Any:
    """An intake record as ingest leaves it once every step ran on an unsigned PDF whose text
    says nothing: the signature verdict (none) on the record and the extracted metadata (empty)
    beside it. The metadata gate refuses a document whose text was not read yet
    (``METADATA_NOT_READ``), so the verdict alone is a job still running."""
    from ingest.metadata import extract_metadata
    from repository.formats import dump_derived
    from repository.records import EXTRACTED_METADATA, SYSTEM

    extracted = extract_metadata("").to_dict()
    repo.put_derived(record_id, EXTRACTED_METADATA, dump_derived(extracted, EXTRACTED_METADATA))
    return repo.set_extra(
        record_id,
        {"signature_verdict": "NO_SIGNATURE", "signature_count": 0},
        actor=SYSTEM,
        action="ingest:signatures",
    )


def numbered_incoming(kho: Any) -> list[str]:
    """The record ids of this year's văn bản đến register, in order: what a test checks to say a
    refused document took no số đến."""
    year = kho.repo.clock().year
    return [e.record_id for e in kho.repo.registers.entries(kho.repo.agency_id, year, "den")]


SO_PARENT = "UBND tỉnh Thử Nghiệm"
SO_NAME = "Sở Tài chính"


def so_sealed_cong_van() -> bytes:
    """A công văn sealed as VGCA seals a Sở (CN "Sở Tài chính", O "UBND tỉnh Thử Nghiệm"), its
    text printing no số or date (a10, r31)."""
    return sealed_cong_van(61, SO_PARENT, common_name=SO_NAME)


def numbered_outgoing(kho: Any) -> list[str]:
    """The record ids of this year's văn bản đi register (administrative series), in order: what
    a test checks to say a refused document took no number."""
    from repository.registers import ADMINISTRATIVE

    year = kho.repo.clock().year
    return [e.record_id for e in kho.repo.registers.entries(kho.repo.agency_id, year, ADMINISTRATIVE)]


def twice_at_once(act: Callable[[], Any], timeout_s: float = 60.0) -> list[Any]:
    """Run ``act`` in two threads at once; what each returned, or the :class:`KhoError` it
    raised (any other exception fails the test)."""
    from kho.errors import KhoError

    outcomes: list[Any] = []

    def run() -> None:
        try:
            outcomes.append(act())
        except KhoError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout_s)
    return outcomes


def before_first_stage(store: ObjectStore, meanwhile: Callable[[], None], prefix: str) -> None:
    """Run ``meanwhile`` once, just before the first object under ``prefix`` is staged on this
    store instance (its group's first step, before anything of it is visible;
    ``storage.group.write_group``): ``registers/`` is a registered record's entry (the window
    m31's witness read ahead adds on S3), ``audit/events/`` an act's event object (the window
    between the witness read and the event write that every version of the code has)."""
    real = store.stage
    pending: list[Callable[[], None]] = [meanwhile]

    def stage(key: str, data: bytes, *, fresh: bool = False) -> Any:
        if key.startswith(prefix) and pending:
            pending.pop()()
        return real(key, data, fresh=fresh)

    store.stage = stage  # type: ignore[method-assign]
