"""Account-name and password rules (Thái Nguyên regulation, Điều 6 k3–k4 and Điều 7 k3).

Pure functions, no I/O: the account service in :mod:`repository.accounts` calls them with the
time from its clock, so every rule is tested with plain values.

* Account names: ``<tên><họ và tên lót viết tắt>.<tên viết tắt của đơn vị>``, no diacritics, no
  spaces (Điều 6 k3 a). Namesakes get a digit (Điều 6 k3 b: "thêm ký tự số"); the regulation does
  not say where, so it goes right after the name part, before the unit: ``annv.vpub``,
  ``annv1.vpub``, ``annv2.vpub`` — the part after the dot stays the unit's code.
* Passwords (Điều 6 k4 b): at least 8 characters with upper case, lower case, a digit and a
  special character; changed at least once every 3 months (calendar months, Vietnam time);
  changed at the first login (Điều 6 k4 a).
* Locks (Điều 7 k3 b): after too many wrong passwords (``DEFAULT_MAX_FAILED``) and after 90
  consecutive days without a login.
* Hashes: argon2id (memory-hard) via ``argon2-cffi``; a hash made with weaker parameters is
  replaced on the next successful login.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from kho.errors import FieldError, ValidationFailed
from kho.textkey import describe, foreign_letters
from kho.timeutil import VN_TZ

if TYPE_CHECKING:
    from argon2 import PasswordHasher

# argon2 (its cffi binding) and secrets (with random) are imported where a password is hashed,
# checked or generated, not here: every command that opens the accounts imports this module.

MIN_LENGTH = 8
MAX_LENGTH = 256
"""Longer inputs are refused before hashing (a hash of megabytes is a denial of service)."""
PASSWORD_MAX_AGE_MONTHS = 3
IDLE_LOCK_DAYS = 90
DEFAULT_MAX_FAILED = 5
USERNAME_MAX = 64

USERNAME_RE = re.compile(r"^[a-z0-9]+(?:\.[a-z0-9]+)*$")
"""What a stored account name looks like (ASCII, lower case: safe in an object-store key)."""


def is_username(text: str) -> bool:
    return len(text) <= USERNAME_MAX and bool(USERNAME_RE.fullmatch(text))


# --- account names ---------------------------------------------------------------------------


def _ascii_fold(text: str) -> str:
    """Lower case, no diacritics, ``đ`` → ``d``; only ``a-z0-9`` kept."""
    text = unicodedata.normalize("NFC", text).lower().replace("đ", "d")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]", "", text)


def username_base(full_name: str) -> str:
    """``<tên><initials of họ and tên lót>`` of a full name: "Nguyễn Văn An" → ``annv``.

    Raises :class:`ValidationFailed` (``FULL_NAME_INVALID``) when no letter is left.
    """
    words = [w for w in (_ascii_fold(part) for part in full_name.split()) if w]
    if not words:
        # A name wholly in another script ("Иван Петров") is not empty: say what is missing.
        message = (
            "Họ và tên không có chữ cái tiếng Việt nào để tạo tên đăng nhập: hãy gõ họ và tên"
            " bằng chữ cái tiếng Việt."
            if full_name.strip()
            else "Họ và tên không được để trống."
        )
        raise ValidationFailed([FieldError("full_name", "FULL_NAME_INVALID", message)])
    given, family = words[-1], words[:-1]
    return given + "".join(w[0] for w in family)


def unit_code_of(code: str) -> str:
    """A unit's short code as it appears in account names (``VP UBND`` → ``vpubnd``). A code
    with a letter outside the Vietnamese alphabet is refused, not folded: ``VР`` with a Cyrillic
    ``Р`` became ``v`` (the letter dropped without a word), full-width ``ＶＰ`` nothing."""
    foreign = foreign_letters(code)
    if foreign:
        raise ValidationFailed(
            [
                FieldError(
                    "code",
                    "UNIT_CODE_INVALID",
                    f"Tên viết tắt của đơn vị có ký tự không thuộc bảng chữ cái tiếng Việt"
                    f" ({describe(foreign)}): hãy gõ lại bằng chữ cái tiếng Việt và chữ số 0–9.",
                )
            ]
        )
    folded = _ascii_fold(code)
    if not folded:
        raise ValidationFailed(
            [
                FieldError(
                    "code",
                    "UNIT_CODE_INVALID",
                    "Tên viết tắt của đơn vị phải có ít nhất một chữ cái hoặc chữ số.",
                )
            ]
        )
    return folded


def propose_username(full_name: str, unit_code: str, taken: Callable[[str], bool]) -> str:
    """The first free account name for a person of a unit (Điều 6 k3).

    ``taken(name)`` says whether a name is already used (by anyone, deleted accounts included:
    a name is never reused, so the audit log keeps meaning one person).
    """
    base = username_base(full_name)
    unit = unit_code_of(unit_code)
    room = USERNAME_MAX - len(unit) - 1 - 4  # keep space for a namesake number
    if room < 1:
        raise ValidationFailed([FieldError("code", "UNIT_CODE_INVALID", "Tên viết tắt của đơn vị quá dài.")])
    base = base[:room]
    candidate = f"{base}.{unit}"
    number = 0
    while taken(candidate):
        number += 1
        if number > 9999:
            raise ValidationFailed(
                [FieldError("username", "USERNAME_EXHAUSTED", "Không còn tên tài khoản trống.")]
            )
        candidate = f"{base}{number}.{unit}"
    return candidate


# --- password strength -----------------------------------------------------------------------


def _is_special(char: str) -> bool:
    return not char.isalnum()


def check_password_strength(password: str, username: str = "") -> list[tuple[str, str]]:
    """Every rule the password breaks, as ``(code, Vietnamese message)``; empty when it is good."""
    pw = unicodedata.normalize("NFC", password)
    problems: list[tuple[str, str]] = []
    if len(pw) < MIN_LENGTH:
        problems.append(("PASSWORD_TOO_SHORT", f"Mật khẩu phải có tối thiểu {MIN_LENGTH:02d} ký tự."))
    if len(pw) > MAX_LENGTH:
        problems.append(("PASSWORD_TOO_LONG", f"Mật khẩu không được dài quá {MAX_LENGTH} ký tự."))
    if not any(c.isupper() for c in pw):
        problems.append(("PASSWORD_NO_UPPER", "Mật khẩu phải có ít nhất một chữ hoa."))
    if not any(c.islower() for c in pw):
        problems.append(("PASSWORD_NO_LOWER", "Mật khẩu phải có ít nhất một chữ thường."))
    if not any(c.isdigit() for c in pw):
        problems.append(("PASSWORD_NO_DIGIT", "Mật khẩu phải có ít nhất một chữ số."))
    if not any(_is_special(c) for c in pw):
        problems.append(
            ("PASSWORD_NO_SPECIAL", "Mật khẩu phải có ít nhất một ký tự đặc biệt (ví dụ: ! @ # $ % .).")
        )
    folded = pw.casefold()
    name = username.casefold()
    parts = {name, name.split(".", 1)[0]} if name else set()
    if any(len(p) >= 3 and p in folded for p in parts):
        problems.append(("PASSWORD_CONTAINS_USERNAME", "Mật khẩu không được chứa tên tài khoản."))
    return problems


def require_strong(password: str, username: str = "") -> None:
    """:class:`ValidationFailed` listing every broken rule (field ``password``)."""
    problems = check_password_strength(password, username)
    if problems:
        raise ValidationFailed([FieldError("password", code, message) for code, message in problems])


_SPECIALS = "!@#$%^&*-_=+?"
_HANDED_OVER_SPECIALS = "@#%+=?!*-_"
"""Special characters of generated passwords: easy to read aloud and type, and nothing HTML,
a shell or a spreadsheet treats specially (no ``<>&"'`` or backslash)."""
_ALPHABET = (
    "".join(c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" if c not in "Il1O0o")
    + _HANDED_OVER_SPECIALS
)


def generate_password(length: int = 16) -> str:
    """A random initial password that passes :func:`check_password_strength`."""
    import secrets

    if length < MIN_LENGTH:
        raise ValueError("length")
    while True:
        candidate = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if not check_password_strength(candidate):
            return candidate


# --- time rules ------------------------------------------------------------------------------


def add_months(moment: datetime, months: int) -> datetime:
    """The same wall-clock time ``months`` calendar months later in Vietnam (day clamped to the
    month's end: 30/11 + 3 months = 28/02 or 29/02)."""
    local = moment.astimezone(VN_TZ)
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    next_first = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=VN_TZ)
    last_day = (next_first - timedelta(days=1)).day
    return local.replace(year=year, month=month, day=min(local.day, last_day))


def password_expires_at(changed_at: datetime, months: int = PASSWORD_MAX_AGE_MONTHS) -> datetime:
    return add_months(changed_at, months)


def password_expired(changed_at: datetime, now: datetime, months: int = PASSWORD_MAX_AGE_MONTHS) -> bool:
    """Điều 6 k4 b: a password must be changed at least once every ``months`` months."""
    return now >= password_expires_at(changed_at, months)


def idle_locked(
    last_login_at: datetime | None,
    created_at: datetime,
    now: datetime,
    *,
    unlocked_at: datetime | None = None,
    days: int = IDLE_LOCK_DAYS,
) -> bool:
    """Điều 7 k3 b: ``days`` consecutive days without a login lock the account.

    The days count from the last login, or from creation (never logged in), or from the last
    unlock by a quản trị, whichever is latest.
    """
    since = max(t for t in (last_login_at, created_at, unlocked_at) if t is not None)
    return now - since >= timedelta(days=days)


DEFAULT_LOCK_HOURS = 24
"""A lock for wrong passwords ends by itself this long after it (``KHO_LOGIN_LOCK_HOURS``)."""
MIN_LOCK_HOURS, MAX_LOCK_HOURS = 12, 30 * 24
"""QCVN 12:2026/BCA 3.6.2.1.9.3: the automatic unlock comes 12 hours to 30 days after the lock."""


def locks_after_failure(failed_logins: int, max_failed: int = DEFAULT_MAX_FAILED) -> bool:
    """Whether ``failed_logins`` consecutive wrong passwords (this one included) lock the account:
    the ``max_failed``-th wrong password locks it."""
    return failed_logins >= max_failed


# --- hashing ---------------------------------------------------------------------------------

@functools.cache
def default_hasher() -> PasswordHasher:
    """argon2id with argon2-cffi's RFC 9106 low-memory profile (t=3, m=64 MiB, p=4)."""
    from argon2 import PasswordHasher

    return PasswordHasher()


def configured_hasher(time_cost: int, memory_kb: int) -> PasswordHasher:
    """argon2id with the installation's cost (``KHO_PASSWORD_TIME_COST``,
    ``KHO_PASSWORD_MEMORY_KB``), 4 lanes."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kb, parallelism=4)


def hash_password(password: str, hasher: PasswordHasher | None = None) -> str:
    if hasher is None:
        hasher = default_hasher()
    return hasher.hash(unicodedata.normalize("NFC", password))


def verify_password(
    stored_hash: str, password: str, hasher: PasswordHasher | None = None
) -> tuple[bool, str | None]:
    """``(matches, new_hash)``: ``new_hash`` is set when the password matched a hash made with
    other parameters than ``hasher``'s (store it: rehash-if-needed)."""
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    if hasher is None:
        hasher = default_hasher()
    if len(password) > MAX_LENGTH:
        return False, None
    pw = unicodedata.normalize("NFC", password)
    try:
        hasher.verify(stored_hash, pw)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if hasher.check_needs_rehash(stored_hash):
        return True, hasher.hash(pw)
    return True, None


_DUMMY_HASHES: dict[tuple[int, int, int], str] = {}


def burn_verify(password: str, hasher: PasswordHasher | None = None) -> None:
    """Spend the time of one verification (unknown account), so that response time does not tell
    which account names exist."""
    import secrets

    if hasher is None:
        hasher = default_hasher()
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = hasher.hash(secrets.token_urlsafe(16))
    verify_password(_DUMMY_HASHES[key], password, hasher)
