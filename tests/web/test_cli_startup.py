"""The kho command starts without the heavy libraries it does not need (start-up time).

Behaviour tests, not timings: a fresh interpreter runs a command and reports which modules it
imported. ``bench/bench_cli.py`` measures the wall times.
"""

from __future__ import annotations

import json
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
                                  ["register", "--help"], ["config"]])
def test_listing_and_help_import_no_heavy_library(args: list[str]) -> None:
    loaded = imported_by(args)
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
    if args[0] != "ingest":  # (the ingest commands' module names the repository's types)
        # … nor the repository, the accounts or the web context
        assert not {"web.context", "repository.records", "repository.accounts"} & loaded


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
    register, which prints them, does load AES-GCM)."""
    import os

    run_env = {**os.environ, **env, "KHO_TOKEN": people.tokens["van_thu"]}
    never = {*HEAVY, "asn1crypto", "search", "asyncio"}
    for args, unneeded in ((["whoami"], {*never, "cryptography"}), (["register", "list"], never)):
        proc = subprocess.run([sys.executable, "-m", "web.cli", *args], env=run_env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr  # the work is done, not refused
        loaded = imported_by(args, run_env)
        assert not loaded & unneeded, (args, sorted(loaded & unneeded))
    assert "Đỗ Thị Khuê" in subprocess.run(
        [sys.executable, "-m", "web.cli", "whoami"], env=run_env, capture_output=True, text=True,
        timeout=120, check=False).stdout


_CLASSES = '''
import dataclasses, json, sys
from dataclasses import InitVar, dataclass, field

@dataclass(frozen=True, order=True)
class Point:
    x: int
    y: int = 0
    tags: tuple[str, ...] = field(default=(), compare=False)

@dataclass(kw_only=True, slots=True)
class Box:
    name: str
    items: list[int] = field(default_factory=list)
    secret: str = field(default="", repr=False)
    scale: InitVar[int] = 1
    def __post_init__(self, scale):
        self.items = [i * scale for i in self.items]

out = {"repr": [repr(Point(1, 2, ("a",))), repr(Box(name="b", items=[1, 2], scale=3))],
       "eq": Point(1, 2) == Point(1, 2, ("z",)), "lt": Point(1, 2) < Point(1, 3),
       "hash": hash(Point(1, 2)) == hash(Point(1, 2, ("q",))),
       "init": str(__import__("inspect").signature(Box)), "slots": Box.__slots__}
try:
    Point(1).x = 3
except dataclasses.FrozenInstanceError:
    out["frozen"] = True
print(json.dumps(out))
'''


def _classes(tmp_path: Path, cached: bool) -> tuple[dict[str, object], int]:
    """The behaviour of some dataclasses made in a fresh interpreter, and how many texts that
    process had to compile (with the cache installed when ``cached``)."""
    import os

    probe = ("from kho import startup\nfrom pathlib import Path\n"
             f"cache = startup.cache_dataclass_code(Path({str(tmp_path / 'c.marshal')!r}))\n"
             if cached else "cache = None\n")
    probe += _CLASSES + "print(cache.added if cache else -1)\n"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, check=True, env={**os.environ, "KHO_CODE_CACHE": "1"})
    lines = proc.stdout.strip().splitlines()
    return json.loads(lines[0]), int(lines[1])


def test_cached_dataclass_code_makes_the_same_classes(tmp_path: Path) -> None:
    """The first process compiles and saves the generated methods, the second runs them from
    the file without compiling; both behave as plain dataclasses do."""
    plain, _ = _classes(tmp_path, cached=False)
    first, compiled = _classes(tmp_path, cached=True)
    second, compiled_again = _classes(tmp_path, cached=True)
    assert plain == first == second
    assert plain["frozen"] is True and plain["eq"] is True and plain["lt"] is True
    assert compiled > 5 and compiled_again == 0
    assert (tmp_path / "c.marshal").stat().st_mode & 0o777 == 0o600


def test_a_cache_file_others_could_write_or_a_damaged_one_is_not_used(tmp_path: Path) -> None:
    from kho import startup

    _classes(tmp_path, cached=True)
    path = tmp_path / "c.marshal"
    assert startup.CodeCache(path).blobs
    path.chmod(0o666)
    assert startup.CodeCache(path).blobs == {}
    path.chmod(0o600)
    tmp_path.chmod(0o777)
    try:
        assert startup.CodeCache(path).blobs == {}
    finally:
        tmp_path.chmod(0o700)
    path.write_bytes(b"\x00garbage")
    assert startup.CodeCache(path).blobs == {}
    second, compiled = _classes(tmp_path, cached=True)  # and the process still works
    assert second["frozen"] is True and compiled > 5


def test_the_code_cache_can_be_turned_off_and_is_only_installed_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import dataclasses

    from kho import startup

    monkeypatch.setenv("KHO_CODE_CACHE", "0")
    assert startup.cache_dataclass_code(tmp_path / "x") is None
    assert "exec" not in vars(dataclasses)
    monkeypatch.setenv("KHO_CODE_CACHE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # and no home either: no cache
    monkeypatch.setenv("HOME", "")
    assert startup.cache_file() is None or startup.cache_file().is_absolute()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert startup.cache_file() == tmp_path / "xdg" / "kho" / startup.cache_file().name
    monkeypatch.setenv("KHO_CODE_CACHE", "1")
    try:
        cache = startup.cache_dataclass_code(tmp_path / "x")
        assert cache is not None and startup.cache_dataclass_code() is cache

        @dataclasses.dataclass
        class Made:
            a: int

        assert Made(1) == Made(1) and cache.added >= 2
        assert cache.save() and (tmp_path / "x").exists()
    finally:
        startup.uninstall()
    assert "exec" not in vars(dataclasses)


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
