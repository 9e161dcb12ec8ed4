"""No existence oracle: a person who may not know of a record gets the answer of an absent id.

Every rule of the app's ``url_map`` that takes a record id (``record_id``, ``file_id``,
``document_id``), with each of its methods and each value of its other arguments, is sent as a
logged-in outsider (the văn thư of another unit, cleared Thường) twice: once with a fresh id that
names nothing, once with the id of an existing record of the agency they may not see (a Thường
document, a Mật one, a hồ sơ). The two answers must be the same (status, code, message, the
headers that matter, the body), the id aside. A route added later that refuses an unseen record
with its own answer (403, another code, another message) fails here (bench/NOTES-a15.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from kho_existence import OUTSIDER, Site, outsider, shown, walk_routes
from kho_files import file_with_a_secret
from kho_people import UNIT_B, create_person, make_people
from kho_retention import drop_env_buckets, kho_env, s3_env
from kho_web import cli_as, post

from kho.config import Settings
from repository.records import new_record_id
from web.app import create_app
from web.context import Kho


@pytest.fixture(scope="module", params=["local", "s3"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One installation per store for the module's three tests (each builds and reads only what
    it names: the walk's writes are all refused, the CLI test adds its own archivist, the hồ sơ
    test its own hồ sơ), not one per test: ~4 s (local) and ~10 s (S3) less per test."""
    folder = tmp_path_factory.mktemp(f"oracle-{request.param}")
    values = s3_env(folder, kept=True) if request.param == "s3" else kho_env(folder)
    values = {**values, "KHO_TOKEN_FILE": str(folder / "tokens.json"), "KHO_COOKIE_SECURE": "false"}
    try:
        with pytest.MonkeyPatch.context() as patch:
            for key, value in values.items():
                patch.setenv(key, value)
            patch.delenv("KHO_TOKEN", raising=False)
            kho = Kho(Settings.from_env())
            try:
                people = make_people(kho)
                hoso, secret, plain = file_with_a_secret(kho, people)
                # Each kind's routes also get an id of the other kind (a document where a hồ sơ is named).
                unseen = {
                    "record_id": [plain, secret, hoso],
                    "document_id": [plain, secret, hoso],
                    "file_id": [hoso, plain, secret],
                }
                yield Site(create_app(kho.settings, kho=kho), kho, people, unseen)
            finally:
                kho.close()
    finally:
        if request.param == "s3":
            drop_env_buckets(values)


def test_an_unseen_record_answers_as_an_absent_id_on_every_route(site: Site) -> None:
    walk_routes(site)


def test_the_walk_tells_an_oracle_from_an_absent_id() -> None:
    """The harness itself: a route answering 403 for a record it has and 404 otherwise is told
    apart, and the same 404 for both is not."""
    probe = Flask("probe")
    known = "0" * 24

    @probe.get("/api/things/<record_id>")
    def thing(record_id: str) -> Any:
        if record_id == known:
            return {"error": {"code": "PERMISSION_DENIED", "message": "Không được xem."}}, 403
        return {"error": {"code": "NOT_FOUND", "message": f"Không tìm thấy “{record_id}”."}}, 404

    client = probe.test_client()
    absent = client.get(f"/api/things/{new_record_id()}")
    assert shown(absent, [absent.request.path.rsplit("/", 1)[1]]) != shown(
        client.get(f"/api/things/{known}"), [known]
    )
    other = new_record_id()
    assert shown(absent, [absent.request.path.rsplit("/", 1)[1]]) == shown(
        client.get(f"/api/things/{other}"), [other]
    )




ID_ARGS = {"record_id": "record", "document_id": "record", "record_ids": "record", "file_id": "file",
           "file_ids": "file"}
OTHER_ARGS = {"fields": "subject=Về việc khác", "act": "submit", "opinion": "dong-y"}
OPTIONS = {"--expected-version": "1", "--expected-seq": "0", "--end-date": "15/03/2026",
           "--until": "31/12/2027", "--out": "{out}"}


def cli_commands() -> list[list[str]]:
    """Every ``kho`` command with a record id among its arguments (read from the CLI itself, so a
    new one is walked unlisted), its required arguments and options filled."""
    import click

    from web.cli import main

    found: list[list[str]] = []

    def walk(command: click.Command, words: list[str], ctx: click.Context) -> None:
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None
                walk(sub, [*words, name], click.Context(sub, parent=ctx))
            return
        arguments = [p for p in command.params if isinstance(p, click.Argument)]
        if not any(p.name in ID_ARGS for p in arguments):
            return
        line = list(words)
        for p in arguments:
            if p.name in ID_ARGS:
                line.append("{" + ID_ARGS[p.name] + "}")
            elif p.required:
                line.append(OTHER_ARGS.get(p.name or "", "x"))
        for p in command.params:
            if isinstance(p, click.Option) and p.required:
                line += [p.opts[0], OPTIONS.get(p.opts[0], "Lý do kiểm tra")]
        found.append(line)

    walk(main, [], click.Context(main))
    return found


def test_the_cli_answers_an_unseen_record_as_an_absent_id(site: Site, tmp_path: Path) -> None:
    """``kho`` logged in as the outsider, and as a lưu trữ viên of their unit: the same output
    and exit status for a fresh id and for an existing record they may not see, on every command
    that names a record."""
    from repository.policy import Role
    from web.cli import main

    accounts = site.kho.accounts
    admin = accounts.get(site.people.usernames["quan_tri"])
    archivist, _ = create_person(accounts, "Lý Thị Lưu", UNIT_B, [Role.LUU_TRU], 0, None, admin)
    site.people.usernames["luu_tru_b"] = archivist.username
    commands = cli_commands()
    assert len(commands) >= 20, commands
    differ, compared = [], 0
    for who in (OUTSIDER, "luu_tru_b"):
        cli = cli_as(site.people, who)
        pairs = [(site.unseen["record_id"][0], site.unseen["file_id"][0]), *site.unseen_pairs]
        for command in commands:
            # One absent id per command and person, compared with each unseen pair (as the
            # route walk: a fresh id names nothing; bench/NOTES-u20.md).
            out = str(tmp_path / "out")
            absent = {"record": new_record_id(), "file": new_record_id(), "out": out}
            a = cli.invoke(main, [part.format(**absent) for part in command])
            left = a.output
            for name in ("record", "file"):
                left = left.replace(absent[name], "<id>")
            for record, file in pairs:
                unseen = {"record": record, "file": file, "out": out}
                b = cli.invoke(main, [part.format(**unseen) for part in command])
                right = b.output
                for name in ("record", "file"):
                    right = right.replace(unseen[name], "<id>")
                compared += 1
                if (a.exit_code, left) != (b.exit_code, right) or "Lỗi [" not in left:
                    said = f"{a.exit_code} {left!r} ≠ {b.exit_code} {right!r}"
                    differ.append(f"{who}: {' '.join(command)}: {said}")
    print(f"kho: {len(commands)} commands, {compared} pairs compared")
    assert not differ, "\n".join(differ)


def test_an_unseen_document_put_in_ones_own_hồ_sơ_answers_as_an_absent_id(site: Site) -> None:
    """Hồ sơ membership with the record in the body: the outsider's own hồ sơ (phòng B), and a
    document named in the request that does not exist or that they may not see; API and page."""
    from kho_files import new_file

    own = new_file(site.kho, site.people.actor(OUTSIDER), "09.TH", "Hồ sơ của phòng", "Ngô Bảo Châu", UNIT_B)
    client = outsider(site)
    headers = site.people.headers(OUTSIDER)
    for unseen in site.unseen["document_id"]:
        absent = new_record_id()
        answers = [
            client.post(f"/api/files/{own.record_id}/documents", headers=headers,
                        json={"document_id": named, "expected_version": own.version})
            for named in (absent, unseen)
        ]
        assert answers[0].status_code == 404
        assert shown(answers[0], [absent]) == shown(answers[1], [unseen])
        pages = [
            post(client, f"/files/{own.record_id}/documents", {"document_id": named}, follow_redirects=True)
            for named in (absent, unseen)
        ]
        assert shown(pages[0], [absent]) == shown(pages[1], [unseen])
    assert site.kho.repo._load(own.record_id).documents == ()
