"""Store calls and CPU of the doors that give a clearance (review a24), on the tree first on
``sys.path``: the API confirmation of a new Thường account (the lãnh đạo confirms what the quản
trị created: allowed on both trees; a24 reads the creator's account once more, to know the
clearance they vouch for), the confirmation page of the lãnh đạo with PENDING new accounts waiting
(a24: one read per listed account), and the unlock of an account locked because the person left
(a24 asks the clearance rule once more). Counted by wrapping ``LocalStore``'s methods; wall and
process CPU µs per request, min / median over ROUNDS requests.

    .venv/bin/python bench/a24_confirm_calls.py /tmp/base-a24 [ROUNDS] [PENDING]   # before (main)
    .venv/bin/python bench/a24_confirm_calls.py .              [ROUNDS] [PENDING]   # after
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from a22_site import Row, installation, measure_rounds, print_rows, tree_first

TREE = tree_first(sys.argv)
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 15
PENDING = int(sys.argv[3]) if len(sys.argv) > 3 else 10

from count_harness import count_class_calls  # noqa: E402
from kho_web import login  # noqa: E402

from repository.storage.local import LocalStore  # noqa: E402

calls = count_class_calls(LocalStore)
kho, people, app = installation("a24-bench")
accounts = kho.accounts
admin = accounts.get(people.usernames["quan_tri"])
head = accounts.get(people.usernames["lanh_dao"])
print("tree:", TREE, "| accounts.py from", sys.modules["repository.accounts"].__file__)
rows: list[Row] = []


def measure(label: str, prepare, rounds: int = ROUNDS) -> None:  # type: ignore[no-untyped-def]
    answer, wall, cpu, counted = measure_rounds(prepare, rounds, calls)
    rows.append((label, str(answer.status_code), wall, cpu, counted))


counter = iter(range(10**6))


def new_account() -> str:
    n = next(counter)
    account, _ = accounts.create_account(
        f"Người Thử {chr(0x41 + n % 26)}{n}", "000.00.18.H40", ["chuyen_vien"], 0, None, admin
    )
    return account.username


def confirm():  # type: ignore[no-untyped-def]
    name = new_account()
    api = app.test_client()
    return lambda: api.post(f"/api/accounts/{name}/confirm-reset", headers=people.headers("lanh_dao"))


web = app.test_client()
login(web, people, "lanh_dao")


def resets_page():  # type: ignore[no-untyped-def]
    return lambda: web.get("/admin/resets")


clerk = people.usernames["chuyen_vien"]


def unlock_left():  # type: ignore[no-untyped-def]
    accounts.lock(clerk, "left", head)
    api = app.test_client()
    return lambda: api.post(f"/api/accounts/{clerk}/unlock", headers=people.headers("quan_tri"))


measure("API confirm of a new account", confirm)
for _ in range(PENDING):
    new_account()
measure(f"resets page, {PENDING} new accounts waiting", resets_page)
measure("API unlock of a 'left' account", unlock_left)

print_rows(rows, 40, 4)
kho.close()
