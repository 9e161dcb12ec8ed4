"""Accounts, units and the same name written differently (a8): a full name or unit name with a
Cyrillic or Greek letter inside a Latin word, an invisible character or full-width letters is
refused (two accounts or units that read alike on every page), as is a unit code whose letters
the account names would silently drop; a log-in name that only looks like an account's finds
none, the genuine one (in any case, with spaces around it) still logs in."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from kho_people import create_person
from kho_testing import ManualClock

from kho.errors import LoginFailed, ValidationFailed
from kho.textkey import lookalike_characters
from repository.accounts import Account, AccountService, Role
from repository.audit import AuditLog
from repository.storage.local import LocalStore

ROOT, VP = "000.00.18.H40", "000.01.18.H40"
GOOD = "Kho@2026-mới"
ACCOUNT_PREFIXES = ("units/", "catalog/unit-codes/", "accounts/")


@dataclass
class World:
    store: LocalStore
    svc: AccountService
    admin: Account

    def new(self, full_name: str, unit: str, *roles: Role) -> Account:
        return create_person(self.svc, full_name, unit, roles, 0, None, self.admin, password=None)[0]

    def person(self, full_name: str, unit: str, *roles: Role) -> Account:
        account, _ = create_person(self.svc, full_name, unit, roles, 0, None, self.admin, password=GOOD)
        return account


@pytest.fixture
def world(tmp_path: Path) -> World:
    store = LocalStore(tmp_path / "store")
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    svc = AccountService(store, AuditLog(store), ManualClock(), hasher=hasher)
    _, admin, _ = svc.bootstrap(ROOT, "Ủy ban nhân dân tỉnh", "ubnd", "Quản Trị Viên")
    svc.create_unit(VP, "Văn phòng UBND tỉnh", "vpub", ROOT, admin)
    return World(store, svc, admin)


def _keys(world: World) -> list[str]:
    return sorted(i.key for p in ACCOUNT_PREFIXES for i in world.store.list(p))


def _refused_full_name(world: World, full_name: str) -> None:
    """An account named ``full_name`` is refused FULL_NAME_INVALID, naming the code points in
    an NFC message, and nothing is written."""
    keys = _keys(world)
    with pytest.raises(ValidationFailed) as info:
        world.svc.create_account(full_name, VP, [Role.VAN_THU], 0, None, world.admin)
    error = info.value.errors[0]
    assert (error.field, error.code) == ("full_name", "FULL_NAME_INVALID")
    assert "U+" in error.message and error.message == unicodedata.normalize("NFC", error.message)
    assert _keys(world) == keys


@pytest.mark.parametrize(
    "full_name",
    ["Đỗ Thị Khuе", "Đỗ Thị Khu\u200dê", "Đỗ Thị Khuê\u200b", "Ｄỗ Thị Khuê", "Ðỗ Thị Khuê", "Đỗ Thị Κhuê"],
    ids=["cyrillic-e", "zwj", "zwsp", "full-width", "eth", "greek-kappa"],
)
def test_a_full_name_that_imitates_another_is_refused(world: World, full_name: str) -> None:
    world.new("Đỗ Thị Khuê", VP, Role.VAN_THU)
    _refused_full_name(world, full_name)


def test_a_genuine_name_typed_in_nfd_is_stored_nfc(world: World) -> None:
    account = world.new(unicodedata.normalize("NFD", "Đỗ Thị Khuê"), VP, Role.VAN_THU)
    assert account.full_name == "Đỗ Thị Khuê"
    assert account.username == "khuedt.vpub"


@pytest.mark.parametrize("name", ["Văn phὸng Sở", "Văn pһòng Sở", "Văn phòng\u2060 Sở", "Ｖăn phòng Sở"])
def test_a_unit_name_that_imitates_another_is_refused(world: World, name: str) -> None:
    keys = _keys(world)
    with pytest.raises(ValidationFailed) as info:
        world.svc.create_unit("000.05.18.H40", name, "vps", ROOT, world.admin)
    assert [e.code for e in info.value.errors] == ["UNIT_NAME_INVALID"]
    assert _keys(world) == keys
    with pytest.raises(ValidationFailed) as renamed:
        world.svc.update_unit(VP, name=name, actor=world.admin)
    assert [e.code for e in renamed.value.errors] == ["UNIT_NAME_INVALID"]
    assert world.svc.get_unit(VP).name == "Văn phòng UBND tỉnh"


@pytest.mark.parametrize("code", ["VР", "ＶＰ", "V\u200bP"], ids=["cyrillic-er", "full-width", "zwsp"])
def test_a_unit_code_with_letters_account_names_would_drop_is_refused(world: World, code: str) -> None:
    """ "VР" (Cyrillic Р) was folded to "v" without a word: the unit's account names end in .v."""
    keys = _keys(world)
    with pytest.raises(ValidationFailed) as info:
        world.svc.create_unit("000.05.18.H40", "Văn phòng Sở", code, ROOT, world.admin)
    assert [e.code for e in info.value.errors] == ["UNIT_CODE_INVALID"]
    assert _keys(world) == keys


def test_a_log_in_name_that_only_looks_like_an_account_finds_none(world: World) -> None:
    account = world.person("Đỗ Thị Khuê", VP, Role.VAN_THU)
    assert account.username == "khuedt.vpub"
    for typed in ("khuеdt.vpub", "khuedt\u200d.vpub", "ｋｈｕｅｄｔ.ｖｐｕｂ", "khuedt.vpub\u200b"):
        with pytest.raises(LoginFailed):
            world.svc.authenticate(typed, GOOD, "10.0.0.2")
    for typed in ("KHUEDT.VPUB", "  khuedt.vpub  "):
        assert world.svc.authenticate(typed, GOOD, "10.0.0.3").username == "khuedt.vpub"


# --- r26: names that imitate another, one level deeper ------------------------------------


@pytest.mark.parametrize(
    "full_name",
    ["Nguyễn Thị Ноа", "Đỗ Thị Hօa", "Đỗ Thị ꓧoa", "Đỗ Thị Ꮋoa"],
    ids=["cyrillic-word", "armenian-o", "lisu-h", "cherokee-h"],
)
def test_a_full_name_with_a_word_of_look_alikes_is_refused_r26(world: World, full_name: str) -> None:
    """The a8 rule judged each word alone and knew only Cyrillic and Greek: a word written
    wholly in Cyrillic look-alikes ("Ноа" reads "Hoa") or a Latin word holding an Armenian,
    Lisu or Cherokee letter gave a second "Nguyễn Thị Hoa"/"Đỗ Thị Hoa" on every page."""
    world.new("Nguyễn Thị Hoa", VP, Role.VAN_THU)
    world.new("Đỗ Thị Hoa", VP, Role.VAN_THU)
    _refused_full_name(world, full_name)


def test_a_unit_name_with_a_word_of_look_alikes_is_refused_r26(world: World) -> None:
    """ "Phòng ТСКТ" (Cyrillic Т, С, К) reads as the Phòng Tài chính – Kế toán "Phòng TCKT"."""
    keys = _keys(world)
    with pytest.raises(ValidationFailed) as info:
        world.svc.create_unit("000.05.18.H40", "Phòng ТСКТ", "tckt", ROOT, world.admin)
    assert [e.code for e in info.value.errors] == ["UNIT_NAME_INVALID"]
    assert _keys(world) == keys


@pytest.mark.parametrize("name", ["Иван Серов", "Иван Петров", "Nguyễn Thị Hoa", "Trần Quý Tỵ"])
def test_names_written_in_one_script_have_no_look_alikes_r26(name: str) -> None:
    """A name wholly in Cyrillic has none, even one whose letters all look Latin ("Серов")."""
    assert lookalike_characters(name) == []


def test_a_unit_name_with_a_foreign_word_is_still_accepted_r26(world: World) -> None:
    """A word of another script that cannot be read as a Latin one is no look-alike."""
    name = "Phòng Hợp tác Việt - Nga (Сотрудничество)"
    assert world.svc.create_unit("000.05.18.H40", name, "htvn", ROOT, world.admin).name == name


def test_a_name_with_no_vietnamese_letter_is_not_told_it_is_empty_r26(world: World) -> None:
    """A8 lets a name wholly in Cyrillic through the look-alike rule; the account was then
    refused "Họ và tên không được để trống" (the name is empty): the person is told what is
    missing instead, with the same code, and nothing is written."""
    keys = _keys(world)
    with pytest.raises(ValidationFailed) as info:
        world.svc.create_account("Иван Петров", VP, [Role.VAN_THU], 0, None, world.admin)
    error = info.value.errors[0]
    assert (error.field, error.code) == ("full_name", "FULL_NAME_INVALID")
    assert "trống" not in error.message and "chữ cái tiếng Việt" in error.message
    assert error.message == unicodedata.normalize("NFC", error.message)
    assert _keys(world) == keys
    with pytest.raises(ValidationFailed) as empty:
        world.svc.create_account("   ", VP, [Role.VAN_THU], 0, None, world.admin)
    assert [e.code for e in empty.value.errors] == ["FULL_NAME_INVALID"]
