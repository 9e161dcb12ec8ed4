"""``kho demo``: demo data for the embedded mode.

Generates Vietnamese official documents (born-digital PDFs with a real text layer, signed
personally and by the agency with Kho's test PKI), registers them as văn bản đến and đi, files
some in hồ sơ and indexes everything. Idempotent: a second run adds nothing.
"""

from __future__ import annotations

from datetime import date

import click

from kho.config import Settings
from kho.errors import Duplicate
from repository.formats import dump_derived
from repository.records import Actor
from repository.service import open_repository

DEMO = Actor(user="demo.vanthu", source="kho demo")

# (direction, loại, ký hiệu, cơ quan ban hành, trích yếu, chức vụ, người ký, ngày)
DOCUMENTS: tuple[tuple[str, str, str, str, str, str, str, date], ...] = (
    (
        "den",
        "Quyết định",
        "QĐ-UBND",
        "Ủy ban nhân dân tỉnh Ninh Bình",
        "Ban hành Quy chế quản lý văn bản điện tử trên Hệ thống quản lý văn bản và điều hành",
        "Chủ tịch",
        "Phạm Quang Ngọc",
        date(2026, 3, 5),
    ),
    (
        "den",
        "Công văn",
        "UBND-VP",
        "Ủy ban nhân dân tỉnh Thái Nguyên",
        "Về việc triển khai chữ ký số chuyên dùng công vụ",
        "Chánh Văn phòng",
        "Nguyễn Thị Hoà",
        date(2026, 4, 2),
    ),
    (
        "den",
        "Kế hoạch",
        "KH-SNV",
        "Sở Nội vụ tỉnh Bắc Giang",
        "Kế hoạch chỉnh lý tài liệu lưu trữ năm 2026",
        "Giám đốc",
        "Trần Văn Khỏe",
        date(2026, 5, 12),
    ),
    (
        "den",
        "Thông báo",
        "TB-VPCP",
        "Văn phòng Chính phủ",
        "Kết luận của Thủ tướng Chính phủ về chuyển đổi số trong cơ quan nhà nước",
        "Phó Chủ nhiệm",
        "Lê Minh Hoàng",
        date(2026, 6, 20),
    ),
    (
        "den",
        "Báo cáo",
        "BC-STTTT",
        "Sở Thông tin và Truyền thông tỉnh Nam Định",
        "Báo cáo tình hình gửi, nhận văn bản điện tử 6 tháng đầu năm",
        "Giám đốc",
        "Vũ Đức Hòa",
        date(2026, 7, 1),
    ),
    (
        "den",
        "Chỉ thị",
        "CT-UBND",
        "Ủy ban nhân dân tỉnh Lạng Sơn",
        "Về tăng cường công tác văn thư, lưu trữ trên địa bàn tỉnh",
        "Chủ tịch",
        "Hồ Tiến Thiệu",
        date(2026, 8, 15),
    ),
    (
        "di",
        "Quyết định",
        "QĐ-UBND",
        "",
        "Ban hành Danh mục hồ sơ năm 2026",
        "Chủ tịch",
        "Nguyễn Văn An",
        date(2026, 1, 5),
    ),
    (
        "di",
        "Tờ trình",
        "TTr-UBND",
        "",
        "Đề nghị phê duyệt Đề án số hóa tài liệu lưu trữ",
        "Chủ tịch",
        "Nguyễn Văn An",
        date(2026, 2, 10),
    ),
    (
        "di",
        "Công văn",
        "UBND-VP",
        "",
        "Về việc nộp lưu hồ sơ, tài liệu vào Lưu trữ cơ quan",
        "Chánh Văn phòng",
        "Đỗ Thị Khuê",
        date(2026, 9, 9),
    ),
    (
        "di",
        "Kế hoạch",
        "KH-UBND",
        "",
        "Kế hoạch tiêu hủy tài liệu hết giá trị năm 2026",
        "Phó Chủ tịch",
        "Lưu Quang Hưng",
        date(2026, 10, 1),
    ),
)


@click.command("demo")
def demo() -> None:
    """Nạp dữ liệu mẫu (văn bản đến, đi đã ký số; hồ sơ) vào kho nhúng và lập chỉ mục."""
    from ingest.indexing import SIGNATURES, TEXT, follow, reindex_all
    from ingest.pdfgen import OfficialDocument, render_pdf
    from ingest.signatures import TrustStore, verify_pdf
    from ingest.testpki import TestPKI, sign_personal_then_organisation
    from ingest.text import extract_text
    from search import open_backend

    settings = Settings.from_env()
    repo = open_repository(settings)
    backend = open_backend(settings.elasticsearch_url or settings.data_dir / "index")
    if next(repo.record_ids(), None) is not None:
        report = reindex_all(repo, backend)
        click.echo(f"Kho đã có dữ liệu ({report.total} bản ghi trong chỉ mục): không nạp thêm.")
        return
    follow(repo, backend)
    pki = TestPKI.build()
    trust_dir = settings.data_dir / "trust"
    if not trust_dir.is_dir():
        trust_dir.mkdir(parents=True)
        pki.write_trust_dir(trust_dir)
    trust = TrustStore.from_dir(trust_dir)
    added = 0
    filed: list[str] = []
    for i, (direction, loai, ky_hieu, co_quan, trich_yeu, chuc_vu, nguoi_ky, day) in enumerate(DOCUMENTS, 1):
        organ = co_quan or settings.agency_name
        number = f"{i * 7 + 3:02d}"
        doc = OfficialDocument(
            co_quan=organ.upper(),
            so_ky_hieu=f"{number}/{ky_hieu}",
            dia_danh="Ninh Bình",
            ngay=day,
            ten_loai=loai.upper(),
            trich_yeu=trich_yeu,
            chuc_vu=chuc_vu.upper(),
            nguoi_ky=nguoi_ky,
            can_cu=(
                "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ"
                " về công tác văn thư;",
            ),
            body=(f"Nội dung: {trich_yeu}. Các cơ quan, đơn vị thực hiện theo đúng quy định.",),
            noi_nhan=("Như trên;", "Lưu: VT."),
        )
        pdf = sign_personal_then_organisation(render_pdf(doc).data, pki)
        metadata = {
            "type_name": loai,
            "code_notation": ky_hieu,
            "organ_name": organ,
            "subject": trich_yeu,
            "signer_position": chuc_vu,
            "signer_full_name": nguoi_ky,
            "issued_date": day.isoformat(),
        }
        if direction == "den":
            metadata.update(code_number=number, to_places="Văn phòng")
        else:
            metadata["recipients"] = ["Các sở, ban, ngành", "Lưu: VT"]
        try:
            record = repo.create_document(direction, metadata, pdf, f"{loai} {number}.pdf", DEMO)
        except Duplicate:
            continue
        text = extract_text(pdf, "demo.pdf")
        repo.put_derived(record.record_id, TEXT, dump_derived(text.to_dict(), TEXT))
        verdict = verify_pdf(pdf, trust)
        repo.put_derived(
            record.record_id, SIGNATURES, dump_derived(verdict.to_dict(), SIGNATURES)
        )
        repo.set_extra(
            record.record_id,
            {"signature_verdict": verdict.verdict.indication.value},
            actor=DEMO,
            action="record:verify",
        )
        filed.append(record.record_id)
        added += 1
    if filed:
        try:
            file = repo.create_file(
                {
                    "file_notation": "01.VP",
                    "title": "Hồ sơ về công tác văn thư, lưu trữ năm 2026",
                    "maintenance": "20 năm",
                    "creator": "Đỗ Thị Khuê",
                    "start_date": "2026-01-05",
                },
                DEMO,
            )
            for version, doc_id in enumerate(filed[:4], start=file.version):
                repo.add_to_file(file.record_id, doc_id, expected_version=version, actor=DEMO)
        except Duplicate:
            pass
    report = reindex_all(repo, backend)
    click.echo(
        f"Dữ liệu mẫu: thêm {added} văn bản; chỉ mục có {report.total} bản ghi. Thư mục dữ liệu:"
        f" {settings.data_dir}"
    )
