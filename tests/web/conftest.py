"""An installation with real accounts (one per role, two units), its API client and CLI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from kho_people import People, PeopleTemplates, make_people, people_in
from kho_relay import Relay
from kho_retention import s3_env
from kho_testing import s3_options_or_skip, sealed_cong_van, so_sealed_cong_van
from kho_web import SEALED_MASTER_KEY

from ingest.testpki import TestPKI, Variant, make_variant
from kho.config import Settings
from web.app import create_app
from web.context import Kho


@pytest.fixture(scope="session")
def pki_trust(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("web-trust")
    TestPKI.build().write_trust_dir(out)
    return out


@pytest.fixture(scope="session")
def signed() -> dict[str, bytes]:
    """Signed PDFs the suite registers: "valid" and "valid-2" are two công văn of Bộ Nội vụ
    (signed by Nguyễn Văn An, then sealed by the agency "BỘ NỘI VỤ"), as :func:`incoming`
    describes them; their text prints no số/ký hiệu or date, so the tests may type their own.
    "printed" is the same công văn printing 1234/BNV-VP of 02/03/2026 (read by ingest).
    (They were the test PKI's Quyết định of UBND tỉnh Thử Nghiệm, 32/QĐ-UBND of 05/03/2026,
    registered as Bộ Nội vụ's 1234/BNV-VP of 02/03/2026: a forged sender, refused since a9.)"""
    pki = TestPKI.build()
    return {
        "valid": sealed_cong_van(1),
        "valid-2": sealed_cong_van(2),
        "printed": sealed_cong_van(3, printed=True),
        "tampered": make_variant(Variant.TAMPERED, pki=pki, seed=33, pages=1),
    }


@pytest.fixture(scope="session")
def so_pdf() -> bytes:
    """A công văn sealed as VGCA seals a Sở: CN "Sở Tài chính", O "UBND tỉnh Thử Nghiệm" (a10,
    r31: a sub-unit's seal, which must not pass as its parent)."""
    return so_sealed_cong_van()


@pytest.fixture
def env(
    tmp_path: Path, pki_trust: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> dict[str, str]:
    """The installation's settings; a test marked ``sealed`` gets ``KHO_MASTER_KEY`` (its objects
    and events sealed from the first one)."""
    values = {
        "KHO_DATA_DIR": str(tmp_path / "kho"),
        "KHO_AGENCY_ID": "000.00.18.H40",
        "KHO_AGENCY_NAME": "Ủy ban nhân dân tỉnh Ninh Bình",
        "KHO_TRUST_DIR": str(pki_trust),
        "KHO_FSYNC": "false",
        "KHO_BROKER_URL": "",
        "KHO_TIKA_URL": "",
        "KHO_ELASTICSEARCH_URL": "",
        "KHO_TOKEN_FILE": str(tmp_path / "tokens.json"),
        # argon2id at its smallest here (the production cost is measured in bench/bench_login.py).
        "KHO_PASSWORD_MEMORY_KB": "1024",
        "KHO_PASSWORD_TIME_COST": "1",
    }
    if request.node.get_closest_marker("sealed") is not None:
        values["KHO_MASTER_KEY"] = SEALED_MASTER_KEY
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("KHO_TOKEN", raising=False)
    return values


@contextmanager
def _counted_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, s3: bool
) -> Iterator[tuple[Kho, People, FlaskClient]]:
    """An installation (the local folder, or the Ceph S3 gateway), its people and a browser."""
    if s3:
        for key, value in s3_env(tmp_path / "s3").items():
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("KHO_COOKIE_SECURE", "false")
    installation = Kho(Settings.from_env())
    try:
        people = make_people(installation)
        yield installation, people, create_app(installation.settings, kho=installation).test_client()
    finally:
        installation.close()


@pytest.fixture(params=["local", "s3"])
def store_site(
    request: pytest.FixtureRequest, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Kho, People, FlaskClient]]:
    """An installation on the local folder and on the Ceph S3 gateway (one test each), its
    people and a browser: for tests that count what a page reads from the store."""
    with _counted_site(tmp_path, monkeypatch, s3=request.param == "s3") as site:
        yield site


@pytest.fixture
def s3_store_site(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Kho, People, FlaskClient]]:
    """:func:`store_site` on the Ceph S3 gateway only."""
    with _counted_site(tmp_path, monkeypatch, s3=True) as site:
        yield site


COPIED_PEOPLE = pytest.StashKey[dict[str, str]]()
"""The usernames of the people :func:`kho` copied into the test's installation, if it did."""


@pytest.fixture(scope="session")
def people_templates(tmp_path_factory: pytest.TempPathFactory) -> PeopleTemplates:
    return PeopleTemplates(tmp_path_factory.mktemp("people-templates"))


@pytest.fixture
def kho(
    env: dict[str, str], request: pytest.FixtureRequest, people_templates: PeopleTemplates
) -> Iterator[Kho]:
    """The installation; for a test that asks for :func:`people` too, its data folder starts as
    a copy of the accounts :func:`make_accounts` makes (:class:`PeopleTemplates`)."""
    settings = Settings.from_env()
    if "people" in request.fixturenames:
        usernames = people_templates.copy_into(settings)
        if usernames is not None:
            request.node.stash[COPIED_PEOPLE] = usernames
    installation = Kho(settings)
    yield installation
    installation.close()


@pytest.fixture
def people(kho: Kho, request: pytest.FixtureRequest) -> People:
    """One person per role (:func:`make_people`), with tokens issued now."""
    return people_in(kho, request.node.stash.get(COPIED_PEOPLE, None))


@pytest.fixture
def managed_env(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The installation without KHO_TRUST_DIR: the managed list in <KHO_DATA_DIR>/trust."""
    monkeypatch.delenv("KHO_TRUST_DIR")
    return {k: v for k, v in env.items() if k != "KHO_TRUST_DIR"}


@pytest.fixture
def client(kho: Kho, people: People) -> FlaskClient:
    return create_app(kho.settings, kho=kho).test_client()


@pytest.fixture
def app(kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The web pages' app, with its accounts made; a file may define its own ``app``."""
    monkeypatch.setenv("KHO_COOKIE_SECURE", "false")  # the test client speaks plain http
    return create_app(kho.settings, kho=kho)


@pytest.fixture
def web(app: Flask) -> FlaskClient:
    """A browser on the pages (cookies kept between requests)."""
    return app.test_client()


@pytest.fixture
def audit_signing_key(env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkpoint signing key made by ``kho audit keygen`` outside the data folder (as an
    operator keeps it), set as ``KHO_AUDIT_SIGNING_KEY``."""
    from click.testing import CliRunner

    from web.cli import main

    key = tmp_path / "offsite" / "audit.key"
    key.parent.mkdir()
    made = CliRunner().invoke(main, ["audit", "keygen", str(key)])
    assert made.exit_code == 0, made.output
    monkeypatch.setenv("KHO_AUDIT_SIGNING_KEY", str(key))
    return key


@pytest.fixture
def relay() -> Iterator[Relay]:
    """A TCP relay to the test S3 gateway: ``stop()`` cuts the store for real, ``start()`` brings
    it back (``tests/support/kho_relay.py``)."""
    options = s3_options_or_skip()
    started = Relay(options["endpoint"]).start()
    yield started
    started.stop()


@pytest.fixture
def relayed_kho(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, relay: Relay
) -> Iterator[tuple[Kho, dict[str, str]]]:
    """A Kho on the real S3 gateway reached through :func:`relay` (cut it with ``relay.stop()``),
    and the environment it was configured from."""
    env = {**s3_env(tmp_path), "KHO_S3_ENDPOINT": relay.address, "KHO_COOKIE_SECURE": "false"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    kho = Kho(Settings.from_env(), follow_index=False)
    try:
        yield kho, env
    finally:
        kho.close()
