"""Whether a lock stops the password checks (review a22, found, not fixed: policy for the lead).
On the tree first on ``sys.path``: an outsider locks new browsers of an account (5 wrong passwords,
no device token), then goes on from 40 other addresses (one guess each: the login limiter counts
per address and name) with the right password as the last guess. Then the same against the
account's own lock (5 wrong passwords with a device token). Prints how many guesses were answered
and what the right one got: a 403 ``ACCOUNT_LOCKED`` tells the guesser the password is right, so
a lock bounds nothing beyond the limiter's per-address budget.

    .venv/bin/python bench/a22_lock_oracle.py /tmp/base-a22   # main
    .venv/bin/python bench/a22_lock_oracle.py .               # this tree
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from a22_site import installation, tree_first

TREE = tree_first(sys.argv)
from kho_people import PASSWORD  # noqa: E402

kho, people, app = installation("a22-oracle")
print("tree:", TREE)


def guess(name: str, password: str, address: str, device: str = "") -> str:
    done = app.test_client().post(
        "/api/login",
        json={"username": name, "password": password, "device": device},
        environ_overrides={"REMOTE_ADDR": address},
    )
    error = (done.json or {}).get("error") or {}
    return f"{done.status_code} {error.get('code', '')}".strip()


def spray(label: str, name: str, device: str = "") -> None:
    for i in range(5):
        guess(name, f"Sai#{i}abcd", "198.51.100.1", device)
    started = time.perf_counter()
    answers = Counter(guess(name, f"Sai#x{i}abcd", f"203.0.113.{i + 1}", device) for i in range(39))
    right = guess(name, PASSWORD, "203.0.113.200", device)
    took = time.perf_counter() - started
    account = kho.accounts.get(name)
    print(
        f"{label}: after the lock, 40 guesses from 40 addresses in {took:.2f} s: wrong ones {dict(answers)},"
        f" the right one {right}; account {account.status.value}"
    )


spray("new-browser lock (no device token)", people.usernames["chuyen_vien"])
keeper = people.usernames["luu_tru"]
owner = app.test_client().post("/api/login", json={"username": keeper, "password": PASSWORD})
spray("account lock (the thief's device token)", keeper, owner.json.get("device", ""))
kho.close()
