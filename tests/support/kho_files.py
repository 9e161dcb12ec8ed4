"""A hồ sơ of the agency holding a Mật document and a Thường one: what a Thường reader of the
agency may see only half of."""

from __future__ import annotations

from kho_people import People
from kho_testing import incoming

from web.context import Kho


def file_with_a_secret(
    kho: Kho, people: People, codes: tuple[str, str] = ("77", "78")
) -> tuple[str, str, str]:
    """(hồ sơ, Mật document, Thường document), made by the agency's văn thư (cleared Tuyệt mật);
    the hồ sơ holds the Mật document first. ``codes``: their số."""
    clerk = people.actor("van_thu")
    hoso = kho.repo.create_file(
        {
            "file_notation": "07.KS",
            "title": "Hồ sơ khảo sát tuyến cầu",
            "maintenance": "10 năm",
            "creator": "Đỗ Thị Khuê",
            "start_date": "01/01/2026",
        },
        clerk,
    )
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
