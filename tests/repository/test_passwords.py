"""Account-name and password rules (Thái Nguyên regulation Điều 6 k3–k4, Điều 7 k3): pure, table-driven."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher

from kho.errors import ValidationFailed
from kho.timeutil import VN_TZ
from repository import passwords
from repository.passwords import (
    check_password_strength,
    generate_password,
    hash_password,
    idle_locked,
    locks_after_failure,
    password_expired,
    propose_username,
    verify_password,
)

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def nobody(_: str) -> bool:
    return False


@pytest.mark.parametrize(
    ("full_name", "unit", "expected"),
    [
        ("Nguyễn Văn An", "vpub", "annv.vpub"),
        ("Trần Thị Hoà", "stc", "hoatt.stc"),
        ("Đặng Đình Đức", "snv", "ducdd.snv"),  # đ → d everywhere
        ("Lê Thị Ngọc Ánh", "vpub", "anhltn.vpub"),  # every tên lót gives its initial
        ("Ông Ích Khiêm", "vpub", "khiemoi.vpub"),
        ("  Phạm   Minh  Chính ", "VPUB", "chinhpm.vpub"),  # spaces and case do not matter
        ("Hà", "vpub", "ha.vpub"),  # a one-word name: no initials
        ("Nguyễn Văn Ất", "Sở Tài chính", "atnv.sotaichinh"),
        ("NGUYỄN THỊ THU HƯƠNG", "vpub", "huongntt.vpub"),
    ],
)
def test_username_follows_dieu_6_k3(full_name: str, unit: str, expected: str) -> None:
    assert propose_username(full_name, unit, nobody) == expected


def test_username_is_the_same_for_nfd_and_nfc_input() -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Văn Ấn")
    assert propose_username(nfd, "vpub", nobody) == "annv.vpub"


def test_namesakes_get_the_next_free_digit_before_the_unit() -> None:
    taken = {"annv.vpub", "annv1.vpub", "annv2.vpub"}
    assert propose_username("Nguyễn Văn An", "vpub", taken.__contains__) == "annv3.vpub"
    assert propose_username("Nguyễn Văn An", "vpub", {"annv.vpub"}.__contains__) == "annv1.vpub"
    # "Ngô Văn An" folds to the same name as "Nguyễn Văn An": a namesake too.
    assert propose_username("Ngô Văn An", "vpub", {"annv.vpub"}.__contains__) == "annv1.vpub"
    # The same person's name in another unit is not a namesake.
    assert propose_username("Nguyễn Văn An", "stc", taken.__contains__) == "annv.stc"


@pytest.mark.parametrize(("full_name", "unit"), [("", "vpub"), ("  ", "vpub"), ("—", "vpub"), ("An", "—")])
def test_username_refuses_names_without_letters(full_name: str, unit: str) -> None:
    with pytest.raises(ValidationFailed):
        propose_username(full_name, unit, nobody)


def test_proposed_names_are_valid_store_keys() -> None:
    name = propose_username("Nguyễn Văn An", "vpub", nobody)
    assert passwords.is_username(name)
    for bad in ("", "../x", "a/b", "An.vpub", "a..b", "a b", "á.vpub", "a\x00b"):
        assert not passwords.is_username(bad), bad


@pytest.mark.parametrize(
    ("password", "codes"),
    [
        ("Kho@2026x", []),
        ("Mật#Khẩu9", []),  # Vietnamese letters count as letters
        ("Ab1!", ["PASSWORD_TOO_SHORT"]),
        ("Ab1!efg", ["PASSWORD_TOO_SHORT"]),  # 7 characters
        ("Ab1!efgh", []),  # exactly 8
        ("kho@2026x", ["PASSWORD_NO_UPPER"]),
        ("KHO@2026X", ["PASSWORD_NO_LOWER"]),
        ("Kho@abcdx", ["PASSWORD_NO_DIGIT"]),
        ("Kho2026xy", ["PASSWORD_NO_SPECIAL"]),
        ("Kho 2026x", []),  # a space is a special character
        (
            "",
            [
                "PASSWORD_TOO_SHORT",
                "PASSWORD_NO_UPPER",
                "PASSWORD_NO_LOWER",
                "PASSWORD_NO_DIGIT",
                "PASSWORD_NO_SPECIAL",
            ],
        ),
        ("abcdefgh", ["PASSWORD_NO_UPPER", "PASSWORD_NO_DIGIT", "PASSWORD_NO_SPECIAL"]),
        ("Aa1!" * 70, ["PASSWORD_TOO_LONG"]),
        ("X!9annv.vpub", ["PASSWORD_CONTAINS_USERNAME"]),
        ("X!9ANNVabc", ["PASSWORD_CONTAINS_USERNAME"]),  # the name part, any case
    ],
)
def test_password_strength_table(password: str, codes: list[str]) -> None:
    problems = check_password_strength(password, "annv.vpub")
    assert [code for code, _ in problems] == codes
    for _, message in problems:
        assert message == unicodedata.normalize("NFC", message) and message.endswith(".")


def test_generated_passwords_are_strong_and_different() -> None:
    seen = {generate_password() for _ in range(50)}
    assert len(seen) == 50
    assert all(check_password_strength(pw, "annv.vpub") == [] for pw in seen)


VN = VN_TZ


@pytest.mark.parametrize(
    ("changed", "now", "expired"),
    [
        (datetime(2026, 1, 10, 9, tzinfo=VN), datetime(2026, 4, 10, 8, 59, tzinfo=VN), False),
        (datetime(2026, 1, 10, 9, tzinfo=VN), datetime(2026, 4, 10, 9, tzinfo=VN), True),
        (datetime(2026, 11, 30, 9, tzinfo=VN), datetime(2027, 2, 28, 8, tzinfo=VN), False),
        (datetime(2026, 11, 30, 9, tzinfo=VN), datetime(2027, 2, 28, 9, tzinfo=VN), True),  # clamped
        (datetime(2026, 1, 10, 9, tzinfo=VN), datetime(2026, 1, 11, tzinfo=VN), False),
        # 3 calendar months, not 90 days: 1 May + 90 days is 30 July, + 3 months is 1 August.
        (datetime(2026, 5, 1, 9, tzinfo=VN), datetime(2026, 7, 31, 9, tzinfo=VN), False),
        (datetime(2026, 5, 1, 9, tzinfo=VN), datetime(2026, 8, 1, 9, tzinfo=VN), True),
        # Stored in UTC, counted in Vietnam time.
        # 28/02 20:00 UTC is 01/03 03:00 in Vietnam: expires 01/06 03:00 VN, not 28/05.
        (datetime(2026, 2, 28, 20, tzinfo=UTC), datetime(2026, 5, 31, 19, 59, tzinfo=UTC), False),
        (datetime(2026, 2, 28, 20, tzinfo=UTC), datetime(2026, 5, 31, 20, tzinfo=UTC), True),
    ],
)
def test_password_expires_after_three_calendar_months(
    changed: datetime, now: datetime, expired: bool
) -> None:
    assert password_expired(changed, now) is expired


@pytest.mark.parametrize(
    ("last_login", "unlocked", "days_later", "locked"),
    [
        (None, None, 89, False),
        (None, None, 90, True),  # never logged in: counted from creation
        (10, None, 99, False),
        (10, None, 100, True),
        (None, 50, 139, False),  # an unlock starts the 90 days again
        (None, 50, 140, True),
    ],
)
def test_idle_lock_after_ninety_days(
    last_login: int | None, unlocked: int | None, days_later: int, locked: bool
) -> None:
    created = datetime(2026, 1, 1, tzinfo=UTC)
    at = lambda d: None if d is None else created + timedelta(days=d)  # noqa: E731
    now = created + timedelta(days=days_later)
    assert idle_locked(at(last_login), created, now, unlocked_at=at(unlocked)) is locked


@pytest.mark.parametrize(
    ("failures", "limit", "locks"), [(4, 5, False), (5, 5, True), (6, 5, True), (1, 1, True)]
)
def test_the_nth_failure_locks(failures: int, limit: int, locks: bool) -> None:
    assert locks_after_failure(failures, limit) is locks


def test_hash_is_argon2id_and_verifies() -> None:
    stored = hash_password("Kho@2026x")
    assert stored.startswith("$argon2id$")
    assert "Kho@2026x" not in stored
    assert verify_password(stored, "Kho@2026x") == (True, None)
    assert verify_password(stored, "kho@2026x") == (False, None)
    assert verify_password("not a hash", "Kho@2026x") == (False, None)


def test_nfd_typed_password_matches_its_nfc_hash() -> None:
    stored = hash_password("Mật#Khẩu9", CHEAP)
    ok, _ = verify_password(stored, unicodedata.normalize("NFD", "Mật#Khẩu9"), CHEAP)
    assert ok


def test_weak_hash_is_rehashed_on_verify() -> None:
    weak = hash_password("Kho@2026x", CHEAP)
    ok, new_hash = verify_password(weak, "Kho@2026x")
    assert ok and new_hash is not None and new_hash.startswith("$argon2id$")
    assert "m=65536" in new_hash and "m=1024" in weak
    assert verify_password(new_hash, "Kho@2026x") == (True, None)
