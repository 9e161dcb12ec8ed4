"""``kho demo``: demo data for the embedded mode.

Generates Vietnamese official documents (born-digital PDFs with a real text layer, signed
personally and by the agency with Kho's test PKI), registers them as văn bản đến and đi, files
some in hồ sơ, starts the handling of two incoming ones (one trình to the leader and directed
with a deadline to the chuyên viên, one waiting for the leader's direction) so "Việc của tôi"
shows counts, and indexes everything. Idempotent: a second run adds nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import click

from kho.config import Settings
from kho.errors import Duplicate
from kho.timeutil import vn_date

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
        "Chủ tịch",
        "Nguyễn Văn An",  # the demo PKI's personal certificate: a văn bản đi names who signed it
        date(2026, 9, 9),
    ),
    (
        "di",
        "Kế hoạch",
        "KH-UBND",
        "",
        "Kế hoạch tiêu hủy tài liệu hết giá trị năm 2026",
        "Chủ tịch",
        "Nguyễn Văn An",  # the demo PKI's personal certificate: a văn bản đi names who signed it
        date(2026, 10, 1),
    ),
)


DEMO_PASSWORD = "Kho@demo2026"
"""Password of every demo account (demo data only; a real installation starts with
``kho account init``)."""

# (full name, role, clearance) of the demo accounts, all in the agency's root unit.
DEMO_PEOPLE: tuple[tuple[str, str, int], ...] = (
    ("Đỗ Thị Khuê", "van_thu", 3),
    ("Lưu Quang Hưng", "lanh_dao", 3),
    ("Phạm Minh Chính", "chuyen_vien", 0),
    ("Hoàng Thu Hà", "luu_tru", 1),
    ("Lê Văn Kiểm", "kiem_toan", 1),
)


def create_demo_accounts(kho: Any) -> dict[str, str]:
    """The demo's quản trị and one person per role, each with :data:`DEMO_PASSWORD`.
    Returns role → username."""
    accounts = kho.accounts
    settings = kho.settings
    _, admin, initial = accounts.bootstrap(settings.agency_id, settings.agency_name, "ubnd", "Quản Trị Viên")
    accounts.change_password(admin.username, initial, DEMO_PASSWORD, "kho demo")
    admin = accounts.get(admin.username)
    names = {"quan_tri": admin.username}
    for full_name, role, clearance in DEMO_PEOPLE:
        # The quản trị receives the first half; the operator running ``kho demo`` (direct store
        # access) confirms and receives the second, as on an installation with one quản trị.
        person, first = accounts.create_account(full_name, settings.agency_id, [role], clearance, None, admin)
        _, second = accounts.confirm_by_operator(person.username, "kho demo")
        accounts.change_password(person.username, first + second, DEMO_PASSWORD, "kho demo")
        names[role] = person.username
    return names


DEMO_FILE = {
    "file_notation": "01.VP",
    "title": "Hồ sơ về công tác văn thư, lưu trữ năm 2026",
    "maintenance": "20 năm",
    "creator": "Đỗ Thị Khuê",
    "start_date": "2026-01-05",
}
"""The demo's hồ sơ, listed in the demo's issued Danh mục hồ sơ (:func:`create_demo_plan`)."""


def create_demo_plan(kho: Any, names: dict[str, str]) -> None:
    """The Danh mục hồ sơ 2026 holding the demo hồ sơ: drafted by the văn thư, approved and
    issued by the lãnh đạo. Without it the lưu trữ viên could not take the demo hồ sơ in once it
    is nộp lưu (completeness: a hồ sơ not in the issued plan is refused)."""
    retention = kho.retention
    clerk = kho.actor_of(kho.accounts.get(names["van_thu"]), "kho demo")
    leader = kho.actor_of(kho.accounts.get(names["lanh_dao"]), "kho demo")
    raw = {
        "year": 2026,
        "headings": [{"number": "I", "title": "Văn phòng", "abbreviation": "VP"}],
        "items": [
            {
                "notation": DEMO_FILE["file_notation"],
                "title": DEMO_FILE["title"],
                "maintenance": DEMO_FILE["maintenance"],
                "creator": DEMO_FILE["creator"],
                "heading": "I",
            }
        ],
    }
    plan = retention.draft_plan(raw, actor=clerk)
    plan = retention.approve_plan(plan.year, expected_version=plan.version, actor=leader)
    retention.issue_plan(plan.year, expected_version=plan.version, actor=leader)


def create_demo_handling(kho: Any, names: dict[str, str], incoming: list[str]) -> int:
    """Trình the first two incoming documents to the demo leader; the leader directs the first
    to the chuyên viên with a deadline five working days from today. Returns the steps taken
    (none when the documents already have steps or fewer than two arrived)."""
    from repository.workflow import Act

    if len(incoming) < 2:
        return 0
    handling = kho.handling
    first, second = incoming[:2]
    if handling.steps(first) or handling.steps(second):
        return 0
    clerk, leader, handler = (
        kho.actor_of(kho.accounts.get(names[role]), "kho demo")
        for role in ("van_thu", "lanh_dao", "chuyen_vien")
    )
    deadline = handling.calendar.add_working_days(handling.today(), 5).isoformat()
    handling.take(
        first,
        Act.SUBMIT,
        expected_seq=0,
        actor=clerk,
        users=[leader.user],
        note="Kính trình đồng chí xem xét, chỉ đạo.",
    )
    handling.take(
        first,
        Act.DIRECT,
        expected_seq=1,
        actor=leader,
        users=[handler.user],
        deadline=deadline,
        note="Giao đồng chí Chính chủ trì nghiên cứu, tham mưu văn bản trả lời đúng thời hạn.",
    )
    handling.take(
        second,
        Act.SUBMIT,
        expected_seq=0,
        actor=clerk,
        users=[leader.user],
        note="Kính trình đồng chí cho ý kiến chỉ đạo.",
    )
    return 3


@click.command("demo")
def demo() -> None:
    """Nạp dữ liệu mẫu (tài khoản; văn bản đến, đi đã ký số; hồ sơ) vào kho nhúng và lập chỉ mục."""
    from ingest.indexing import reindex_all
    from ingest.pdfgen import OfficialDocument, render_pdf
    from ingest.pipeline import Pipeline
    from ingest.receive import ReceiveService
    from ingest.signatures import TrustStore, trustlist
    from ingest.testpki import TestPKI, agency_seal, sign_personal_then_organisation
    from web.context import Kho

    settings = Settings.from_env()
    kho = Kho(settings)
    click.get_current_context().call_on_close(kho.close)  # its last written head noted at the end
    repo, backend = kho.repo, kho.backend
    if next(repo.record_ids(), None) is not None:
        report = reindex_all(repo, backend)
        click.echo(f"Kho đã có dữ liệu ({report.total} bản ghi trong chỉ mục): không nạp thêm.")
        return
    names = create_demo_accounts(kho)
    clerk = kho.actor_of(kho.accounts.get(names["van_thu"]), "kho demo")
    pki = TestPKI.build()
    trust_dir = trustlist.managed_dir(settings.trust_dir, settings.data_dir)
    if not trust_dir.is_dir():
        # The shipped Vietnamese anchors, plus the demo's own test root (its signed samples).
        trustlist.initialise(trust_dir)
        trustlist.add(
            trust_dir,
            pki.root.cert_der,
            source="ingest/testpki.py (demo test PKI)",
            note="Chứng thư gốc thử nghiệm của dữ liệu mẫu — không dùng trong hệ thống thật",
            by="kho demo",
            now=datetime.now(UTC),
            name="kho-test-root.crt",
        )
    pipeline = Pipeline.from_settings(
        settings, repo, trust=TrustStore.from_dir(trust_dir), backend_factory=lambda: backend
    )
    receive = ReceiveService(repo, pipeline)
    added = 0
    filed: list[str] = []
    incoming: list[str] = []
    for i, (direction, loai, ky_hieu, co_quan, trich_yeu, chuc_vu, nguoi_ky, day) in enumerate(DOCUMENTS, 1):
        organ = co_quan or settings.agency_name
        number = f"{i * 7 + 3:02d}"
        if direction == "di":
            day = vn_date(repo.clock())  # số and ngày ban hành are given on the day (NĐ 30 Điều 15)
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
        # A văn bản đến is sealed by its sender (the metadata gate compares the two): the demo
        # PKI issues each sender's seal certificate.
        seal = agency_seal(pki, organ.upper(), serial=0x4B484F7200 + i) if direction == "den" else None
        pdf = sign_personal_then_organisation(render_pdf(doc).data, pki, organisation=seal)
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
            record = receive.receive_and_register(pdf, f"{loai} {number}.pdf", direction, metadata, clerk)
        except Duplicate:
            continue
        filed.append(record.record_id)
        if direction == "den":
            incoming.append(record.record_id)
        added += 1
    if filed:
        try:
            create_demo_plan(kho, names)
            file = repo.create_file(dict(DEMO_FILE), clerk)
            for version, doc_id in enumerate(filed[:4], start=file.version):
                repo.add_to_file(file.record_id, doc_id, expected_version=version, actor=clerk)
        except Duplicate:
            pass
    steps = create_demo_handling(kho, names, incoming)
    report = reindex_all(repo, backend)
    click.echo(
        f"Dữ liệu mẫu: thêm {added} văn bản; chỉ mục có {report.total} bản ghi. Thư mục dữ liệu:"
        f" {settings.data_dir}"
    )
    if steps:
        click.echo(
            f"Xử lý văn bản đến: {steps} bước mẫu (trình {names['lanh_dao']},"
            f" giao {names['chuyen_vien']} có thời hạn)."
        )
    click.echo(f"Tài khoản mẫu (mật khẩu {DEMO_PASSWORD}):")
    for role, username in names.items():
        click.echo(f"  {username}  ({role})")
