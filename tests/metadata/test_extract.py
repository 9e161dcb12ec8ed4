"""extract_metadata on whole documents: clean, OCR-noisy, interleaved two-column, công văn."""

from __future__ import annotations

import datetime as dt

from ingest.metadata import extract_metadata
from repository.vocabulary import SoKyHieu

CLEAN = """\
ỦY BAN NHÂN DÂN
TỈNH QUẢNG NGÃI
SỞ NỘI VỤ
_______
Số: 07/QĐ-SNV
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
_______________
Quảng Ngãi, ngày 05 tháng 3 năm 2024
QUYẾT ĐỊNH
Về việc ban hành Quy chế văn thư, lưu trữ
của Sở Nội vụ
GIÁM ĐỐC SỞ NỘI VỤ
Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ về công tác
văn thư;
Căn cứ Quyết định số 12/2021/QĐ-UBND ngày 10/5/2021 của Ủy ban nhân dân tỉnh Quảng Ngãi
quy định chức năng, nhiệm vụ của Sở Nội vụ;
Theo đề nghị của Chánh Văn phòng Sở.
QUYẾT ĐỊNH:
Điều 1. Ban hành kèm theo Quyết định này Quy chế văn thư, lưu trữ.
Điều 2. Quyết định này có hiệu lực kể từ ngày ký.
Nơi nhận:
- Như Điều 2;
- UBND tỉnh (b/c);
- Lưu: VT, VP.
KT. GIÁM ĐỐC
PHÓ GIÁM ĐỐC
Trần Văn Bình
"""

# A scanned header read by OCR: "CỘNG HOÀ", "Tự đo", a stamp, spaces inside the number.
OCR_NOISY = """\
chu sài hú -
Thời gian ký: 19.06.2026 16:27:49 +07:00.
CHÍNH PHỦ CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM
———— Độc lập - Tự đo - Hạnh phúc
Số: 215 /2026/NĐ-CP Hà Nội, ngảy 18 tháng 6 năm 2026
— NGHỊ ĐỊNH
ĐẾN Về an ninh hàng không
Căn cứ Luật Tổ chức Chính phủ số 63/2025/QH15;
Căn cứ Luật Hàng không dân dụng Việt Nam số
130/2025/QH15;
Theo đề nghị của Bộ trưởng Bộ Công an;
Chính phủ ban hành Nghị định về an ninh hàng không.
Điều 1. Phạm vi điều chỉnh
Nơi nhận: - —TM.CHÍNH PHỦ, '
- Ban Bí thư Trung ương Đảng; KT. THỦ TƯỚNG
- Thủ tướng, các Phó Thủ tướng Chính phủ; PHÓ THỦ TƯỚNG
- Các bộ, cơ quan ngang bộ;
- Kiểm toán nhà nước; Phạm Gia Túc
- Lưu: VT, NC (2).
"""

# A PDF text layer that emits the two header columns side by side on each line.
INTERLEAVED = """\
BỘ GIÁO DỤC VÀ ĐÀO TẠO            CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
                                         Độc lập   -   Tự do   -   Hạnh phúc

     Số: 59   /2026/TT-BGDĐT          Hà Nội, ngày 15     tháng 07 năm 2026

                                     THÔNG TƯ

         Quy định về nhà giáo hợp đồng toàn thời gian sau khi nghỉ hưu
                            và nhà giáo thỉnh giảng

        Căn cứ Luật Nhà giáo số 73/2025/QH15;
        Điều 1. Phạm vi điều chỉnh
Nơi nhận:                                               KT. BỘ TRƯỞNG
- Văn phòng Chính phủ;                                   THỨ TRƯỞNG
- Các bộ, cơ quan ngang bộ;
- Lưu: VT, NGCBQLGD.                                   Phạm Ngọc Thưởng
"""

CONG_VAN = """\
UBND TỈNH QUẢNG NGÃI     CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
SỞ Y TẾ                  Độc lập - Tự do - Hạnh phúc
Số: 1234/SYT-NVY         Quảng Ngãi, ngày 02 tháng 01 năm 2025
V/v triển khai tiêm chủng mở rộng
năm 2025
Kính gửi:
- Trung tâm Kiểm soát bệnh tật tỉnh;
- Các bệnh viện trực thuộc.
Sở Y tế đề nghị các đơn vị triển khai.
Nơi nhận:
- Như trên;
- Lưu: VT, NVY.
GIÁM ĐỐC
Lê Thị Hoa
"""


def test_clean_header_every_field():
    meta = extract_metadata(CLEAN)
    assert meta.co_quan_chu_quan.value == "ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI"
    assert meta.co_quan_ban_hanh.value == "SỞ NỘI VỤ"
    assert meta.so_ky_hieu.value == SoKyHieu(7, "QĐ-SNV")
    assert meta.so_ky_hieu.confidence >= 0.9 and "07/QĐ-SNV" in meta.so_ky_hieu.source
    assert meta.dia_danh.value == "Quảng Ngãi"
    assert meta.ngay_ban_hanh.value == dt.date(2024, 3, 5)
    assert meta.loai_van_ban.value == "Quyết định"
    assert meta.trich_yeu.value == "Về việc ban hành Quy chế văn thư, lưu trữ của Sở Nội vụ"
    assert meta.quyen_han.value == "KT."
    assert meta.chuc_vu.value == "PHÓ GIÁM ĐỐC"
    assert meta.nguoi_ky.value == "Trần Văn Bình"
    assert meta.noi_nhan.value == ("Như Điều 2", "UBND tỉnh (b/c)", "Lưu: VT, VP")
    cites = meta.can_cu.value
    assert [(c.loai, c.so_ky_hieu, c.ngay) for c in cites] == [
        ("Nghị định", "30/2020/NĐ-CP", dt.date(2020, 3, 5)),
        ("Quyết định", "12/2021/QĐ-UBND", dt.date(2021, 5, 10)),
    ]
    assert cites[1].co_quan == "Ủy ban nhân dân tỉnh Quảng Ngãi"


def test_ocr_noisy_header_and_interleaved_signature_column():
    meta = extract_metadata(OCR_NOISY)
    assert meta.co_quan_ban_hanh.value == "CHÍNH PHỦ"
    assert meta.so_ky_hieu.value == SoKyHieu(215, "NĐ-CP", 2026)
    assert meta.dia_danh.value == "Hà Nội"
    assert meta.ngay_ban_hanh.value == dt.date(2026, 6, 18)
    assert meta.loai_van_ban.value == "Nghị định"
    assert meta.trich_yeu.value == "Về an ninh hàng không"  # the "ĐẾN" stamp is dropped
    assert meta.quyen_han.value == "KT."
    assert meta.chuc_vu.value == "PHÓ THỦ TƯỚNG"
    assert meta.nguoi_ky.value == "Phạm Gia Túc"
    assert [c.so_ky_hieu for c in meta.can_cu.value] == ["63/2025/QH15", "130/2025/QH15"]
    assert meta.noi_nhan.value == (
        "Ban Bí thư Trung ương Đảng",
        "Thủ tướng, các Phó Thủ tướng Chính phủ",
        "Các bộ, cơ quan ngang bộ",
        "Kiểm toán nhà nước",
        "Lưu: VT, NC (2)",
    )


def test_two_column_text_layer_header():
    meta = extract_metadata(INTERLEAVED)
    assert meta.co_quan_ban_hanh.value == "BỘ GIÁO DỤC VÀ ĐÀO TẠO"
    assert meta.so_ky_hieu.value == SoKyHieu(59, "TT-BGDĐT", 2026)
    assert meta.ngay_ban_hanh.value == dt.date(2026, 7, 15)
    assert meta.loai_van_ban.value == "Thông tư"
    assert meta.trich_yeu.value == (
        "Quy định về nhà giáo hợp đồng toàn thời gian sau khi nghỉ hưu và nhà giáo thỉnh giảng"
    )
    assert (meta.quyen_han.value, meta.chuc_vu.value) == ("KT.", "THỨ TRƯỞNG")
    assert meta.nguoi_ky.value == "Phạm Ngọc Thưởng"
    assert meta.noi_nhan.value == (
        "Văn phòng Chính phủ",
        "Các bộ, cơ quan ngang bộ",
        "Lưu: VT, NGCBQLGD",
    )


def test_cong_van_reads_v_v_and_kinh_gui():
    meta = extract_metadata(CONG_VAN)
    assert meta.co_quan_chu_quan.value == "UBND TỈNH QUẢNG NGÃI"
    assert meta.co_quan_ban_hanh.value == "SỞ Y TẾ"
    assert meta.so_ky_hieu.value == SoKyHieu(1234, "SYT-NVY")
    assert meta.loai_van_ban.value == "Công văn"
    assert meta.trich_yeu.value == "triển khai tiêm chủng mở rộng năm 2025"
    assert meta.chuc_vu.value == "GIÁM ĐỐC"
    assert meta.nguoi_ky.value == "Lê Thị Hoa"
    assert meta.noi_nhan.value[:2] == (
        "Trung tâm Kiểm soát bệnh tật tỉnh",
        "Các bệnh viện trực thuộc",
    )
    assert "Như trên" in meta.noi_nhan.value


def test_no_header_gives_empty_fields_with_zero_confidence():
    meta = extract_metadata("Một đoạn văn không phải văn bản hành chính.")
    assert meta.so_ky_hieu.value is None and meta.so_ky_hieu.confidence == 0.0
    assert meta.nguoi_ky.value is None
    assert meta.to_dict()["so_ky_hieu"] == {
        "value": None, "confidence": 0.0, "source": "", "so": None, "ky_hieu": None, "nam": None
    }


def test_to_dict_is_json_ready():
    data = extract_metadata(CLEAN).to_dict()
    assert data["so_ky_hieu"]["value"] == "07/QĐ-SNV"
    assert (data["so_ky_hieu"]["so"], data["so_ky_hieu"]["ky_hieu"]) == (7, "QĐ-SNV")
    assert data["ngay_ban_hanh"]["value"] == "2024-03-05"
    assert data["can_cu"]["value"][0]["ngay"] == "2020-03-05"
    assert data["noi_nhan"]["value"][-1] == "Lưu: VT, VP"
