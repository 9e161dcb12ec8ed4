"""Fixtures of the retention tests (helpers in tests/support/kho_retention.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kho_people import People, PeopleTemplates, people_in
from kho_retention import Clock, kho_env, open_kho, s3_env

from kho.config import Settings
from web.context import Kho


@pytest.fixture
def clock() -> Clock:
    return Clock()


COPIED_PEOPLE = pytest.StashKey[dict[str, str]]()
"""The usernames of the people :func:`kho` copied into the test's installation, if it did."""


@pytest.fixture(scope="session")
def people_templates(tmp_path_factory: pytest.TempPathFactory) -> PeopleTemplates:
    return PeopleTemplates(tmp_path_factory.mktemp("people-templates"))


@pytest.fixture
def kho(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock, people_templates: PeopleTemplates
) -> Iterator[Kho]:
    """On the local folder; a test parametrized with ``indirect=["kho"]`` names its store:
    ``local``, ``s3``, or ``s3-locked`` (a bucket with object lock). For a test that asks for
    :func:`people` too, a local installation's data folder starts as a copy of the accounts
    ``make_accounts`` makes at the clock's time (:class:`PeopleTemplates`)."""
    where = getattr(request, "param", "local")
    env = kho_env(tmp_path) if where == "local" else s3_env(tmp_path, object_lock=where == "s3-locked")
    if "people" in request.fixturenames:
        usernames = people_templates.copy_into(Settings.from_env(env), clock.now)
        if usernames is not None:
            request.node.stash[COPIED_PEOPLE] = usernames
    installation = open_kho(env, clock)
    yield installation
    installation.close()


@pytest.fixture
def people(kho: Kho, request: pytest.FixtureRequest) -> People:
    """One person per role (``make_people``), with tokens issued at the clock's time."""
    return people_in(kho, request.node.stash.get(COPIED_PEOPLE, None))
