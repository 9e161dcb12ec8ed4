"""A hồ sơ of the agency holding a Mật document and a Thường one: what a Thường reader of the
agency may see only half of."""

from __future__ import annotations

from kho_people import People
from kho_testing import incoming

from repository.records import Actor, Record
from web.context import Kho


def new_file(
    kho: Kho, actor: Actor, notation: str, title: str, creator: str, unit: str | None = None
) -> Record:
    """A hồ sơ of 10 năm opened on 01/01/2026 by ``actor`` (of ``unit``; the agency's if None)."""
    metadata = {
        "file_notation": notation,
        "title": title,
        "maintenance": "10 năm",
        "creator": creator,
        "start_date": "01/01/2026",
    }
    return kho.repo.create_file({**metadata, **({"unit": unit} if unit else {})}, actor)


def file_with_a_secret(
    kho: Kho, people: People, codes: tuple[str, str] = ("77", "78")
) -> tuple[str, str, str]:
    """(hồ sơ, Mật document, Thường document), made by the agency's văn thư (cleared Tuyệt mật);
    the hồ sơ holds the Mật document first. ``codes``: their số."""
    clerk = people.actor("van_thu")
    hoso = new_file(kho, clerk, "07.KS", "Hồ sơ khảo sát tuyến cầu", "Đỗ Thị Khuê")
    secret = kho.repo.create_document(
        "den",
        incoming(code_number=codes[0], subject="Về việc phương án bảo vệ", secrecy=2),
        None,
        None,
        clerk,
    )
    plain = kho.repo.create_document(
        "den", incoming(code_number=codes[1], subject="Về việc khảo sát"), None, None, clerk
    )
    version = kho.repo.add_to_file(
        hoso.record_id, secret.record_id, expected_version=hoso.version, actor=clerk
    ).version
    kho.repo.add_to_file(hoso.record_id, plain.record_id, expected_version=version, actor=clerk)
    return hoso.record_id, secret.record_id, plain.record_id
