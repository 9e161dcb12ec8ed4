"""What a guess under a lock costs and answers (review a23), with the production argon2 cost, on
the tree first on ``sys.path``: API logins from addresses the account never used, interleaved,
N rounds of each: a name without an account, an existing name with a wrong password, and the
*right* password of an account whose new browsers are locked and of an account a quản trị
locked. Before a23 the last two were verified and answered 403 ``ACCOUNT_LOCKED`` (the lock's
password oracle); now the password is not checked, the same hash work is burnt, and the answer
is the unknown name's. Prints min / median wall ms and process CPU ms per case, and the answers.

    .venv/bin/python bench/a23_lock_refusal.py /tmp/base-a23 [N]   # main
    .venv/bin/python bench/a23_lock_refusal.py .             [N]   # this tree
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from a22_site import installation, tree_first, without_limiter

TREE = tree_first(sys.argv)
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 6
from kho_people import PASSWORD  # noqa: E402

kho, people, app = installation("a23-refusal", argon="production")
without_limiter(app)
print("tree:", TREE)
untrusted, admin_locked = people.usernames["chuyen_vien"], people.usernames["luu_tru"]
for i in range(5):  # new browsers of ``untrusted`` locked from elsewhere
    app.test_client().post(
        "/api/login",
        json={"username": untrusted, "password": f"Sai#{i}abcd"},
        environ_overrides={"REMOTE_ADDR": "198.51.100.9"},
    )
kho.accounts.lock(admin_locked, "admin", kho.accounts.get(people.usernames["quan_tri"]))
cases = {
    "unknown name": ("khongco.ubnd", None),
    "existing name, wrong password": (people.usernames["van_thu"], None),
    "new browsers locked, right password": (untrusted, PASSWORD),
    "account locked, right password": (admin_locked, PASSWORD),
}
wall: dict[str, list[float]] = {label: [] for label in cases}
cpu: dict[str, list[float]] = {label: [] for label in cases}
answers: dict[str, set[str]] = {label: set() for label in cases}
for n in range(ROUNDS):
    for label, (name, password) in cases.items():
        started, started_cpu = time.perf_counter(), time.process_time()
        done = app.test_client().post(
            "/api/login",
            json={"username": name, "password": password or f"Sai#r{n}abcd"},
            environ_overrides={"REMOTE_ADDR": f"203.0.113.{n + 1}"},
        )
        wall[label].append(time.perf_counter() - started)
        cpu[label].append(time.process_time() - started_cpu)
        answers[label].add(f"{done.status_code} {done.get_data(as_text=True)}")
for label in cases:
    print(
        f"{label:38} wall min {min(wall[label]) * 1e3:7.1f}"
        f" med {statistics.median(wall[label]) * 1e3:7.1f} ms"
        f"  cpu min {min(cpu[label]) * 1e3:7.1f} med {statistics.median(cpu[label]) * 1e3:7.1f} ms"
        f"  answer: {' | '.join(sorted(a[:48] for a in answers[label]))}"
    )
kho.close()
