"""OpenAPI operations of the retention API (:mod:`web.disposal_api`), merged by
:func:`web.openapi.build`."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def disposal_paths() -> dict[str, dict[str, Schema]]:
    from retention.dossier_docs import BUILDERS, FORMATS
    from web.openapi import BINARY, RID, STRING, STRINGS, _json_body, _multipart, _object, _op, _path

    obj: Schema = {"type": "object"}
    listing: Schema = _object(
        ["items", "total"], items={"type": "array", "items": obj}, total={"type": "integer", "minimum": 0}
    )
    wid = {"type": "string", "pattern": "^[0-9a-f]{16}$"}
    case = [_path("case_id", wid, "Mã hồ sơ hủy (16 chữ số thập lục phân).")]
    order = [_path("order_id", wid, "Mã lệnh phong tỏa.")]
    transfer = [_path("transfer_id", wid, "Mã lượt nộp lưu lịch sử.")]
    ids = {"type": "array", "items": {"type": "string", "pattern": "^[0-9a-f]{24}$"}, "minItems": 1}
    step = (404, 409)
    return {
        "/api/retention/disposal": {
            "get": _op(
                "disposal_list",
                "Danh sách tài liệu xem xét hủy (hết hạn bảo quản)",
                "retention",
                listing,
                (422,),
                parameters=[
                    {
                        "name": "today",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "format": "date"},
                        "description": "Ngày xét (mặc định: hôm nay).",
                    }
                ],
            )
        },
        "/api/retention/holds": {
            "get": _op("hold_list", "Các lệnh phong tỏa", "retention", listing, ()),
            "post": _op(
                "hold_place",
                "Phong tỏa văn bản, hồ sơ hoặc kết quả tìm kiếm",
                "retention",
                obj,
                (404, 409),
                ok_status=201,
                body=_json_body(
                    _object(["record_ids", "reason"], record_ids=ids, reason=STRING, query=STRING)
                ),
            ),
        },
        "/api/retention/holds/{order_id}/release": {
            "post": _op(
                "hold_release",
                "Gỡ phong tỏa (có lý do, ghi nhật ký)",
                "retention",
                obj,
                step,
                parameters=order,
                body=_json_body(_object(["reason"], reason=STRING)),
            )
        },
        "/api/retention/destructions": {
            "get": _op("destruction_list", "Các hồ sơ hủy tài liệu", "retention", listing, ()),
            "post": _op(
                "destruction_propose",
                "Lập danh mục và thuyết minh tài liệu đề nghị hủy",
                "retention",
                obj,
                (404, 409),
                ok_status=201,
                body=_json_body(_object(["record_ids", "explanation"], record_ids=ids, explanation=STRING)),
            ),
        },
        "/api/retention/destructions/{case_id}": {
            "get": _op(
                "destruction_show", "Một hồ sơ hủy tài liệu", "retention", obj, (404,), parameters=case
            )
        },
        "/api/retention/destructions/{case_id}/council": {
            "post": _op(
                "destruction_council",
                "Quyết định thành lập Hội đồng xác định giá trị tài liệu",
                "retention",
                obj,
                step,
                parameters=case,
                body=_json_body(_object(["members", "decision_ref"], members=STRINGS, decision_ref=STRING)),
            )
        },
        "/api/retention/destructions/{case_id}/review": {
            "post": _op(
                "destruction_review",
                "Ý kiến của thành viên hội đồng",
                "retention",
                obj,
                step,
                parameters=case,
                body=_json_body(
                    _object(
                        ["opinion"], opinion={"type": "string", "enum": ["agree", "disagree"]}, note=STRING
                    )
                ),
            )
        },
        "/api/retention/destructions/{case_id}/minutes": {
            "post": _op(
                "destruction_minutes",
                "Biên bản họp hội đồng",
                "retention",
                obj,
                step,
                parameters=case,
                body=_json_body(_object(["text"], text=STRING)),
            )
        },
        "/api/retention/destructions/{case_id}/appraisal": {
            "post": _op(
                "destruction_appraisal",
                "Ý kiến thẩm định",
                "retention",
                obj,
                step,
                parameters=case,
                body=_json_body(_object(["text"], text=STRING)),
            )
        },
        "/api/retention/destructions/{case_id}/decision": {
            "post": _op(
                "destruction_decide",
                "Quyết định hủy (người đứng đầu)",
                "retention",
                obj,
                step,
                parameters=case,
                body=_json_body(
                    _object(
                        ["decision_ref"],
                        decision_ref=STRING,
                        approve={"type": "boolean"},
                        deadline={"type": "string", "format": "date"},
                    )
                ),
            )
        },
        "/api/retention/destructions/overdue": {
            "get": _op(
                "destruction_overdue",
                "Các hồ sơ hủy đã có quyết định nhưng quá thời hạn thực hiện",
                "retention",
                listing,
                (),
            )
        },
        "/api/retention/destructions/{case_id}/documents/{name}": {
            "get": _op(
                "destruction_document",
                "Tài liệu của hồ sơ hủy (danh mục, biên bản họp, thẩm định, quyết định hủy, biên bản"
                " hủy) dạng PDF hoặc XLSX",
                "retention",
                {},
                (404, 409, 422),
                parameters=[
                    *case,
                    _path(
                        "name",
                        {"type": "string", "enum": list(BUILDERS)},
                        "Tài liệu: danh-muc, bien-ban-hop, tham-dinh, quyet-dinh-huy, bien-ban-huy.",
                    ),
                    {
                        "name": "format",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": list(FORMATS), "default": "pdf"},
                        "description": "Định dạng (pdf hoặc xlsx).",
                    },
                ],
                ok_content=BINARY(*FORMATS.values()),
            )
        },
        "/api/retention/destructions/{case_id}/execute": {
            "post": _op(
                "destruction_execute",
                "Thực hiện hủy (nhập lại mật khẩu)",
                "retention",
                obj,
                (404, 409, 410),
                parameters=case,
                body=_json_body(_object(["password"], password=STRING)),
            )
        },
        "/api/retention/transfers": {
            "get": _op("transfer_list", "Các lượt nộp lưu vào Lưu trữ lịch sử", "retention", listing, ()),
            "post": _op(
                "transfer_export",
                "Lập, kiểm tra (E-ARK) và xuất gói tin SIP của hồ sơ vĩnh viễn",
                "retention",
                obj,
                (404, 409, 410),
                ok_status=201,
                body=_json_body(
                    _object(["file_id"], file_id={"type": "string", "pattern": "^[0-9a-f]{24}$"})
                ),
            ),
        },
        "/api/retention/transfers/{transfer_id}/receipt": {
            "post": _op(
                "transfer_receipt",
                "Ghi nhận biên bản giao nhận của Lưu trữ lịch sử",
                "retention",
                obj,
                step,
                parameters=transfer,
                body=_json_body(_object(["reference"], reference=STRING)),
            )
        },
        "/api/retention/transfers/import": {
            "post": _op(
                "transfer_import",
                "Kiểm tra một gói tin SIP nhận được",
                "retention",
                obj,
                (400,),
                body=_multipart(
                    _object(["file"], file={"type": "string", "format": "binary"}, resend=STRING)
                ),
            )
        },
        "/api/records/{record_id}/recall": {
            "post": _op(
                "record_recall",
                "Thu hồi văn bản (đi: đóng băng; đến: hủy và báo bên gửi)",
                "records",
                obj,
                (404, 409, 410),
                parameters=RID,
                body=_json_body(_object(["order_ref", "reason"], order_ref=STRING, reason=STRING)),
            )
        },
        "/api/records/{record_id}/recall/withdraw": {
            "post": _op(
                "record_recall_withdraw",
                "Rút lại lệnh thu hồi chưa thực hiện xong (người đã ghi lệnh hoặc lãnh đạo)",
                "records",
                obj,
                (403, 404, 409),
                parameters=RID,
                body=_json_body(_object(["reason"], reason=STRING)),
            )
        },
    }
