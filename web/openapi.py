"""The OpenAPI 3.1 description of the JSON API (served at ``/api/openapi.json``).

This module is the one source of truth for the contract of :mod:`web.app`: every ``/api`` route
of the Flask app has an operation here and every operation here has a route (a test compares
both ways), and the property test (tests/web/test_api_schema.py) runs the document against the
real app: no 500, every answered status documented, every JSON body conforms.

Conventions:

* Authentication: ``Authorization: Bearer <token>`` (``POST /api/login`` or a personal access
  token a quản trị issued). Only login, the password change and this document are public.
* Errors: ``{"error": {"code", "message", "details"?}}`` — ``code`` is stable (a client branches
  on it), ``message`` is Vietnamese for people, ``details`` names e.g. the ``field``.
* Lists: one page, ``{"items", "page", "page_size", "total", "pages"}`` with ``?page=`` (from 1)
  and ``?page_size=`` (1…200, default 50); anything else is 422 ``PAGE_INVALID``.
* A method a path does not offer answers 405 ``METHOD_NOT_ALLOWED``; a body larger than the
  upload limit answers 413 ``FILE_TOO_LARGE`` before it is read, and a JSON or urlencoded body
  larger than 2 MiB (``web.app.SMALL_BODY_MAX``) 413 ``BODY_TOO_LARGE``.
"""

from __future__ import annotations

import copy
from typing import Any

from web.app import PAGE_MAX, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX

JSON = "application/json"

Schema = dict[str, Any]

STATUS_TEXT = {
    200: "Thành công.",
    201: "Đã tạo.",
    400: "Yêu cầu sai cú pháp: câu tìm kiếm không hợp lệ (SEARCH_…), nội dung multipart hỏng.",
    401: (
        "Chưa đăng nhập, hoặc mã truy cập không hợp lệ / đã bị thu hồi / hết hạn vì không dùng"
        " (AUTH_REQUIRED, TOKEN_INVALID, SESSION_EXPIRED), hoặc đã quá thời hạn (TOKEN_EXPIRED)."
    ),
    403: (
        "Bị từ chối: vai trò, phạm vi đơn vị, độ mật, tài khoản bị khóa hoặc phải đổi mật khẩu, mã"
        " truy cập chỉ đọc dùng để ghi (TOKEN_READ_ONLY). Với"
        " một văn bản/hồ sơ: chỉ người được biết đến nó (đơn vị giữ, được chia sẻ, người tạo, lãnh"
        " đạo cấp trên, quản trị, kiểm toán viên) mới nhận 403 và lý do."
    ),
    404: (
        "Không có (hoặc mã định danh sai dạng). Văn bản/hồ sơ có thật nhưng người hỏi không được biết"
        " đến nó cũng được trả lời đúng như mã không tồn tại (NOT_FOUND, cùng thông điệp)."
    ),
    405: "Phương thức không được hỗ trợ ở địa chỉ này.",
    409: "Xung đột: phiên bản đã thay đổi, trùng lặp, đã tồn tại.",
    410: "Nội dung đã bị hủy (khóa mã hóa đã bị xóa).",
    413: (
        "Nội dung quá lớn (FILE_TOO_LARGE; BODY_TOO_LARGE: JSON hoặc biểu mẫu quá 2 MiB;"
        " FORM_TOO_LARGE: một trường multipart quá 500 KB hoặc quá 1.000 phần)."
    ),
    422: "Dữ liệu không hợp lệ (mã lỗi và trường trong details).",
    429: "Quá nhiều lần đăng nhập sai cho tên này từ địa chỉ này (LOGIN_RATE_LIMITED).",
    500: "Lỗi hệ thống (INTERNAL_ERROR); sự cố được ghi lại, không có traceback.",
    503: "Kho lưu trữ tạm thời không truy cập được.",
    507: "Kho lưu trữ đã đầy.",
}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema_type: str, **extra: Any) -> Schema:
    return {"type": [schema_type, "null"], **extra}


def _page_of(item: str) -> Schema:
    return {
        "type": "object",
        "required": ["items", "page", "page_size", "total", "pages"],
        "properties": {
            "items": {"type": "array", "items": _ref(item)},
            "page": {"type": "integer", "minimum": 1},
            "page_size": {"type": "integer", "minimum": 1, "maximum": PAGE_SIZE_MAX},
            "total": {"type": "integer", "minimum": 0},
            "pages": {"type": "integer", "minimum": 1},
        },
    }


COUNT: Schema = {"type": "integer", "minimum": 0}


def _object(required: list[str], **properties: Schema) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


STRING: Schema = {"type": "string"}

ERROR_CODES: tuple[str, ...] = tuple(
    """
ACCOUNT_DOWNGRADED ACCOUNT_LOCKED ACCOUNT_NOT_FOUND ACCOUNT_NOT_LOCKED ACCOUNT_NOT_ROLLED_BACK
ACCOUNT_ROLLED_BACK ACCOUNT_SEAL_INVALID ACCOUNT_UNAUDITED ACCOUNT_UNSEALED ADMINS_CHANGING ALREADY_EXISTS
ANSWER_NOT_ISSUED
APPRAISAL_REQUIRED AUDIT_CHAIN_BROKEN AUDIT_HISTORY_BEHIND AUDIT_KEY_MISSING AUDIT_LOG_ACCEPTS
AUDIT_QUERY_INVALID AUDIT_SEAL_BROKEN AUDIT_SEAL_KEY_MISSING AUTH_REQUIRED BACKUP_INVALID
BACKUP_LOCK_UNAVAILABLE BACKUP_MANIFEST_SEAL_INVALID BACKUP_MANIFEST_UNSEALED BACKUP_RUNNING
BACKUP_TARGET_MISSING BACKUP_TIMEOUT BACKUP_UNSETTLED BODY_INVALID BODY_TOO_LARGE BUILT_ON_UNAUDITED
CAPACITY_TIMEOUT CHECKPOINT_FILE_INVALID CLAIM_NOT_A_FILE CLAIM_PENDING CONFIG_INVALID COUNCIL_INVALID
COUNCIL_MEMBER_REQUIRED
COUNCIL_NOT_AGREED CROSS_SITE_REFUSED CSRF_INVALID DATE_INVALID DAY_IN_FUTURE DEADLINE_PAST DEADLINE_TOO_LATE
DECISION_REQUIRED DESTRUCTION_DECISION_LAPSED DESTRUCTION_DOCUMENT_REMOVED DESTRUCTION_WRONG_STATE
DIRECTION_INVALID DOCUMENT_IN_ANOTHER_FILE DOCUMENT_IN_ARCHIVE DOC_FALLBACK_CATDOC
DOSSIER_DOCUMENT_NOT_READY DOSSIER_NOT_READY DUE_ALERTS_TIMEOUT DUPLICATE_DOCUMENT EXPLANATION_REQUIRED
EXPORT_FORMAT_INVALID FIELD_INVALID FIELD_REQUIRED
FILE_BEING_SUBMITTED FILE_BOMB FILE_CLOSED FILE_CORRUPT
FILE_DOCUMENT_ABSENT FILE_EMPTY FILE_ENCRYPTED FILE_EXISTS FILE_FORMAT_NOT_ALLOWED FILE_INVALID
FILE_NAME_INVALID FILE_NOT_CLOSED FILE_REQUIRED FILE_STATE_INVALID FILE_TEXT_TOO_LARGE
FILE_TOO_COMPLEX FILE_TOO_LARGE FILE_TOO_MANY_PAGES FILE_TYPE_MISMATCH FILE_UNREADABLE FILE_UNSUPPORTED
FIXITY_LOCK_UNAVAILABLE FIXITY_RUNNING RESTORE_BUSY RESTORE_LOCK_UNAVAILABLE
FINDINGS_CHANGED FIXITY_TIMEOUT FONT_MISSING FORMAT_INVALID FORMAT_UNSUPPORTED
HANDLING_DEADLINES_TIMEOUT HANDOVER_INVALID HOLD_EMPTY
HOLD_MISSING HOLD_REASON_REQUIRED ID_INVALID INGEST_ORIGINAL_PENDING INGEST_OUT_OF_MEMORY
INGEST_STEP_FAILED INGEST_TIMEOUT INGEST_WORKER_LOST INTAKE_NUMBERED_BEFORE INTEGRITY_FAILED
ITEMS_REQUIRED JOB_ID_INVALID JOB_NOT_FOUND KEEP_INVALID
KEEP_TOO_LONG KEY_DESTROYED KEY_NEVER_CREATED KHO_ERROR LEDGER_UNAVAILABLE LEGAL_HOLD LOGIN_FAILED
LOGIN_RATE_LIMITED
MASTER_KEY_MISMATCH METADATA_ARGUMENT_INVALID METADATA_FILE_INVALID METADATA_MISMATCH MINUTES_REQUIRED
METADATA_NOT_READ NOTHING_TO_ACKNOWLEDGE NOTHING_TO_CHAIN_AFTER NOT_A_PDF NOT_FOUND NOT_INCOMING
NOT_OUTGOING NOT_REGISTERED OCR_DISABLED OCR_FAILED OCR_KILLED OCR_LANG_FALLBACK
OCR_RETRIED_SMALLER OCR_TIMEOUT OCR_UNAVAILABLE
OPINION_INVALID PAGE_INVALID PAGE_NOT_FOUND PAGE_NOT_RENDERED PAGE_RENDERED_SMALLER PASSWORD_CHANGED_MEANWHILE
PASSWORD_CHANGE_REQUIRED PASSWORD_EXPIRED PASSWORD_MISSING PASSWORD_NOT_CONFIRMED
PASSWORD_RESET_EXPIRED PASSWORD_RESET_NOT_PENDING PERMISSION_DENIED PLAN_DUE_DATE_PAST
PLAN_ITEM_UNKNOWN PLAN_NOT_DRAFT PLAN_NOT_FOUND PLAN_NOT_ISSUED PLAN_SELF_APPROVAL PLAN_SELF_ISSUE
PLAN_STATE_INVALID PLAN_YEAR_INVALID PRINT_TOO_COMPLEX PRINT_UNAVAILABLE PUBLIC_KEY_INVALID REASON_INVALID
REASON_REQUIRED REASON_TOO_LONG REAUTH_UNAVAILABLE RECALL_ALREADY_DONE RECALL_IN_PROGRESS RECALL_OTHER_ORDER
RECALL_NOT_OPEN RECALL_REF_REQUIRED RECALL_WITHDRAWN RECALL_WITHDRAW_NOT_ALLOWED RECALL_WRONG_DIRECTION
RECEIPT_EXISTS RECEIPT_REQUIRED RECORD_BEING_DESTROYED
RECORD_DESTROYED RECORD_ID_INVALID RECORD_MOVE_DENIED
RECORD_NOT_REGISTERED RECORD_RETURNED RECORD_UNREADABLE RECOVERY_LOCK_REASON RECOVERY_NOT_ADMIN
RECOVERY_NOT_NEEDED REGISTER_SERIES_AMBIGUOUS REGISTER_SERIES_UNKNOWN RESTORE_HISTORY_BEHIND
RESTORE_KEYS_BEHIND RESTORE_LEDGER_UNREACHABLE RESTORE_REASON_REQUIRED RETENTION_LOCKED RETURN_REASON_REQUIRED
REVIEWS_INCOMPLETE ROLES_CHANGED_MEANWHILE ROLE_INVALID S3_CONDITIONS_IGNORED SAVED_SEARCH_LIMIT
SAVED_SEARCH_NOT_FOUND SEAL_KEY_MISSING SEARCH_DATE_INVALID SEARCH_INDEX_READ_ONLY SEARCH_INDEX_UNAVAILABLE
SEARCH_PAGE_INVALID SEARCH_QUERY_INVALID SEARCH_QUERY_TOO_LONG SEARCH_SORT_INVALID SECRECY_LOWER_DENIED
SECRECY_LOWER_ONLY SECRECY_REASON_REQUIRED SELF_APPROVAL
SESSION_ENDED SESSION_EXPIRED SIGNED_OUT_MEANWHILE SIGNATURES_NOT_CHECKED SIGNATURE_FAILED
SIGNER_MISMATCH SIGNING_FAILED
SIP_ALREADY_TRANSFERRED SIP_CHECKSUM_MISMATCH SIP_DATE_IN_FUTURE SIP_DATE_INVALID SIP_CHECKSUM_MISSING
SIP_DUPLICATE_NAME SIP_ENCRYPTED
SIP_FILE_LISTED_TWICE SIP_HIDDEN_ENTRY SIP_HIDDEN_PDF SIP_SIGNATURE_INVALID
SIP_FILE_MISSING SIP_FILE_UNLISTED SIP_INVALID SIP_LAYOUT SIP_METS_INVALID SIP_METS_MISSING
SIP_METS_REFERENCE SIP_NOT_CLOSED SIP_REFERENCE_AMBIGUOUS SIP_NOT_FILE SIP_NOT_PERMANENT
SIP_NOT_ZIP SIP_TOO_LARGE SIP_UNSAFE_NAME SIP_UNSAFE_PATH
SIP_OVERLAP SIP_REPLAYED SIP_RESENT SIP_TIME_LIMIT SIP_UNSAFE_TEXT SIP_XML_CONTROL_CHARACTER SIP_XML_INVALID
SIP_XML_UNSAFE
SOURCE_CHANGED SOURCE_HIDDEN SOURCE_MISSING SOURCE_NAME_NOT_UTF8 SOURCE_NOT_FILE SOURCE_SYMLINK
SOURCE_SYSTEM_FILE SOURCE_UNREADABLE
STATUS_IMPORT_INVALID STORE_FULL STORE_RESTORING STORE_UNAVAILABLE STORE_VERSIONING_OFF
SUBMISSION_CHECKS_FAILED SUBMISSION_SELF_ACCEPT
SUBMISSION_STATE_INVALID TARGET_LOCKED TARGET_NO_CLEARANCE TARGET_NOT_HANDLER TARGET_UNKNOWN
TEXT_ENCODING_GUESSED TEXT_EXTRACTION_FAILED TIKA_UNAVAILABLE TOKEN_INVALID TOKEN_NOT_FOUND TOKEN_SEAL_INVALID
TRUSTED_PROXIES_TOO_WIDE
TRUST_ANCHOR_EXISTS TRUST_ANCHOR_INVALID TRUST_ANCHOR_NOT_CA TRUST_ANCHOR_NOT_FOUND
TRUST_CRL_EXISTS TRUST_CRL_INDIRECT TRUST_CRL_INVALID TRUST_CRL_ISSUER_UNKNOWN TRUST_CRL_NOT_FOUND
TRUST_CRL_SIGNATURE_INVALID
TRUST_LIST_FORMAT_UNKNOWN
TRUST_LIST_INVALID TRUST_LIST_MISMATCH TRUST_SOURCE_MISSING TRUST_STORE_INVALID TRUST_STORE_MISSING
TSA_UNAVAILABLE UNAUDITED UNIT_DOWNGRADED UNIT_NOT_FOUND UNIT_SEAL_INVALID
UNIT_NOT_ROLLED_BACK UNIT_PARENT_CYCLE UNIT_ROLLED_BACK UNIT_ROLLBACK_NOTHING_STORED
UNIT_ROLLBACK_STATE_UNKNOWN VALIDATION_FAILED
VALIDATOR_FAILED VALIDATOR_UNAVAILABLE VERSION_CONFLICT VERSION_IS_CURRENT WORKFLOW_CONFLICT WORKFLOW_REFUSED
AGENCY_HEAD_ONLY FILE_OTHER_UNIT HANDOVER_NOT_YOURS
GRANT_NOT_YOURS LOCK_OTHER_UNIT
ASSIGNEE_OTHER_UNIT DESTRUCTION_OTHER_UNIT DESTRUCTION_SECRECY_DENIED GRANT_READ_ONLY HOLD_NOT_YOURS
LAST_ADMIN
NOT_ASSIGNER RECORD_RECALLED RESET_SAME_PERSON SECRECY_CLEARANCE_DENIED SECRECY_DENIED SELF_CHANGE SELF_GRANT
SUBMISSION_OTHER_UNIT CLEARANCE_PASSWORD_OUTSTANDING CLEARANCE_OPERATOR_INACTIVE
CLEARANCE_OPERATOR_NOT_NEEDED CLEARANCE_OPERATOR_RAISE_ONLY
CLEARANCE_OPERATOR_ROLE
ANSWER_MISSING ANSWER_REQUIRED DEADLINE_AFTER_DIRECTION DEADLINE_INVALID DEADLINE_IN_PAST
DEADLINE_REQUIRED EXTENSION_DATE_INVALID EXTENSION_PENDING EXTENSION_TOO_LATE HANDLING_FINISHED
INTERNAL_ERROR NOT_A_FILE NO_EXTENSION_PENDING RECOVERY_NOT_AUDITOR STATUS_CODE_UNKNOWN
TARGET_NOT_ALLOWED TARGET_REQUIRED TASK_CONTENT_REQUIRED TASK_EXISTS TASK_FINISHED TASK_ID_INVALID
TASK_NOT_FOUND TASK_NOT_OPEN TASK_NOT_REPORTED VERSION_INVALID
AUDIT_EXPORT_WITHHELD DOCUMENT_DESTROYED DOCUMENT_DRAFT DOCUMENT_DUPLICATE DOCUMENT_METADATA_MISSING
DOCUMENT_NOT_REGISTERED FILE_END_BEFORE_DOCUMENTS FILE_END_DATE_INVALID INGEST_FAILED OCR_NOT_RUN
PAGE_COUNT_UNKNOWN RETENTION_BELOW_PLAN SUBMISSION_NOT_RECEIVED
PASSWORD_NOT_TEXT DESTRUCTION_NOT_APPROVED RETENTION_BELOW_EARLIER_CLOSING
DESTRUCTION_STEPS_UNRECORDED DESTRUCTION_DOCUMENT_ADDED DOCUMENT_UNDER_HANDLING
TOKEN_EXPIRED TOKEN_READ_ONLY TOKEN_LIFETIME_INVALID TOKEN_SCOPE_INVALID
RESTORE_OTHER_INSTALLATION INSTALLATION_INVALID
HANDLING_STEPS_MISSING
FSCK_ALREADY_ACKNOWLEDGED FSCK_FINDING_CHANGED FSCK_FINDING_NOT_FOUND FSCK_FINDING_OTHER_AGENCY
FSCK_KIND_NOT_ACKNOWLEDGEABLE FSCK_KIND_UNKNOWN
CLI_ABORTED CLI_ARGUMENT_EXTRA CLI_ARGUMENT_MISSING CLI_COMMAND_UNKNOWN CLI_OPTION_INVALID
CLI_OPTION_MISSING CLI_OPTION_UNKNOWN CLI_USAGE_INVALID CLI_VALUE_INVALID
""".split()  # noqa: SIM905 (a word list, one code per word)
)
"""Every stable code an answer's ``error.code`` may carry, listed in the spec (the ``Error``
schema's ``x-codes``). ``tests/web/test_api_schema.py`` finds each code the code base raises
(``code="…"``, a class's ``code``, a string given by position to a parameter named ``code``) and
fails when one is missing here."""

FIELD_ERROR_CODES: tuple[str, ...] = tuple(
    """
ADVISORY_BODY_INVALID ARRIVAL_DATE_IN_FUTURE CLEARANCE_INVALID CLEARANCE_REASON_REQUIRED
CODE_LOOKALIKE_CHARS CODE_NOTATION_INVALID CODE_NUMBER_ASSIGNED_BY_REGISTER CODE_NUMBER_INVALID
DATE_ORDER_INVALID DOCUMENT_TYPE_UNKNOWN EMAIL_INVALID FIELD_CONTROL_CHARS FIELD_INVALID_DATE
FIELD_NOT_FOR_DIRECTION FIELD_NOT_LIST FIELD_NOT_NUMBER FIELD_NOT_TEXT FIELD_OUT_OF_RANGE
FIELD_TOO_LONG FIELD_UNKNOWN FILE_CODE_INVALID FILE_NOTATION_INVALID FULL_NAME_INVALID
GRANT_UNIT_UNKNOWN GRANT_USER_UNKNOWN ISSUED_DATE_NOT_TODAY LOCK_REASON_INVALID MAINTENANCE_INVALID
ORGAN_ID_INVALID ORGAN_ID_UNKNOWN PASSWORD_REUSED PLAN_ABBREVIATION_INVALID PLAN_HEADINGS_REQUIRED
PLAN_HEADING_DUPLICATE PLAN_HEADING_NUMBER_INVALID PLAN_HEADING_UNKNOWN PLAN_ITEMS_REQUIRED
PLAN_NOTATION_DUPLICATE PLAN_NOTATION_INVALID PLAN_NUMBERING_INVALID RECOVERY_REASON_REQUIRED
RETENTION_INVALID ROLES_REQUIRED ROLE_NOT_HELD ROLLBACK_REASON_REQUIRED SAVED_SEARCH_NAME_INVALID
SAVED_SEARCH_NAME_REQUIRED
SAVED_SEARCH_TOO_LARGE SCHEDULE_CODE_DUPLICATE SCHEDULE_INVALID SECRECY_INVALID UNIT_CODE_INVALID
UNIT_CODE_TAKEN UNIT_EXISTS UNIT_ID_INVALID UNIT_NAME_INVALID UNIT_NAME_REQUIRED UNIT_PARENT_CYCLE
UNIT_ROOT_EXISTS UNIT_ROOT_FIXED URGENCY_INVALID USERNAME_EXHAUSTED
""".split()  # noqa: SIM905 (a word list, one code per word)
)
"""Every stable code one invalid field may carry inside a ``VALIDATION_FAILED`` answer
(``error.details.errors[].code``), listed in the spec (the ``Error`` schema's
``details.x-field-codes``). The same test fails when a field code is in neither list."""

SCHEMAS: dict[str, Schema] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {
                        "type": "string",
                        "pattern": "^[A-Z][A-Z0-9_]*$",
                        "description": "Mã ổn định để máy xử lý; danh sách mọi mã ở x-codes.",
                        "x-codes": list(ERROR_CODES),
                    },
                    "message": {"type": "string", "minLength": 1},
                    "details": {
                        "type": "object",
                        "description": "VALIDATION_FAILED: errors[] liệt kê từng trường sai "
                        "(field, code, message); mã của chúng ở x-field-codes.",
                        "x-field-codes": list(FIELD_ERROR_CODES),
                    },
                },
            }
        },
    },
    "Ok": {"type": "object", "required": ["ok"], "properties": {"ok": {"const": True}}},
    "Record": {
        "type": "object",
        "description": "One version of a văn bản (document) or hồ sơ (file).",
        "required": ["record_id", "version", "kind", "created_at", "actor", "state"],
        "properties": {
            "record_id": {"type": "string", "pattern": "^[0-9a-f]{24}$"},
            "document_id": _nullable("string"),
            "version": {"type": "integer", "minimum": 0},
            "kind": {"type": "string"},
            "created_at": {"type": "string"},
            "actor": {"type": "string"},
            "metadata": _nullable("object"),
            "files": {"type": "array", "items": {"type": "object"}},
            "registration": _nullable("object"),
            "documents": {"type": "array", "items": {"type": "string"}},
            "state": {"type": "string"},
            "note": _nullable("string"),
            "extra": {"type": "object"},
            "grant_users": {"type": "array", "items": {"type": "string"}},
            "grant_units": {"type": "array", "items": {"type": "string"}},
            "created_by": _nullable("string"),
            "format_version": {"type": "integer"},
        },
    },
    "Review": {
        "type": "object",
        "description": "A received document before confirmation: its checks and suggestions.",
        "required": ["record", "signature_verdict", "needs_override", "suggested", "confidence"],
        "properties": {
            "record": _ref("Record"),
            "signature_verdict": _nullable("string"),
            "signature_explanation": _nullable("string"),
            "return_reason": _nullable("string"),
            "needs_override": {"type": "boolean"},
            "suggested": {"type": "object"},
            "confidence": {"type": "object", "additionalProperties": {"type": "number"}},
            "duplicate_of": _nullable("string"),
        },
    },
    "AuditEvent": {
        "type": "object",
        "required": ["seq", "at", "actor", "action", "record_id", "version", "source", "details", "hash"],
        "properties": {
            "seq": {"type": "integer"},
            "at": {"type": "string"},
            "actor": {"type": "string"},
            "action": {"type": "string"},
            "record_id": _nullable("string"),
            "version": _nullable("integer"),
            "source": _nullable("string"),
            "details": {"type": "object"},
            "prev": {"type": "string"},
            "hash": {"type": "string"},
            "format_version": _nullable("integer"),
        },
    },
    "Membership": {
        "type": "object",
        "required": ["unit", "role"],
        "properties": {"unit": {"type": "string"}, "role": {"type": "string"}},
    },
    "Account": {
        "type": "object",
        "description": "An account as it may be shown: never the password hash.",
        "required": ["username", "full_name", "memberships", "clearance", "status"],
        "not": {"required": ["password_hash"]},
        "properties": {
            "username": {"type": "string"},
            "full_name": {"type": "string"},
            "email": _nullable("string"),
            "memberships": {"type": "array", "items": _ref("Membership")},
            "clearance": {"type": "integer", "minimum": 0, "maximum": 3},
            "password_changed_at": _nullable("string"),
            "must_change_password": {"type": "boolean"},
            "failed_logins": {"type": "integer"},
            "last_login_at": _nullable("string"),
            "created_at": _nullable("string"),
            "status": {"type": "string"},
            "lock_reason": _nullable("string"),
            "version": {"type": "integer"},
            "unlocked_at": _nullable("string"),
            "lock_until": {
                "type": "string",
                "description": "When a lock for wrong passwords ends by itself (KHO_LOGIN_LOCK_HOURS);"
                " absent for every other lock.",
            },
            "failures_since": {
                "type": "string",
                "description": "The first wrong password of the present run: sessions opened before it"
                " survive a lock for wrong passwords.",
            },
            "last_failed_at": {"type": "string"},
            "sessions_valid_from": {
                "type": "string",
                "description": "A lock by a quản trị ended every session and token opened up to then.",
            },
            "lock_ended_at": {
                "type": "string",
                "description": "When the newest lock for wrong passwords ended (expiry or unlock); a run"
                " of wrong passwords beginning within one lock period of it re-locks, ending every session.",
            },
            "untrusted_failures": {
                "type": "integer",
                "description": "Wrong passwords in a row from browsers or clients without a device token"
                " of the account (they never lock the account itself).",
            },
            "untrusted_failed_at": {"type": "string"},
            "untrusted_lock_until": {
                "type": "string",
                "description": "Until when logins without a device token of the account are refused"
                " (ACCOUNT_LOCKED, reason untrusted_browser); the account, its sessions and the browsers"
                " that logged in before are not affected. From a network the account logged in from,"
                " network_lock_until holds instead.",
            },
            "network_failures": {
                "type": "integer",
                "description": "Wrong passwords in a row from new browsers or clients on a network the"
                " account logged in from with the right password (its own budget, review a22).",
            },
            "network_failed_at": {"type": "string"},
            "network_lock_until": {
                "type": "string",
                "description": "Until when logins without a device token from a known network are"
                " refused (ACCOUNT_LOCKED, reason untrusted_browser); wrong passwords from elsewhere"
                " never set it.",
            },
            "changed_at": _nullable("string"),
            "changed_by": _nullable("string"),
            "reset": {
                "type": ["object", "null"],
                "description": "A two-person password reset, or a new account's two-person initial"
                " password (new_account), not yet followed by the person's own change: who reset or"
                " created and when, who confirmed and when (never a hash of a half).",
                "not": {"required": ["first_hash"]},
                "properties": {
                    "by": STRING,
                    "at": STRING,
                    "confirmed_by": STRING,
                    "confirmed_at": _nullable("string"),
                    "new_account": {"type": "boolean"},
                },
            },
            "format_version": {"type": "integer"},
        },
    },
    "Notification": {
        "type": "object",
        "required": ["notification_id", "at", "kind", "message"],
        "properties": {
            "notification_id": {"type": "string"},
            "username": {"type": "string"},
            "at": _nullable("string"),
            "kind": {"type": "string"},
            "message": {"type": "string"},
            "actor": {"type": "string"},
            "record_id": _nullable("string"),
            "format_version": {"type": "integer"},
        },
    },
    "Unit": {
        "type": "object",
        "required": ["unit_id", "name", "parent_id", "code"],
        "properties": {
            "unit_id": {"type": "string"},
            "name": {"type": "string"},
            "parent_id": _nullable("string"),
            "code": {"type": "string"},
            "version": {"type": "integer"},
            "created_at": _nullable("string"),
            "actor": {"type": "string"},
            "format_version": {"type": "integer"},
        },
    },
    "Token": {
        "type": "object",
        "description": "A personal access token as listed: named by the SHA-256 of its secret, "
        "which is shown once when it is issued and never stored.",
        "required": ["digest", "name", "created_at", "created_by", "revoked", "expires_at", "scope"],
        "additionalProperties": False,
        "properties": {
            "digest": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "name": {"type": "string"},
            "created_at": {"type": "string"},
            "created_by": {"type": "string"},
            "revoked": {"type": "boolean"},
            "expires_at": {
                "type": "string",
                "description": "Hết hiệu lực lúc này (TOKEN_EXPIRED); mã cấp trước khi có thời hạn: 365 ngày"
                " sau khi cấp.",
            },
            "scope": {
                "type": "string",
                "enum": ["read", "read-write"],
                "description": "read: chỉ GET/HEAD/OPTIONS (mọi yêu cầu khác: TOKEN_READ_ONLY, 403).",
            },
        },
    },
    "SearchResult": {
        "type": "object",
        "required": ["hits", "total", "page", "page_size", "pages", "facets"],
        "properties": {
            "hits": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "version", "title"],
                    "properties": {
                        "id": {"type": "string"},
                        "version": {"type": "integer"},
                        "title": {"type": "string"},
                        "highlights": {"type": "array", "items": {"type": "object"}},
                    },
                },
            },
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer"},
            "page_size": {"type": "integer"},
            "pages": {"type": "integer"},
            "facets": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "values"],
                    "properties": {
                        "name": {"type": "string"},
                        "values": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["value", "count", "label"],
                                "properties": {
                                    "value": {"type": "string", "description": "Giá trị dùng để lọc."},
                                    "count": {"type": "integer"},
                                    "label": {
                                        "type": "string",
                                        "description": "Nhãn tiếng Việt (tên đơn vị, không phải mã).",
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
    "AuditVerification": {
        "type": "object",
        "required": ["ok", "events", "findings"],
        "properties": {
            "ok": {"type": "boolean"},
            "events": {"type": "integer"},
            "findings": {"type": "array", "items": {"type": "object"}},
            "findings_digest": {
                "type": ["string", "null"],
                "description": "Mã tóm tắt các phát hiện chưa được chấp nhận (gửi lại khi chấp nhận).",
            },
        },
    },
    "AuditAcknowledgement": {
        "type": "object",
        "required": ["ok", "event", "checkpoint", "findings"],
        "properties": {
            "ok": {"type": "boolean"},
            "event": {"type": "integer"},
            "checkpoint": {"type": "integer"},
            "findings": {"type": "array", "items": {"type": "object"}},
        },
    },
    "Handling": {
        "type": "object",
        "description": "Phiếu giải quyết: trạng thái suy ra từ các bước (Phụ lục VI trường 17, 18).",
        "required": ["record_id", "seq", "status", "tasks", "steps", "trace"],
        "properties": {
            "record_id": {"type": "string"},
            "seq": {"type": "integer"},
            "status": {
                "type": "string",
                "enum": ["new", "submitted", "assigned", "in_progress", "done", "file_only"],
            },
            "status_label": {"type": "string"},
            "deadline": {"type": ["string", "null"]},
            "leaders": {"type": "array", "items": {"type": "string"}},
            "units": {"type": "array", "items": {"type": "string"}},
            "directed_by": {"type": "string"},
            "tasks": {"type": "array", "items": {"type": "object"}},
            "answers": {"type": "array", "items": {"type": "object"}},
            "outgoing": {"type": "array", "items": {"type": "object"}},
            "steps": {"type": "array", "items": {"type": "object"}},
            "trace": {"type": "string"},
            "phu_luc_vi": {
                "type": "object",
                "description": "Trường 16–18 Phụ lục VI: ToPlaces, TraceHeaderList, DueDate.",
            },
        },
    },
    "Work": {
        "type": "object",
        "required": ["counts", "items"],
        "properties": {
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            "items": {"type": "array", "items": {"type": "object"}},
        },
    },
    "HandlingReport": {
        "type": "object",
        "required": ["start", "end", "kind", "total", "totals", "rows"],
        "properties": {
            "start": {"type": "string"},
            "end": {"type": "string"},
            "unit": {"type": "string"},
            "kind": {"type": "string", "enum": ["den", "di"]},
            "total": {"type": "integer"},
            "totals": {"type": "object", "additionalProperties": {"type": "integer"}},
            "rows": {"type": "array", "items": {"type": "object"}},
        },
    },
    "HandlingTotals": {
        "type": "object",
        "required": ["start", "end", "unit", "kind", "total", "totals", "by_unit"],
        "additionalProperties": False,
        "properties": {
            "start": {"type": "string"},
            "end": {"type": "string"},
            "unit": {"type": "string"},
            "kind": {"type": "string", "enum": ["den", "di"]},
            "total": {"type": "integer"},
            "totals": {"type": "object", "additionalProperties": {"type": "integer"}},
            "by_unit": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["unit", "name", "total", "totals"],
                    "properties": {
                        "unit": {"type": "string"},
                        "name": {"type": "string"},
                        "total": {"type": "integer"},
                        "totals": {"type": "object", "additionalProperties": {"type": "integer"}},
                    },
                },
            },
        },
    },
    "Page_Record": _page_of("Record"),
    "Page_Register": {
        **_page_of("Record"),
        "required": [*_page_of("Record")["required"], "numbers_lost_in_backup"],
        "properties": {
            **_page_of("Record")["properties"],
            "numbers_lost_in_backup": {
                "type": ["object", "null"],
                "description": "Các số đã cấp trước khi sao lưu mà văn bản không có trong bản sao đã"
                " khôi phục (bỏ qua, không cấp lại); null khi sổ không có số nào như vậy.",
                "required": ["numbers", "records", "backup_id", "next", "message"],
                "properties": {
                    "numbers": {"type": "array", "items": {"type": "integer", "minimum": 1}},
                    "records": {
                        "type": "array",
                        "description": "Văn bản đã nhận các số đó; rỗng với người không giữ vai trò xem"
                        " sổ ở chính cơ quan (văn thư của phòng, đơn vị chỉ biết là thiếu số).",
                        "items": _object(
                            ["number", "record_id", "seq"],
                            number={"type": "integer", "minimum": 1},
                            record_id=STRING,
                            seq={"type": "integer"},
                        ),
                    },
                    "backup_id": _nullable("string"),
                    "next": {"type": "integer", "minimum": 1},
                    "message": STRING,
                },
            },
        },
    },
    "Page_Review": _page_of("Review"),
    "Page_AuditEvent": _page_of("AuditEvent"),
    "Page_Unit": _page_of("Unit"),
    "Page_Account": _page_of("Account"),
    "Page_Token": _page_of("Token"),
    "SavedSearch": {
        "type": "object",
        "required": ["search_id", "name", "query", "filters", "columns", "created_at"],
        "additionalProperties": False,
        "properties": {
            "search_id": {"type": "string", "pattern": "^[0-9a-f]{24}$"},
            "name": {"type": "string"},
            "query": {"type": "string"},
            "filters": {
                "type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}
            },
            "columns": {"type": "array", "items": {"type": "string"}},
            "created_at": {"type": "string"},
        },
    },
    "Page_SavedSearch": _page_of("SavedSearch"),
    "VersionChanges": {
        "type": "object",
        "description": "One version of a record and what changed from the one before it"
        " (labels in Vietnamese).",
        "required": ["version", "created_at", "actor", "note", "changes"],
        "properties": {
            "version": {"type": "integer", "minimum": 1},
            "created_at": {"type": "string"},
            "actor": {"type": "string"},
            "note": _nullable("string"),
            "changes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "label", "before", "after"],
                    "properties": {
                        "field": {"type": "string"},
                        "label": {"type": "string"},
                        "before": {"type": "string"},
                        "after": {"type": "string"},
                    },
                },
            },
        },
    },
    "Page_VersionChanges": _page_of("VersionChanges"),
    "Grants": {
        "type": "object",
        "required": ["kind", "users", "units"],
        "properties": {
            "kind": {"type": "string", "enum": ["den", "di", "hoso"]},
            "users": {"type": "array", "items": {"type": "string"}},
            "units": {"type": "array", "items": {"type": "string"}},
        },
    },
    "AccessStats": {
        "type": "object",
        "description": "Access counts for a period (Phụ lục VI III.6.a, b).",
        "required": ["total", "by_person", "by_unit", "by_action", "by_record"],
        "properties": {
            "total": {"type": "integer", "minimum": 0},
            "by_person": {"type": "array", "items": _object(["user", "count"], user=STRING, count=COUNT)},
            "by_unit": {
                "type": "array",
                "items": _object(["unit", "name", "count"], unit=STRING, name=STRING, count=COUNT),
            },
            "by_action": {"type": "array", "items": _object(["action", "count"], action=STRING, count=COUNT)},
            "by_record": {
                "type": "array", "items": _object(["record_id", "count"], record_id=STRING, count=COUNT)
            },
        },
    },
}

# -- parameters -------------------------------------------------------------------------------

RECORD_ID: Schema = {"type": "string", "pattern": "^[0-9a-f]{24}$"}
USERNAME: Schema = {"type": "string", "pattern": "^[a-z0-9][a-z0-9.\\-]{0,63}$"}


def _path(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


def _query(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


PARAMETERS: dict[str, Schema] = {
    "record_id": _path("record_id", RECORD_ID, "Mã văn bản/hồ sơ (24 chữ số thập lục phân)."),
    "username": _path("username", USERNAME, "Tên tài khoản."),
    "page": _query(
        "page", {"type": "integer", "minimum": 1, "maximum": PAGE_MAX, "default": 1}, "Trang (từ 1)."
    ),
    "page_size": _query(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": PAGE_SIZE_MAX, "default": PAGE_SIZE_DEFAULT},
        f"Số mục mỗi trang (1…{PAGE_SIZE_MAX}).",
    ),
}


def _param(name: str) -> Schema:
    return {"$ref": f"#/components/parameters/{name}"}


PAGING = [_param("page"), _param("page_size")]

# -- bodies -----------------------------------------------------------------------------------


def BINARY(*media_types: str) -> dict[str, Any]:
    """The content of a file answer (PNG, PDF, CSV, DOCX, XLSX)."""
    return {t: {"schema": {"type": "string", "format": "binary"}} for t in media_types}


OPTIONAL_STRING: Schema = {"type": ["string", "null"]}
STRINGS: Schema = {"type": "array", "items": {"type": "string"}}


def _json_body(schema: Schema) -> Schema:
    return {"required": True, "content": {JSON: {"schema": schema}}}


def _multipart(schema: Schema) -> Schema:
    return {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": schema,
                "encoding": {"file": {"contentType": "application/octet-stream"}},
            }
        },
    }


# -- operations -------------------------------------------------------------------------------


def _response(status: int, schema: Schema | None) -> Schema:
    answer: Schema = {"description": STATUS_TEXT[status]}
    if schema is not None:
        answer["content"] = {JSON: {"schema": schema}}
    return answer


def _op(
    operation_id: str,
    summary: str,
    tag: str,
    ok: Schema,
    errors: tuple[int, ...],
    *,
    ok_status: int = 200,
    parameters: list[Schema] | None = None,
    body: Schema | None = None,
    public: bool = False,
    ok_content: dict[str, Any] | None = None,
) -> Schema:
    responses: dict[str, Schema] = {}
    responses[str(ok_status)] = (
        {"description": STATUS_TEXT[ok_status], "content": ok_content}
        if ok_content
        else _response(ok_status, ok)
    )
    # Every route may fail on the server side; each answers the error body then.
    statuses = set(errors) | {500, 503}
    if not public:
        statuses |= {401, 403}
    if body is not None:
        statuses |= {413, 422}
    for status in sorted(statuses):
        responses[str(status)] = {"$ref": f"#/components/responses/E{status}"}
    operation: Schema = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "responses": responses,
    }
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = body
    if public:
        operation["security"] = []
    return operation


RID = [_param("record_id")]
USER = [_param("username")]
METADATA_FORM: dict[str, Schema] = {
    "advisory_body": {"type": "string", "description": "Đơn vị tham mưu."},
    "override_reason": {
        "type": "string",
        "description": (
            "Lý do đăng ký dù chữ ký không hợp lệ, người ký hoặc thông tin văn bản đến không khớp với"
            " tệp (409 METADATA_MISMATCH)."
        ),
    },
    "duplicate_reason": {"type": "string", "description": "Lý do đăng ký lại một văn bản trùng."},
}


def _handling_paths() -> dict[str, dict[str, Schema]]:
    """Handling incoming documents (issue 15): trình, chỉ đạo, giao xử lý, theo dõi, báo cáo."""
    day: Schema = {"type": "string", "format": "date"}
    acts = ["submit", "forward", "direct", "assign", "add_task", "progress", "answer", "file_only",
            "request_extension", "decide_extension", "report_done", "approve_done", "redo", "outgoing_status"]
    step = _object(
        ["act", "expected_seq"],
        act={"type": "string", "enum": acts},
        expected_seq={"type": "integer", "minimum": 0, "description": "Số bước đã thấy (chống ghi đè)."},
        task=STRING,
        users=STRINGS,
        units=STRINGS,
        cooperate_users=STRINGS,
        cooperate_units=STRINGS,
        deadline=day,
        note=STRING,
        content=STRING,
        ref=RECORD_ID,
        approved={"type": "boolean"},
        code={"type": "string", "enum": ["01", "02", "03", "04", "05", "06", "13", "15", "16"]},
        organ=STRING,
    )
    return {
        "/api/handling/{record_id}": {
            "get": _op(
                "handling_show",
                "Phiếu giải quyết của một văn bản",
                "handling",
                _ref("Handling"),
                (404,),
                parameters=RID,
            )
        },
        "/api/handling/{record_id}/steps": {
            "post": _op(
                "handling_step",
                "Ghi một bước xử lý (trình, chỉ đạo, giao, tiến độ, gia hạn, hoàn thành, trạng thái đi)",
                "handling",
                _ref("Handling"),
                (404, 409),
                ok_status=201,
                parameters=RID,
                body=_json_body(step),
            )
        },
        "/api/work": {
            "get": _op("my_work", "Việc của tôi: số việc và danh sách", "handling", _ref("Work"), ())
        },
        "/api/handling/report": {
            "get": _op(
                "handling_report",
                "Báo cáo tình hình giải quyết văn bản đến/đi (Phụ lục VI V.2, V.4)",
                "handling",
                _ref("HandlingReport"),
                (422,),
                parameters=[
                    _query("start", day, "Từ ngày (mặc định: đầu tháng)."),
                    _query("end", day, "Đến ngày (mặc định: hôm nay)."),
                    _query("unit", STRING, "Mã đơn vị."),
                    _query(
                        "kind", {"type": "string", "enum": ["den", "di"]}, "den: văn bản đến; di: văn bản đi."
                    ),
                ],
            )
        },
    }


def _paths() -> dict[str, dict[str, Schema]]:
    return {**_core_paths(), **_handling_paths()}


DEVICE: Schema = {
    "type": ["string", "null"],
    "description": "The device token of this client for the account: given at each login and password"
    " change, sent back at the next. Without a valid one, wrong passwords lock only logins without one"
    " (the account, its sessions and its known clients are not affected).",
}


def _core_paths() -> dict[str, dict[str, Schema]]:
    record, page_record = _ref("Record"), _ref("Page_Record")
    account, ok = _ref("Account"), _ref("Ok")
    return {
        "/api/openapi.json": {
            "get": _op("openapi", "Tài liệu OpenAPI này", "meta", {"type": "object"}, (), public=True)
        },
        "/api/login": {
            "post": _op(
                "login",
                "Đăng nhập, nhận mã truy cập",
                "accounts",
                _object(["token", "account"], token=STRING, account=account, device=DEVICE),
                (401, 403, 429),
                body=_json_body(
                    _object(["username", "password"], username=STRING, password=STRING, device=DEVICE)
                ),
                public=True,
            )
        },
        "/api/password": {
            "post": _op(
                "change_password",
                "Đổi mật khẩu bằng mật khẩu cũ (kể cả lần đăng nhập đầu)",
                "accounts",
                _object(["ok"], ok={"const": True}, device=DEVICE),
                (401, 403, 429),
                body=_json_body(
                    _object(
                        ["username", "old_password", "new_password"],
                        username=STRING,
                        old_password=STRING,
                        new_password=STRING,
                        device=DEVICE,
                    )
                ),
                public=True,
            )
        },
        "/api/logout": {"post": _op("logout", "Thu hồi mã truy cập đang dùng", "accounts", ok, ())},
        "/api/sign-out-everywhere": {
            "post": _op(
                "sign_out_everywhere",
                "Đăng xuất khỏi mọi trình duyệt và thiết bị khác (giữ mã truy cập đang dùng)",
                "accounts",
                _object(["ok", "device"], ok={"const": True}, device=DEVICE),
                (),
            )
        },
        "/api/me": {
            "get": _op(
                "me",
                "Tài khoản đang đăng nhập và thông báo",
                "accounts",
                _object(
                    ["account", "notifications"],
                    account=account,
                    notifications={"type": "array", "items": _ref("Notification")},
                ),
                (),
            )
        },
        "/api/records": {
            "post": _op(
                "create_record",
                "Đăng ký văn bản đến/đi (có hoặc không có tệp)",
                "records",
                record,
                (400, 404, 409),
                ok_status=201,
                body=_multipart(
                    _object(
                        ["direction"],
                        direction={"type": "string", "enum": ["den", "di"]},
                        metadata={"type": "string", "description": "Đối tượng JSON các trường siêu dữ liệu."},
                        register={"type": "string", "enum": ["true", "false"]},
                        file={"type": "string", "format": "binary"},
                        **METADATA_FORM,
                    )
                ),
            )
        },
        "/api/records/{record_id}": {
            "get": _op(
                "get_record",
                "Một văn bản/hồ sơ (phiên bản mới nhất hoặc ?version=)",
                "records",
                record,
                (404, 410, 422),
                parameters=[*RID, _query("version", {"type": "integer", "minimum": 0}, "Phiên bản.")],
            ),
            "patch": _op(
                "update_record",
                "Sửa siêu dữ liệu (khóa lạc quan bằng expected_version)",
                "records",
                record,
                (404, 409),
                parameters=RID,
                body=_json_body(
                    _object(
                        ["changes", "expected_version"],
                        changes={"type": "object"},
                        expected_version={"type": "integer"},
                        note=OPTIONAL_STRING,
                    )
                ),
            ),
        },
        "/api/records/{record_id}/history": {
            "get": _op(
                "record_history", "Các phiên bản", "records", page_record, (404, 422), parameters=RID + PAGING
            )
        },
        "/api/records/{record_id}/audit": {
            "get": _op(
                "record_audit",
                "Nhật ký của một văn bản/hồ sơ",
                "audit",
                _ref("Page_AuditEvent"),
                (404, 422),
                parameters=RID + PAGING,
            )
        },
        "/api/records/{record_id}/content": {
            "get": _op(
                "record_content",
                "Tải bản gốc (được ghi nhật ký); kiểu nội dung là của tệp",
                "records",
                {},
                (404, 410),
                parameters=RID,
                ok_content={"*/*": {"schema": {"type": "string", "format": "binary"}}},
            )
        },
        "/api/records/{record_id}/pages/{number}": {
            "get": _op(
                "record_page",
                "Một trang của bản gốc PDF dạng PNG (cùng kiểm tra quyền như tải bản gốc; được ghi nhật ký)",
                "records",
                {},
                (404, 410, 422),
                parameters=[*RID, _path("number", {"type": "integer", "minimum": 1}, "Số trang (từ 1).")],
                ok_content=BINARY("image/png"),
            )
        },
        "/api/records/{record_id}/print": {
            "post": _op(
                "record_print",
                "Bản in PDF có dòng “In bởi … lúc …” ở mỗi trang (được ghi nhật ký content:print)",
                "records",
                {},
                (404, 410),
                parameters=RID,
                ok_content=BINARY("application/pdf"),
            )
        },
        "/api/records/{record_id}/changes": {
            "get": _op(
                "record_changes",
                "Các phiên bản và nội dung thay đổi so với phiên bản trước",
                "records",
                _ref("Page_VersionChanges"),
                (404, 410, 422),
                parameters=RID + PAGING,
            )
        },
        "/api/records/{record_id}/grants": {
            "get": _op(
                "record_grants",
                "Người/đơn vị được cấp quyền (cho người được phân quyền)",
                "records",
                _ref("Grants"),
                (404, 410),
                parameters=RID,
            ),
            "post": _op(
                "grant",
                "Cho phép (hoặc thu hồi) người/đơn vị xem",
                "records",
                record,
                (404, 409, 422),
                parameters=RID,
                body=_json_body(_object([], users=STRINGS, units=STRINGS, revoke={"type": "boolean"})),
            )
        },
        "/api/intake": {
            "get": _op(
                "intake_list", "Văn bản chờ đăng ký", "intake", _ref("Page_Review"), (422,), parameters=PAGING
            ),
            "post": _op(
                "intake_receive",
                "Tiếp nhận một tệp (kiểm tra chữ ký, gợi ý siêu dữ liệu)",
                "intake",
                _ref("Review"),
                (400, 409),
                ok_status=201,
                body=_multipart(
                    _object(
                        ["file"],
                        file={"type": "string", "format": "binary"},
                        direction={"type": "string", "enum": ["den", "di"]},
                    )
                ),
            ),
        },
        "/api/intake/{record_id}": {
            "get": _op(
                "intake_show", "Một văn bản chờ đăng ký", "intake", _ref("Review"), (404,), parameters=RID
            )
        },
        "/api/intake/{record_id}/confirm": {
            "post": _op(
                "intake_confirm",
                "Xác nhận siêu dữ liệu và đăng ký (cấp số đến/đi)",
                "intake",
                record,
                (404, 409),
                parameters=RID,
                body=_json_body(
                    _object(
                        ["expected_version"],
                        expected_version={"type": "integer"},
                        metadata={"type": "object"},
                        register={"type": "boolean"},
                        use_suggestions={"type": "boolean"},
                        advisory_body=OPTIONAL_STRING,
                        override_reason=OPTIONAL_STRING,
                        duplicate_reason=OPTIONAL_STRING,
                    )
                ),
            )
        },
        "/api/intake/{record_id}/return": {
            "post": _op(
                "intake_return",
                "Trả lại văn bản, có lý do",
                "intake",
                record,
                (404, 409),
                parameters=RID,
                body=_json_body(_object([], reason=OPTIONAL_STRING)),
            )
        },
        "/api/registers/{series}/{year}": {
            "get": _op(
                "register_list",
                "Sổ đăng ký văn bản của một năm (và các số mất trong bản sao lưu đã khôi phục)",
                "registers",
                _ref("Page_Register"),
                (404, 422),
                parameters=[
                    _path("series", {"type": "string"}, "Sổ (den, di, den-mat…)."),
                    _path("year", {"type": "integer", "minimum": 0}, "Năm."),
                    _query("from", {"type": "string"}, "Từ ngày (dd/mm/yyyy hoặc yyyy-mm-dd)."),
                    _query("to", {"type": "string"}, "Đến ngày."),
                    *PAGING,
                ],
            )
        },
        "/api/files": {
            "post": _op(
                "file_create",
                "Lập hồ sơ",
                "files",
                record,
                (404, 409),
                ok_status=201,
                body=_json_body(_object([], metadata={"type": "object"})),
            )
        },
        "/api/files/{file_id}/documents": {
            "post": _op(
                "file_add",
                "Đưa một văn bản vào hồ sơ",
                "files",
                record,
                (404, 409),
                parameters=[_path("file_id", RECORD_ID, "Mã hồ sơ.")],
                body=_json_body(
                    _object(
                        ["document_id", "expected_version"],
                        document_id=RECORD_ID,
                        expected_version={"type": "integer"},
                    )
                ),
            )
        },
        "/api/files/{file_id}/documents/{document_id}": {
            "delete": _op(
                "file_remove",
                "Bỏ một văn bản ra khỏi hồ sơ (phiên bản mới của hồ sơ; hồ sơ đã kết thúc: FILE_CLOSED)",
                "files",
                record,
                (404, 409, 422),
                parameters=[
                    _path("file_id", RECORD_ID, "Mã hồ sơ."),
                    _path("document_id", RECORD_ID, "Mã văn bản."),
                    {
                        **_query(
                            "expected_version",
                            {"type": "integer", "minimum": 0},
                            "Phiên bản hồ sơ người sửa đang xem.",
                        ),
                        "required": True,
                    },
                    _query("reason", {"type": "string"}, "Lý do (ghi vào nhật ký)."),
                ],
            )
        },
        "/api/search": {
            "get": _op(
                "search",
                "Tìm kiếm (chỉ trong những gì người hỏi được xem); các bộ lọc khác có thể lặp lại",
                "search",
                _ref("SearchResult"),
                (400, 422),
                parameters=[
                    _query("q", {"type": "string"}, "Nội dung tìm (có hoặc không dấu)."),
                    _query("unit", {"type": "string"}, "Đơn vị sở hữu văn bản (mã định danh)."),
                    _query(
                        "sort",
                        {
                            "type": "string",
                            "enum": ["relevance", "date_desc", "date_asc", "number_desc", "number_asc"],
                        },
                        "Thứ tự.",
                    ),
                    _query("page", {"type": "integer", "minimum": 1, "maximum": 10_000}, "Trang."),
                    _query("page_size", {"type": "integer", "minimum": 1, "maximum": 100}, "Cỡ trang."),
                ],
            )
        },
        "/api/audit": {
            "get": _op(
                "audit_log",
                "Tra cứu nhật ký (kiểm toán viên)",
                "audit",
                _ref("Page_AuditEvent"),
                (404, 422),
                parameters=[
                    _query("record", RECORD_ID, "Văn bản/hồ sơ."),
                    _query("user", {"type": "string"}, "Người thực hiện."),
                    _query("action", {"type": "string"}, "Thao tác (content:download…)."),
                    _query("since", {"type": "string"}, "Từ thời điểm (ISO 8601 hoặc yyyy-mm-dd)."),
                    _query("until", {"type": "string"}, "Đến thời điểm."),
                    *PAGING,
                ],
            )
        },
        "/api/audit/export": {
            "get": _op(
                "audit_export",
                "Xuất kết quả tra cứu nhật ký kèm điểm mốc đã ký mới nhất (CSV hoặc PDF; được ghi nhật ký)",
                "audit",
                {},
                (404, 422),
                parameters=[
                    _query("format", {"type": "string", "enum": ["csv", "pdf"]}, "Định dạng."),
                    _query("record", RECORD_ID, "Văn bản/hồ sơ."),
                    _query("user", {"type": "string"}, "Người thực hiện."),
                    _query("action", {"type": "string"}, "Thao tác."),
                    _query("since", {"type": "string"}, "Từ ngày (dd/mm/yyyy hoặc yyyy-mm-dd)."),
                    _query("until", {"type": "string"}, "Đến ngày."),
                ],
                ok_content=BINARY("text/csv", "application/pdf"),
            )
        },
        "/api/audit/stats": {
            "get": _op(
                "audit_stats",
                "Thống kê truy cập theo người, đơn vị, thao tác, văn bản trong một khoảng thời gian",
                "audit",
                _ref("AccessStats"),
                (422,),
                parameters=[
                    _query("since", {"type": "string"}, "Từ ngày (dd/mm/yyyy hoặc yyyy-mm-dd)."),
                    _query("until", {"type": "string"}, "Đến ngày."),
                ],
            )
        },
        "/api/audit/handling-report": {
            "get": _op(
                "audit_handling_report",
                "Báo cáo tình hình giải quyết văn bản đến/đi (Phụ lục VI V.2, V.4), chỉ số liệu tổng hợp"
                " (kiểm toán viên)",
                "audit",
                _ref("HandlingTotals"),
                (422,),
                parameters=[
                    _query("start", {"type": "string"}, "Từ ngày (dd/mm/yyyy hoặc yyyy-mm-dd)."),
                    _query("end", {"type": "string"}, "Đến ngày (mặc định hôm nay)."),
                    _query("unit", {"type": "string"}, "Mã đơn vị."),
                    _query(
                        "kind", {"type": "string", "enum": ["den", "di"]}, "den: văn bản đến; di: văn bản đi."
                    ),
                ],
            )
        },
        "/api/audit/verify": {
            "get": _op("audit_verify", "Kiểm tra chuỗi nhật ký", "audit", _ref("AuditVerification"), ())
        },
        "/api/audit/acknowledge": {
            "post": _op(
                "audit_acknowledge",
                "Kiểm toán viên chấp nhận các phát hiện của nhật ký (ký ngoài kho)",
                "audit",
                _ref("AuditAcknowledgement"),
                (403, 409, 422),
                ok_status=201,
                body=_json_body(
                    _object(
                        ["findings", "reason"],
                        findings={"type": "string", "description": "Mã tóm tắt các phát hiện đã xem."},
                        reason={"type": "string", "maxLength": 2000},
                    )
                ),
            )
        },
        "/api/units": {
            "get": _op("units", "Các đơn vị", "accounts", _ref("Page_Unit"), (422,), parameters=PAGING),
            "post": _op(
                "unit_create",
                "Tạo đơn vị (quản trị)",
                "accounts",
                _ref("Unit"),
                (404, 409),
                ok_status=201,
                body=_json_body(
                    _object(
                        ["unit_id", "name", "code"],
                        unit_id=STRING,
                        name=STRING,
                        code=STRING,
                        parent_id=OPTIONAL_STRING,
                    )
                ),
            ),
        },
        "/api/units/{unit_id}": {
            "patch": _op(
                "unit_update",
                "Đổi tên hoặc chuyển đơn vị sang đơn vị cấp trên khác (quản trị; được ghi nhật ký)",
                "accounts",
                _ref("Unit"),
                (404, 409),
                parameters=[_path("unit_id", {"type": "string"}, "Mã định danh đơn vị.")],
                body=_json_body(_object([], name=STRING, parent_id=OPTIONAL_STRING)),
            )
        },
        "/api/saved-searches": {
            "get": _op(
                "saved_searches", "Các câu tìm kiếm đã lưu của người hỏi", "search", _ref("Page_SavedSearch"),
                (422,), parameters=PAGING,
            ),
            "post": _op(
                "saved_search_create",
                "Lưu một câu tìm kiếm (tên, nội dung, bộ lọc, cột hiển thị)",
                "search",
                _ref("SavedSearch"),
                (400, 409),
                ok_status=201,
                body=_json_body(
                    _object(
                        ["name"],
                        name=STRING,
                        query=STRING,
                        filters={"type": "object", "additionalProperties": STRINGS},
                        columns=STRINGS,
                    )
                ),
            ),
        },
        "/api/saved-searches/{search_id}": {
            "delete": _op(
                "saved_search_delete",
                "Xóa một câu tìm kiếm đã lưu (của chính người hỏi)",
                "search",
                ok,
                (404,),
                parameters=[_path("search_id", {"type": "string"}, "Mã câu tìm kiếm đã lưu.")],
            )
        },
        "/api/search/export": {
            "get": _op(
                "search_export",
                "Xuất kết quả tìm kiếm (PDF, DOCX, XLSX) với các cột đã chọn; chỉ những gì người hỏi"
                " được xem",
                "search",
                {},
                (400, 422),
                parameters=[
                    _query("format", {"type": "string", "enum": ["pdf", "docx", "xlsx"]}, "Định dạng."),
                    _query("q", {"type": "string"}, "Nội dung tìm."),
                    _query("cols", {"type": "string"}, "Cột (lặp lại được)."),
                ],
                ok_content=BINARY(
                    "application/pdf",
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
            )
        },
        "/api/accounts": {
            "get": _op(
                "account_list",
                "Các tài khoản (quản trị)",
                "accounts",
                _ref("Page_Account"),
                (422,),
                parameters=PAGING,
            ),
            "post": _op(
                "account_create",
                "Tạo tài khoản (hai người): người tạo nhận nửa đầu mật khẩu ban đầu, chỉ một lần; người"
                " thứ hai xác nhận (confirm-reset) và nhận nửa sau",
                "accounts",
                _object(["account", "first_half"], account=account, first_half=STRING),
                (404, 409),
                ok_status=201,
                body=_json_body(
                    _object(
                        ["full_name", "unit"],
                        full_name=STRING,
                        unit=STRING,
                        roles=STRINGS,
                        clearance={"type": "integer", "minimum": 0, "maximum": 3},
                        email=OPTIONAL_STRING,
                    )
                ),
            ),
        },
        "/api/accounts/{username}/lock": {
            "post": _op(
                "account_lock",
                "Khóa tài khoản",
                "accounts",
                account,
                (404, 409),
                parameters=USER,
                body=_json_body(_object([], reason=OPTIONAL_STRING)),
            )
        },
        "/api/accounts/{username}/unlock": {
            "post": _op(
                "account_unlock", "Mở khóa tài khoản", "accounts", account, (404, 409), parameters=USER
            )
        },
        "/api/accounts/{username}/reset": {
            "post": _op(
                "account_reset",
                "Cấp lại mật khẩu (hai người): quản trị nhận nửa đầu mật khẩu dùng một lần, chỉ một lần",
                "accounts",
                _object(["account", "first_half"], account=account, first_half=STRING),
                (404, 409),
                parameters=USER,
            )
        },
        "/api/accounts/{username}/confirm-reset": {
            "post": _op(
                "account_confirm_reset",
                "Xác nhận cấp lại mật khẩu hoặc tài khoản mới (người thứ hai, không phải người cấp lại,"
                " người tạo hay chủ tài khoản): nhận nửa sau, chỉ một lần (RESET_SAME_PERSON,"
                " PASSWORD_RESET_NOT_PENDING)",
                "accounts",
                _object(["account", "second_half"], account=account, second_half=STRING),
                (404, 409),
                parameters=USER,
            )
        },
        "/api/accounts/{username}/clearance": {
            "post": _op(
                "account_clearance",
                "Đặt mức được tiếp cận thông tin mật (0 Thường, 1 Mật, 2 Tối mật, 3 Tuyệt mật): quản trị"
                " của đơn vị; chỉ nâng đến mức chính mình được tiếp cận (SECRECY_CLEARANCE_DENIED), không"
                " tự nâng (SELF_CHANGE); CLEARANCE_INVALID",
                "accounts",
                account,
                (404, 409, 422),
                parameters=USER,
                body=_json_body(
                    _object(["clearance"], clearance={"type": "integer", "minimum": 0, "maximum": 3})
                ),
            )
        },
        "/api/accounts/{username}/roles": {
            "post": _op(
                "account_roles",
                "Đặt vai trò (thay toàn bộ)",
                "accounts",
                account,
                (404, 409),
                parameters=USER,
                body=_json_body(
                    _object(["memberships"], memberships={"type": "array", "items": _ref("Membership")})
                ),
            )
        },
        "/api/accounts/{username}/tokens": {
            "get": _op(
                "token_list",
                "Các mã truy cập cá nhân (không bao giờ kèm bí mật)",
                "accounts",
                _ref("Page_Token"),
                (404, 422),
                parameters=USER + PAGING,
            ),
            "post": _op(
                "token_issue",
                "Cấp mã truy cập cá nhân; bí mật chỉ hiện một lần",
                "accounts",
                _object(["token"], token=STRING),
                (404, 422),
                ok_status=201,
                parameters=USER,
                body=_json_body(
                    _object(
                        [],
                        name=OPTIONAL_STRING,
                        days={
                            "type": ["integer", "string", "null"],
                            "description": "Số ngày hiệu lực, 1–365 (mặc định 90; TOKEN_LIFETIME_INVALID).",
                        },
                        scope={
                            "type": ["string", "null"],
                            "enum": ["read", "read-write", None],
                            "description": "Phạm vi (mặc định read-write; TOKEN_SCOPE_INVALID).",
                        },
                    )
                ),
            ),
        },
        "/api/accounts/{username}/tokens/{digest}": {
            "delete": _op(
                "token_revoke",
                "Thu hồi một mã truy cập (theo SHA-256 của nó)",
                "accounts",
                ok,
                (404,),
                parameters=[*USER, _path("digest", {"type": "string"}, "SHA-256 của mã (như danh sách).")],
            )
        },
        **_retention_paths(),
        **_disposal_paths(),
    }


def _retention_paths() -> dict[str, dict[str, Schema]]:
    """Danh mục hồ sơ, closing and nộp lưu (:mod:`web.retention_api`)."""
    from web.openapi_retention import paths

    return paths()


def _disposal_paths() -> dict[str, dict[str, Schema]]:
    """Xem xét hủy, destruction, holds, SIP transfer, recall (:mod:`web.disposal_api`)."""
    from web.openapi_disposal import disposal_paths as paths

    return paths()


def _responses() -> dict[str, Schema]:
    out: dict[str, Schema] = {}
    for status, text in STATUS_TEXT.items():
        if status >= 400:
            out[f"E{status}"] = {"description": text, "content": {JSON: {"schema": _ref("Error")}}}
    return out


def build() -> dict[str, Any]:
    """The document (a fresh copy each time: callers may change theirs)."""
    return copy.deepcopy(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "Kho — API lưu trữ hồ sơ điện tử",
                "version": "1.0.0",
                "description": __doc__,
            },
            "servers": [{"url": "/"}],
            "security": [{"bearerAuth": []}],
            "paths": _paths(),
            "components": {
                "securitySchemes": {
                    "bearerAuth": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "Mã từ POST /api/login hoặc mã truy cập cá nhân do quản trị cấp.",
                    }
                },
                "schemas": SCHEMAS,
                "parameters": PARAMETERS,
                "responses": _responses(),
            },
        }
    )
