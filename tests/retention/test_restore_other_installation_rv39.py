"""Review rv39: restoring another installation's backup must not silently replace a store's
history.

Agencies set up from one image share ``KHO_MASTER_KEY``, so the seal of a backup manifest (which
only the master key can make) cannot tell one agency's backup from another's. With no audit
signing key configured (no checkpoints outside the store to compare with), ``kho restore --force``
of a neighbour's backup replaced the target's records and audit history, and said nothing.

Each store now has an installation id (``installation.json``), every manifest names it, and a
backup of another installation is refused (``RESTORE_OTHER_INSTALLATION``, nothing written) over
a store holding more than set-up, unless ``--from-another-installation "lý do"`` takes it on
record. Real ``kho`` commands (the click runner) on local stores; the backups on a local folder
and on the second S3 gateway, as the other restore tests keep them."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from kho_people import PeopleTemplates, people_in
from kho_retention import Clock, kho_env, open_kho
from kho_testing import backup_s3_options, incoming

from kho.config import Settings
from kho.errors import KhoError
from repository import formats
from repository.fsck import check_formats
from repository.installation import (
    INSTALLATION_KEY,
    IdentityVerdict,
    beyond_setup,
    read_installation,
    restore_identity,
)
from repository.seals import Sealer
from repository.service import open_repository
from repository.storage import open_store
from repository.storage.base import ObjectStore
from repository.storage.local import LocalStore
from retention.backup import backups, manifest_key, store_hashes
from web.cli import main

MASTER = bytes(range(32))
"""One image, one master key: both agencies seal with it."""


@dataclass(frozen=True)
class Place:
    """One installation: its settings, and where its backups go."""

    env: dict[str, str]
    usb: str
    keys: str

    @property
    def data(self) -> Path:
        return Path(self.env["KHO_DATA_DIR"])

    def kho(self, *args: str) -> Result:
        return CliRunner().invoke(main, list(args), env=self.env)

    def backup(self) -> None:
        made = self.kho("backup", "--to", self.usb, "--keys-to", self.keys)
        assert made.exit_code == 0, _printed(made)

    def restore(self, other: Place, *extra: str) -> Result:
        return self.kho("restore", "--from", other.usb, "--keys-from", other.keys, "--force", *extra)

    def stores(self) -> tuple[ObjectStore, ObjectStore]:
        settings = Settings.from_env(self.env)
        return (open_store(settings.store_url, **settings.store_options()),
                open_store(settings.keystore_url, **settings.keystore_options()))

    def hashes(self) -> tuple[dict[str, str], dict[str, str]]:
        store, keys = self.stores()
        return store_hashes(store), store_hashes(keys)

    def identity(self) -> str | None:
        found = read_installation(self.stores()[0])
        return found.installation_id if found is not None else None

    def records(self) -> set[str]:
        return {k.split("/")[1] for k in self.hashes()[0] if k.startswith("records/")}

    def events(self, action: str) -> list[Any]:
        repo = open_repository(Settings.from_env(self.env))
        return [e for e in repo.audit.events() if e.action == action]


def _printed(result: Result) -> str:
    return result.output + (result.stderr if result.stderr_bytes is not None else "")


def _place(tmp_path: Path, name: str, *, s3: dict[str, Any] | None = None) -> Place:
    root = tmp_path / name
    env = kho_env(root, KHO_MASTER_KEY=base64.b64encode(MASTER).decode(), KHO_TOKEN_FILE=str(root / "tokens"))
    usb = f"file://{root / 'usb'}"
    if s3 is not None:  # the backup on the second S3 gateway, with the backup account
        from kho_buckets import new_bucket

        env.update(
            KHO_BACKUP_S3_ENDPOINT=s3["endpoint"],
            KHO_BACKUP_S3_ACCESS_KEY=s3["access_key"],
            KHO_BACKUP_S3_SECRET_KEY=s3["secret_key"],
            KHO_S3_SECURE="false",
        )
        usb = f"s3://{new_bucket(f'rv39{name[:4]}', s3)}"
    return Place(env, usb, f"file://{root / 'keys-backup'}")


def test_an_installation_on_s3_gets_its_identity_and_refuses_another_ones_backup(
    tmp_path: Path, people_templates: PeopleTemplates
) -> None:
    """The records store itself on the S3 gateway: the first backup gives it its identity there
    (create-if-absent on S3), and another installation's backup is refused over it."""
    from kho_testing import s3_options_or_skip, s3_store_env

    other = _place(tmp_path, "other")
    ours = _place(tmp_path, "ours")
    ours.env.update(s3_store_env(s3_options_or_skip(), "rv39s"), KHO_S3_SECURE="false")
    _in_use(other, people_templates, "11")
    other.backup()
    mine = _in_use(ours, people_templates, "21")
    assert ours.identity() is None
    ours.backup()
    own = ours.identity()
    assert own is not None and own != other.identity()
    assert [e.details["why"] for e in ours.events("installation:identity")] == ["backup"]
    before = ours.hashes()

    refused = ours.restore(other)

    assert refused.exit_code == 2 and "RESTORE_OTHER_INSTALLATION" in _printed(refused), _printed(refused)
    assert ours.hashes() == before and ours.records() == mine
    done = ours.restore(ours)
    assert done.exit_code == 0, _printed(done)
    assert ours.identity() == own and ours.records() == mine


def _in_use(place: Place, templates: PeopleTemplates, *numbers: str) -> set[str]:
    """Accounts and registered documents (an agency at work); their record ids. The accounts of
    a local installation are a copy of those ``make_accounts`` makes with these settings
    (:class:`PeopleTemplates`: each agency its own copy, as if restarted after making them);
    on S3 they are made here (``make_people``)."""
    clock = Clock()
    copied = templates.copy_into(Settings.from_env(place.env), clock.now)
    kho = open_kho(place.env, clock)
    try:
        people = people_in(kho, copied)
        clerk = people.actor("van_thu")
        return {
            kho.repo.create_document("den", incoming(code_number=n), None, None, clerk).record_id
            for n in numbers
        }
    finally:
        kho.close()


@pytest.fixture(params=["folder", pytest.param("s3", marks=pytest.mark.s3)])
def agencies(
    request: pytest.FixtureRequest, tmp_path: Path, people_templates: PeopleTemplates
) -> tuple[Place, Place, set[str], set[str]]:
    """Two agencies from one image: the other one (its backup made) and ours, in use, backed
    up (so it has its identity). Their record ids."""
    s3 = backup_s3_options() if request.param == "s3" else None
    other, ours = _place(tmp_path, "other", s3=s3), _place(tmp_path, "ours", s3=s3)
    theirs = _in_use(other, people_templates, "11", "12")
    other.backup()
    mine = _in_use(ours, people_templates, "21")
    ours.backup()
    return other, ours, theirs, mine


def test_another_installations_backup_is_refused_over_a_store_in_use(
    agencies: tuple[Place, Place, set[str], set[str]],
) -> None:
    other, ours, _, mine = agencies
    assert other.identity() and ours.identity() and other.identity() != ours.identity()
    before = ours.hashes()

    refused = ours.restore(other)

    printed = _printed(refused)
    assert refused.exit_code == 2, printed
    assert "RESTORE_OTHER_INSTALLATION" in printed, printed
    assert str(other.identity()) in printed and str(ours.identity()) in printed, printed
    assert "--from-another-installation" in printed, printed
    assert ours.hashes() == before  # nothing written, not even an audit event
    assert ours.records() == mine


def test_another_installations_key_copy_is_refused_with_the_stores_own_copy(
    agencies: tuple[Place, Place, set[str], set[str]],
) -> None:
    """The store's own copy with the key copy of another installation would replace the keys of
    every record the store keeps (their contents unreadable): the same rule judges the key copy."""
    other, ours, _, mine = agencies
    other.backup()  # its key copy newer than our store copy (else RESTORE_KEYS_BEHIND comes first)
    before = ours.hashes()

    refused = ours.kho("restore", "--from", ours.usb, "--keys-from", other.keys, "--force")

    printed = _printed(refused)
    assert refused.exit_code == 2 and "RESTORE_OTHER_INSTALLATION" in printed, printed
    assert "-keys" in printed, printed  # names the key copy
    assert ours.hashes() == before and ours.records() == mine


def test_a_store_in_use_without_an_id_is_another_installation_than_any_backup_naming_one(
    tmp_path: Path, people_templates: PeopleTemplates
) -> None:
    """A store made before identities (never backed up since) holds records and no id: a backup
    naming an id is not its own."""
    other, ours = _place(tmp_path, "other"), _place(tmp_path, "ours")
    _in_use(other, people_templates, "11")
    other.backup()
    mine = _in_use(ours, people_templates, "21")
    assert ours.identity() is None
    before = ours.hashes()

    refused = ours.restore(other)

    assert refused.exit_code == 2 and "RESTORE_OTHER_INSTALLATION" in _printed(refused), _printed(refused)
    assert "chưa có mã định danh" in _printed(refused)
    assert ours.hashes() == before and ours.records() == mine


@pytest.mark.parametrize("reason", ["", "   ", "\u200b", "\u2060\ufeff", " \u00ad \u200b "])
def test_a_reason_of_invisible_characters_only_is_refused(
    reason: str, agencies: tuple[Place, Place, set[str], set[str]]
) -> None:
    other, ours, _, mine = agencies
    before = ours.hashes()

    refused = ours.restore(other, "--from-another-installation", reason)

    assert refused.exit_code == 2 and "RESTORE_REASON_REQUIRED" in _printed(refused), _printed(refused)
    assert ours.hashes() == before and ours.records() == mine


@pytest.mark.parametrize(
    "written",
    [
        b'{"format_version": 1, "installation": "", "created_at": "2026-12-06T00:00:00.000000Z"}',
        b'{"format_version": 1, "installation": " \\u200b ", "created_at": "2026-12-06T00:00:00.000000Z"}',
        b'{"format_version": 1, "installation": "ours", "created_at": "2026-12-06T00:00:00.000000Z"}',
        b"",
    ],
    ids=["blank", "invisible", "malformed", "empty-file"],
)
def test_a_blanked_installation_json_is_refused_not_read_as_pre_identity(
    written: bytes, agencies: tuple[Place, Place, set[str], set[str]]
) -> None:
    """Read as "no identity yet", a blanked id would let any backup in: it is refused, by a
    restore (even of the store's own backup) and by a backup (which would otherwise name it),
    and fsck names it; the file is never replaced behind the operator's back."""
    other, ours, _, mine = agencies
    (ours.data / "store" / "objects" / INSTALLATION_KEY).write_bytes(written)
    before = ours.hashes()

    for refused in (ours.restore(other), ours.restore(ours)):
        assert refused.exit_code == 2 and "INSTALLATION_INVALID" in _printed(refused), _printed(refused)
        assert ours.hashes() == before and ours.records() == mine
    made = ours.kho("backup", "--to", ours.usb, "--keys-to", ours.keys)
    assert made.exit_code == 2 and "INSTALLATION_INVALID" in _printed(made), _printed(made)
    assert (ours.data / "store" / "objects" / INSTALLATION_KEY).read_bytes() == written
    repo = open_repository(Settings.from_env(ours.env))
    named = [i for i in check_formats(repo) if i.subject == INSTALLATION_KEY]
    assert named and "INSTALLATION_INVALID" in named[0].message, named


def test_the_stores_own_backup_restores_as_before(
    agencies: tuple[Place, Place, set[str], set[str]],
) -> None:
    _, ours, _, mine = agencies
    own = ours.identity()
    later = _in_use_more(ours, "22")

    done = ours.restore(ours)

    assert done.exit_code == 0, _printed(done)
    assert ours.records() == mine and later not in ours.records()
    assert ours.identity() == own
    [event] = ours.events("backup:restore")
    assert event.details["installation"]["verdict"] == IdentityVerdict.SAME


def _in_use_more(place: Place, number: str) -> str:
    from repository.policy import Role

    kho = open_kho(place.env, Clock())
    try:
        clerk = next(a for a in kho.accounts.accounts() if a.has_role(Role.VAN_THU))
        document = kho.repo.create_document("den", incoming(code_number=number), None, None,
                                            kho.actor_of(clerk, "test"))
        return document.record_id
    finally:
        kho.close()


def test_a_fresh_installation_takes_another_installations_backup(
    tmp_path: Path, people_templates: PeopleTemplates
) -> None:
    """Disaster recovery: a new installation, set up only (``kho account init``, which gives it
    its identity), takes the backup, and with it the identity the backup names."""
    other, fresh = _place(tmp_path, "other"), _place(tmp_path, "fresh")
    theirs = _in_use(other, people_templates, "11")
    other.backup()
    made = fresh.kho("account", "init", "--code", "ub", "--admin", "Nguyễn Văn Quản")
    assert made.exit_code == 0, _printed(made)
    set_up = fresh.identity()
    assert set_up is not None and set_up != other.identity()
    assert [e.details["why"] for e in fresh.events("installation:identity")] == ["init"]

    done = fresh.restore(other)

    assert done.exit_code == 0, _printed(done)
    assert fresh.records() == theirs and fresh.identity() == other.identity()
    [event] = fresh.events("backup:restore")
    assert event.details["installation"]["verdict"] == IdentityVerdict.FRESH_TARGET


def test_the_flag_takes_it_on_record_and_a_clone_gets_a_new_identity(
    agencies: tuple[Place, Place, set[str], set[str]],
) -> None:
    other, ours, theirs, _ = agencies
    theirs_id, ours_id = other.identity(), ours.identity()
    reason = "Hợp nhất kho theo Quyết định 12/QĐ-UBND"

    done = ours.restore(other, "--from-another-installation", reason, "--as-new-installation")

    assert done.exit_code == 0, _printed(done)
    assert ours.records() == theirs
    renewed = ours.identity()
    assert renewed not in (None, theirs_id, ours_id)
    [event] = ours.events("backup:restore")
    said = event.details["installation"]
    in_use = said.pop("in_use")
    assert said == {"verdict": "deliberate", "backup": theirs_id, "target": ours_id, "reason": reason,
                    "renewed": renewed}
    assert beyond_setup([in_use]) == in_use  # the key that showed the store in use
    named = ours.events("installation:identity")[-1]
    assert named.details == {"installation": renewed, "previous": theirs_id, "why": "as-new-installation"}


def _made_before_identities(destination: LocalStore, label: str) -> None:
    """The manifest of ``label`` in ``destination`` as a Kho before rv39 wrote it: format 3, no
    installation, sealed with the master key (so its seal still checks)."""
    [backup_id] = backups(destination, label)
    key = manifest_key(backup_id)
    body = json.loads(destination.get(key))
    assert body[formats.FORMAT_KEY] == 4 and "installation" in body
    old = {k: v for k, v in body.items() if k not in ("installation", "seal")}
    old[formats.FORMAT_KEY] = 3
    sealed = Sealer.from_master_key(MASTER).seal(formats.BACKUP_MANIFEST.name, key, old)
    destination.put(key, json.dumps(sealed, ensure_ascii=False, sort_keys=True).encode())


def test_an_old_manifest_is_restored_as_before(
    tmp_path: Path, people_templates: PeopleTemplates
) -> None:
    """Manifests of format 3 (before identities) name no installation: restored as before, over
    a store in use (the gap an old backup leaves; their seals still check)."""
    other, ours = _place(tmp_path, "other"), _place(tmp_path, "ours")
    theirs = _in_use(other, people_templates, "11")
    other.backup()
    _in_use(ours, people_templates, "21")
    ours.backup()
    _made_before_identities(LocalStore(tmp_path / "other" / "usb"), "store")
    _made_before_identities(LocalStore(tmp_path / "other" / "keys-backup"), "keys")

    done = ours.restore(other)

    assert done.exit_code == 0, _printed(done)
    assert ours.records() == theirs
    [event] = ours.events("backup:restore")
    assert event.details["installation"]["verdict"] == IdentityVerdict.PRE_IDENTITY


# -- the rule itself (pure) -------------------------------------------------------------------------
A, B = "6f1c2b9e-3d4a-4b5c-8e7f-0a1b2c3d4e5f", "0d9e8f7a-6b5c-4d3e-8f1a-2b3c4d5e6f70"


@pytest.mark.parametrize(
    "key",
    ["records/x/v000001", "registers/000.00.18.H40/2026/den/000001", "catalog/records/x",
     "catalog/destroyed/x", "catalog/agencies/x", "holds/x/y", "retention/plans/2026/v1", "claims/x",
     "saved-searches/u/1", "workflow/x/1", "zz-a-kind-no-release-knows/x"],
)
def test_anything_beyond_the_set_up_allow_list_is_use(key: str) -> None:
    set_up = ["accounts/anv.ub/v000001", "audit/events/000000/000000000000.json", "audit/witness.json",
              "catalog/unit-codes/ub", "installation.json", "units/000.00.18.H40/v000001",
              "tokens/ab.json", "token-index/anv.ub/ab", "notifications/anv.ub/1"]
    assert beyond_setup(set_up) is None
    assert beyond_setup([*set_up, key]) == key
    with pytest.raises(KhoError) as info:
        restore_identity(backup=A, target=B, in_use=key, reason=None)
    assert info.value.code == "RESTORE_OTHER_INSTALLATION"
    fresh = restore_identity(backup=A, target=B, in_use=None, reason=None)
    assert fresh.verdict == IdentityVerdict.FRESH_TARGET


@pytest.mark.parametrize("named", ["", "  ", "\u200b", A.upper(), f" {A}"])
def test_a_blank_or_altered_id_in_a_manifest_is_another_installations(named: str) -> None:
    with pytest.raises(KhoError) as info:
        restore_identity(backup=named, target=A, in_use="records/x/v000001", reason=None)
    assert info.value.code == "RESTORE_OTHER_INSTALLATION"
    own = restore_identity(backup=A, target=A, in_use="records/x", reason=None)
    assert own.verdict == IdentityVerdict.SAME
    assert restore_identity(backup=None, target=A, in_use="records/x", reason=None).verdict == (
        IdentityVerdict.PRE_IDENTITY
    )
