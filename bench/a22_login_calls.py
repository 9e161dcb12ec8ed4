"""Store calls and CPU per login (review a22: known networks, ``__Host-`` cookie names), on the
tree first on ``sys.path``: a page login and an API login with the right password (the account's
version now also carries the login's network: same write), the 5th wrong password from an
outsider's address (locks new browsers there), and the owner's new browser at the office while
that lock is in force (refused on main, logs in on a22). Counted by wrapping ``LocalStore``'s
methods; wall µs and process CPU µs per request, min / median over ROUNDS requests.

    .venv/bin/python bench/a22_login_calls.py /tmp/base-a22 [ROUNDS]   # before (main)
    .venv/bin/python bench/a22_login_calls.py .              [ROUNDS]   # after
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from a22_site import Row, installation, measure_rounds, print_rows, tree_first, without_limiter

TREE = tree_first(sys.argv)
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 15

from count_harness import count_class_calls  # noqa: E402
from kho_people import PASSWORD  # noqa: E402
from kho_web import csrf  # noqa: E402

from repository.storage.local import LocalStore  # noqa: E402

OFFICE = {"REMOTE_ADDR": "10.20.30.40"}
OUTSIDER = {"REMOTE_ADDR": "198.51.100.66"}
calls = count_class_calls(LocalStore)
kho, people, app = installation("a22-bench")
without_limiter(app)
print("tree:", TREE, "| accounts.py from", sys.modules["repository.accounts"].__file__)
rows: list[Row] = []


def measure(label: str, call, rounds: int = ROUNDS) -> None:  # type: ignore[no-untyped-def]
    answer, wall, cpu, counted = measure_rounds(call, rounds, calls)
    code = answer.headers.get("X-Kho-Error", "")
    if answer.is_json:
        code = (answer.json or {}).get("error", {}).get("code", "")
    rows.append((label, f"{answer.status_code} {code}".strip(), wall, cpu, counted))


def page_login(name: str, at: dict[str, str]):  # type: ignore[no-untyped-def]
    def prepare():  # type: ignore[no-untyped-def]
        web = app.test_client()
        token = csrf(web)
        return lambda: web.post(
            "/login", data={"username": name, "password": PASSWORD, "csrf_token": token}, environ_overrides=at
        )

    return prepare


def api_login(name: str, at: dict[str, str], password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return lambda: (
        lambda: app.test_client().post(
            "/api/login", json={"username": name, "password": password}, environ_overrides=at
        )
    )


director = people.usernames["lanh_dao"]
clerk = people.usernames["van_thu"]
measure("page login, office (right password)", page_login(director, OFFICE))
measure("API login, office (right password)", api_login(director, OFFICE))
page_login(clerk, OFFICE)()()  # the clerk logged in at the office once (a known network on a22)
for i in range(4):
    api_login(clerk, OUTSIDER, f"Sai#{i}abcd")()()
measure("5th wrong password, outsider (locks new)", api_login(clerk, OUTSIDER, "Sai#5abcd"), 1)
measure("new browser at the office, lock in force", page_login(clerk, OFFICE))

print_rows(rows)
kho.close()
