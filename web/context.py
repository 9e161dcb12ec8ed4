"""One place that wires Kho's services from the settings, for the CLI, the API and the web pages.

Identity comes only from here: :meth:`Kho.actor_from_token` turns a token an account was
issued into an :class:`~repository.records.Actor` whose principal the access policy reads.
Nothing a caller asserts (a header, a ``--user`` flag) ever names who acts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kho import logs
from kho.config import Settings
from kho.errors import (
    MASTER_KEY_WRONG_MESSAGE,
    UNREADABLE_CAUSES,
    UNREADABLE_MESSAGE,
    AccountNotFound,
    AlreadyExists,
    FieldError,
    KeyUnwrapFailed,
    KhoError,
    MasterKeyWrong,
    RecordUnreadable,
    StoreUnavailable,
    TokenReadOnly,
    ValidationFailed,
)
from repository.accounts import Account, AccountService, Notification
from repository.policy import Action, Principal, may_hand_over, token_permits
from repository.records import Actor, Record, Repository
from repository.vocabulary import nfc

if TYPE_CHECKING:
    from ingest.pipeline import Pipeline
    from ingest.receive import ReceiveService
    from repository.handling import HandlingService, WorkIndex
    from retention.service import RetentionService
    from retention.sip_import import PackageChecks


def principal_of(account: Account, accounts: AccountService) -> Principal:
    """The policy's view of an account: its (unit, role) pairs, clearance, and every unit below
    a unit it leads."""
    return accounts.principal_of(account)


def _account_name(name: str) -> str:
    """A name as typed, in the form account names are stored in (NFC, trimmed, lower case)."""
    return nfc(name).strip().lower()


class Kho:
    """The repository, accounts, search index and receive service of one installation."""

    def __init__(
        self, settings: Settings, repo: Repository | None = None, *, follow_index: bool = True
    ) -> None:
        from repository.service import open_accounts, open_repository

        self.settings = settings
        self.repo = repo if repo is not None else open_repository(settings)
        self.accounts = open_accounts(self.repo, settings)
        self._backend: Any = None
        self._pipeline: Pipeline | None = None
        self._work_index: WorkIndex | None = None
        if follow_index:
            from ingest.indexing import follow

            follow(self.repo, lambda: self.backend)  # opened at the first change

    @property
    def backend(self) -> Any:
        """The search index (opened on first use)."""
        if self._backend is None:
            from search import open_backend

            self._backend = open_backend(self.settings.elasticsearch_url or self.settings.data_dir / "index")
        return self._backend

    @property
    def pipeline(self) -> Pipeline:
        if self._pipeline is None:
            from ingest.pipeline import Pipeline

            self._pipeline = Pipeline.from_settings(
                self.settings, self.repo, backend_factory=lambda: self.backend
            )
        return self._pipeline

    @property
    def sip_checks(self) -> PackageChecks:
        """What an imported package is checked with: this installation's signature
        verification (the pipeline's), its own working folder, ``<data>/tmp``, where a killed
        import's files are swept by the next (:mod:`kho.scratch`), its clock (the package's
        dates), its time limit for one package and its largest original (the largest PDF
        verified)."""
        from retention.sip_import import PackageChecks

        return PackageChecks(
            verify=self.pipeline.verify,
            work_root=self.work_root,
            clock=self.repo.clock,
            time_limit=self.settings.sip_time_limit,
            max_pdf_bytes=self.settings.max_file_bytes,
        )

    @property
    def work_root(self) -> Path:
        """The installation's folder for working files (an upload being saved, a package being
        unpacked): ``<KHO_DATA_DIR>/tmp``, never ``/tmp`` (:mod:`kho.scratch`)."""
        return self.settings.data_dir / "tmp"

    def sweep_work_root(self) -> list[Path]:
        """Remove the working folders under :attr:`work_root` whose owner is gone (a killed
        import's extraction, a killed upload), of every kind: at the start of the web
        application and of every import, not only when another folder of the same kind is made
        (:mod:`kho.scratch`)."""
        from kho.scratch import sweep
        from retention.sip_import import UPLOAD_PREFIX, WORK_PREFIX

        return [path for prefix in (WORK_PREFIX, UPLOAD_PREFIX) for path in sweep(self.work_root, prefix)]

    def import_package(self, archive: Path, *, actor: Actor, resend: bool = False) -> dict[str, Any]:
        """Check an arriving package and record it as accepted
        (:func:`retention.sip_import.import_package`; ``resend``: the archivist takes a changed
        re-send of a package accepted before), for the API, the pages and the CLI alike."""
        from retention.sip_import import import_package

        self.sweep_work_root()
        return import_package(self.repo, archive, actor=actor, checks=self.sip_checks, resend=resend)

    @property
    def receive(self) -> ReceiveService:
        from ingest.receive import ReceiveService

        return ReceiveService(self.repo, self.pipeline)

    def forget_work(self, record_ids: Sequence[str]) -> None:
        """Drop the handling work index's rows of destroyed records (their trích yếu and the
        leaders' notes): given to the destruction and the recall as their ``forget``."""
        from repository.handling import WorkIndex

        if self._work_index is None:
            self._work_index = WorkIndex(self.settings.data_dir / "work-index.sqlite")
        self._work_index.forget(record_ids)

    @property
    def handling(self) -> HandlingService:
        """Trình, chỉ đạo, giao xử lý, theo dõi (:mod:`repository.handling`); its work index is a
        SQLite file in the data folder, rebuilt from the store by ``kho handling reindex``."""
        from repository.handling import WorkIndex
        from repository.service import open_handling

        if self._work_index is None:
            self._work_index = WorkIndex(self.settings.data_dir / "work-index.sqlite")
        return open_handling(self.settings, self.repo, self.accounts, self._work_index)

    @property
    def retention(self) -> RetentionService:
        """Danh mục hồ sơ, closing, nộp lưu (:mod:`retention.service`), on this repository."""
        from retention.service import RetentionService

        return RetentionService(self.repo)

    def grant(
        self,
        record_id: str,
        *,
        users: Iterable[str] = (),
        units: Iterable[str] = (),
        revoke: bool = False,
        actor: Actor,
    ) -> Record:
        """Grant (or revoke) sight of a record or hồ sơ, for the API, the pages and the CLI
        alike: each account and unit granted must exist (``GRANT_USER_UNKNOWN``,
        ``GRANT_UNIT_UNKNOWN``), named as it is stored. A name that matches nobody would be a
        grant that does nothing today, and one an account created later under that name would
        inherit. Revoking takes any name (a grant left to a removed account can go), as typed
        and as an account would spell it. Whether the actor may grant on the record is decided
        before any name is looked up: a person who may not grant gets the same refusal whether
        the names exist or not (no account enumeration)."""
        self.repo.authorize_grant(record_id, actor=actor)  # the right first, then the names
        wanted_users, wanted_units = tuple(users), tuple(units)
        if revoke:
            wanted_users = tuple(dict.fromkeys((*wanted_users, *map(_account_name, wanted_users))))
        else:
            wanted_users = self._existing_grantees(wanted_users, wanted_units)
        return self.repo.grant(record_id, users=wanted_users, units=wanted_units, revoke=revoke, actor=actor)

    def handover(self, from_user: str, to_user: str, *, actor: Actor) -> list[str]:
        """Hand over the hồ sơ of a person leaving (:meth:`RetentionService.handover`): the
        successor is granted each of them, so they name an existing account, as for
        :meth:`grant` (``GRANT_USER_UNKNOWN``)."""
        self.repo.authorize_granter(actor)  # the right first, then the names
        (leaver, successor) = self._existing_grantees((from_user, to_user), ())
        if not actor.system:  # the leaver's head or quản trị, before their hồ sơ are listed
            units = self.accounts.get(leaver).units
            decision = may_hand_over(actor.as_principal, self.accounts.units_below, units)
            self.repo.authorize_decision(actor, Action.RECORD_GRANT, decision)
        return self.retention.handover(leaver, successor, actor=actor)

    def _existing_grantees(self, users: tuple[str, ...], units: tuple[str, ...]) -> tuple[str, ...]:
        """The stored usernames of ``users``; :class:`ValidationFailed` when an account or a
        unit named does not exist (``GRANT_USER_UNKNOWN``, ``GRANT_UNIT_UNKNOWN``)."""
        errors: list[FieldError] = []
        names = []
        for name in users:
            try:
                names.append(self.accounts.get(_account_name(name)).username)
            except AccountNotFound:
                errors.append(FieldError("users", "GRANT_USER_UNKNOWN", f"Không có tài khoản “{name}”."))
        known = {u.unit_id for u in self.accounts.units()}
        for unit in units:
            if unit not in known:
                errors.append(FieldError("units", "GRANT_UNIT_UNKNOWN", f"Không có đơn vị “{unit}”."))
        if errors:
            raise ValidationFailed(errors)
        return tuple(names)

    def notifications(self, actor: Actor) -> list[Notification]:
        """The person's notifications as they may read them: a record a notification names by
        reference (:data:`repository.accounts.RECORD_REFERENCE`) is named by its title only if
        they may see it now (:meth:`Repository.may_see`), so a title is neither stored in the
        notification nor shown to someone who may not see the record (a lưu trữ viên of
        another unit, a holder whose clearance was lowered)."""
        shown: dict[str, str | None] = {}
        out = []
        for note in self.accounts.notifications(actor.user):
            if note.record_id:
                if note.record_id not in shown:
                    shown[note.record_id] = self._title_for(note.record_id, actor)
                note = note.shown(shown[note.record_id])
            out.append(note)
        return out

    def _title_for(self, record_id: str, actor: Actor) -> str | None:
        try:
            record = self.repo._load(record_id)
        except KhoError:
            return None
        if not self.repo.may_see(actor, record):
            return None
        md = record.metadata
        return getattr(md, "title", None) or getattr(md, "subject", None)

    def refusal(self, error: KhoError, actor: Actor | None) -> KhoError:
        """The error a person is answered for ``error`` (API and pages alike). A record whose key
        is garbled or does not unwrap, or whose sealed bytes changed, answered 500 with
        ``MASTER_KEY_MISMATCH``/``INTEGRITY_FAILED``: it is now :class:`RecordUnreadable` (503),
        and a fixity finding (:meth:`report_unreadable`). Any other error is answered as is."""
        record_id = error.details.get("record_id")
        if error.code not in UNREADABLE_CAUSES or not isinstance(record_id, str):
            return error
        if error.code == KeyUnwrapFailed.code and not self._master_key_fits(record_id):
            # Other keys fail too: the master key is wrong or missing (r29: a CLI run without
            # KHO_MASTER_KEY reported every record it read as damaged, to every operator).
            wrong = MasterKeyWrong(MASTER_KEY_WRONG_MESSAGE, record_id=record_id)
            wrong.__cause__ = error
            return wrong
        self.report_unreadable(record_id, error.code, actor)
        refusal = RecordUnreadable(UNREADABLE_MESSAGE, record_id=record_id)
        refusal.__cause__ = error
        return refusal

    def _master_key_fits(self, record_id: str) -> bool:
        """Whether the configured master key is this installation's, ``record_id``'s key having
        not unwrapped (the one rule of a wrong or missing ``KHO_MASTER_KEY``): other record keys
        tell first; with fewer than three others (r29: 1–3 records), the sealed accounts do
        (:func:`repository.seals.master_key_fits_seals`). Neither can tell (no other key, no
        sealed account): the key is taken for damaged, a finding, as before."""
        from repository.seals import master_key_fits_seals

        opens = self.repo.keys.master_key_opens_another(record_id)
        if opens is None:
            opens = master_key_fits_seals(self.repo.store, self.repo.keys.master_key)
        return opens is not False

    def report_unreadable(self, record_id: str, code: str, actor: Actor | None) -> None:
        """A fixity finding made while reading: an audit event ``fixity:finding`` every time, and
        the first time for the record and cause, a notification to every active quản trị and lưu
        trữ viên who may know of the record (as a fixity run's alert). Never raises: the person
        still gets the refusal."""
        from retention.fixity import finding_marker
        from retention.operations import notify_operators

        try:
            self.repo.audit.append(
                actor.user if actor is not None else "system",
                "fixity:finding",
                record_id=record_id,
                source=actor.source if actor is not None else None,
                details={"code": code, "found_by": "read"},
            )
            self.repo.store.put_if_absent(finding_marker(record_id, code), code.encode())
        except AlreadyExists:
            return
        except KhoError as exc:
            logs.warn(__name__, "fixity finding not recorded: %s", exc.code)
            return
        notify_operators(
            self.repo,
            self.settings,
            "fixity",
            lambda _known: (
                f"Văn bản/hồ sơ {record_id} không mở được khi đọc ({code}): khóa mã hóa hoặc dữ liệu"
                " lưu trữ bị hỏng. Chạy “kho fixity” và “kho fsck”, khôi phục khóa hoặc bản gốc từ bản"
                " sao lưu."
            ),
            records=[record_id],  # told only to who may know of it
        )

    def actor_of(self, account: Account, source: str | None) -> Actor:
        return Actor(user=account.username, source=source, principal=principal_of(account, self.accounts))

    def actor_from_token(
        self, secret: str, source: str | None, method: str, *, ends_itself: bool = False
    ) -> Actor:
        """Who acts with ``secret`` for a request of ``method`` (HTTP; the CLI says ``GET`` for a
        command that only reads, ``POST`` otherwise). Raises ``TOKEN_INVALID`` /
        ``TOKEN_EXPIRED`` (401), ``ACCOUNT_LOCKED`` (403), or ``TOKEN_READ_ONLY`` (403) when the
        token's scope does not permit ``method`` (:func:`repository.policy.token_permits`, the one
        rule, applied here: every door that takes a token comes through this method)."""
        return self.holder_from_token(secret, source, method, ends_itself=ends_itself)[0]

    def holder_from_token(
        self, secret: str, source: str | None, method: str, *, ends_itself: bool = False
    ) -> tuple[Actor, Account]:
        """:meth:`actor_from_token` with the account its checks read (the newest version, after
        any lock they wrote), for a caller that needs both in one request: the page session
        read the account a second time (one LIST and one GET more on S3 per page, m29)."""
        account, token = self.accounts.token_holder(secret)
        if not token_permits(token.scope, method, ends_itself=ends_itself):
            raise TokenReadOnly(
                "Mã truy cập này chỉ được dùng để đọc (phạm vi “read”): không dùng được để tạo, sửa"
                " hay xóa. Hãy dùng mã truy cập có phạm vi “read-write”.",
                scope=str(token.scope),
                method=method.upper(),
            )
        return self.actor_of(account, source), account

    def close(self) -> None:
        """Close what this installation's process opened, and note its last written head
        outside the store (:meth:`Repository.close`): called when the command, the web worker
        or the test that opened it ends."""
        self.repo.close()
        if self._work_index is not None:
            self._work_index.close()
            self._work_index = None
        # The pipeline holds nothing of its own to close: it borrows this context's backend.
        if self._backend is not None:
            self._backend.close()
            self._backend = None


STORE_DOWN_MESSAGE = (
    "Tạm thời không truy cập được kho lưu trữ; vui lòng thử lại sau ít phút. Sự cố đã được ghi"
    " lại để quản trị hệ thống xử lý."
)
"""What a web answer (page or API) says of an unreachable store."""


def over_http(error: KhoError) -> KhoError:
    """``error`` as a web answer may show it to whoever asked: an unreachable store
    (``STORE_UNAVAILABLE``) is answered with its code and :data:`STORE_DOWN_MESSAGE` only. Its
    own message and details name the S3 endpoint (host and port), the bucket and the object key,
    or the data folder's path, and the refusal reaches anyone (the login page, a request with no
    valid token: review rv13); they go to the log, as the CLI still prints them to the
    operator. Any other error is answered as is."""
    if not isinstance(error, StoreUnavailable) or error.details.get("reason"):
        return error
    import logging  # here: the CLI imports this module and must start without logging

    logging.getLogger(__name__).warning("store unavailable: %s %s", error.message, error.details)
    plain = StoreUnavailable(STORE_DOWN_MESSAGE)
    plain.__cause__ = error
    return plain
