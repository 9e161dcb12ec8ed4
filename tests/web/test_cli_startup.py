"""The kho command starts without the heavy libraries it does not need (start-up time).

Behaviour tests, not timings: a fresh interpreter runs a command and reports which modules it
imported. ``bench/bench_cli.py`` measures the wall times.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from web.cli import LAZY_COMMANDS, load_lazy_command, main

HEAVY = ("pyhanko", "pyhanko_certvalidator", "aiohttp", "elasticsearch", "celery", "kombu",
         "tantivy", "flask", "boto3", "botocore", "pypdfium2", "PIL")
"""Libraries that cost tenths of a second to import and that listing the commands never needs."""

_PROBE = """
import json, sys
from web.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
except Exception as exc:  # a refusal (e.g. not logged in) still shows what was imported
    print(type(exc).__name__, file=sys.stderr)
print(json.dumps(sorted(m for m in sys.modules)))
"""


def imported_by(args: list[str], env: dict[str, str] | None = None) -> set[str]:
    proc = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True,
                          timeout=120, env=env, check=False)
    last = proc.stdout.strip().splitlines()[-1]
    modules = set(json.loads(last))
    return modules | {m.split(".")[0] for m in modules}


@pytest.mark.parametrize("args", [["--help"], ["search", "--help"], ["ingest", "--help"],
                                  ["register", "--help"], ["config"], ["verify", "--help"],
                                  ["verify"]])
def test_listing_and_help_import_no_heavy_library(args: list[str]) -> None:
    """``kho verify --help`` and a ``kho verify`` usage error (no file named) are answered from
    the command's arguments alone (:mod:`ingest.verify_cli`): the verification stack is
    imported when the command runs (issue 14, branch a12: it was ~380 modules, 0.26-0.30 s)."""
    loaded = imported_by(args)
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
    if args[0] != "ingest":  # (the ingest commands' module names the repository's types)
        # … nor the repository, the accounts or the web context
        assert not {"web.context", "repository.records", "repository.accounts"} & loaded


NOT_WITHOUT_A_PASSWORD = ("argon2", "_argon2_cffi_bindings", "secrets", "random", "tempfile",
                          "shutil", "string")
"""What a command working with a token does not import (issue 14, task c1): argon2 (hashing or
checking a password), ``secrets`` and ``random`` (a new token or password), ``tempfile`` (a
store write makes its temp file itself), ``shutil`` (removing a tree, copying the audit
verifier), ``string`` (the password alphabet is spelled out)."""


def test_a_record_command_opens_no_search_engine_before_a_change(tmp_path: Path) -> None:
    """``kho whoami`` / ``kho register list`` read the store: the index is opened at the first
    write, so neither tantivy nor Elasticsearch is imported; pyHanko and Celery neither."""
    import os

    env = {**os.environ, "KHO_DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path)}
    for args in (["whoami"], ["register", "list"]):
        loaded = imported_by(args, env)
        assert not loaded & set(HEAVY), (args, sorted(loaded & set(HEAVY)))


@pytest.mark.parametrize("name", sorted(LAZY_COMMANDS))
def test_lazy_command_help_matches_the_command(name: str) -> None:
    """The help ``kho --help`` shows without importing a command is that command's own."""
    command = load_lazy_command(name)
    assert isinstance(command, click.Command) and command.name == name
    assert command.help is not None
    assert command.help.split("\n\n")[0].split("\n")[0].strip() == LAZY_COMMANDS[name][1]


def test_help_lists_every_command_once_with_its_help() -> None:
    from click.testing import CliRunner

    out = CliRunner().invoke(main, ["--help"]).output
    for name in LAZY_COMMANDS:
        assert sum(1 for line in out.splitlines() if line.split()[:1] == [name]) == 1, name
    assert "Kiểm tra chữ ký số" in out and "record" in out


def test_logged_in_record_commands_import_no_heavy_library(env: dict[str, str], people) -> None:
    """As a logged-in account (a valid token) ``kho whoami`` and ``kho register list`` do their
    work without pyHanko, Celery, the search engine, Flask, boto3, asyncio or asn1crypto; and
    ``whoami`` without cryptography (an account is not encrypted; a record version is, so the
    register, which prints them, does load AES-GCM). Nor without what only a password, a new
    token or a clean-up needs (:data:`NOT_WITHOUT_A_PASSWORD`): the register list writes its
    audit event without :mod:`tempfile`."""
    import os

    run_env = {**os.environ, **env, "KHO_TOKEN": people.tokens["van_thu"]}
    never = {*HEAVY, *NOT_WITHOUT_A_PASSWORD, "asn1crypto", "search", "asyncio"}
    for args, unneeded in ((["whoami"], {*never, "cryptography"}), (["register", "list"], never)):
        proc = subprocess.run([sys.executable, "-m", "web.cli", *args], env=run_env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr  # the work is done, not refused
        loaded = imported_by(args, run_env)
        assert not loaded & unneeded, (args, sorted(loaded & unneeded))
    assert "Đỗ Thị Khuê" in subprocess.run(
        [sys.executable, "-m", "web.cli", "whoami"], env=run_env, capture_output=True, text=True,
        timeout=120, check=False).stdout


def test_imports_pause_the_collector_and_turn_it_back_on() -> None:
    import gc

    from kho import startup

    assert gc.isenabled()
    with startup.imports():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with startup.imports():
            pass
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


def test_the_program_freezes_what_it_imported_and_the_test_runner_does_not() -> None:
    """``kho`` (its entry point) freezes what a command imported, so no later collection, the
    one at exit included, walks it again; click's test runner (a process that goes on) and
    library callers keep every object collectable."""
    import gc

    from click.testing import CliRunner

    probe = ("import gc, json, sys\nfrom kho import startup\n{setup}\n"
             "before = gc.get_freeze_count()\nwith startup.imports():\n    import decimal\n"
             "print(json.dumps([before, gc.get_freeze_count(), gc.isenabled()]))\n")
    runs = {}
    for name, setup in (("program", "startup.program()"), ("library", "")):
        out = subprocess.run([sys.executable, "-c", probe.format(setup=setup)], capture_output=True,
                             text=True, timeout=60, check=True).stdout
        runs[name] = json.loads(out.strip().splitlines()[-1])
    assert runs["program"][0] == 0 and runs["program"][1] > 1000 and runs["program"][2] is True
    assert runs["library"] == [0, 0, True]
    frozen = gc.get_freeze_count()
    assert CliRunner().invoke(main, ["verify", "--help"]).exit_code == 0
    assert gc.get_freeze_count() == frozen


def _kho_run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "web.cli", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120, check=False)


SECRET_NOTICE = [
    "type_name=Công văn", "code_number=77", "code_notation=UBND-VP", "organ_name=Bộ Nội vụ",
    "issued_date=02/03/2026", "subject=Về việc kiểm kê kho lưu trữ chuyên dụng",
    "signer_position=Chánh Văn phòng", "signer_full_name=Trần Thị Hoà", "secrecy=2",
]


def test_logged_in_search_imports_only_what_a_query_needs(env: dict[str, str], people) -> None:
    """``kho search`` as a logged-in account runs its query (the index opened, the search
    audited) without pyHanko, Celery, Flask, boto3, Elasticsearch, pdfium, asyncio, asn1crypto,
    the ingest pipeline, and without ``logging`` and ``html`` (imported only to warn and to
    escape for pages). A search with no hit to show imports no ``cryptography`` either; one
    with hits reads each hit's record from the store (decrypting it) before showing it, as
    the page and the API do, and imports it for that."""
    actor = people.actor("van_thu")
    metadata = dict(pair.split("=", 1) for pair in SECRET_NOTICE)
    people.kho.repo.create_document("den", {**metadata, "secrecy": "0"}, None, None, actor)
    run_env = {**env, "KHO_TOKEN": people.tokens["van_thu"], "KHO_VERIFY_AGENT_PRESTART": "0"}
    proc = _kho_run(["search", "--json", "kiểm kê kho"], run_env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["total"] == 1  # the query ran on the index
    never = {"pyhanko", "pyhanko_certvalidator", "aiohttp", "celery", "kombu", "flask", "boto3",
             "botocore", "elasticsearch", "pypdfium2", "PIL", "asyncio", "asn1crypto",
             "ingest.pipeline", "logging", "html", "multiprocessing", "concurrent",
             *NOT_WITHOUT_A_PASSWORD}
    with_hits = imported_by(["search", "kiểm", "kê", "kho"], {**os.environ, **run_env})
    assert "tantivy" in with_hits and "repository.policy" in with_hits
    assert "cryptography" in with_hits  # the hit's record was read from the store
    assert not with_hits & never, sorted(with_hits & never)
    nothing = _kho_run(["search", "--json", "thẩm định giá"], run_env)
    assert nothing.returncode == 0 and json.loads(nothing.stdout)["total"] == 0, nothing.stderr
    no_hit = imported_by(["search", "thẩm", "định", "giá"], {**os.environ, **run_env})
    assert "tantivy" in no_hit and "repository.policy" in no_hit
    assert not no_hit & (never | {"cryptography"}), sorted(no_hit & (never | {"cryptography"}))


def test_logged_in_search_with_fsync_imports_no_thread_pool(env: dict[str, str], people) -> None:
    """As the test above, with the local store's fsync on (the default): the second search
    (the audit witness then exists and is archived, its folder synced) imports neither
    ``concurrent`` nor ``logging``: a process without a write pool syncs that folder itself
    (``repository.storage.group.beside``; the gap branch p3 pinned with a strict xfail)."""
    run_env = {**os.environ, **env, "KHO_FSYNC": "true", "KHO_TOKEN": people.tokens["van_thu"],
               "KHO_VERIFY_AGENT_PRESTART": "0"}
    first = _kho_run(["search", "--json", "kiểm kê kho"], run_env)
    assert first.returncode == 0, first.stderr
    loaded = imported_by(["search", "kiểm", "kê", "kho"], run_env)
    assert "tantivy" in loaded  # the query ran
    assert not loaded & {"concurrent", "logging"}, sorted(loaded & {"concurrent", "logging"})


def test_logged_in_search_still_filters_through_the_policy(env: dict[str, str], people) -> None:
    """The ``kho`` program's search (the process the start-up work made lighter) shows a
    document only to who may see it: the văn thư who registered a "Mật" notice finds it, a
    chuyên viên without clearance and a văn thư of another unit do not (and learn nothing of it
    from the total or the facets); each search is audited under its own account."""
    actor = people.actor("van_thu")
    metadata = dict(pair.split("=", 1) for pair in SECRET_NOTICE)
    secret = people.kho.repo.create_document("den", metadata, None, None, actor)
    found = {}
    for who in ("van_thu", "chuyen_vien", "van_thu_b"):
        proc = _kho_run(["search", "--json", "kiểm kê kho lưu trữ"],
                        {**env, "KHO_TOKEN": people.tokens[who], "KHO_VERIFY_AGENT_PRESTART": "0"})
        assert proc.returncode == 0, (who, proc.stderr)
        result = json.loads(proc.stdout)
        found[who] = [hit["id"] for hit in result["hits"]]
        if who != "van_thu":
            assert result["total"] == 0 and secret.record_id not in proc.stdout, who
    assert found == {"van_thu": [secret.record_id], "chuyen_vien": [], "van_thu_b": []}
    searches = [e for e in people.kho.repo.audit.events() if e.action == "search"]
    who_searched = [people.usernames[w] for w in ("van_thu", "chuyen_vien", "van_thu_b")]
    assert [e.actor for e in searches[-3:]] == who_searched


NOT_IN_A_COLD_VERIFY = ("ingest.signatures._viewer", "repository.vocabulary", "tempfile", "shutil",
                        "aiohttp", "requests", "pyhanko.sign.signers.pdf_signer",
                        "pyhanko.sign.timestamps", "cryptography.x509", "pypdfium2", "PIL",
                        "qrcode", "argon2", "repository.accounts", "importlib.metadata")
"""What a cold ``kho verify`` of a one-revision document no longer imports (round 7 of issue 14):
the viewer cross-check (only for content after a signed revision), the vocabulary (the settings
check the agency identifier with :mod:`repository.identifiers`), ``tempfile`` (only to write a
trust list); nor (pinned by branch m47, none imported on main either) the signing stack and its
network clients (``aiohttp``, ``requests``, the signer and time-stamp client), cryptography's
X.509 layer (~20-40 ms: only a trust list with CRLs reads it), the page renderer, images, the
accounts and the entry-point scan."""

_VERIFY_PROBE = """
import atexit, json, sys
REPORT = sys.argv[1]
def report():
    import re
    from ingest.signatures import _flat
    with open(REPORT, "w") as out:
        json.dump({"modules": sorted(sys.modules),
                   "flat_patterns": (_flat._patterns.cache_info().currsize
                                     if hasattr(_flat, "_patterns") else None),
                   "patterns": [key[1] for key in re._cache if isinstance(key[1], str)]}, out)
atexit.register(report)
sys.argv = ["kho", "verify", *sys.argv[2:]]
from web.cli import main
sys.exit(main())
"""


def test_cold_verify_imports_only_what_a_one_revision_document_needs(
    tmp_path: Path, corpus_pdf_dir: Path
) -> None:
    """The ``kho`` program verifying in-process (no agent): same verdict, exit handlers run
    before the quick exit (:func:`kho.startup.leave`), and none of the modules or compiled
    patterns round 7 made lazy is loaded for a single-revision signed document, nor the
    organisation-name expression branch p3 replaced."""
    pdf = corpus_pdf_dir / "vn-gov__194-ttg.signed.pdf"
    report = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if k != "KHO_TRUST_DIR"}
    env.update(KHO_VERIFY_AGENT="0", KHO_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.run([sys.executable, "-c", _VERIFY_PROBE, str(report), str(pdf)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert f"{pdf}: HỢP LỆ (TOTAL-PASSED)" in proc.stdout
    found = json.loads(report.read_text())  # written by the exit handler
    assert "pyhanko.sign.validation" in found["modules"]  # it did verify in this process
    assert [m for m in NOT_IN_A_COLD_VERIFY if m in found["modules"]] == []
    assert found["flat_patterns"] == 0
    # The organisation-name rule is string comparisons (issue 14, branch p3): no expression of
    # its ~90 alternatives is compiled (re's cache holds every pattern compiled through it).
    assert [p for p in found["patterns"] if "tong\\ cong\\ ty" in p or "tong cong ty" in p] == []


def test_cold_verify_exits_as_before_on_failures_and_closed_streams(
    tmp_path: Path, corpus_pdf_dir: Path
) -> None:
    """The quick exit keeps the statuses and output of a normal one: 1 with every file's line
    when one fails, 2 for a usage error, 0 and no traceback when standard output was closed."""
    pdf = corpus_pdf_dir / "vn-gov__194-ttg.signed.pdf"
    env = {k: v for k, v in os.environ.items() if k != "KHO_TRUST_DIR"}
    env.update(KHO_VERIFY_AGENT="0", KHO_DATA_DIR=str(tmp_path / "data"))
    kho = [sys.executable, "-m", "web.cli", "verify"]
    missing = subprocess.run([*kho, "--json", str(tmp_path / "none.pdf"), str(pdf)],
                             capture_output=True, text=True, env=env, timeout=300, check=False)
    assert missing.returncode == 1, missing.stderr
    lines = [json.loads(line) for line in missing.stdout.splitlines()]
    assert lines[0]["code"] == "FILE_NOT_FOUND"
    assert lines[1]["verdict"]["indication"] == "TOTAL-PASSED"
    usage = subprocess.run(kho, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert usage.returncode == 2 and "Lỗi [CLI_ARGUMENT_MISSING]: Thiếu tham số" in usage.stderr
    closed = subprocess.run(["sh", "-c", '"$@" >&-', "sh", *kho, str(pdf)],
                            capture_output=True, text=True, env=env, timeout=300, check=False)
    assert closed.returncode == 0 and closed.stderr == ""
