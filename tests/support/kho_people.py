"""An installation with real accounts for tests: units, one person per role, their tokens.

Accounts are created through the account service (argon2id hashes, audited), exactly as a
quản trị would, and confirmed by a second person (:func:`create_person`); each person's initial
password is changed so their token works.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from kho.config import Settings
from repository.accounts import Account, AccountService
from repository.policy import Role
from repository.records import Actor
from web.context import Kho

AGENCY = "000.00.18.H40"
UNIT_B = "000.01.18.H40"
"""A second unit (phòng) under the agency."""
PASSWORD = "Kho@test2026"


@dataclass
class People:
    kho: Kho
    usernames: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def actor(self, who: str) -> Actor:
        return self.kho.actor_of(self.kho.accounts.get(self.usernames[who]), "test")

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def add(
        self, who: str, full_name: str, unit: str, roles: Iterable[Role | str], clearance: int
    ) -> Account:
        """One more person, made by the quản trị and confirmed by the lãnh đạo (as
        :func:`make_people` does), known afterwards as ``who`` (:meth:`actor`, :meth:`headers`)."""
        accounts = self.kho.accounts
        admin = accounts.get(self.usernames["quan_tri"])
        head = accounts.get(self.usernames["lanh_dao"])
        account, _ = create_person(accounts, full_name, unit, roles, clearance, None, admin, confirmer=head)
        self.usernames[who] = account.username
        self.tokens[who] = accounts.issue_token(account.username, "test", account)
        return account


# who → (full name, unit, roles, clearance)
STAFF: dict[str, tuple[str, str, tuple[str, ...], int]] = {
    "van_thu": ("Đỗ Thị Khuê", AGENCY, ("van_thu",), 3),
    "lanh_dao": ("Lưu Quang Hưng", AGENCY, ("lanh_dao",), 3),
    "chuyen_vien": ("Phạm Minh Chính", AGENCY, ("chuyen_vien",), 0),
    "luu_tru": ("Hoàng Thu Hà", AGENCY, ("luu_tru",), 0),
    "kiem_toan": ("Lê Văn Kiểm", AGENCY, ("kiem_toan",), 3),
    "van_thu_b": ("Ngô Bảo Châu", UNIT_B, ("van_thu",), 0),
    "chuyen_vien_b": ("Trần Đại Nghĩa", UNIT_B, ("chuyen_vien",), 0),
}


def settings_for(data_dir: Path) -> Settings:
    return Settings.from_env(
        {
            "KHO_DATA_DIR": str(data_dir),
            "KHO_AGENCY_ID": AGENCY,
            "KHO_AGENCY_NAME": "Ủy ban nhân dân tỉnh Ninh Bình",
        }
    )


def create_person(
    accounts: AccountService,
    full_name: str,
    unit: str,
    roles: Iterable[Role | str],
    clearance: int,
    email: str | None,
    creator: Account,
    *,
    confirmer: Account | None = None,
    password: str | None = PASSWORD,
) -> tuple[Account, str]:
    """A new account made the only way there is (the arguments of
    :meth:`AccountService.create_account`): ``creator`` creates it and receives the first
    half of its initial password; ``confirmer`` (another quản trị or the unit's lãnh đạo; None:
    the operator, as on an installation with one quản trị) confirms and receives the second
    half; the person logs in with both and sets ``password``. Returns the account as stored
    and its password (with ``password`` None: the one-time password, not yet used)."""
    account, first = accounts.create_account(full_name, unit, roles, clearance, email, creator)
    if confirmer is None:
        _, second = accounts.confirm_by_operator(account.username, "test")
    else:
        _, second = accounts.confirm_reset(account.username, confirmer)
    if password is None:
        return accounts.get(account.username), first + second
    accounts.change_password(account.username, first + second, password)
    return accounts.get(account.username), password


def make_accounts(kho: Kho) -> People:
    """The installation's units and one account per role of :data:`STAFF` (each password set),
    no token yet (:func:`issue_tokens`)."""
    accounts = kho.accounts
    people = People(kho)
    _, admin, initial = accounts.bootstrap(AGENCY, "Ủy ban nhân dân tỉnh Ninh Bình", "ubnd", "Quản Trị Viên")
    accounts.change_password(admin.username, initial, PASSWORD)
    admin = accounts.get(admin.username)
    people.usernames["quan_tri"] = admin.username
    accounts.create_unit(UNIT_B, "Phòng Tổng hợp", "pth", AGENCY, admin)
    head: Account | None = None  # the operator confirms the first lãnh đạo, who confirms the rest
    for who, (name, unit, roles, clearance) in STAFF.items():
        account, _ = create_person(accounts, name, unit, roles, clearance, None, admin, confirmer=head)
        people.usernames[who] = account.username
        if who == "lanh_dao":
            head = account
    return people


def issue_tokens(people: People) -> None:
    """A token for each person, issued now (a token unused for ``KHO_TOKEN_IDLE_MINUTES`` ends)."""
    accounts = people.kho.accounts
    for who, username in people.usernames.items():
        account = accounts.get(username)
        people.tokens[who] = accounts.issue_token(username, "test", account)


def make_people(kho: Kho) -> People:
    people = make_accounts(kho)
    issue_tokens(people)
    return people


def people_in(kho: Kho, copied: dict[str, str] | None) -> People:
    """The people of ``kho``: those :meth:`PeopleTemplates.copy_into` copied into it
    (``copied``, their usernames), or, when none were, made by :func:`make_people`; tokens
    issued now either way."""
    if copied is None:
        return make_people(kho)
    people = People(kho, usernames=copied)
    issue_tokens(people)
    return people


@dataclass(frozen=True)
class PeopleTemplate:
    data_dir: Path
    """A closed installation holding what :func:`make_accounts` wrote, and nothing else."""
    usernames: dict[str, str]


class PeopleTemplates:
    """The accounts of :func:`make_accounts` made once per set of settings, in a session folder,
    and copied into each test's data folder before its installation opens: a test gets its own
    copy (its own store, audit chain and index files), as if its installation had been
    restarted after :func:`make_accounts`. Its tokens are issued afresh (:func:`issue_tokens`),
    so their idle time starts with the test, as before.

    Only an installation wholly inside its data folder (the local store and key store, by
    default) and with an empty data folder is copied into; settings differing in anything
    but that folder (a master key, an audit signing key's path, a limit) get their own
    template. Anything else makes its accounts as :func:`make_people` does."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._made: dict[str, PeopleTemplate] = {}

    def copy_into(self, settings: Settings, now: datetime | None = None) -> dict[str, str] | None:
        """The usernames of the people copied into ``settings.data_dir``; None (nothing copied)
        when these settings cannot take a copy. ``now``: the installation's clock is stopped
        at this time (tests/support/kho_retention.py's ``Clock``), and so was the template's
        while its accounts were made: every time they hold is the one a fresh build holds."""
        key = _template_key(settings)
        data_dir = settings.data_dir
        if key is None or (data_dir.exists() and any(data_dir.iterdir())):
            return None
        key += repr(now)
        template = self._made.get(key)
        if template is None:
            template = self._build(settings, now)
            self._made[key] = template
        shutil.copytree(template.data_dir, data_dir, dirs_exist_ok=True)
        return dict(template.usernames)

    def _build(self, settings: Settings, now: datetime | None) -> PeopleTemplate:
        data_dir = self._root / f"t{len(self._made)}" / "kho"
        installation = Kho(_in_folder(settings, data_dir))
        if now is not None:
            installation.repo.clock = installation.accounts.clock = lambda: now
        try:
            usernames = dict(make_accounts(installation).usernames)
        finally:
            installation.close()  # (closes the audit index's SQLite file too, m65: no late WAL)
        assert not list(data_dir.glob("*-wal")), "the template's SQLite files are not at rest"
        return PeopleTemplate(data_dir, usernames)


def _in_folder(settings: Settings, data_dir: Path) -> Settings:
    """``settings`` with the data folder and what is kept in it by default (store, key store,
    audit checkpoints: :meth:`Settings.from_env`) moved to ``data_dir``."""
    return dataclasses.replace(
        settings,
        data_dir=data_dir,
        store_url=f"file://{(data_dir / 'store').resolve()}",
        keystore_url=f"file://{(data_dir / 'keys').resolve()}",
        audit_checkpoint_dir=data_dir / "audit-checkpoints",
    )


def _template_key(settings: Settings) -> str | None:
    """What a template is chosen by: every setting but the data folder; None when the store, the
    key store or the audit checkpoints are not in their default places inside the data folder,
    or another setting names that folder (a copy would not be where it points)."""
    if settings != _in_folder(settings, settings.data_dir):
        return None
    moved = _in_folder(settings, Path("/data-folder"))
    key = repr([(item.name, getattr(moved, item.name)) for item in dataclasses.fields(moved)])
    if str(settings.data_dir.resolve()) in key or str(settings.data_dir) in key:
        return None
    return key


def submit_with_note(people: People, record_id: str, note: str) -> object:
    """The văn thư submits a document to the lãnh đạo with ``note`` (the first handling step)."""
    from repository.workflow import Act

    return people.kho.handling.take(
        record_id,
        Act.SUBMIT,
        expected_seq=0,
        actor=people.actor("van_thu"),
        users=[people.usernames["lanh_dao"]],
        note=note,
    )
