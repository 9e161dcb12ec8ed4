"""m37 (issue 14): the local store's write path joins paths as strings and keeps a set of the
folders it knows, without weakening a promise: a key is refused as strictly as before, a folder
removed behind a running store is made again (its entries synced) or the write fails loudly,
directories are synced in the same order, and a stored record neither ``stat``-s a folder nor
builds a ``pathlib`` object."""

from __future__ import annotations

import itertools
import os
import random
import shutil
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from kho_testing import CLERK, incoming, new_repository, pdf_bytes

from kho.errors import StoreUnavailable
from repository.storage import local
from repository.storage.base import ABSENT
from repository.storage.durability import Durability
from repository.storage.group import NewObject, write_group, written
from repository.storage.local import LocalStore, check_key
from repository.storage.overlap import NEVER

_MAIN_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.=/")


def _main_accepts(key: str) -> bool:
    """``check_key`` as main wrote it (before m37), the oracle."""
    return not (
        not key
        or key.startswith("/")
        or key.endswith("/")
        or any(part in ("", ".", "..") for part in key.split("/"))
        or not set(key) <= _MAIN_SAFE
    )


def _accepts(key: str) -> bool:
    try:
        check_key(key)
    except ValueError:
        return False
    return True


def test_a_key_is_refused_exactly_where_main_refused_it() -> None:
    """Every key of up to 5 characters over an alphabet of separators, dots, safe and unsafe
    characters (NUL, newline, space, backslash, a Vietnamese letter), and 20,000 longer random
    ones: accepted exactly where main's five tests accepted them. (A guard: passes before.)"""
    alphabet = ["a", "Z", "0", "/", ".", "-", "=", "_", "\x00", "\n", " ", "\\", "ế", "%"]
    keys = ["".join(chars) for n in range(6) for chars in itertools.product(alphabet, repeat=n)]
    draw = random.Random(37)
    keys += ["".join(draw.choice(alphabet) for _ in range(draw.randint(6, 40))) for _ in range(20_000)]
    keys += ["records/abc/../../etc/passwd", "../x", "x/..", "a/./b", "/abs", "a\n", "a/b\n", "..a/b.."]
    keys += ["...", "a/..."]
    differ = [k for k in keys if _accepts(k) != _main_accepts(k)]
    assert differ == []
    assert sum(map(_main_accepts, keys)) > 1000  # both accepting and refusing were exercised


@pytest.mark.parametrize("key", ["../x", "a/../../x", "/etc/passwd", "a//b", "a/", ".", "a/./b", "a b", "ế"])
def test_a_bad_key_is_refused_by_every_write_and_read_and_nothing_is_written(
    tmp_path: Path, key: str
) -> None:
    store = LocalStore(tmp_path / "s")
    writes = [
        lambda: store.put_if_absent(key, b"x"),
        lambda: store.put_new(key, b"x"),
        lambda: store.put(key, b"x"),
        lambda: store.put_if_match(key, b"x", ABSENT),
        lambda: store.stage(key, b"x"),
        lambda: store.get(key),
        lambda: store.get_tagged(key),
        lambda: store.stat(key),
    ]
    for write in writes:
        with pytest.raises(ValueError, match="invalid object key"):
            write()
    outcome = write_group([NewObject(store, key, b"x")])
    assert isinstance(outcome[0], ValueError)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]


class Recorder(Durability):
    """Every directory sync, in order, really synced; checks it is given a ``Path`` (a
    durability other than the package's own still is)."""

    def __init__(self) -> None:
        self.dirs: list[Path] = []
        self.files = 0

    def file(self, fd: int, path: Path) -> None:
        assert isinstance(path, Path), path
        self.files += 1
        super().file(fd, path)

    def directory(self, path: Path) -> None:
        assert isinstance(path, Path), path
        self.dirs.append(path)
        super().directory(path)


def _write(store: LocalStore, how: str, key: str, data: bytes) -> None:
    if how == "group":
        outcome = write_group([NewObject(store, key, data)])
        assert written(outcome[0]), outcome
    elif how == "put_if_absent":
        store.put_if_absent(key, data)
    else:
        store.put(key, data)


@pytest.mark.parametrize("how", ["group", "put_if_absent", "put"])
def test_a_folder_removed_behind_the_store_is_made_again_and_its_entries_synced(
    tmp_path: Path, how: str
) -> None:
    """A running store knows ``records/`` and ``records/r1/`` (it wrote into them); both are
    removed behind it. The next write into ``records/r1/`` makes them again and syncs the
    entry of each in its parent: ``objects/`` too (the parent of the ``records/`` made again).
    Main synced ``records/r1`` and ``records`` only (the group and ``put_if_absent``: it
    dropped the set of folders it made) or refused the put for good (``STORE_UNAVAILABLE`` at
    every later put into that folder: it never forgot the folder)."""
    recorder = Recorder()
    store = LocalStore(tmp_path / "s", durability=recorder)
    objects = tmp_path / "s" / "objects"
    _write(store, how, "records/r1/a", b"a")
    _write(store, how, "records/r2/a", b"a2")
    shutil.rmtree(objects / "records")
    recorder.dirs.clear()

    _write(store, how, "records/r1/b", b"b")

    assert store.get("records/r1/b") == b"b"
    assert {objects, objects / "records", objects / "records" / "r1"} <= set(recorder.dirs), recorder.dirs
    # ... and a later write there, and into a sibling, work as well
    _write(store, how, "records/r1/c", b"c")
    _write(store, how, "records/r2/b", b"b2")
    assert [store.get(k) for k in ("records/r1/c", "records/r2/b")] == [b"c", b"b2"]
    assert list((tmp_path / "s" / "tmp").iterdir()) == []


def test_a_temp_folder_removed_behind_the_store_fails_loudly_and_loses_nothing(tmp_path: Path) -> None:
    """The store's ``tmp/`` gone (a cleaner run wild): a write is refused ``STORE_UNAVAILABLE``
    (not written into nowhere), and what was stored stays readable. (A guard: passes before.)"""
    store = LocalStore(tmp_path / "s")
    store.put_if_absent("records/r1/a", b"a")
    shutil.rmtree(tmp_path / "s" / "tmp")
    for write in (
        lambda: store.put_if_absent("records/r1/b", b"b"),
        lambda: store.put("records/r1/a", b"new"),
    ):
        with pytest.raises(StoreUnavailable) as refused:
            write()
        assert refused.value.code == "STORE_UNAVAILABLE"
    outcome = write_group([NewObject(store, "records/r1/c", b"c")])
    assert isinstance(outcome[0], StoreUnavailable)
    assert store.get("records/r1/a") == b"a"


def test_directories_are_synced_parent_first_in_the_order_main_synced_them(tmp_path: Path) -> None:
    """One call syncing names whose string order differs from their ``Path`` order
    (``a-b`` < ``a/b`` as strings, after it as paths): synced in ``Path`` order, as main did.
    (A guard: passes before.)"""
    recorder = Recorder()
    store = LocalStore(tmp_path / "s", durability=recorder)
    base = tmp_path / "s" / "objects"
    names = [base / "a", base / "a" / "b", base / "a-b", base / "a.b", base / "a" / "b" / "c", base / "Z"]
    for name in names:
        name.mkdir(parents=True, exist_ok=True)
    recorder.dirs.clear()
    store.sync_directories({str(n) for n in names})
    assert recorder.dirs == sorted(names)


def _second_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, LocalStore]:
    monkeypatch.setattr(local, "DEFAULT_OVERLAP", NEVER)  # the writer's own thread: counted
    store = LocalStore(tmp_path / "s")
    repo = new_repository(store, LocalStore(tmp_path / "k"))
    repo.create_document("den", incoming(code_number="1"), pdf_bytes("w"), "w.pdf", CLERK)
    return repo, store


def test_a_stored_record_stats_no_folder_and_makes_only_its_new_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record's folders are made by ``mkdir`` alone (``EEXIST`` or ``ENOENT`` says the rest):
    no ``stat`` of a folder, ``mkdir`` only of the folders the record makes. Main ``stat``-ed
    each new folder and its parent before making it (3 ``stat``s of folders a stored record)."""
    repo, _ = _second_record(tmp_path, monkeypatch)
    root = tmp_path  # the store and the key store
    before = {p for p in root.rglob("*") if p.is_dir()}
    real_stat, real_mkdir = os.stat, os.mkdir
    stated: list[str] = []
    made: list[str] = []

    def counting_stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        stated.append(os.fsdecode(path))
        return real_stat(path, *args, **kwargs)

    def counting_mkdir(path: Any, *args: Any, **kwargs: Any) -> None:
        made.append(os.fsdecode(path))
        real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counting_stat)
    monkeypatch.setattr(os, "mkdir", counting_mkdir)
    repo.create_document("den", incoming(code_number="2"), pdf_bytes("a", 200_000), "a.pdf", CLERK)
    monkeypatch.undo()

    new = {p for p in root.rglob("*") if p.is_dir()} - before
    assert new, "a record makes a folder of its own"
    assert [p for p in stated if Path(p).is_dir()] == []
    assert set(made) == {str(p) for p in new}
    # each once, and one try more (ENOENT) where a folder is made below one made with it: the
    # record's content folder and the record's own (main: 3 stats and 2 mkdirs)
    assert len(made) <= len(new) + 1, made


def test_a_stored_record_builds_no_path_object(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``pathlib`` code runs while a record is stored on the local folder (with the
    package's own durability): main built, hashed and formatted ``Path`` objects per key, per
    temp file and per folder, ~750 ``pathlib`` calls a record."""
    repo, _ = _second_record(tmp_path, monkeypatch)
    calls: list[str] = []

    def watch(frame: FrameType, event: str, arg: object) -> None:
        if event == "call" and frame.f_code.co_filename.endswith("pathlib.py"):
            calls.append(frame.f_code.co_name)

    sys.setprofile(watch)
    try:
        repo.create_document("den", incoming(code_number="2"), pdf_bytes("a", 200_000), "a.pdf", CLERK)
    finally:
        sys.setprofile(None)
    assert calls == []


class FailsFirstDirectorySync(Recorder):
    def __init__(self) -> None:
        super().__init__()
        self.armed = False

    def directory(self, path: Path) -> None:
        if self.armed:
            self.armed = False
            raise OSError(5, "Input/output error")
        super().directory(path)


def test_a_folder_made_but_never_synced_and_then_removed_is_made_again(tmp_path: Path) -> None:
    """A write whose directory sync failed leaves its folder made but not known durable.
    Removed behind the store, the next write into it makes it again and syncs its entry in its
    parent.
    (A guard: passes before.)"""
    recorder = FailsFirstDirectorySync()
    store = LocalStore(tmp_path / "s", durability=recorder)
    objects = tmp_path / "s" / "objects"
    recorder.armed = True
    with pytest.raises(StoreUnavailable):
        store.put_if_absent("records/r9/a", b"a")
    shutil.rmtree(objects / "records" / "r9")
    recorder.dirs.clear()

    store.put_if_absent("records/r9/b", b"b")

    assert store.get("records/r9/b") == b"b"
    assert {objects / "records", objects / "records" / "r9"} <= set(recorder.dirs), recorder.dirs
