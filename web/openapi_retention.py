"""OpenAPI operations of the retention routes (:mod:`web.retention_api`), merged into
:func:`web.openapi.build`."""

from __future__ import annotations

from web.openapi import (
    OPTIONAL_STRING,
    PAGING,
    RECORD_ID,
    STRING,
    Schema,
    _json_body,
    _object,
    _op,
    _page_of,
    _path,
    _ref,
)

INTEGER: Schema = {"type": "integer"}
DAY: Schema = {"type": "string", "description": "Ngày yyyy-mm-dd."}
YEAR = _path("year", {"type": "integer", "minimum": 2000, "maximum": 2100}, "Năm của danh mục hồ sơ.")
FILE_ID = _path("file_id", RECORD_ID, "Mã hồ sơ.")
PLAN: Schema = {
    "type": "object",
    "description": "Một phiên bản danh mục hồ sơ (Phụ lục V).",
    "required": ["year", "state", "version", "headings", "items", "footer"],
    "properties": {
        "year": INTEGER,
        "state": {"type": "string", "enum": ["draft", "approved", "issued"]},
        "version": INTEGER,
        "headings": {"type": "array"},
        "items": {"type": "array"},
        "footer": {"type": "object"},
    },
}
SCHEDULE: Schema = {
    "type": "object",
    "description": "Một phiên bản bảng thời hạn bảo quản (TT 10/2022/TT-BNV).",
    "required": ["version", "entries"],
    "properties": {"version": INTEGER, "entries": {"type": "array"}},
}
ALERT: Schema = {
    "type": "object",
    "required": ["file_id", "level", "due", "days_left", "message"],
    "properties": {
        "file_id": STRING,
        "level": STRING,
        "due": STRING,
        "days_left": INTEGER,
        "message": STRING,
    },
}
FILE: Schema = {
    "allOf": [_ref("Record")],
    "description": "Hồ sơ với trạng thái vòng đời và trạng thái nộp lưu.",
}
VERSION_BODY = _json_body(_object(["expected_version"], expected_version=INTEGER))
REASON_BODY = _json_body(_object(["reason", "expected_version"], reason=STRING, expected_version=INTEGER))


def _page(schema: Schema) -> Schema:
    page = _page_of("Record")
    page["properties"] = {**page["properties"], "items": {"type": "array", "items": schema}}
    return page


def paths() -> dict[str, dict[str, Schema]]:
    return {
        "/api/retention/schedule": {
            "get": _op("schedule_get", "Bảng thời hạn bảo quản hiện hành", "retention", SCHEDULE, ()),
            "put": _op(
                "schedule_put",
                "Sửa bảng thời hạn bảo quản (quản trị; một phiên bản mới, ghi nhật ký)",
                "retention",
                SCHEDULE,
                (409,),
                body=_json_body(
                    _object(
                        ["entries", "expected_version", "note"],
                        entries={"type": "array", "items": {"type": "object"}},
                        expected_version=INTEGER,
                        note=STRING,
                    )
                ),
            ),
        },
        "/api/retention/alerts": {
            "get": _op(
                "retention_alerts",
                "Cảnh báo hồ sơ đến hạn nộp lưu (30 ngày trước hạn), quá hạn",
                "retention",
                _page(ALERT),
                (422,),
                parameters=PAGING,
            )
        },
        "/api/retention/handover": {
            "post": _op(
                "retention_handover",
                "Bàn giao hồ sơ của người chuyển công tác (lãnh đạo, quản trị)",
                "retention",
                _object(["moved"], moved={"type": "array", "items": STRING}),
                (404, 409),
                body=_json_body(_object(["from", "to"], **{"from": STRING, "to": STRING})),
            )
        },
        "/api/plans": {
            "get": _op(
                "plan_list", "Các danh mục hồ sơ", "retention", _page(PLAN), (422,), parameters=PAGING
            ),
            "post": _op(
                "plan_draft",
                "Lập hoặc sửa dự thảo danh mục hồ sơ của một năm (văn thư, lưu trữ viên)",
                "retention",
                PLAN,
                (404, 409),
                ok_status=201,
                body=_json_body(
                    _object(
                        ["year", "headings", "items"],
                        year=INTEGER,
                        headings={"type": "array", "items": {"type": "object"}},
                        items={"type": "array", "items": {"type": "object"}},
                        expected_version={"type": ["integer", "null"]},
                    )
                ),
            ),
        },
        "/api/plans/{year}": {
            "get": _op("plan_get", "Danh mục hồ sơ của một năm", "retention", PLAN, (404,), parameters=[YEAR])
        },
        "/api/plans/{year}/approve": {
            "post": _op(
                "plan_approve",
                "Phê duyệt danh mục hồ sơ (lãnh đạo, không phải người lập)",
                "retention",
                PLAN,
                (404, 409),
                parameters=[YEAR],
                body=VERSION_BODY,
            )
        },
        "/api/plans/{year}/issue": {
            "post": _op(
                "plan_issue",
                "Ban hành danh mục hồ sơ đã duyệt (lãnh đạo)",
                "retention",
                PLAN,
                (404, 409),
                parameters=[YEAR],
                body=VERSION_BODY,
            )
        },
        "/api/plans/{year}/files": {
            "post": _op(
                "plan_open_file",
                "Mở hồ sơ theo danh mục hồ sơ đã ban hành",
                "retention",
                FILE,
                (404, 409),
                ok_status=201,
                parameters=[YEAR],
                body=_json_body(
                    _object(
                        ["notation"], notation=STRING, start_date=OPTIONAL_STRING, description=OPTIONAL_STRING
                    )
                ),
            )
        },
        "/api/files/{file_id}/closing": {
            "get": _op(
                "file_closing",
                "Kiểm tra trước khi kết thúc hồ sơ (thiếu dữ liệu, chưa vào sổ, trùng, dự thảo, thời hạn)",
                "retention",
                _object(["findings", "blocked"], findings={"type": "array"}, blocked={"type": "boolean"}),
                (404, 422),
                parameters=[
                    FILE_ID,
                    {
                        "name": "end_date",
                        "in": "query",
                        "required": True,
                        "schema": DAY,
                        "description": "Ngày kết thúc.",
                    },
                ],
            )
        },
        "/api/files/{file_id}/close": {
            "post": _op(
                "file_close",
                "Kết thúc hồ sơ: kiểm tra, điền số trang, lập mục lục",
                "retention",
                FILE,
                (404, 409),
                parameters=[FILE_ID],
                body=_json_body(
                    _object(["end_date", "expected_version"], end_date=DAY, expected_version=INTEGER)
                ),
            )
        },
        "/api/files/{file_id}/reopen": {
            "post": _op(
                "file_reopen",
                "Mở lại hồ sơ đã kết thúc (có lý do)",
                "retention",
                FILE,
                (404, 409),
                parameters=[FILE_ID],
                body=REASON_BODY,
            )
        },
        "/api/files/{file_id}/catalogue": {
            "get": _op(
                "file_catalogue",
                "Mục lục văn bản, tài liệu trong hồ sơ (Phụ lục V)",
                "retention",
                _object(["file", "rows"], file=FILE, rows={"type": "array", "items": {"type": "object"}}),
                (404,),
                parameters=[FILE_ID],
            )
        },
        "/api/files/{file_id}/submit": {
            "post": _op(
                "file_submit",
                "Nộp lưu hồ sơ đã kết thúc",
                "retention",
                FILE,
                (404, 409),
                parameters=[FILE_ID],
                body=VERSION_BODY,
            )
        },
        "/api/files/{file_id}/keep": {
            "post": _op(
                "file_keep",
                "Duyệt giữ lại hồ sơ đến hạn nộp lưu, tối đa 02 năm (lãnh đạo)",
                "retention",
                FILE,
                (404, 409),
                parameters=[FILE_ID],
                body=_json_body(
                    _object(
                        ["until", "reason", "expected_version"],
                        until=DAY,
                        reason=STRING,
                        expected_version=INTEGER,
                    )
                ),
            )
        },
        "/api/submissions": {
            "get": _op(
                "submission_inbox",
                "Hồ sơ chờ tiếp nhận nộp lưu (lưu trữ viên)",
                "retention",
                _page(FILE),
                (422,),
                parameters=PAGING,
            )
        },
        "/api/submissions/{file_id}/review": {
            "get": _op(
                "submission_review",
                "Kiểm tra hồ sơ nộp lưu: xác thực, toàn vẹn, định dạng, đầy đủ",
                "retention",
                _object(
                    ["file_id", "passed", "checks"],
                    file_id=STRING,
                    passed={"type": "boolean"},
                    checks={"type": "array"},
                ),
                (404,),
                parameters=[FILE_ID],
            )
        },
        "/api/submissions/{file_id}/accept": {
            "post": _op(
                "submission_accept",
                "Tiếp nhận hồ sơ nộp lưu vào lưu trữ cơ quan",
                "retention",
                FILE,
                (404, 409),
                parameters=[FILE_ID],
                body=VERSION_BODY,
            )
        },
        "/api/submissions/{file_id}/return": {
            "post": _op(
                "submission_return",
                "Trả lại hồ sơ nộp lưu kèm lý do",
                "retention",
                FILE,
                (404, 409),
                parameters=[FILE_ID],
                body=REASON_BODY,
            )
        },
    }
