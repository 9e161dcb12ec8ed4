"""u9: a key-store folder that is missing (or empty: a mount point whose disk is not mounted)
while the content store holds records is refused at start — web app, CLI, ``kho worker`` — with
``STORE_UNAVAILABLE`` naming the folder, and nothing is created there. Before, the local store
made an empty key store and Kho went on: every record read as destroyed, and a worker made new
records' keys in the empty folder, splitting the agency's keys between two folders once the real
one came back. A new Kho (nothing stored yet) still makes its key store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_people import make_people
from kho_retention import kho_env
from kho_testing import incoming, pdf_bytes

from kho.config import Settings
from kho.errors import StoreUnavailable
from web.app import create_app
from web.cli import main
from web.context import Kho


def _kho_in_use(tmp_path: Path) -> tuple[dict[str, str], Path, str]:
    env = kho_env(tmp_path)
    kho = Kho(Settings.from_env(env), follow_index=False)
    people = make_people(kho)
    doc = kho.repo.create_document(
        "den", incoming(code_number="919"), pdf_bytes("u9"), "cv.pdf", people.actor("van_thu")
    )
    kho.close()
    return env, Path(env["KHO_DATA_DIR"]) / "keys", doc.record_id


def _refused(exc: StoreUnavailable, keys: Path) -> None:
    assert exc.code == "STORE_UNAVAILABLE" and exc.details["reason"] == "KEYSTORE_MISSING"
    assert str(keys) in exc.message and "kho khóa" in exc.message


@pytest.mark.parametrize("unmounted", ["missing", "empty"])
def test_a_missing_key_store_is_refused_at_start_and_never_replaced_by_an_empty_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unmounted: str
) -> None:
    env, keys, record_id = _kho_in_use(tmp_path)
    real = keys.with_name("keys-on-the-unmounted-disk")
    keys.rename(real)
    if unmounted == "empty":
        keys.mkdir()
    settings = Settings.from_env(env)

    with pytest.raises(StoreUnavailable) as web:
        create_app(settings)
    _refused(web.value, keys)
    with pytest.raises(StoreUnavailable) as direct:
        Kho(settings, follow_index=False)
    _refused(direct.value, keys)

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    took = CliRunner().invoke(main, ["fsck"])
    printed = took.output + (took.stderr if took.stderr_bytes is not None else "")
    assert took.exit_code != 0 and "[STORE_UNAVAILABLE]" in printed, printed

    import ingest.celery_app

    started: list[list[str]] = []
    monkeypatch.setattr(ingest.celery_app.app, "worker_main", started.append)  # never a real worker
    monkeypatch.setenv("KHO_BROKER_URL", "redis://127.0.0.1:1/0")
    took = CliRunner().invoke(main, ["worker", "--pool", "solo"])
    printed = took.output + (took.stderr if took.stderr_bytes is not None else "")
    assert started == [] and took.exit_code == 2 and "[STORE_UNAVAILABLE]" in printed, printed

    # Nothing was made in its place: still missing, or still the empty mount point.
    assert (not keys.exists()) if unmounted == "missing" else list(keys.iterdir()) == []
    # The disk mounted again: the same keys, the document read.
    if keys.exists():
        keys.rmdir()
    real.rename(keys)
    kho = Kho(settings, follow_index=False)
    try:
        assert kho.repo.keys.exists(record_id)
    finally:
        kho.close()
    shutil.rmtree(tmp_path / "kho", ignore_errors=True)


def test_a_new_kho_still_makes_its_key_store(tmp_path: Path) -> None:
    env = kho_env(tmp_path)
    keys = Path(env["KHO_DATA_DIR"]) / "keys"
    kho = Kho(Settings.from_env(env), follow_index=False)
    kho.close()
    assert (keys / "objects").is_dir()
