"""Whether the login's time tells an outsider that a name exists (review a22), with the
production argon2 cost (the defaults of ``KHO_PASSWORD_*``), on the tree first on ``sys.path``:
API logins from an address the account never used, interleaved, N rounds of each: a name
without an account, an existing name with a wrong password, and an existing name whose new
browsers are locked (wrong password). Prints min / median wall ms per case.

    .venv/bin/python bench/a22_login_timing.py . [N]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from a22_site import installation, tree_first, without_limiter

TREE = tree_first(sys.argv)
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 8
kho, people, app = installation("a22-timing", argon="production")
without_limiter(app)
locked = people.usernames["chuyen_vien"]
for i in range(5):  # new browsers of ``locked`` locked from elsewhere
    app.test_client().post(
        "/api/login",
        json={"username": locked, "password": f"Sai#{i}abcd"},
        environ_overrides={"REMOTE_ADDR": "198.51.100.9"},
    )
cases = {
    "unknown name": "khongco.ubnd",
    "existing name, wrong password": people.usernames["van_thu"],
    "new browsers locked, wrong password": locked,
}
times: dict[str, list[float]] = {label: [] for label in cases}
answers: dict[str, set[str]] = {label: set() for label in cases}
for n in range(ROUNDS):
    for label, name in cases.items():
        start = time.perf_counter()
        done = app.test_client().post(
            "/api/login",
            json={"username": name, "password": f"Sai#r{n}abcd"},
            environ_overrides={"REMOTE_ADDR": f"203.0.113.{n + 1}"},
        )
        times[label].append(time.perf_counter() - start)
        answers[label].add(f"{done.status_code} {done.get_data(as_text=True)}")
for label, values in times.items():
    print(
        f"{label:38} min {min(values) * 1e3:7.1f} ms  median {statistics.median(values) * 1e3:7.1f} ms"
        f"  answers {len(answers[label])} distinct: {sorted(answers[label])[0][:60]}"
    )
kho.close()
