"""Review r22: with ``KHO_MASTER_KEY``, an account or unit version of a format before seals.

z3 sealed accounts (format 5) and units (format 3), but read a version of the format before
seals as before unless a sealed version came before it. So an insider who holds the store but
not the master key could still (a) write the next version of an account untouched since the
upgrade in format 4, with the quản trị role and Tuyệt mật clearance, (b) create a brand-new
account in format 4, or (c) move a unit untouched since the upgrade (format 2) — and Kho used it.
Now such a version is refused unless the operator opens the upgrade window
(``KHO_ALLOW_UNSEALED``), and ``kho account seal`` seals only the versions the audit log vouches
for. Also z3's open item 6: the listings (``LAST_ADMIN``) counted a forged quản trị.

The installation before the upgrade is made by Kho itself, without a key, through a store that
stamps what it writes in the formats of the release before seals (:class:`PreSealStore`): those
are the bytes that release wrote (format 5 is format 4 plus ``seal``; unit 3 is unit 2 plus
``seal``), with their events in the real audit log."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from kho_sealing import CHEAP, GOOD, MASTER, VP, seed_agency
from kho_sealing import newest_version as _newest
from kho_testing import AGENCY, AGENCY_NAME, AUDITOR, BACKENDS, LOGIN, make_store, outside_anchor

from kho.config import Settings
from kho.errors import AccountDowngraded, LoginFailed, PermissionDenied, UnitTampered
from repository import formats
from repository.accounts import AccountService, account_key, unit_key
from repository.fsck import fsck
from repository.records import Repository
from repository.service import open_accounts
from repository.storage.base import ObjectStore

ADMIN = "vienqt.ubnd"
PRE_SEAL = {"accounts/": 4, "units/": 2}  # the formats of the release before seals


class PreSealStore:
    """The store as the release before seals wrote it: account and unit versions in format 4 and
    2 (what Kho without a key writes now, stamped with the older number)."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def put_if_absent(self, key: str, data: bytes, *args: Any, **kwargs: Any) -> Any:
        for prefix, version in PRE_SEAL.items():
            if key.startswith(prefix) and "/v" in key:
                body = json.loads(data)
                assert "seal" not in body
                body[formats.FORMAT_KEY] = version
                data = json.dumps(body, ensure_ascii=False, sort_keys=True).encode()
        return self._store.put_if_absent(key, data, *args, **kwargs)


def _settings(tmp_path: Path, master: bytes | None, *, allow: bool = False) -> Settings:
    env = {"KHO_DATA_DIR": str(tmp_path / "data"), "KHO_AGENCY_ID": AGENCY}
    if master is not None:
        env["KHO_MASTER_KEY"] = base64.b64encode(master).decode()
    if allow:
        env["KHO_ALLOW_UNSEALED"] = "true"
    return Settings.from_env(env)


class Install:
    """One agency's store, opened as the application opens it, at each stage of the upgrade."""

    def __init__(self, backend: str, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.store = make_store(backend, tmp_path, "r22")
        self.keys = make_store("local", tmp_path, "keys")

    def open(
        self, *, master: bytes | None = MASTER, allow: bool = False
    ) -> tuple[Repository, AccountService]:
        settings = _settings(self.tmp_path, master, allow=allow)
        repo = Repository(
            self.store, self.keys, agency_id=AGENCY, agency_name=AGENCY_NAME, master_key=settings.master_key
        )
        svc = open_accounts(repo, settings)
        svc._hasher = CHEAP
        return repo, svc

    def before_upgrade(self, *, sealed: bool = False) -> str:
        """The release before seals (``sealed``: this one, with a key): the agency, its quản trị,
        Văn phòng and a chuyên viên (returned)."""
        _, svc = self.open(master=MASTER if sealed else None)
        if not sealed:
            svc.store = PreSealStore(svc.store)  # type: ignore[assignment]
        username = seed_agency(svc)
        written_in = _newest(svc, username)[1][formats.FORMAT_KEY]
        assert written_in == (formats.ACCOUNT.current if sealed else 4)
        return username


def _keys(store: ObjectStore, prefix: str) -> list[str]:
    return [i.key for i in store.list(prefix)]


def _forge_admin(svc: AccountService, who: str) -> str:
    """(a) The next version of ``who`` in format 4, quản trị and Tuyệt mật, with a made-up event."""
    number, data = _newest(svc, who)
    forged = account_key(who, number + 1)
    data.update(
        version=number + 1,
        clearance=3,
        memberships=[{"unit": AGENCY, "role": "quan_tri"}],
        audit=[{"actor": ADMIN, "action": "account:roles", "source": None, "details": {"object": forged}}],
    )
    data[formats.FORMAT_KEY] = 4
    data.pop("seal", None)
    svc.store.put_if_absent(forged, json.dumps(data, ensure_ascii=False).encode())
    return forged


def _forge_new_admin(svc: AccountService, name: str) -> str:
    """(b) A brand-new account in format 4: a copy of the quản trị's newest version, renamed."""
    _, data = _newest(svc, ADMIN)
    key = account_key(name, 1)
    created = {"object": key, "username": name}
    data.update(version=1, username=name, audit=[
        {"actor": ADMIN, "action": "account:create", "source": None, "details": created}
    ])
    data[formats.FORMAT_KEY] = 4
    data.pop("seal", None)
    svc.store.put_if_absent(key, json.dumps(data, ensure_ascii=False).encode())
    return key


def _forge_unit_move(svc: AccountService) -> str:
    """(c) Văn phòng's next version in format 2, under another parent."""
    key = _keys(svc.store, f"units/{VP}/")[-1]
    data = json.loads(svc.store.get(key))
    number = int(key.rsplit("/v", 1)[1]) + 1
    forged = unit_key(VP, number)
    data.update(version=number, name="Văn phòng (đã chuyển)", audit=[
        {"actor": ADMIN, "action": "unit:update", "source": None, "details": {"object": forged}}
    ])
    data[formats.FORMAT_KEY] = 2
    data.pop("seal", None)
    svc.store.put_if_absent(forged, json.dumps(data, ensure_ascii=False).encode())
    return forged


def _upgrade(install: Install) -> None:
    """The upgrade done right: the window, ``kho account seal``, nothing refused."""
    from repository.sealing import seal_unsealed

    repo, svc = install.open(allow=True)
    assert all(o.sealed_as for o in seal_unsealed(repo, svc, "operator", "cli"))


def _actions(repo: Repository, action: str) -> list[dict]:
    return [dict(e.details or {}) for e in repo.audit.events() if e.action == action]


@pytest.fixture(params=BACKENDS)
def install(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Install]:
    yield Install(request.param, tmp_path)


def test_an_account_forged_in_the_format_before_seals_is_refused(install: Install) -> None:
    """(a): the next version of an account untouched since the upgrade, in format 4."""
    who = install.before_upgrade()
    _, svc = install.open()
    _forge_admin(svc, who)
    with pytest.raises(LoginFailed) as refused:  # z3: logs in as quản trị, Tuyệt mật
        svc.authenticate(who, GOOD)
    assert refused.value.__cause__.code == "ACCOUNT_UNSEALED"
    with pytest.raises(AccountDowngraded) as read:
        svc.get(who)
    assert read.value.code == "ACCOUNT_UNSEALED"
    assert "KHO_ALLOW_UNSEALED" in read.value.message and "kho account seal" in read.value.message
    assert who not in {a.username for a in svc.accounts()}


def test_a_new_account_forged_in_the_format_before_seals_is_refused_and_not_counted(install: Install) -> None:
    """(b): a new quản trị in format 4 neither logs in nor counts as "another quản trị"."""
    install.before_upgrade()
    _upgrade(install)
    _, svc = install.open()
    admin = svc.authenticate(ADMIN, GOOD)
    _forge_new_admin(svc, "giaqt.ubnd")
    with pytest.raises(LoginFailed) as refused:  # z3: logs in as quản trị
        svc.authenticate("giaqt.ubnd", GOOD)
    assert refused.value.__cause__.code == "ACCOUNT_UNSEALED"
    assert "giaqt.ubnd" not in {a.username for a in svc.accounts()}
    with pytest.raises(PermissionDenied) as last:  # z3: the forged one was "another quản trị"
        svc.lock(ADMIN, "admin", svc.get(admin.username))
    assert last.value.code == "LAST_ADMIN"


def test_a_forged_quan_tri_of_the_current_format_does_not_count_as_another(install: Install) -> None:
    """z3 open 6: a current-format version without a valid seal was listed by ``accounts()``."""
    install.before_upgrade(sealed=True)
    _, svc = install.open()
    admin = svc.authenticate(ADMIN, GOOD)
    _, data = _newest(svc, ADMIN)
    key = account_key("giaqt.ubnd", 1)
    data.update(version=1, username="giaqt.ubnd", seal="00" * 32)
    data["audit"] = [{"actor": ADMIN, "action": "account:create", "source": None, "details": {"object": key}}]
    svc.store.put_if_absent(key, json.dumps(data, ensure_ascii=False).encode())
    assert "giaqt.ubnd" not in {a.username for a in svc.accounts()}
    with pytest.raises(PermissionDenied) as last:  # z3: locked, the forged one left as the quản trị
        svc.lock(ADMIN, "admin", admin)
    assert last.value.code == "LAST_ADMIN"


def test_a_unit_forged_in_the_format_before_seals_is_refused(install: Install) -> None:
    """(c): a unit untouched since the upgrade, its next version in format 2."""
    install.before_upgrade()
    _, svc = install.open()
    _forge_unit_move(svc)
    with pytest.raises(UnitTampered) as refused:  # z3: read as before
        svc.get_unit(VP)
    assert refused.value.code == "UNIT_UNSEALED"
    with pytest.raises(UnitTampered):
        svc.units()


def test_the_upgrade_window_reads_them_and_seal_seals_only_what_the_log_vouches_for(install: Install) -> None:
    who = install.before_upgrade()
    repo, svc = install.open(allow=True)
    assert svc.get(who).username == who  # the window: read as before
    forged = _forge_new_admin(svc, "giaqt.ubnd")
    assert fsck(repo, repair=True, grace_seconds=0) is not None  # must not launder its made-up event
    assert not [d for d in _actions(repo, "account:create") if d.get("object") == forged]

    from repository.sealing import seal_unsealed

    outcome = {o.key: o for o in seal_unsealed(repo, svc, "operator", "cli")}
    assert outcome[forged].sealed_as is None and outcome[forged].code == "UNAUDITED"
    sealed = {k for k, o in outcome.items() if o.sealed_as is not None}
    assert {k.split("/")[1] for k in sealed} == {ADMIN, who, AGENCY, VP}
    logged = {d["sealed"] for d in _actions(repo, "account:seal") + _actions(repo, "unit:seal")}
    assert logged == sealed  # every sealing audited

    _, svc = install.open()  # the setting removed
    assert svc.authenticate(who, GOOD).username == who
    assert svc.get_unit(VP).unit_id == VP
    with pytest.raises(LoginFailed):
        svc.authenticate("giaqt.ubnd", GOOD)
    assert seal_unsealed(repo, svc, "operator", "cli") == (outcome[forged],)  # nothing more to seal


def test_seal_refuses_a_version_forged_during_the_window(install: Install) -> None:
    """(a) written while the window is open: its made-up event is not in the log."""
    who = install.before_upgrade()
    repo, svc = install.open(allow=True)
    forged = _forge_admin(svc, who)
    unit = _forge_unit_move(svc)
    from repository.sealing import seal_unsealed

    outcome = {o.key: o for o in seal_unsealed(repo, svc, "operator", "cli")}
    assert outcome[forged].sealed_as is None and outcome[forged].code == "UNAUDITED"
    assert outcome[unit].sealed_as is None and outcome[unit].code == "UNAUDITED"
    _, svc = install.open()
    with pytest.raises(LoginFailed):
        svc.authenticate(who, GOOD)


def test_a_store_this_release_wrote_without_a_key_is_sealed_once_the_key_is_set(install: Install) -> None:
    """z3 wrote current formats without a seal when no key was set; setting the key later refused
    every account and unit (SEAL_INVALID) and nothing could seal them. ``kho account seal`` does,
    for those the log vouches for and with no sealed version before them; not a forged one."""
    _, svc = install.open(master=None)
    _, admin, initial = svc.bootstrap(AGENCY, "Ủy ban nhân dân tỉnh", "ubnd", "Quản Trị Viên")
    svc.change_password(admin.username, initial, GOOD)
    repo, svc = install.open()
    with pytest.raises(LoginFailed):
        svc.authenticate(ADMIN, GOOD)
    _, data = _newest(svc, ADMIN)  # a forged quản trị in the same shape: current format, no seal
    forged = account_key("giaqt.ubnd", 1)
    data.update(version=1, username="giaqt.ubnd")
    made_up = {"actor": ADMIN, "action": "account:create", "source": None, "details": {"object": forged}}
    data["audit"] = [made_up]
    svc.store.put_if_absent(forged, json.dumps(data, ensure_ascii=False).encode())
    from repository.sealing import seal_unsealed

    outcome = {o.key: o for o in seal_unsealed(repo, svc, "operator", "cli")}
    assert outcome[forged].code == "UNAUDITED"
    assert {k.split("/")[1] for k, o in outcome.items() if o.sealed_as} == {ADMIN, AGENCY}
    _, svc = install.open()
    assert svc.authenticate(ADMIN, GOOD).username == ADMIN
    with pytest.raises(LoginFailed):
        svc.authenticate("giaqt.ubnd", GOOD)


def test_seal_reports_a_forged_version_a_login_in_the_window_sealed(install: Install) -> None:
    """(a) in the window, then the person logs in: the login writes a sealed version built on the
    forged one, which a check of the newest versions alone would take as sealed."""
    who = install.before_upgrade()
    repo, svc = install.open(allow=True)
    forged = _forge_admin(svc, who)
    assert svc.authenticate(who, GOOD).username == who  # the window's accepted risk
    from repository.sealing import seal_unsealed

    outcome = {o.key: o for o in seal_unsealed(repo, svc, "operator", "cli")}
    assert outcome[forged].sealed_as is None and outcome[forged].code == "BUILT_ON_UNAUDITED"


def test_an_acknowledged_foreign_object_in_the_log_folder_vouches_for_no_forged_account(
    install: Install,
) -> None:
    """rv3's fault 4: an object in the log's folder that is not an event key
    (``…/000000000099.json.bak``) is named by verify as inserted; once an auditor acknowledges it
    (a stray copy, say), seal must still read no events from it. Before 06ba9ae its forged
    ``account:create`` vouched for a forged unsealed quản trị, which was then sealed as trusted."""
    from repository.acknowledge import findings_digest
    from repository.anchor import verify_anchored
    from repository.audit import EVENTS_PREFIX
    from repository.sealing import seal_unsealed

    install.before_upgrade()
    repo, svc = install.open(allow=True)
    repo.anchor = outside_anchor(install.tmp_path)  # an acknowledgement is signed outside the store
    forged = _forge_new_admin(svc, "giaqt.ubnd")
    # The forger's "events": a real event object of the log, its events rewritten as the
    # creation of the forged account (what an honest log holds for a created account).
    first = next(iter(repo.store.list(EVENTS_PREFIX))).key
    body = json.loads(repo.store.get(first))
    for event in body["events"] if isinstance(body, dict) and "events" in body else [body]:
        event.update(actor=ADMIN, action="account:create",
                     details={"object": forged, "username": "giaqt.ubnd"})
    repo.store.put(EVENTS_PREFIX + "000000/000000000099.json.bak", json.dumps(body).encode())
    report = verify_anchored(repo.audit, repo.anchor)
    assert [f.kind for f in report.open_findings] == ["inserted"], report.findings
    repo.audit_acknowledge(actor=AUDITOR, digest=findings_digest(report.findings),
                           reason="Bản chép tay của quản trị.", login=LOGIN)
    assert verify_anchored(repo.audit, repo.anchor).ok  # so seal runs

    outcome = {o.key: o for o in seal_unsealed(repo, svc, "operator", "cli")}
    assert outcome[forged].sealed_as is None and outcome[forged].code == "UNAUDITED", outcome[forged]
    assert ADMIN in {k.split("/")[1] for k, o in outcome.items() if o.sealed_as}  # the honest ones


def test_the_cli_seals_and_says_what_it_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install = Install("local", tmp_path)
    install.before_upgrade()
    _, svc = install.open()
    _forge_new_admin(svc, "giaqt.ubnd")
    from web.cli import main

    env = {
        "KHO_DATA_DIR": str(tmp_path / "data"), "KHO_AGENCY_ID": AGENCY,
        "KHO_STORE_URL": f"file://{install.store.root}", "KHO_KEYSTORE_URL": f"file://{install.keys.root}",
        "KHO_MASTER_KEY": base64.b64encode(MASTER).decode(), "KHO_ALLOW_UNSEALED": "true",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["account", "seal", "--json"])
    assert result.exit_code == 1, result.output
    answer = json.loads(result.output[result.output.index("{"):])
    assert answer["refused"] == 1
    refused = [i for i in answer["items"] if i["sealed_as"] is None]
    assert refused[0]["key"] == account_key("giaqt.ubnd", 1) and refused[0]["code"] == "UNAUDITED"
