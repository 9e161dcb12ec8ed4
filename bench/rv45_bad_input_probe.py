# ruff: noqa: F401, F811, E402, E501, E741
"""Review rv45's probe of bad input at every entry point (not a test: it prints what it found and
asserts nothing). Each function prints one table's faults (a 500, a traceback, a JSON error
without ``code``, a refused write that changed the store) on the fuzz table's installation
(tests/web/test_fuzz_routes.py's ``site``): API writes one field at a time with 16 hostile
values, path segments, uploads, nộp lưu packages, page forms, long numbers in queries, headers,
every CLI command with bad values, and a corrupt PDF at intake. bench/NOTES-rv45.md has the
figures. Run (services env as for the tests; ~8 min in all)::

    PYTHONPATH=. .venv/bin/pytest -q -p no:cacheprovider -s --basetemp=/tmp/rv45-probe-tmp \
        bench/rv45_bad_input_probe.py [-k uploads|paths|packages|pages|digits|headers|cli]
    rm -rf /tmp/rv45-probe-tmp
"""

from __future__ import annotations

import io
import json
from typing import Any

from kho_testing import sealed_cong_van

from tests.web.test_fuzz_routes import (
    BASE,
    CSRF,
    ROLES,
    Site,
    current,
    fault,
    object_urls,
    rules,
    site,
    urls,
    view_names,
)

BIG: list[Any] = [
    "x" * 1_000_000,
    list(range(10_000)),
    ["a"] * 10_000,
    {"a": {"b": {"c": [{"d": None}]}}},
    [{"a": 1}],
    "\ud800",
    -(10**18),
    2**63,
    1e308,
    "99999-01-01",
    "0000-00-00",
    "2026-13-01",
    "2026-02-30T25:61:00",
    "\x00" * 10,
    "\u0301",
    "",
]


def test_probe(site: Site) -> None:
    out: list[str] = []
    sent = 0
    for rule in rules(site.app):
        if rule.rule in (
            "/password",
            "/api/password",
            "/login",
            "/api/login",
            "/audit/verify",
            "/api/audit/verify",
        ):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS", "GET"}):
            if not rule.rule.startswith("/api/"):
                continue
            targets = object_urls(rule, site) or [(urls(rule, site, False)[0], None)]
            names = view_names(site.app, rule)
            for url, rid in targets[:2]:
                for role in ("van_thu", "lanh_dao", "luu_tru", "quan_tri", "chuyen_vien", "kiem_toan"):
                    client = site.client(role)
                    headers = site.people.headers(role)
                    base = {**BASE, **current(site, rid, url)}
                    probe = client.open(
                        url,
                        method=method,
                        data=json.dumps(base),
                        content_type="application/json",
                        headers=headers,
                    )
                    if probe.status_code in (401, 403):
                        continue
                    for name in names:
                        for value in BIG:
                            data = json.dumps({**base, name: value})
                            r = client.open(
                                url,
                                method=method,
                                data=data,
                                content_type="application/json",
                                headers=headers,
                            )
                            sent += 1
                            if (f := fault(url, r)) is not None:
                                out.append(f"{method} {url} as {role} {name}={str(value)[:20]!r}: {f}")
                    break
    print("\nSENT", sent)
    print("\n".join(out[:300]))
    print("FAULTS", len(out))


def pdf_bytes() -> bytes:
    return sealed_cong_van(44)


def test_probe_uploads(site: Site) -> None:
    from tests.web.test_fuzz_routes import stored_keys, top_folders

    good = pdf_bytes()
    files = {
        "empty": b"",
        "text": b"hello world, not a pdf",
        "truncated": good[: len(good) // 2],
        "head-only": b"%PDF-1.7\n",
        "zero": b"\x00" * 5000,
        "zip": b"PK\x03\x04" + b"\x00" * 100,
    }
    names = [
        "x.pdf",
        "",
        "../../etc/x.pdf",
        "/abs/x.pdf",
        "a\x00b.pdf",
        "C:\\x\\..\\y.pdf",
        "x" * 5000 + ".pdf",
        "Hoa\u0300.pdf",
        "\u202ex.pdf",
        "con.pdf",
        ".",
        "..",
        "a\r\nb.pdf",
    ]
    out = []
    tops = top_folders(site.kho)
    api_targets = [
        ("/api/records", "file", {"direction": "den", "metadata": "{}", "register": "false"}),
        ("/api/records", "file", {"direction": "di", "metadata": "{}"}),
        ("/api/intake", "file", {"direction": "den"}),
        ("/api/intake", "file", {"direction": "di"}),
        ("/api/retention/transfers/import", "file", {}),
    ]
    page_targets = [
        ("/intake", "files", {"direction": "den"}),
        ("/outgoing/new", "file", {}),
    ]
    for rule in site.app.url_map.iter_rules():
        if rule.endpoint == "disposal.check":
            page_targets.append((rule.rule, "package", {}))
    for role in ("van_thu", "luu_tru"):
        client = site.client(role)
        headers = site.people.headers(role)
        token = CSRF.search(client.get("/").get_data(as_text=True)).group(1)
        for url, field, extra in api_targets + page_targets:
            api = url.startswith("/api/")
            cases = (
                [(k, v, "x.pdf") for k, v in files.items()]
                + [("good", good, n) for n in names]
                + [("text", files["text"], n) for n in names[:6]]
            )
            cases.append(("nofile", None, None))
            for label, content, name in cases:
                before = stored_keys(site.kho, tops)
                data: dict[str, Any] = dict(extra)
                if not api:
                    data["csrf_token"] = token
                if content is not None:
                    data[field] = (io.BytesIO(content), name)
                r = client.post(
                    url, data=data, content_type="multipart/form-data", headers=headers if api else {}
                )
                f = fault(url, r)
                if f is None and r.status_code >= 400:
                    after = stored_keys(site.kho, tops)
                    if after != before:
                        f = f"store changed on refusal {sorted(after - before)[:3]} {sorted(before - after)[:3]}"
                body = r.get_data(as_text=True)
                if f is None and r.status_code >= 400 and api and "code" not in body:
                    f = "no code"
                print(
                    role,
                    url,
                    label,
                    repr(name)[:30],
                    r.status_code,
                    body[:160].replace("\n", " ") if r.status_code >= 400 or api else "",
                )
                if f:
                    out.append(f"{role} {url} {label} {name!r:.40}: {f}")
    print("\n".join(out))
    print("FAULTS", len(out))


def test_probe_paths(site: Site) -> None:
    out = []
    segs = [
        "%2e%2e",
        "..%2f..%2fetc",
        "%00",
        "a%00b",
        "%2e",
        "%ff",
        "\u0301",
        "0" * 24 + "%00",
        "A" * 24,
        "a" * 24,
        "../" + "a" * 24,
    ]
    for rule in rules(site.app):
        if not rule.arguments:
            continue
        for role in ("anon", "van_thu", "quan_tri"):
            client = site.client(role)
            headers = site.people.headers(role) if role != "anon" and rule.rule.startswith("/api/") else {}
            for seg in segs:
                urls(rule, site, False)[0]
                for arg in rule.arguments:
                    import re

                    path = rule.rule
                    for a in rule.arguments:
                        path = re.sub(
                            r"<(?:[^:>]+:)?" + a + r"(?:\([^)]*\))?>", seg if a == arg else "1", path
                        )
                    path = re.sub(r"<any\([^)]*\):([a-z_]+)>", seg, path)
                    for method in sorted(rule.methods - {"OPTIONS", "HEAD"}):
                        r = client.open(
                            path, method=method, headers=headers, data=b"{}", content_type="application/json"
                        )
                        if (f := fault(path, r)) is not None:
                            out.append(f"{method} {path} as {role}: {f}")
    print("\n".join(out[:100]))
    print("FAULTS", len(out))


def test_probe_packages(site: Site, tmp_path) -> None:
    import stat
    import zipfile

    from tests.web.test_fuzz_routes import stored_keys, top_folders

    tops = top_folders(site.kho)
    src = zipfile.ZipFile(site.package)
    entries = [(i, src.read(i)) for i in src.infolist()]
    root = entries[0][0].filename.split("/")[0]

    def build(name, extra=(), mutate=None, drop=None):
        out = tmp_path / name
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for info, data in entries:
                if drop and drop in info.filename:
                    continue
                if mutate:
                    data = mutate(info.filename, data)
                z.writestr(info.filename, data)
            for item in extra:
                if isinstance(item, zipfile.ZipInfo):
                    z.writestr(item, b"target")
                else:
                    z.writestr(item[0], item[1])
        return out

    link = zipfile.ZipInfo(f"{root}/documentation/link")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    cases = {
        "slip": build("slip.zip", [(f"{root}/../../evil.txt", b"x")]),
        "slip2": build("slip2.zip", [("../evil.txt", b"x")]),
        "abs": build("abs.zip", [("/etc/evil.txt", b"x")]),
        "symlink": build("sym.zip", [link]),
        "bomb": build("bomb.zip", [(f"{root}/documentation/z.txt", b"\0" * 50_000_000)]),
        "dup": build("dup.zip", [(entries[-1][0].filename, b"other")]),
        "lying-hash": build("lie.zip", mutate=lambda n, d: d + b"\n" if n.endswith(".pdf") else d),
        "missing": build("miss.zip", drop=".pdf"),
        "bad-xml": build("badxml.zip", mutate=lambda n, d: d[: len(d) // 2] if n.endswith("METS.xml") else d),
        "json-as-mets": build("json.zip", mutate=lambda n, d: b'{"a":1}' if n == f"{root}/METS.xml" else d),
        "empty": build("empty.zip", drop="/"),
    }
    raw = tmp_path / "cp437.zip"
    with zipfile.ZipFile(raw, "w") as z:
        for info, data in entries:
            z.writestr(info.filename, data)
        z.writestr(f"{root}/documentation/\u00e9t\u00e9.txt", b"x")
    data = bytearray(raw.read_bytes())
    # clear the UTF-8 flag everywhere and put a non-UTF-8 byte in the name
    name = f"{root}/documentation/\u00e9t\u00e9.txt".encode()
    bad = name.replace("\u00e9".encode(), b"\xe9\x20")
    data = bytes(data).replace(name, bad)
    raw.write_bytes(data)
    cases["non-utf8"] = raw
    cases["good"] = site.package
    client = site.client("luu_tru")
    headers = site.people.headers("luu_tru")
    for label, path in cases.items():
        before = stored_keys(site.kho, tops)
        r = client.post(
            "/api/retention/transfers/import",
            data={"file": (io.BytesIO(path.read_bytes()), "p.zip")},
            content_type="multipart/form-data",
            headers=headers,
        )
        after = stored_keys(site.kho, tops)
        print(
            "PKG",
            label,
            r.status_code,
            r.get_data(as_text=True)[:200],
            fault("/api/x", r),
            "CHANGED" if after != before else "",
            sorted(after - before)[:4],
        )


from tests.web.test_fuzz_cli_config import (
    NOT_FUZZED as CLI_NOT,
)
from tests.web.test_fuzz_cli_config import (
    bad_values,
    installation,  # (a fixture)
)
from tests.web.test_fuzz_cli_config import (
    leaf_commands as cli_leaves,
)


def test_probe_cli(installation) -> None:
    import click
    from click.testing import CliRunner

    from web.cli import main

    people, folder = installation
    runner = CliRunner()
    out = []
    for path, command in cli_leaves():
        if path[0] in CLI_NOT:
            continue
        arguments = [p for p in command.params if isinstance(p, click.Argument)]
        options = [p for p in command.params if isinstance(p, click.Option) and not p.is_flag]
        for value in bad_values(folder):
            args = [*path, *(value for _ in arguments)]
            for option in options:
                args += [option.opts[0], value]
            r = runner.invoke(main, args, env={"KHO_TOKEN": people.tokens["quan_tri"]})
            has = any(l.startswith("Lỗi [") for l in r.output.splitlines())
            if r.exit_code != 2 or not has:
                out.append(
                    f"{' '.join(path)} {value[:25]!r}: exit {r.exit_code} {'coded' if has else 'UNCODED'} {r.output.strip()[-160:]!r}"
                )
    print("\n".join(out))
    print("CLIFAULTS", len(out))


def test_probe_pages(site: Site) -> None:
    from urllib.parse import quote

    out = []
    sent = 0
    vals = [
        "x" * 400_000,
        "9" * 5000,
        "99999-12-31",
        "0000-01-01",
        "-99999999999999999999",
        "1e309",
        "a\x00b",
        "nan",
        "inf",
        "-0",
        "0x10",
        "  ",
        "\u0000",
    ]
    for rule in rules(site.app):
        if rule.rule.startswith("/api/") or rule.rule in ("/password", "/login", "/audit/verify"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS", "GET"}):
            targets = object_urls(rule, site) or [(urls(rule, site, False)[0], None)]
            names = view_names(site.app, rule)
            for url, rid in targets[:2]:
                for role in ("van_thu", "lanh_dao", "luu_tru", "quan_tri", "chuyen_vien", "kiem_toan"):
                    client = site.client(role)
                    token = CSRF.search(client.get("/").get_data(as_text=True)).group(1)
                    base = {
                        k: ("true" if v is True else str(v))
                        for k, v in {**BASE, **current(site, rid, url)}.items()
                    }
                    probe = client.open(url, method=method, data={**base, "csrf_token": token})
                    if probe.status_code in (401, 403) or (
                        probe.status_code == 302 and "/login" in probe.headers.get("Location", "")
                    ):
                        continue
                    for name in names:
                        for value in vals:
                            r = client.open(
                                url, method=method, data={**base, name: value, "csrf_token": token}
                            )
                            sent += 1
                            if (f := fault(url, r)) is not None:
                                out.append(f"{method} {url} as {role} {name}={value[:20]!r}: {f}")
                        raw = (
                            "&".join(f"{k}={quote(v)}" for k, v in {**base, "csrf_token": token}.items())
                            + f"&{name}=%ED%A0%80&{name}=%F4%90%80%80"
                        )
                        r = client.open(
                            url,
                            method=method,
                            data=raw.encode(),
                            content_type="application/x-www-form-urlencoded",
                        )
                        sent += 1
                        if (f := fault(url, r)) is not None:
                            out.append(f"{method} {url} as {role} {name}=surrogate-bytes: {f}")
                    break
    print("\nPAGESENT", sent)
    print("\n".join(out[:100]))
    print("PAGEFAULTS", len(out))


def test_probe_digits(site: Site) -> None:
    out = []
    big = "9" * 5000
    vals = [big, "\u00b2", "\u0663", "0" * 5000 + "1", "１"]
    for rule in rules(site.app):
        if "GET" not in rule.methods or rule.rule in ("/audit/verify", "/api/audit/verify"):
            continue
        url = (object_urls(rule, site) or [(urls(rule, site, False)[0], None)])[0][0]
        names = [*view_names(site.app, rule), "page", "per_page", "limit", "do_khan", "do_mat", "year", "version", "expected_version", "n", "size"]
        for role in ("van_thu", "quan_tri", "luu_tru"):
            client = site.client(role)
            headers = site.people.headers(role) if url.startswith("/api/") else {}
            for name in names:
                for v in vals:
                    r = client.get(url, query_string={name: v}, headers=headers)
                    if (f := fault(url, r)) is not None:
                        out.append(f"GET {url} as {role} {name}={v[:10]!r}: {f[:80]}")
    print("\n".join(sorted(set(out))[:80]))
    print("DIGITFAULTS", len(out))


def test_probe_headers(site: Site) -> None:
    out = []
    hdrs = [
        {"Range": "bytes=99999999999999999999999999-"},
        {"Range": "bytes=" + "9" * 5000 + "-"},
        {"Range": "bytes=5-1"},
        {"Range": "bytes=0-1,2-3,4-5,6-7,8-9," * 200},
        {"If-Modified-Since": "Mon, 99 Foo 99999 99:99:99 GMT"},
        {"If-None-Match": "\x00" * 10},
        {"If-Range": "garbage"},
        {"Accept-Language": "x" * 5000},
        {"X-Forwarded-For": "999.1.1.1, ::zz"},
        {"Authorization": "Bearer " + "é" * 10},
        {"Authorization": "Basic !!!"},
        {"Authorization": "Bearer"},
        {"Content-Type": "multipart/form-data"},
        {"Content-Type": "multipart/form-data; boundary="},
        {"Content-Type": "application/json; charset=latin-9"},
        {"Content-Type": "application/json; charset=utf-16"},
        {"Cookie": "session=" + "A" * 4000},
        {"Cookie": "session=\x7f\x00"},
        {"Host": "evil.example"},
        {"X-Kho-Upload": "1"},
    ]
    for rule in rules(site.app):
        if rule.rule in ("/audit/verify", "/api/audit/verify"):
            continue
        url = (object_urls(rule, site) or [(urls(rule, site, False)[0], None)])[0][0]
        for method in sorted(rule.methods - {"OPTIONS"}):
            for role in ("van_thu", "anon"):
                client = site.client(role)
                base = site.people.headers(role) if role != "anon" and url.startswith("/api/") else {}
                for h in hdrs:
                    headers = {**base, **h}
                    try:
                        r = client.open(
                            url,
                            method=method,
                            headers=headers,
                            data=b"{}" if "Content-Type" not in h else b"x=1",
                        )
                    except Exception as e:
                        out.append(f"{method} {url} {role} {next(iter(h))}: CLIENT {type(e).__name__} {e}"[:200])
                        continue
                    if method == "HEAD":
                        if r.status_code >= 500:
                            out.append(f"HEAD {url} {role} {h}: {r.status_code}")
                        continue
                    if (f := fault(url, r)) is not None:
                        out.append(f"{method} {url} {role} {str(h)[:60]}: {f[:100]}")
    print("\n".join(sorted(set(out))[:80]))
    print("HDRFAULTS", len(out))


def test_probe_corrupt_left(site: Site) -> None:
    from tests.web.test_fuzz_routes import stored_keys, top_folders

    top_folders(site.kho)
    client = site.client("van_thu")
    h = site.people.headers("van_thu")
    before = stored_keys(site.kho, ("",))
    r = client.post(
        "/api/intake",
        data={"direction": "den", "file": (io.BytesIO(b"%PDF-1.7\n%rv45\n"), "hong.pdf")},
        content_type="multipart/form-data",
        headers=h,
    )
    print("UP", r.status_code, r.get_data(as_text=True)[:300])
    after = stored_keys(site.kho, ("",))
    print("NEW", sorted(after - before))
    rid = [k for k in after - before if k.startswith("catalog/records/")]
    if rid:
        rec = site.kho.repo._load(rid[0].split("/")[-1])
        print("STATE", rec.state, rec.kind, getattr(rec, "grants", None), rec.extra)
    for role in ("van_thu", "quan_tri", "lanh_dao"):
        q = site.client(role).get("/api/intake", headers=site.people.headers(role))
        print(
            "QUEUE",
            role,
            q.json.get("total"),
            [i.get("record", {}).get("record_id") for i in q.json.get("items", [])][:5],
        )
    r2 = client.post(
        "/api/intake",
        data={"direction": "den", "file": (io.BytesIO(b"%PDF-1.7\n%rv45\n"), "hong.pdf")},
        content_type="multipart/form-data",
        headers=h,
    )
    print("AGAIN", r2.status_code, r2.get_data(as_text=True)[:200])


def test_probe_corrupt_confirm(site: Site) -> None:
    from kho_testing import incoming

    client = site.client("van_thu")
    h = site.people.headers("van_thu")
    r = client.post(
        "/api/intake",
        data={"direction": "den", "file": (io.BytesIO(b"%PDF-1.7\n%rv45b\n"), "hong.pdf")},
        content_type="multipart/form-data",
        headers=h,
    )
    job = r.json["error"]["details"]["job_id"]
    q = client.get("/api/intake", headers=h).json
    rid = [
        i["record"]["record_id"]
        for i in q["items"]
        if i["record"]["files"] and i["record"]["files"][0].get("sha256") == job
    ]
    print("RID", rid, [i["record"].get("files") for i in q["items"]][:1])
    if not rid:
        return
    rec = site.kho.repo._load(rid[0])
    values = incoming(arrival_date="2026-03-05", code_number="977")
    values["recipients"] = [{"organ_name": "Văn phòng UBND tỉnh", "organ_id": None}]
    c = client.post(
        f"/api/intake/{rid[0]}/confirm", json={"metadata": values, "expected_version": rec.version}, headers=h
    )
    print("CONFIRM", c.status_code, c.get_data(as_text=True)[:400])
