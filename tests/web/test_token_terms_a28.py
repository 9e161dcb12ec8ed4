"""Personal access tokens: an expiry, a scope, and a revocation that deleting one file of the
store cannot undo (review a28).

Before: a token never expired and always carried every right of its account; ``days`` and
``scope`` were ignored; the revocation was only ``tokens/<sha256>.revoked.json``, so anyone who
could write the store deleted it and the token worked again, seals on or not (a seal cannot vouch
for an absence). Real store (local folder, sealed with ``KHO_MASTER_KEY``), the real API through
Werkzeug's client, and the ``kho`` command (:class:`click.testing.CliRunner`, as
``tests/web/test_cli.py``). The same revocation on the real S3 gateway:
``tests/repository/test_token_revocation_a28.py``."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from kho_people import AGENCY, People
from kho_web import error_code

from kho.timeutil import parse_iso, to_iso_utc
from repository.accounts import token_digest, token_key, token_revoked_key
from web.cli import main
from web.context import Kho

pytestmark = pytest.mark.sealed
SOME_ID = "0" * 24
NEW_UNIT = {"unit_id": "000.02.18.H40", "name": "Phòng Kế toán", "code": "pkt", "parent_id": AGENCY}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _issue(client: FlaskClient, people: People, who: str, **body: Any) -> str:
    """A personal access token ``who`` makes for themself through the API."""
    name = people.usernames[who]
    answer = client.post(
        f"/api/accounts/{name}/tokens", json={"name": "a28", **body}, headers=people.headers(who)
    )
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["token"]


def _listed(client: FlaskClient, people: People, who: str, secret: str) -> dict[str, Any]:
    name = people.usernames[who]
    items = client.get(f"/api/accounts/{name}/tokens", headers=people.headers(who)).get_json()["items"]
    (found,) = [t for t in items if t["digest"] == token_digest(secret)]
    return found


# -- scope ------------------------------------------------------------------------------------------


def _writes(people: People) -> list[tuple[str, str, dict[str, Any]]]:
    """Requests that write, of every method but GET/HEAD/OPTIONS, each one the quản trị's
    read-write token may make (or be refused for another reason than the scope)."""
    me = people.usernames["quan_tri"]
    fixture_digest = token_digest(people.tokens["quan_tri"])
    return [
        ("POST", "/api/units", {"json": NEW_UNIT}),
        ("PATCH", f"/api/units/{AGENCY}", {"json": {"name": "Đổi tên"}}),
        ("PUT", "/api/retention/schedule", {"json": {"items": []}}),
        ("POST", f"/api/accounts/{me}/tokens", {"json": {"name": "thêm"}}),
        ("DELETE", f"/api/accounts/{me}/tokens/{fixture_digest}", {}),
        ("PATCH", f"/api/records/{SOME_ID}", {"json": {"expected_version": 1, "changes": {}}}),
        ("POST", "/api/files", {"json": {"metadata": {}}}),
        ("POST", "/api/sign-out-everywhere", {}),
    ]


def test_a_read_token_is_refused_on_every_write_and_nothing_changes(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    """Before: ``scope`` was ignored, the token wrote (the unit created, a token issued, the
    fixture's token revoked, the read token logged itself out)."""
    reader = _issue(client, people, "quan_tri", scope="read")
    tokens_before = len(kho.accounts.tokens_of(people.usernames["quan_tri"]))
    for method, path, kw in _writes(people):
        answer = client.open(path, method=method, headers=_bearer(reader), **kw)
        assert answer.status_code == 403, (method, path, answer.get_json())
        assert error_code(answer) == "TOKEN_READ_ONLY", (method, path, answer.get_json())
        assert "chỉ được dùng để đọc" in answer.get_json()["error"]["message"]
    # Nothing was written: no unit, no new or revoked token, both tokens still work.
    assert NEW_UNIT["unit_id"] not in {u.unit_id for u in kho.accounts.units()}
    assert len(kho.accounts.tokens_of(people.usernames["quan_tri"])) == tokens_before
    assert not any(t.revoked for t in kho.accounts.tokens_of(people.usernames["quan_tri"]))
    assert client.get("/api/me", headers=_bearer(reader)).status_code == 200
    # The same request with a read-write token of the same account is not refused for its scope.
    made = client.post("/api/units", json=NEW_UNIT, headers=people.headers("quan_tri"))
    assert made.status_code == 201, made.get_json()
    # A read token may end itself (that takes power away): the logout revokes it, and only it.
    ended = client.post("/api/logout", headers=_bearer(reader))
    assert ended.status_code == 200, ended.get_json()
    assert error_code(client.get("/api/me", headers=_bearer(reader))) == "TOKEN_INVALID"
    assert client.get("/api/me", headers=people.headers("quan_tri")).status_code == 200


def test_a_read_token_reads_and_the_list_shows_its_terms(client: FlaskClient, people: People) -> None:
    """Before: the list had no ``expires_at`` nor ``scope`` (every token read-write, for ever)."""
    reader = _issue(client, people, "chuyen_vien", scope="read")
    name = people.usernames["chuyen_vien"]
    for path in ("/api/me", f"/api/accounts/{name}/tokens", "/api/search?q=quy+che", "/api/units"):
        answer = client.get(path, headers=_bearer(reader))
        assert answer.status_code == 200, (path, answer.get_json())
    assert client.head("/api/me", headers=_bearer(reader)).status_code == 200
    listed = _listed(client, people, "chuyen_vien", reader)
    assert listed["scope"] == "read"
    lifetime = parse_iso(listed["expires_at"]) - parse_iso(listed["created_at"])
    assert lifetime == timedelta(days=90)  # the default
    longer = _issue(client, people, "chuyen_vien", days=365, scope="read-write")
    listed = _listed(client, people, "chuyen_vien", longer)
    assert listed["scope"] == "read-write"
    assert parse_iso(listed["expires_at"]) - parse_iso(listed["created_at"]) == timedelta(days=365)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"days": 0}, "TOKEN_LIFETIME_INVALID"),
        ({"days": 366}, "TOKEN_LIFETIME_INVALID"),
        ({"days": "abc"}, "TOKEN_LIFETIME_INVALID"),
        ({"days": -5}, "TOKEN_LIFETIME_INVALID"),
        ({"days": 1.5}, "TOKEN_LIFETIME_INVALID"),
        ({"days": True}, "TOKEN_LIFETIME_INVALID"),
        ({"scope": "admin"}, "TOKEN_SCOPE_INVALID"),
        ({"scope": ["read"]}, "TOKEN_SCOPE_INVALID"),
    ],
)
def test_bad_terms_are_refused_with_a_code_and_nothing_is_issued(
    client: FlaskClient, kho: Kho, people: People, body: dict[str, Any], code: str
) -> None:
    """Before: 201, a token for ever with every right."""
    name = people.usernames["chuyen_vien"]
    before = len(kho.accounts.tokens_of(name))
    answer = client.post(f"/api/accounts/{name}/tokens", json=body, headers=people.headers("chuyen_vien"))
    assert answer.status_code == 422, answer.get_json()
    assert error_code(answer) == code
    assert "mã truy cập" in answer.get_json()["error"]["message"]
    assert len(kho.accounts.tokens_of(name)) == before


def test_the_cli_issues_terms_refuses_bad_ones_and_a_read_token_writes_nothing(
    people: People, kho: Kho, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``kho account token --days N --scope``; a read token in ``KHO_TOKEN`` runs a command that
    reads and is refused one that writes. Before: no such options (a usage error), and a token
    carried every right in the CLI too."""
    runner = CliRunner()
    name = people.usernames["quan_tri"]
    monkeypatch.setenv("KHO_TOKEN", people.tokens["quan_tri"])
    bad = (
        ("0", "read", "TOKEN_LIFETIME_INVALID"),
        ("366", None, "TOKEN_LIFETIME_INVALID"),
        ("abc", None, "TOKEN_LIFETIME_INVALID"),
        ("30", "admin", "TOKEN_SCOPE_INVALID"),
    )
    for days, scope, code in bad:
        args = ["account", "token", name, "--days", days] + (["--scope", scope] if scope else [])
        refused = runner.invoke(main, args)
        assert refused.exit_code == 2 and code in refused.output, refused.output
    made = runner.invoke(main, ["account", "token", name, "--name", "đọc", "--days", "30", "--scope", "read"])
    assert made.exit_code == 0, made.output
    reader = made.output.strip().splitlines()[-1]
    (token,) = [t for t in kho.accounts.tokens_of(name) if t.digest == token_digest(reader)]
    assert str(token.scope) == "read" and token.expires_at is not None
    assert token.expires_at - token.created_at == timedelta(days=30)

    monkeypatch.setenv("KHO_TOKEN", reader)
    assert runner.invoke(main, ["whoami"]).exit_code == 0
    units = runner.invoke(main, ["unit", "list"])
    assert units.exit_code == 0, units.output
    for args in (
        ["unit", "create", NEW_UNIT["unit_id"], NEW_UNIT["name"], NEW_UNIT["code"]],
        ["account", "token", name, "--name", "thêm"],
    ):
        refused = runner.invoke(main, args)
        assert refused.exit_code == 2 and "TOKEN_READ_ONLY" in refused.output, (args, refused.output)
    assert NEW_UNIT["unit_id"] not in {u.unit_id for u in kho.accounts.units()}
    assert len([t for t in kho.accounts.tokens_of(name) if t.name == "thêm"]) == 0


# -- expiry -----------------------------------------------------------------------------------------


def _rewrite(kho: Kho, secret: str, change: Any) -> None:
    """Write the token object of ``secret`` again as a Kho holding the seal key would have
    written it (``change`` edits its fields): how a token issued long ago, or by a Kho before
    a28, stands in the store. Only a key holder can make it; the test's installation is one."""
    key = token_key(token_digest(secret))
    stored = json.loads(kho.repo.store.get(key))
    stored.pop("seal", None)
    change(stored)
    sealed = kho.accounts.sealer.seal("token", key, stored)
    kho.repo.store.put(key, json.dumps(sealed, ensure_ascii=False, sort_keys=True).encode())


def test_a_token_past_its_expiry_is_refused(client: FlaskClient, kho: Kho, people: People) -> None:
    """Issued for 1 day, two days ago. Before: the token worked (no expiry)."""
    secret = _issue(client, people, "chuyen_vien", days=1)
    past = kho.accounts.clock() - timedelta(days=2)

    def two_days_ago(data: dict[str, Any]) -> None:
        data["created_at"] = to_iso_utc(past)
        data["expires_at"] = to_iso_utc(past + timedelta(days=1))

    _rewrite(kho, secret, two_days_ago)
    answer = client.get("/api/me", headers=_bearer(secret))
    assert answer.status_code == 401 and error_code(answer) == "TOKEN_EXPIRED", answer.get_json()
    assert "hết hạn" in answer.get_json()["error"]["message"]


def _as_before_a28(issued_ago: timedelta, kho: Kho) -> Any:
    def change(data: dict[str, Any]) -> None:
        for name in ("expires_at", "scope", "revoked_at", "revoked_by"):
            data.pop(name, None)
        data["format_version"] = 3
        data["created_at"] = to_iso_utc(kho.accounts.clock() - issued_ago)

    return change


def test_a_token_of_the_format_before_expiry_is_read_write_for_365_days(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    """A token written by a Kho before a28 (format 3, sealed, no expiry, no scope) writes as
    before, and is listed as expiring 365 days after it was issued; one issued more than 365
    days ago is refused. Before: the one issued 366 days ago worked."""
    recent = _issue(client, people, "quan_tri")
    _rewrite(kho, recent, _as_before_a28(timedelta(minutes=5), kho))
    made = client.post("/api/units", json=NEW_UNIT, headers=_bearer(recent))
    assert made.status_code == 201, made.get_json()
    listed = _listed(client, people, "quan_tri", recent)
    assert listed["scope"] == "read-write"
    assert parse_iso(listed["expires_at"]) - parse_iso(listed["created_at"]) == timedelta(days=365)

    old = _issue(client, people, "quan_tri")
    _rewrite(kho, old, _as_before_a28(timedelta(days=366), kho))
    answer = client.get("/api/me", headers=_bearer(old))
    assert answer.status_code == 401 and error_code(answer) == "TOKEN_EXPIRED", answer.get_json()


# -- revocation ---------------------------------------------------------------------------------


def _files_of(kho: Kho, secret: str) -> list[str]:
    """Every object of the store that names the token (what a writer of the store could delete)."""
    digest = token_digest(secret)
    store = kho.repo.store
    return sorted(
        info.key
        for prefix in ("tokens/", "token-index/", "token-seen/")
        for info in store.list(prefix)
        if digest in info.key
    )


@pytest.mark.parametrize("by", ["owner", "admin"])
def test_a_revocation_survives_the_deletion_of_any_one_file(
    client: FlaskClient, kho: Kho, people: People, by: str
) -> None:
    """Revoked through the API by its owner or by a quản trị, then each file naming the token
    deleted in turn (each on its own token): the token stays refused. Before: deleting
    ``tokens/<sha256>.revoked.json`` gave it back (200)."""
    name = people.usernames["chuyen_vien"]
    revoker = people.headers("chuyen_vien" if by == "owner" else "quan_tri")
    probe = _issue(client, people, "chuyen_vien")
    assert client.get("/api/me", headers=_bearer(probe)).status_code == 200
    kinds = [k.replace(token_digest(probe), "{d}") for k in _files_of(kho, probe)]
    assert "tokens/{d}.json" in kinds and "token-index/" + name + "/{d}.json" in kinds
    kinds.append("tokens/{d}.revoked.json")
    for kind in kinds:
        secret = _issue(client, people, "chuyen_vien")
        assert client.get("/api/me", headers=_bearer(secret)).status_code == 200
        digest = token_digest(secret)
        gone = client.delete(f"/api/accounts/{name}/tokens/{digest}", headers=revoker)
        assert gone.status_code == 200, gone.get_json()
        assert kho.repo.store.exists(token_revoked_key(digest))
        kho.repo.store.delete(kind.format(d=digest))
        answer = client.get("/api/me", headers=_bearer(secret))
        assert answer.status_code == 401, (kind, answer.get_json())
        assert error_code(answer) == "TOKEN_INVALID", (kind, answer.get_json())


def test_every_command_a_read_token_may_run_exists_and_only_reads_by_name() -> None:
    """:data:`web.cli.READING_COMMANDS` names real commands (a typo would refuse a read token a
    command meant for it, never let it write: any command not listed counts as a write)."""
    import click

    from web.cli import LAZY_COMMANDS, READING_COMMANDS, load_lazy_command

    found: set[str] = set()

    def walk(command: click.Command, path: list[str]) -> None:
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])
        else:
            found.add(" ".join(path))

    for name in LAZY_COMMANDS:
        loaded = load_lazy_command(name)
        if loaded is not None:
            walk(loaded, [name])
    walk(main, [])
    assert found >= READING_COMMANDS, READING_COMMANDS - found
    assert not {c for c in READING_COMMANDS if c.split()[-1] in {"create", "update", "token", "lock"}}
