"""An account named in an API path is the name as written, whole (review a24): the check was
``USERNAME.match`` with ``$``, which also matches before a final line break, so
``/api/accounts/chinhpm.ubnd%0A/lock`` passed it and the service (which strips names typed at the
CLI) locked ``chinhpm.ubnd``. Not a way to another account — the service decides on the account
it read — but the API promised a name of ``[a-z0-9.-]`` only (its OpenAPI pattern), and an
audited refusal could carry the line break. Real store and API."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from kho_people import People

from repository import passwords
from web.context import Kho


@pytest.mark.parametrize("tail", ["%0A", "%0D%0A", "%20", "%09"])
def test_a_name_with_a_trailing_line_break_or_space_names_no_account(
    client: FlaskClient, kho: Kho, people: People, tail: str
) -> None:
    """On main: ``%0A`` locked the account (200)."""
    name = people.usernames["chuyen_vien"]
    before = kho.accounts.get(name).version
    for action, body in (("lock", {"reason": "admin"}), ("unlock", {}), ("reset", {}), ("confirm-reset", {})):
        answer = client.post(
            f"/api/accounts/{name}{tail}/{action}", json=body, headers=people.headers("quan_tri")
        )
        assert answer.status_code == 404, (action, answer.get_json())
        assert answer.get_json()["error"]["code"] == "ACCOUNT_NOT_FOUND"
    account = kho.accounts.get(name)
    assert account.active and account.reset is None and account.version == before


def test_a_stored_name_is_checked_whole() -> None:
    assert passwords.is_username("chinhpm.ubnd")
    assert not passwords.is_username("chinhpm.ubnd\n")
