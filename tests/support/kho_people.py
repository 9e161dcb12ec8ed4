"""An installation with real accounts for tests: units, one person per role, their tokens.

Accounts are created through the account service (argon2id hashes, audited), exactly as a
quản trị would; each person's initial password is changed so their token works.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kho.config import Settings
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


def make_people(kho: Kho) -> People:
    accounts = kho.accounts
    people = People(kho)
    _, admin, initial = accounts.bootstrap(AGENCY, "Ủy ban nhân dân tỉnh Ninh Bình", "ubnd", "Quản Trị Viên")
    accounts.change_password(admin.username, initial, PASSWORD)
    admin = accounts.get(admin.username)
    people.usernames["quan_tri"] = admin.username
    accounts.create_unit(UNIT_B, "Phòng Tổng hợp", "pth", AGENCY, admin)
    for who, (name, unit, roles, clearance) in STAFF.items():
        account, first = accounts.create_account(name, unit, roles, clearance, None, admin)
        accounts.change_password(account.username, first, PASSWORD)
        people.usernames[who] = account.username
    for who, username in people.usernames.items():
        account = accounts.get(username)
        people.tokens[who] = accounts.issue_token(username, "test", account)
    return people
