"""The people copied from a template (tests/support/kho_people.py, :class:`PeopleTemplates`) are
what :func:`make_people` makes, and each test's copy is its own: a write in one copy is seen by
no other copy, nor by the template the next copies come from."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from kho_people import PASSWORD, STAFF, People, PeopleTemplates, issue_tokens, make_people

from kho.config import Settings
from web.context import Kho


def _settings(data_dir: Path, env: dict[str, str]) -> Settings:
    return Settings.from_env({**env, "KHO_DATA_DIR": str(data_dir)})


def _digest(folder: Path) -> str:
    """Every file's path and bytes under ``folder``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _copied(templates: PeopleTemplates, data_dir: Path, env: dict[str, str]) -> People:
    settings = _settings(data_dir, env)
    usernames = templates.copy_into(settings)
    assert usernames is not None
    people = People(Kho(settings), usernames=usernames)
    issue_tokens(people)
    return people


def test_a_copy_holds_what_make_people_makes(env: dict[str, str], tmp_path: Path) -> None:
    templates = PeopleTemplates(tmp_path / "templates")
    fresh = make_people(Kho(_settings(tmp_path / "fresh", env)))
    copied = _copied(templates, tmp_path / "copied", env)
    try:
        assert copied.usernames == fresh.usernames
        assert set(copied.usernames) == {"quan_tri", *STAFF}
        for people in (fresh, copied):
            accounts = people.kho.accounts
            for who, username in people.usernames.items():
                assert accounts.authenticate(username, PASSWORD).username == username
                assert people.kho.actor_from_token(people.tokens[who], None, "GET").user == username
            assert people.kho.repo.audit.verify().ok
        fresh_events = [(e.action, e.actor) for e in fresh.kho.repo.audit.events()]
        copied_events = [(e.action, e.actor) for e in copied.kho.repo.audit.events()]
        assert copied_events == fresh_events
        assert copied.tokens != fresh.tokens  # issued for this installation, now
    finally:
        fresh.kho.close()
        copied.kho.close()


def test_each_copy_is_its_own(env: dict[str, str], tmp_path: Path) -> None:
    templates = PeopleTemplates(tmp_path / "templates")
    first = _copied(templates, tmp_path / "first", env)
    template_dirs = list((tmp_path / "templates").iterdir())
    assert len(template_dirs) == 1
    template_before = _digest(template_dirs[0])
    try:
        admin = first.kho.accounts.get(first.usernames["quan_tri"])
        first.kho.accounts.create_unit("000.02.18.H40", "Phòng Riêng", "prg", "000.00.18.H40", admin)
        first_events = len(list(first.kho.repo.audit.events()))
    finally:
        first.kho.close()
    second = _copied(templates, tmp_path / "second", env)
    try:
        assert _digest(template_dirs[0]) == template_before
        assert "000.02.18.H40" not in {unit.unit_id for unit in second.kho.accounts.units()}
        assert len(list(second.kho.repo.audit.events())) == first_events - 1
    finally:
        second.kho.close()


def test_settings_outside_the_data_folder_get_no_copy(env: dict[str, str], tmp_path: Path) -> None:
    templates = PeopleTemplates(tmp_path / "templates")
    elsewhere = {**env, "KHO_AUDIT_CHECKPOINT_DIR": str(tmp_path / "checkpoints")}
    assert templates.copy_into(_settings(tmp_path / "a", elsewhere)) is None
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "left").write_text("x")
    assert templates.copy_into(_settings(tmp_path / "b", env)) is None


@pytest.mark.sealed
def test_a_sealed_installation_gets_its_own_template(env: dict[str, str], tmp_path: Path) -> None:
    templates = PeopleTemplates(tmp_path / "templates")
    sealed = _copied(templates, tmp_path / "sealed", env)
    try:
        assert sealed.kho.settings.master_key
        assert sealed.kho.repo.audit.verify().ok
    finally:
        sealed.kho.close()
    plain = _copied(templates, tmp_path / "plain", {k: v for k, v in env.items() if k != "KHO_MASTER_KEY"})
    plain.kho.close()
    assert len(list((tmp_path / "templates").iterdir())) == 2
