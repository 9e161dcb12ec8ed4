"""No existence oracle, for outsiders of other roles than a15's walk used (review rv8).

a15's walk (``kho_existence.walk_routes``, run by ``test_existence_oracle.py``) sends every
record route of the app as the văn thư of phòng B. Roles reach other refusals first, so the same
walk runs here as the lãnh đạo of phòng B and its lưu trữ viên (on the agency's records), and as the agency's
lưu trữ viên on what phòng B never submitted (an open hồ sơ, documents): the archive receives
the hồ sơ of the units below it, and before rv8 its review, acceptance and return of such ids
answered "… không phải là hồ sơ", ``SUBMISSION_STATE_INVALID`` or the open hồ sơ whole. Local
folder only: the answers are decided by the policy, which a15's walk runs on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kho_existence import Site, walk_routes
from kho_files import file_with_a_secret
from kho_people import UNIT_B, create_person, make_people
from kho_retention import kho_env

from kho.config import Settings
from web.app import create_app
from web.context import Kho


@pytest.fixture(params=["lanh_dao_b", "luu_tru_b", "luu_tru"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    walker = request.param
    folder = tmp_path
    values = kho_env(folder)
    values = {**values, "KHO_TOKEN_FILE": str(folder / "tokens.json"), "KHO_COOKIE_SECURE": "false"}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in values.items():
            patch.setenv(key, value)
        patch.delenv("KHO_TOKEN", raising=False)
        kho = Kho(Settings.from_env())
        people = make_people(kho)
        admin = kho.accounts.get(people.usernames["quan_tri"])
        head = kho.accounts.get(people.usernames["lanh_dao"])
        for who, role in (("lanh_dao_b", "lanh_dao"), ("luu_tru_b", "luu_tru")):
            account, _ = create_person(
                kho.accounts, f"Người {who}", UNIT_B, (role,), 0, None, admin, confirmer=head
            )
            people.usernames[who] = account.username
            people.tokens[who] = kho.accounts.issue_token(account.username, "test", account)
        hoso, secret, plain = file_with_a_secret(kho, people)
        if walker == "luu_tru":  # the agency's archive, on what phòng B never submitted
            from kho_submission import phong_b_file
            from kho_testing import incoming
            hoso = phong_b_file(kho, people).record_id
            plain = kho.repo.create_document(
                "den", incoming(code_number="9915"), None, None, people.actor("van_thu_b")
            ).record_id
            secret = kho.repo.create_document(  # (a second document; phòng B holds no Mật one)
                "den", incoming(code_number="9916"), None, None, people.actor("van_thu_b")
            ).record_id
        # Each kind's routes also get an id of the other kind (a document where a hồ sơ is named).
        unseen = {
            "record_id": [plain, secret, hoso],
            "document_id": [plain, secret, hoso],
            "file_id": [hoso, plain, secret],
        }
        yield Site(create_app(kho.settings, kho=kho), kho, people, unseen, who=walker)
        kho.close()


def test_an_unseen_record_answers_as_an_absent_id_on_every_route(site: Site) -> None:
    walk_routes(site)
