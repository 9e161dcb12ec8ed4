"""Through the real API (Werkzeug's client) and the ``kho`` command (review s18): a token revoked
by a Kho before a30, then replayed (its object put back as issued, its revocation deleted), is
refused once the upgrade step ``kho account record-ended-tokens`` has run, and the token list
says revoked for a replayed token the request path refuses. Local store sealed with
``KHO_MASTER_KEY``; the same on the Ceph S3 gateway:
``tests/repository/test_token_ended_before_upgrade_s18.py``."""

from __future__ import annotations

import json
import unicodedata

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from kho_people import People
from kho_web import error_code

from repository import formats
from repository.accounts import ENDED_RECORDED, _draft, _iso, token_digest, token_revoked_key
from web.cli import main
from web.context import Kho

pytestmark = pytest.mark.sealed


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _issue(client: FlaskClient, people: People, who: str) -> str:
    name = people.usernames[who]
    answer = client.post(f"/api/accounts/{name}/tokens", json={"name": "s18"}, headers=people.headers(who))
    assert answer.status_code == 201, answer.get_json()
    secret = answer.get_json()["token"]
    assert client.get("/api/me", headers=_bearer(secret)).status_code == 200
    return secret


def _saved(kho: Kho, secret: str) -> dict[str, bytes]:
    digest = token_digest(secret)
    store = kho.repo.store
    keys = [
        i.key for p in ("tokens/", "token-index/", "token-seen/") for i in store.list(p) if digest in i.key
    ]
    return {key: store.get(key) for key in keys}


def _replay(kho: Kho, saved: dict[str, bytes], secret: str) -> None:
    for key, data in saved.items():
        kho.repo.store.put(key, data)
    revocation = token_revoked_key(token_digest(secret))
    if kho.repo.store.exists(revocation):
        kho.repo.store.delete(revocation)


def _revoke_before_a30(kho: Kho, who: str, secret: str) -> None:
    """What ``DELETE /api/accounts/<u>/tokens/<d>`` did before a30 (``_revoke_audited`` at
    ``e4556f0e``): the revocation object with its event, the token object marked; no account write."""
    svc, digest = kho.accounts, token_digest(secret)
    now = svc.clock()
    svc._write_audited(
        token_revoked_key(digest),
        formats.TOKEN_REVOCATION,
        {"digest": digest, "at": _iso(now), "actor": who},
        [_draft(who, "account:token-revoke", None, {"username": who, "token": digest[:12]})],
        now,
    )
    svc._mark_revoked(digest, now, who)


def _listed(client: FlaskClient, people: People, who: str) -> dict[str, bool]:
    name = people.usernames[who]
    answer = client.get(f"/api/accounts/{name}/tokens", headers=people.headers(who))
    assert answer.status_code == 200, answer.get_json()
    return {t["digest"]: t["revoked"] for t in answer.get_json()["items"]}


def test_a_token_revoked_before_a30_and_replayed_is_refused_after_the_upgrade_command(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    name = people.usernames["chuyen_vien"]
    before_step = _issue(client, people, "chuyen_vien")  # replayed before the step runs
    after_step = _issue(client, people, "chuyen_vien")  # replayed after it
    saved = {s: _saved(kho, s) for s in (before_step, after_step)}
    for secret in (before_step, after_step):
        _revoke_before_a30(kho, name, secret)  # (nobody presents them: the request would name them)
    assert not kho.accounts.get(name).ended_tokens
    _replay(kho, saved[before_step], before_step)
    assert client.get("/api/me", headers=_bearer(before_step)).status_code == 200  # the a30 hole

    ran = CliRunner().invoke(main, ["account", "record-ended-tokens", "--json"])
    assert ran.exit_code == 0, ran.output
    report = json.loads(ran.output[ran.output.index("{") :])
    found = {(r["found_by"], t) for r in report["recorded"] for t in r["tokens"]}
    assert found == {
        ("upgrade", token_digest(after_step)[:12]),
        ("audit-log", token_digest(before_step)[:12]),
    }
    again = CliRunner().invoke(main, ["account", "record-ended-tokens", "--json"])
    assert again.exit_code == 0 and json.loads(again.output[again.output.index("{") :])["recorded"] == []

    _replay(kho, saved[after_step], after_step)
    for secret in (before_step, after_step):
        answer = client.get("/api/me", headers=_bearer(secret))
        assert answer.status_code == 401 and error_code(answer) == "TOKEN_INVALID", answer.get_json()
    listed = _listed(client, people, "chuyen_vien")
    assert listed[token_digest(before_step)] is True and listed[token_digest(after_step)] is True
    events = [e for e in kho.repo.audit.events() if e.action == ENDED_RECORDED]
    assert {e.details["found_by"] for e in events} >= {"upgrade", "audit-log"}


def test_the_token_list_shows_a_replayed_token_revoked(client: FlaskClient, kho: Kho, people: People) -> None:
    """a30 open 3: revoked through the API, its files put back: refused, yet listed as live."""
    name = people.usernames["chuyen_vien"]
    secret = _issue(client, people, "chuyen_vien")
    saved = _saved(kho, secret)
    gone = client.delete(
        f"/api/accounts/{name}/tokens/{token_digest(secret)}", headers=people.headers("quan_tri")
    )
    assert gone.status_code == 200, gone.get_json()
    _replay(kho, saved, secret)
    assert error_code(client.get("/api/me", headers=_bearer(secret))) == "TOKEN_INVALID"
    assert _listed(client, people, "chuyen_vien")[token_digest(secret)] is True


def test_an_account_rolled_back_in_the_store_is_refused_to_its_tokens(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    """a30 "the remaining replay": the account version that ended the token deleted, the token's
    files put back. Before: 200 (the older sealed version read as the newest). Now 403
    ``ACCOUNT_ROLLED_BACK`` for every token of the account, in Vietnamese; nothing is written."""
    name = people.usernames["chuyen_vien"]
    secret = _issue(client, people, "chuyen_vien")
    other = _issue(client, people, "chuyen_vien")
    saved = _saved(kho, secret)
    gone = client.delete(
        f"/api/accounts/{name}/tokens/{token_digest(secret)}", headers=people.headers("chuyen_vien")
    )
    assert gone.status_code == 200, gone.get_json()
    versions = [i.key for i in kho.repo.store.list(f"accounts/{name}/")]
    kho.repo.store.delete(versions[-1])
    _replay(kho, saved, secret)
    for token in (secret, other):
        answer = client.get("/api/me", headers=_bearer(token))
        assert answer.status_code == 403, answer.get_json()
        assert error_code(answer) == "ACCOUNT_ROLLED_BACK"
        message = answer.get_json()["error"]["message"]
        assert "nhật ký kiểm toán" in message and unicodedata.is_normalized("NFC", message)
    assert [i.key for i in kho.repo.store.list(f"accounts/{name}/")] == versions[:-1]
    # Another account is not touched.
    assert client.get("/api/me", headers=people.headers("quan_tri")).status_code == 200


def test_the_operator_command_accepts_a_rollback_and_every_token_ends(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    """``kho account accept-rollback USER --reason …`` (no backup holds the lost version): the
    account answers again, every token issued before stays refused (``TOKEN_INVALID``), and the
    person must change the password. Without a reason: refused with its code, nothing written."""
    name = people.usernames["chuyen_vien"]
    secret = _issue(client, people, "chuyen_vien")
    kho.repo.store.delete([i.key for i in kho.repo.store.list(f"accounts/{name}/")][-1])
    assert error_code(client.get("/api/me", headers=_bearer(secret))) == "ACCOUNT_ROLLED_BACK"
    no_reason = CliRunner().invoke(main, ["account", "accept-rollback", name, "--reason", " "])
    assert no_reason.exit_code != 0 and "ROLLBACK_REASON_REQUIRED" in no_reason.output, no_reason.output
    ran = CliRunner().invoke(
        main, ["account", "accept-rollback", name, "--reason", "Ổ đĩa hỏng, không có bản sao"]
    )
    assert ran.exit_code == 0, ran.output
    assert "cấp lại mật khẩu" in ran.output  # no password works until a reset (review rv46)
    answer = client.get("/api/me", headers=_bearer(secret))
    assert answer.status_code == 401 and error_code(answer) == "TOKEN_INVALID", answer.get_json()
    assert kho.accounts.get(name).must_change_password
