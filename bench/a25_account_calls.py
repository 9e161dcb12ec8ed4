"""Store calls and CPU of the account doors review a25 changed, on the tree first on
``sys.path``: an API login (its token written, then the account read again: a25 compares the
device key it already has), the API sign-out everywhere with OTHERS other tokens (a25 lists the
tokens again after its write), and the accounts list of the agency's quản trị (a25 keeps the
accounts they manage: ``units_below`` once per unit of theirs). Counted by wrapping
``LocalStore``'s methods; wall and process CPU µs per request, min / median over ROUNDS.

    .venv/bin/python bench/a25_account_calls.py /tmp/base-a25 [ROUNDS] [OTHERS]   # before (main)
    .venv/bin/python bench/a25_account_calls.py .              [ROUNDS] [OTHERS]   # after
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from a22_site import Row, installation, measure_rounds, print_rows, tree_first, without_limiter

TREE = tree_first(sys.argv)
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 15
OTHERS = int(sys.argv[3]) if len(sys.argv) > 3 else 3

from count_harness import count_class_calls  # noqa: E402
from kho_people import PASSWORD  # noqa: E402

from repository.storage.local import LocalStore  # noqa: E402

calls = count_class_calls(LocalStore)
kho, people, app = installation("a25-bench")
without_limiter(app)
accounts = kho.accounts
print("tree:", TREE, "| accounts.py from", sys.modules["repository.accounts"].__file__)
rows: list[Row] = []
name = people.usernames["chuyen_vien"]


def measure(label: str, prepare, rounds: int = ROUNDS) -> None:  # type: ignore[no-untyped-def]
    answer, wall, cpu, counted = measure_rounds(prepare, rounds, calls)
    rows.append((label, str(answer.status_code), wall, cpu, counted))


def api_login():  # type: ignore[no-untyped-def]
    api = app.test_client()
    return lambda: api.post("/api/login", json={"username": name, "password": PASSWORD})


def sign_out():  # type: ignore[no-untyped-def]
    api = app.test_client()
    keep = api.post("/api/login", json={"username": name, "password": PASSWORD}).get_json()["token"]
    for _ in range(OTHERS):
        api.post("/api/login", json={"username": name, "password": PASSWORD})
    return lambda: api.post("/api/sign-out-everywhere", headers={"Authorization": f"Bearer {keep}"})


def account_list():  # type: ignore[no-untyped-def]
    api = app.test_client()
    return lambda: api.get("/api/accounts?per_page=100", headers=people.headers("quan_tri"))


measure("API login", api_login)
measure(f"API sign-out everywhere, {OTHERS} other tokens", sign_out)
measure("GET /api/accounts (agency quản trị)", account_list)

print_rows(rows, 44, 4)
kho.close()
