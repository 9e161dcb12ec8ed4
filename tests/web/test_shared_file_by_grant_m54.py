"""A document read by a grant is not re-shared by putting it in a shared hồ sơ (rv59 open item 5).

A grant on a hồ sơ reaches every document in it (``Repository.grant``), so putting a document in
a hồ sơ already shared gives it to the hồ sơ's grantees: the act needs the right to grant the
document (``_authorize_reach`` → ``decide_grant``). rv59 made sight received by a grant not
grantable onward (``GRANT_NOT_YOURS``); its note said, from reading the code, that the hồ sơ path
followed, with no test. This is the test: phòng B's head, given one of the agency's Mật documents
to read, cannot put it in phòng B's hồ sơ shared with a chuyên viên (by name or by unit), and
nothing is written; the same document goes in a hồ sơ shared with no one, and phòng B's own
document goes in the shared one. Real local store and accounts.
"""

from __future__ import annotations

import pytest
from kho_files import new_file
from kho_people import UNIT_B, People
from kho_testing import incoming, pdf_bytes

from kho.errors import NotFound, PermissionDenied
from web.context import Kho


def test_a_document_read_by_a_grant_does_not_go_into_a_shared_hoso(kho: Kho, people: People) -> None:
    people.add("lanh_dao_b", "Đinh Văn Bình", UNIT_B, ("lanh_dao",), 3)
    head_b = people.actor("lanh_dao_b")
    secret = kho.repo.create_document(
        "den", incoming(code_number="5461", secrecy=1), pdf_bytes("m54-s"), "s.pdf", people.actor("van_thu")
    )
    kho.repo.grant(secret.record_id, users=(head_b.user,), actor=people.actor("lanh_dao"))
    assert kho.repo.get(secret.record_id, actor=head_b).record_id == secret.record_id  # reads it

    by_name = new_file(kho, head_b, "54.NB", "Hồ sơ chia sẻ theo tên", "Đinh Văn Bình", unit=UNIT_B)
    by_name = kho.repo.grant(by_name.record_id, users=(people.usernames["chuyen_vien_b"],), actor=head_b)
    by_unit = new_file(kho, head_b, "54.DV", "Hồ sơ chia sẻ cho đơn vị", "Đinh Văn Bình", unit=UNIT_B)
    by_unit = kho.repo.grant(by_unit.record_id, units=(UNIT_B,), actor=head_b)

    for shared in (by_name, by_unit):
        with pytest.raises(PermissionDenied) as refused:
            kho.repo.add_to_file(
                shared.record_id, secret.record_id, expected_version=shared.version, actor=head_b
            )
        assert refused.value.code == "GRANT_NOT_YOURS", refused.value
        assert "chia sẻ" in refused.value.message
        assert kho.repo.get(shared.record_id, actor=head_b).documents == ()  # nothing written
    with pytest.raises(NotFound):  # still not theirs: not even known to exist
        kho.repo.get(secret.record_id, actor=people.actor("chuyen_vien_b"))

    # Shared with no one: nobody new reaches the document, so it goes in.
    alone = new_file(kho, head_b, "54.RI", "Hồ sơ riêng", "Đinh Văn Bình", unit=UNIT_B)
    alone = kho.repo.add_to_file(
        alone.record_id, secret.record_id, expected_version=alone.version, actor=head_b
    )
    assert alone.documents == (secret.record_id,)
    # Phòng B's own document goes in the shared hồ sơ: its head grants it.
    own = kho.repo.create_document(
        "den", incoming(code_number="5462"), pdf_bytes("m54-o"), "o.pdf", people.actor("van_thu_b")
    )
    done = kho.repo.add_to_file(
        by_name.record_id, own.record_id, expected_version=by_name.version, actor=head_b
    )
    assert done.documents == (own.record_id,)
