"""CPU cost of the accounts page, which now also lists the resets the reader may confirm (a
script, not a test).

    .venv/bin/python bench/bench_accounts_page.py [--accounts 200] [--resets 20] [--runs 7]

Builds an installation (local folder, fsync off, argon2 at its smallest) with two quản trị,
``--accounts`` chuyên viên and ``--resets`` of them reset by the quản trị, then measures
the CPU time (user+sys of this process, ``time.process_time``) of ``GET /admin/accounts`` as a
second quản trị (who may confirm those resets), through Flask's test client, median of
``--runs``. The venv's editable install imports this tree; ``PYTHONPATH=<other tree>`` compares.
Load on the machine changes wall time, not this CPU count much.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time

AGENCY = "000.00.18.H40"
PASSWORD = "Kho@bench2026"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--resets", type=int, default=20)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ.update(
            {
                "KHO_DATA_DIR": folder,
                "KHO_AGENCY_ID": AGENCY,
                "KHO_AGENCY_NAME": "Ủy ban nhân dân tỉnh Ninh Bình",
                "KHO_FSYNC": "false",
                "KHO_BROKER_URL": "",
                "KHO_TIKA_URL": "",
                "KHO_ELASTICSEARCH_URL": "",
                "KHO_PASSWORD_MEMORY_KB": "1024",
                "KHO_PASSWORD_TIME_COST": "1",
                "KHO_COOKIE_SECURE": "false",
            }
        )
        from kho.config import Settings
        from web.app import create_app
        from web.context import Kho

        kho = Kho(Settings.from_env())
        accounts = kho.accounts
        agency = "Ủy ban nhân dân tỉnh Ninh Bình"
        _, admin, initial = accounts.bootstrap(AGENCY, agency, "ubnd", "Quản Trị Viên")
        accounts.change_password(admin.username, initial, PASSWORD)
        admin = accounts.get(admin.username)
        second, first = accounts.create_account("Quản Trị Hai", AGENCY, ["quan_tri"], 0, None, admin)
        _, rest = accounts.confirm_by_operator(second.username)  # two-person initial password (g1)
        accounts.change_password(second.username, first + rest, PASSWORD)
        people = []
        for n in range(args.accounts):
            account, _ = accounts.create_account(f"Cán Bộ Số {n}", AGENCY, ["chuyen_vien"], 0, None, admin)
            accounts.confirm_by_operator(account.username)  # not pending: only the resets are
            people.append(account.username)
        for username in people[: args.resets]:
            accounts.reset_password(username, admin)
        client = create_app(kho.settings, kho=kho).test_client()
        form = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token
        login = client.post(
            "/login", data={"username": second.username, "password": PASSWORD, "csrf_token": token.group(1)}
        )
        assert login.status_code == 302, login.status_code
        times = []
        for _ in range(args.runs):
            start = time.process_time()
            answer = client.get("/admin/accounts")
            times.append(time.process_time() - start)
            assert answer.status_code == 200
        shown = answer.get_data(as_text=True).count("Xác nhận đặt lại mật khẩu của ")
        print(
            f"accounts={args.accounts + 2} resets={args.resets} confirm buttons={shown}"
            f" GET /admin/accounts CPU median {statistics.median(times) * 1000:.1f} ms"
            f" (min {min(times) * 1000:.1f}, runs {args.runs})",
            file=sys.stdout,
        )
        kho.close()


if __name__ == "__main__":
    main()
