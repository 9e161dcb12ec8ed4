"""Probe (a16): can an outsider lock a real person out, and end their live sessions, with wrong
passwords alone? And do look-alike or differently normalised names reach an account? Prints what
Kho answers; it is not a test.

    nice -n 10 .venv/bin/python bench/a16_lockout_probe.py
"""

from __future__ import annotations

import os
import sys
import unicodedata
from pathlib import Path

import scratch

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "support")]

tmp = scratch.mkdtemp()
os.environ.update(
    KHO_DATA_DIR=tmp, KHO_AGENCY_ID="000.00.18.H40", KHO_AGENCY_NAME="UBND", KHO_FSYNC="false",
    KHO_BROKER_URL="", KHO_TIKA_URL="", KHO_ELASTICSEARCH_URL="", KHO_PASSWORD_MEMORY_KB="1024",
    KHO_PASSWORD_TIME_COST="1", KHO_COOKIE_SECURE="false",
)

from kho_people import PASSWORD, make_people  # noqa: E402

from kho.config import Settings  # noqa: E402
from web.app import create_app  # noqa: E402
from web.context import Kho  # noqa: E402

kho = Kho(Settings.from_env())
people = make_people(kho)
client = create_app(kho.settings, kho=kho).test_client()
director = people.usernames["lanh_dao"]
live = people.headers("lanh_dao")
print("director's token before:", client.get("/api/me", headers=live).status_code)
for i in range(6):
    r = client.post("/api/login", json={"username": director, "password": f"Sai#{i}"},
                    environ_overrides={"REMOTE_ADDR": "198.51.100.66"})
    print(f"outsider wrong password {i + 1}: {r.status_code} {r.json['error']['code']}")
me = client.get("/api/me", headers=live)
print("director's live token after:", me.status_code, me.json.get("error", {}).get("code"))
right = client.post("/api/login", json={"username": director, "password": PASSWORD})
print("director's right password after:", right.status_code, right.json.get("error", {}).get("code"))
events = [(e.actor, e.action, e.source) for e in kho.repo.audit.events() if e.action == "account:lock"]
print("lock events:", events)

# Look-alikes and normalisation of the name and the password.
name = people.usernames["chuyen_vien"]
for label, typed in (
    ("as stored", name),
    ("upper case + spaces", f"  {name.upper()} "),
    ("Cyrillic с for c", name.replace("c", "\u0441")),
    ("Planck constant ℎ for h", name.replace("h", "\u210e")),
    ("fullwidth", "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in name)),
    ("trailing zero-width space", name + "\u200b"),
):
    r = client.post("/api/login", json={"username": typed, "password": PASSWORD})
    print(f"name {label:26}: {r.status_code} {r.json.get('error', {}).get('code', 'OK')}")
nfc_password = "Mật-khẩu-Việt#2026"
kho.accounts.change_password(name, PASSWORD, nfc_password, "probe")
for form in ("NFC", "NFD", "NFKD"):
    typed = unicodedata.normalize(form, nfc_password)
    r = client.post("/api/login", json={"username": name, "password": typed})
    answer = r.json.get("error", {}).get("code", "OK")
    print(f"password typed {form:4} ({len(typed)} code points): {r.status_code} {answer}")
kho.close()
