"""The web pages through Flask's test client: each area and role, CSRF, rate limit, headers."""

from __future__ import annotations

import html
import io
import re
from typing import Any

import kho_web
import pytest
from flask import Flask
from flask.testing import FlaskClient
from kho_people import PASSWORD, People
from kho_testing import incoming
from openpyxl import load_workbook
from pypdf import PdfReader

from web.app import create_app
from web.context import Kho
from web.pages.common import LoginLimiter
from web.pages.records import content_disposition

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client: FlaskClient, path: str = "/login") -> str:
    found = CSRF.search(client.get(path).get_data(as_text=True))
    assert found, path
    return found.group(1)


def login(client: FlaskClient, people: People, who: str, password: str = PASSWORD) -> Any:
    token = csrf(client)
    return client.post(
        "/login", data={"username": people.usernames[who], "password": password, "csrf_token": token}
    )


def post(client: FlaskClient, path: str, data: dict[str, Any], page: str = "/", **kw: Any) -> Any:
    return kho_web.post(client, path, data, page, **kw)  # with the page's one-time token, if any


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def register_one(web: FlaskClient, people: People, pdf: bytes, **overrides: Any) -> str:
    """Upload, review and confirm one document as the văn thư; the record page's path."""
    uploaded = post(
        web, "/intake", {"direction": "den", "files": (io.BytesIO(pdf), "cong-van.pdf")}, "/intake",
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302, text(uploaded)
    review_path = uploaded.headers["Location"]
    review = web.get(review_path)
    version = re.search(r'name="expected_version" value="(\d+)"', text(review))
    assert version
    metadata = {**incoming(issued_date="02/03/2026", arrival_date="05/03/2026"), **overrides}
    confirmed = post(
        web, review_path + "/confirm", {**metadata, "expected_version": version.group(1)}, review_path
    )
    assert confirmed.status_code == 302, text(confirmed)
    return confirmed.headers["Location"]


def test_pages_need_a_login_and_send_security_headers(web: FlaskClient) -> None:
    home = web.get("/")
    assert home.status_code == 302 and "/login" in home.headers["Location"]
    page = web.get("/login")
    assert page.status_code == 200 and "Đăng nhập" in text(page) and 'lang="vi"' in text(page)
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "tối thiểu 08 ký tự" in text(page).lower()
    assert web.get("/assets/kho.css").status_code == 200
    # The API is untouched: still JSON and token-authenticated.
    api = web.get("/api/me")
    assert api.status_code == 401 and api.json["error"]["code"] == "AUTH_REQUIRED"
    missing = web.get("/khong-co")
    assert missing.status_code == 404 and "Không tìm thấy" in text(missing)


def test_session_cookie_is_secure_httponly_lax_by_default(kho: Kho, people: People) -> None:
    client = create_app(kho.settings, kho=kho).test_client()
    cookie = client.get("/login").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("van_thu", ("Tiếp nhận", "Sổ đăng ký", "Tìm kiếm", "văn bản chờ vào sổ")),
        ("chuyen_vien", ("Tìm kiếm", "Hồ sơ", "hồ sơ đang lập")),
        ("kiem_toan", ("Nhật ký",)),
        ("quan_tri", ("Tài khoản",)),
    ],
)
def test_each_role_logs_in_sees_its_home_and_logs_out(
    web: FlaskClient, people: People, who: str, expected: tuple[str, ...]
) -> None:
    assert login(web, people, who).status_code == 302
    home = web.get("/")
    assert home.status_code == 200
    for word in expected:
        assert word in text(home), word
    assert post(web, "/logout", {}).status_code == 302
    assert web.get("/").status_code == 302
    # The session's token was revoked, not just forgotten.
    tokens = [t for t in people.kho.accounts.tokens_of(people.usernames[who]) if t.name == "web-session"]
    assert tokens and all(t.revoked for t in tokens)


def test_a_wrong_password_a_post_without_csrf_and_a_foreign_next_are_refused(
    web: FlaskClient, people: People
) -> None:
    bad = login(web, people, "van_thu", "Sai@mat-khau1")
    assert bad.status_code == 401 and "không đúng" in text(bad)
    no_token = web.post("/login", data={"username": people.usernames["van_thu"], "password": PASSWORD})
    assert no_token.status_code == 400 and "chống giả mạo" in text(no_token)
    token = csrf(web)
    away = web.post(
        "/login",
        data={"username": people.usernames["van_thu"], "password": PASSWORD, "csrf_token": token,
              "next": "//evil.example/x"},
    )
    assert away.status_code == 302 and away.headers["Location"] == "/"
    forged = web.post("/intake", data={"direction": "den", "csrf_token": "forged"})
    assert forged.status_code == 400
    assert web.post("/logout", data={}).status_code == 400


def test_a_form_body_beyond_two_mib_is_refused_before_it_is_parsed(
    web: FlaskClient, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A urlencoded form was bounded only by the upload limit (51 MB), and werkzeug parses it
    whole (its per-field limit is for multipart only): 50 MB of ``a&a&…`` sent to ``POST
    /login`` took a server to 2.1 GB and 38 s of CPU, for anyone, since the CSRF check reads
    the form before anything else. Beyond 2 MiB the page now answers 413 with a Vietnamese
    message, told by Content-Length or while a chunked body is read, and the form is never
    parsed; a form within the bound is read as before (a login)."""
    import werkzeug.formparser

    parsed: list[int] = []  # the size of each urlencoded body given to the parser
    real_parse = werkzeug.formparser.parse_qsl
    monkeypatch.setattr(
        werkzeug.formparser, "parse_qsl", lambda raw, **kw: parsed.append(len(raw)) or real_parse(raw, **kw)
    )
    big = b"a&" * 1_200_000  # 2.4 MB
    form = "application/x-www-form-urlencoded"
    told, chunked = kho_web.post_whole_and_chunked(web, "/login", big, form)
    for answer in (told, chunked):
        assert answer.status_code == 413, (answer.status_code, text(answer)[:200])
        assert answer.mimetype == "text/html"
        assert "Nội dung yêu cầu quá lớn: tối đa 2 MB." in text(answer)
        assert "default-src 'self'" in answer.headers["Content-Security-Policy"]
    assert parsed == []
    assert login(web, people, "van_thu").status_code == 302
    assert parsed and max(parsed) < 1000


def test_login_is_rate_limited_per_ip_and_username(app: Flask, web: FlaskClient, people: People) -> None:
    app.extensions["kho_login_limiter"] = LoginLimiter(3, 60, app.extensions["kho"].repo.store)
    for _ in range(3):
        token = csrf(web)
        refused = web.post("/login", data={"username": "khongco.ubnd", "password": "x", "csrf_token": token})
        assert refused.status_code == 401
    token = csrf(web)
    limited = web.post("/login", data={"username": "khongco.ubnd", "password": "x", "csrf_token": token})
    assert limited.status_code == 429 and "Quá nhiều lần" in text(limited)
    # Another username from the same address is not blocked.
    assert login(web, people, "van_thu").status_code == 302


def test_first_login_change_and_lockout_messages(web: FlaskClient, people: People) -> None:
    login(web, people, "quan_tri")
    created = post(
        web, "/admin/accounts",
        {"full_name": "Vũ Thị Mới", "unit": "000.00.18.H40", "roles": "chuyen_vien", "clearance": "0"},
        "/admin/accounts",
    )
    assert created.status_code == 201
    username = re.search(r'id="new-username">([^<]+)<', text(created)).group(1)  # type: ignore[union-attr]
    first_half = html.unescape(re.search(r'id="reset-half">([^<]+)<', text(created)).group(1))  # type: ignore[union-attr]
    assert first_half not in text(web.get("/admin/accounts"))  # shown once
    post(web, "/logout", {})
    login(web, people, "lanh_dao")  # the second person: the head of the unit confirms
    confirmed = post(web, f"/admin/resets/{username}/confirm", {}, "/admin/resets")
    second_half = html.unescape(re.search(r'id="reset-half">([^<]+)<', text(confirmed)).group(1))  # type: ignore[union-attr]
    initial = first_half + second_half
    post(web, "/logout", {})

    first = web.post("/login", data={"username": username, "password": initial, "csrf_token": csrf(web)})
    assert first.status_code == 302 and first.headers["Location"].endswith("/password")
    assert web.get("/").status_code == 302  # nothing else before the change
    weak = post(web, "/password", {"old_password": initial, "new_password": "yeu", "confirm_password": "yeu"},
                "/password")
    assert weak.status_code == 422 and "chữ hoa" in text(weak)
    new = "Moi@Kho2026x"
    done = post(web, "/password", {"old_password": initial, "new_password": new, "confirm_password": new},
                "/password")
    assert done.status_code == 302
    ok = web.post("/login", data={"username": username, "password": new, "csrf_token": csrf(web)})
    assert ok.status_code == 302 and ok.headers["Location"] == "/"
    post(web, "/logout", {})

    login(web, people, "quan_tri")
    locked = post(web, f"/admin/accounts/{username}/lock", {"reason": "admin"}, "/admin/accounts")
    assert locked.status_code == 302
    assert "Đã khóa" in text(web.get("/admin/accounts"))
    post(web, "/logout", {})
    refused = web.post("/login", data={"username": username, "password": new, "csrf_token": csrf(web)})
    assert refused.status_code == 401 and "đang bị khóa" in text(refused)  # the right password learns why
    # Review a23: in this browser (its device cookie, its network) a wrong password learns why too
    # (the password is not checked under a lock); a stranger's browser elsewhere, right or wrong,
    # nothing.
    typo = {"username": username, "password": "Sai@mat-khau1", "csrf_token": csrf(web)}
    mistyped = web.post("/login", data=typo)
    assert mistyped.status_code == 401 and "đang bị khóa" in text(mistyped)
    # A wrong password from elsewhere learns nothing: the page is byte for byte the one for a name
    # without an account, but for the name typed in (echoed in its field) and the form's CSRF token.
    elsewhere = {"REMOTE_ADDR": "198.51.100.44"}
    stranger = web.application.test_client()  # no device cookie of the account
    pages = []
    for name, password in ((username, "Sai@mat-khau1"), ("khongco.ubnd", "Sai@mat-khau1"), (username, new)):
        token = csrf(stranger)
        form = {"username": name, "password": password, "csrf_token": token}
        answer = stranger.post("/login", data=form, environ_overrides=elsewhere)
        assert answer.status_code == 401
        pages.append(text(answer).replace(name, "NAME").replace(token, "TOKEN"))
    assert "không đúng" in pages[0] and "bị khóa (" not in pages[0]
    assert pages[0] == pages[1] == pages[2]


def test_van_thu_receives_confirms_downloads_prints_and_exports(
    web: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    login(web, people, "van_thu")
    uploaded = post(
        web, "/intake", {"direction": "den", "files": (io.BytesIO(signed["valid"]), "cv.pdf")}, "/intake",
        content_type="multipart/form-data",
    )
    review = web.get(uploaded.headers["Location"])
    assert review.status_code == 200 and "Hợp lệ" in text(review) and "Xác nhận và vào sổ" in text(review)
    assert 'for="f-subject"' in text(review)
    version = re.search(r'name="expected_version" value="(\d+)"', text(review)).group(1)  # type: ignore[union-attr]
    missing = post(web, uploaded.headers["Location"] + "/confirm", {"expected_version": version},
                   uploaded.headers["Location"])
    assert missing.status_code == 422 and 'role="alert"' in text(missing)
    confirmed = post(
        web, uploaded.headers["Location"] + "/confirm",
        {**incoming(issued_date="02/03/2026", arrival_date="05/03/2026"), "expected_version": version},
        uploaded.headers["Location"],
    )
    assert confirmed.status_code == 302
    record = web.get(confirmed.headers["Location"])
    body = text(record)
    assert "Số đến: 01" in body and "02/03/2026" in body and "Bộ Nội vụ" in body and "Lịch sử xử lý" in body
    download = web.get(confirmed.headers["Location"] + "/download")
    assert download.status_code == 200 and download.data == signed["valid"]
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith('attachment; filename="cv.pdf"')

    screen = web.get("/registers?series=den&year=2026")
    assert screen.status_code == 200
    for column in ("Ngày đến", "Số đến", "Tác giả", "Tên loại và trích yếu nội dung", "Ký nhận"):
        assert column in text(screen)
    assert "Từ số: 01" in text(screen)
    printed = web.get("/registers/print.pdf?series=den&year=2026")
    assert printed.status_code == 200 and printed.mimetype == "application/pdf"
    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(printed.data)).pages)
    for expected in ("SỔ ĐĂNG KÝ VĂN BẢN ĐẾN", "Năm: 2026", "Từ số: 01", "Đến số: 01", "05/03/2026",
                     "Quyển số", "1234/BNV-VP", "Bộ Nội vụ"):
        assert expected in pdf_text, expected
    exported = web.get("/registers/export.xlsx?series=den&year=2026&volume=02")
    sheet = load_workbook(io.BytesIO(exported.data)).active
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert "Năm: 2026" in cells and "Quyển số: 02" in cells and "Số, ký hiệu văn bản" in cells
    assert "1234/BNV-VP" in cells and "01" in cells
    # Both files that left Kho are on the record.
    exports = [e for e in people.kho.repo.audit.query(action="register:export")]
    assert [(e.actor, e.details["format"]) for e in exports] == [
        (people.usernames["van_thu"], "pdf"),
        (people.usernames["van_thu"], "xlsx"),
    ]


def test_a_failed_signature_needs_a_reason_and_a_document_can_be_returned(
    web: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    login(web, people, "van_thu")
    files = [(io.BytesIO(signed["tampered"]), "sua.pdf"), (io.BytesIO(signed["valid-2"]), "qd.pdf")]
    many = post(web, "/intake", {"direction": "den", "files": files}, "/intake",
                content_type="multipart/form-data")
    assert many.status_code == 302 and many.headers["Location"].endswith("/intake")
    queue = text(web.get("/intake"))
    assert "sua.pdf" in queue and "qd.pdf" in queue and "Không hợp lệ" in queue
    links = re.findall(r'href="(/intake/[0-9a-f]{24})"', queue)
    assert len(links) == 2
    failed = next(link for link in links if "Không hợp lệ" in text(web.get(link)))
    other = next(link for link in links if link != failed)
    review = text(web.get(failed))
    assert 'name="override_reason"' in review
    version = re.search(r'name="expected_version" value="(\d+)"', review).group(1)  # type: ignore[union-attr]
    metadata = {**incoming(issued_date="02/03/2026"), "expected_version": version}
    refused = post(web, failed + "/confirm", metadata, failed)
    assert refused.status_code == 422 and "chữ ký" in text(refused).lower()
    forced = post(web, failed + "/confirm", {**metadata, "override_reason": "Đã đối chiếu bản giấy"}, failed)
    assert forced.status_code == 302
    returned = post(web, other + "/return", {"reason": "Sai nơi nhận"}, other)
    assert returned.status_code == 302
    assert "qd.pdf" not in text(web.get("/intake"))


def test_search_without_diacritics_with_highlights_and_vietnamese_facets(
    web: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    login(web, people, "van_thu")
    record_path = register_one(web, people, signed["valid"])
    results = web.get("/search?q=trien+khai+he+thong")
    body = text(results)
    assert results.status_code == 200 and record_path in body
    assert "<mark>" in body and "Văn bản đến" in body and "Loại văn bản" in body
    filtered = web.get("/search?q=trien+khai&direction=di")
    assert record_path not in text(filtered)
    events = people.kho.repo.audit_events(actor=people.actor("kiem_toan"), action="search")
    assert any(e.details.get("query") == "trien khai he thong" for e in events)


def test_hoso_is_built_with_its_muc_luc(web: FlaskClient, people: People, signed: dict[str, bytes]) -> None:
    login(web, people, "van_thu")
    record_path = register_one(web, people, signed["valid"], page_amount="3")
    document_id = record_path.rsplit("/", 1)[1]
    post(web, "/logout", {})
    login(web, people, "chuyen_vien")
    created = post(
        web, "/files",
        {"file_notation": "01.VP", "title": "Hồ sơ triển khai hệ thống", "maintenance": "20 năm",
         "creator": "Phạm Minh Chính", "start_date": "01/03/2026"},
        "/files",
    )
    assert created.status_code == 302, text(created)
    file_path = created.headers["Location"]
    added = post(web, "/files/add", {"file_id": file_path.rsplit("/", 1)[1], "document_id": document_id},
                 record_path)
    assert added.status_code == 302
    page = text(web.get(file_path))
    for expected in ("Mục lục văn bản", "Tờ số/Trang số", "1234/BNV-VP", "02/03/2026", "1-3", "Bộ Nội vụ"):
        assert expected in page, expected
    table = page.split("<table")[1].split("</table>")[0]
    # No ids in the mục lục people read (the row's “Bỏ ra” form names the document in its URL).
    assert document_id not in re.sub(r"<[^>]+>", " ", table)
    assert "01.VP" in text(web.get(record_path))
    assert "01.VP" in text(web.get("/files"))


def test_auditor_finds_a_download_and_verifies_the_chain(
    web: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    login(web, people, "van_thu")
    record_path = register_one(web, people, signed["valid"])
    web.get(record_path + "/download")
    post(web, "/logout", {})
    login(web, people, "kiem_toan")
    found = web.get(f"/audit?action=content:download&user={people.usernames['van_thu']}")
    record_id = record_path.rsplit("/", 1)[1]
    # The record's link in the log leads to its history there (the auditor may not open it).
    found_link = f"/audit?record={record_id}"
    assert found.status_code == 200 and "1 sự kiện" in text(found) and found_link in text(found)
    today = web.get("/audit?since=01/01/2020&until=31/12/2099&action=content:download")
    assert "1 sự kiện" in text(today)
    history = text(web.get(f"/audit?record={record_id}"))
    assert "Tải bản gốc" in history and "Tạo văn bản" in history
    verify = web.get("/audit/verify")
    assert "toàn vẹn" in text(verify)
    assert web.get("/audit?since=31/02/2026").status_code == 422


def test_roles_are_refused_what_the_policy_refuses(
    web: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    login(web, people, "chuyen_vien")
    assert web.get("/admin/accounts").status_code == 403
    assert web.get("/audit?user=x").status_code == 403
    assert web.get("/intake/" + "0" * 24).status_code in (403, 404)
    assert web.get("/records/not-an-id").status_code == 404


def test_uploads_over_the_limit_are_refused_before_reading(
    app: Flask, web: FlaskClient, people: People, kho: Kho
) -> None:
    login(web, people, "van_thu")
    token = csrf(web, "/intake")
    limit = kho.repo.max_file_bytes
    huge = web.post(
        "/intake",
        data={"csrf_token": token, "direction": "den",
              "files": (io.BytesIO(b"%PDF-1.7\n" + b"0" * (limit + 2 * 1024 * 1024)), "to.pdf")},
        content_type="multipart/form-data",
    )
    assert huge.status_code == 413 and "Tệp quá lớn" in text(huge)


def test_a_form_field_or_part_count_over_werkzeugs_limits_is_not_called_a_file_too_large(
    web: FlaskClient, client: FlaskClient, people: People
) -> None:
    """werkzeug refuses a multipart text field over 500 KB and a form of more than 1,000 parts
    with a 413, which both doors answered "Tệp quá lớn: tối đa 50 MB" (FILE_TOO_LARGE) for a
    file of nine bytes. They now say what is too large (FORM_TOO_LARGE)."""
    login(web, people, "van_thu")
    token = csrf(web, "/intake")
    small = b"%PDF-1.7\n"
    long_field = {"direction": "den", "note": "x" * 600_000}
    many_parts = {"direction": "den", **{f"f{i}": "1" for i in range(1_100)}}
    for fields in (long_field, many_parts):
        page = web.post(
            "/intake", data={"csrf_token": token, **fields, "files": (io.BytesIO(small), "a.pdf")},
            content_type="multipart/form-data",
        )
        assert page.status_code == 413 and page.mimetype == "text/html"
        assert "Biểu mẫu quá lớn" in text(page) and "Tệp quá lớn" not in text(page)
        api = client.post(
            "/api/records", data={**fields, "file": (io.BytesIO(small), "a.pdf")},
            headers=people.headers("van_thu"), content_type="multipart/form-data",
        )
        assert api.status_code == 413 and api.json["error"]["code"] == "FORM_TOO_LARGE"
        assert api.json["error"]["message"].startswith("Biểu mẫu quá lớn")


def test_content_disposition_is_safe_for_any_name() -> None:
    header = content_disposition('../Công văn "số 1"\r\n.pdf')
    assert header.startswith('attachment; filename="Cong van so 1.pdf"') or "\r" not in header
    assert "\n" not in header and '"số' not in header and "..%2F" not in header
    assert "filename*=UTF-8''" in header


def test_content_disposition_leaves_out_bidi_overrides_of_a_name_stored_before_they_were_refused() -> None:
    """Names with U+202E and the like are refused since they arrive (FILE_NAME_INVALID), but
    one stored before keeps it and was sent in ``filename*``: the browser's download bar
    showed ``hoa-don\u202exslx.pdf`` as "hoa-donfdp.xslx". The header leaves such characters
    out (the stored name is untouched)."""
    from urllib.parse import unquote

    header = content_disposition("hoa-don\u202exslx\u2066\x85.pdf")
    exact = unquote(header.split("filename*=UTF-8''", 1)[1])
    assert exact == "hoa-donxslx.pdf"
    assert header.startswith('attachment; filename="hoa-donxslx.pdf"')


def test_an_unexpected_error_is_a_vietnamese_page_and_the_api_stays_json(
    web: FlaskClient, people: People, kho: Kho, monkeypatch: pytest.MonkeyPatch
) -> None:
    login(web, people, "van_thu")

    def broken(**_: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(kho.repo, "intake_queue", broken)
    page = web.get("/")
    assert page.status_code == 500 and "Lỗi hệ thống" in text(page) and "boom" not in text(page)
    assert page.mimetype == "text/html"
    api = web.get("/api/intake", headers=people.headers("van_thu"))
    assert api.status_code == 500 and api.json["error"]["code"] == "INTERNAL_ERROR"


def test_the_upload_script_gets_one_outcome_per_file(
    web: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    login(web, people, "van_thu")
    answer = post(
        web, "/intake", {"direction": "den", "files": (io.BytesIO(signed["valid"]), "cv.pdf")}, "/intake",
        content_type="multipart/form-data", headers={"X-Kho-Upload": "1"},
    )
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    outcome = answer.json["files"][0]
    assert outcome["ok"] and outcome["url"].startswith("/intake/") and "cv.pdf" in outcome["message"]
    assert 'src="/assets/kho.js"' in text(web.get("/intake")) and web.get("/assets/kho.js").status_code == 200


def test_five_wrong_passwords_lock_the_account_with_the_services_message(
    web: FlaskClient, people: People
) -> None:
    # From a browser that logged in before (a21: only those lock the account itself; a new
    # browser's wrong passwords lock new browsers, tests/web/test_device_cookie_a21.py).
    assert login(web, people, "luu_tru").status_code == 302
    web.delete_cookie("kho_session")
    for _ in range(5):
        assert login(web, people, "luu_tru", "Sai@mat-khau1").status_code == 401
    refused = login(web, people, "luu_tru")  # the right password, too late
    assert refused.status_code == 401 and "khóa" in text(refused)
    assert people.kho.accounts.get(people.usernames["luu_tru"]).status.value == "locked"


def test_hoso_list_is_paged_at_50(web: FlaskClient, people: People) -> None:
    creator = people.actor("chuyen_vien")
    for n in range(52):
        people.kho.repo.create_file(
            {"file_notation": f"{n + 1:02d}.VP", "title": f"Hồ sơ số {n + 1}", "maintenance": "10 năm",
             "creator": "Phạm Minh Chính", "start_date": "2026-03-01"},
            creator,
        )
    login(web, people, "chuyen_vien")
    first = text(web.get("/files"))
    assert "52 hồ sơ (trang 1)" in first
    assert first.count('href="/files/') == 50
    assert 'href="/files?page=2">Trang sau</a>' in first and "Trang trước" not in first
    second = text(web.get("/files?page=2"))
    assert second.count('href="/files/') == 2 and 'href="/files?page=1">Trang trước</a>' in second
    assert "Trang sau" not in second
    shown = set(re.findall(r'href="/files/([^"?]+)"', first + second))
    assert len(shown) == 52  # every hồ sơ once across the pages
    garbage = web.get("/files?page=abc")  # refused with its code since u27 (was read as page 1)
    assert garbage.status_code == 422 and garbage.headers["X-Kho-Error"] == "PAGE_INVALID"
    assert web.get("/files?page=99999999").status_code == 200


def test_a_record_view_writes_its_events_in_one_append(
    web: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    login(web, people, "van_thu")
    record_path = register_one(web, people, signed["valid"])
    before = len(list(people.kho.repo.audit.events()))
    assert web.get(record_path).status_code == 200
    written = list(people.kho.repo.audit.events())[before:]
    assert len(written) >= 2
    assert {e.actor for e in written} == {people.usernames["van_thu"]}
    assert len({e.at for e in written}) == 1  # one append_many: one moment
    assert [e.seq for e in written] == list(range(written[0].seq, written[0].seq + len(written)))
    assert "audit:read" in {e.action for e in written}
    assert people.kho.repo.audit.verify().ok


def test_a_password_change_on_the_page_ends_the_other_sessions(app: Flask, people: People) -> None:
    """A session stolen with the old password (another browser) ends when the person changes
    it on the page; the browser the change is made in stays logged in."""
    mine, stolen = app.test_client(), app.test_client()
    for client in (mine, stolen):
        assert login(client, people, "chuyen_vien").status_code == 302
        assert client.get("/").status_code == 200
    new = "Doi#Trang-2026-xyz"
    done = post(mine, "/password", {"old_password": PASSWORD, "new_password": new, "confirm_password": new},
                "/password")
    assert done.status_code == 302
    assert mine.get("/").status_code == 200
    assert stolen.get("/").status_code == 302  # back to the login page


def test_an_error_page_carries_its_stable_code_for_machines(web: FlaskClient, people: People) -> None:
    """A refused page gives people the Vietnamese message and machines the same stable code the
    API gives (shown as "Mã lỗi" and in ``X-Kho-Error``): a missing page, a form without its
    anti-forgery token, and a refusal raised by Kho itself."""
    missing = web.get("/khong-co-trang-nay")
    assert missing.status_code == 404 and missing.headers["X-Kho-Error"] == "NOT_FOUND"
    assert "Mã lỗi: <code>NOT_FOUND</code>" in missing.get_data(as_text=True)
    forged = web.post("/login", data={"username": people.usernames["van_thu"], "password": PASSWORD})
    assert forged.status_code == 400 and forged.headers["X-Kho-Error"] == "CSRF_INVALID"
    assert "chống giả mạo" in text(forged)
    login(web, people, "van_thu")
    unknown = web.get("/records/" + "0" * 24)
    assert unknown.status_code == 404
    assert unknown.headers["X-Kho-Error"] == "NOT_FOUND"
    assert "Mã lỗi: <code>NOT_FOUND</code>" in unknown.get_data(as_text=True)
