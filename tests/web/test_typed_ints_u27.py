"""u27: the pages read typed whole numbers in ASCII digits only (``web.pages.common.typed_int``).

werkzeug's ``request.args.get(..., type=int)`` is ``int()``: "٣" (Arabic-Indic), "３" (full
width), "0_3", " 3" and "+3" all read as 3. A version read that way confirmed a review or took
a document out of a hồ sơ, a clearance typed "３" made a Tuyệt mật account. u23 made
:func:`kho.digits.ascii_int` the rule of the forms and the API; every page read now follows it
and refuses anything else with a code (422), nothing written. Pages through Flask's test client
(logged in, real local store)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from kho_people import AGENCY, People
from kho_testing import incoming
from kho_web import ONCE, csrf, logged_in, post, text, upload

from web.context import Kho

WEB = Path(__file__).resolve().parents[2] / "web"
ARABIC = str.maketrans("0123456789", "".join(chr(0x0660 + d) for d in range(10)))
WIDE = str.maketrans("0123456789", "".join(chr(0xFF10 + d) for d in range(10)))
HOSTILE = {  # each is a way int() reads ``n`` that is not ASCII digits
    "arabic-indic": lambda n: n.translate(ARABIC),
    "full-width": lambda n: n.translate(WIDE),
    "underscore": lambda n: "0_" + n,
    "space": lambda n: " " + n,
    "plus": lambda n: "+" + n,
}


def test_no_page_or_route_reads_a_number_with_werkzeug_type_int() -> None:
    """A later ``get(..., type=int)`` (or ``type=float``) anywhere under web/ fails here: use
    ``web.pages.common.typed_int`` (pages) or ``web.app._page_arg``/``_count_arg`` (API)."""
    found = [
        f"{path.relative_to(WEB.parent)}:{n}"
        for path in sorted(WEB.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\bget(list)?\(.*\btype\s*=\s*(int|float)\b", line)
    ]
    assert found == []


@pytest.mark.parametrize("kind", list(HOSTILE))
@pytest.mark.parametrize(
    ("who", "path", "name", "code"),
    [
        ("van_thu", "/search", "page", "PAGE_INVALID"),
        ("chuyen_vien", "/files", "page", "PAGE_INVALID"),
        ("van_thu", "/registers", "year", "FIELD_INVALID"),
    ],
    ids=["search-page", "files-page", "register-year"],
)
def test_a_query_number_in_other_digits_is_refused_with_its_code(
    app: Flask, people: People, who: str, path: str, name: str, code: str, kind: str
) -> None:
    client = logged_in(app, people, who)
    typed = "2026" if name == "year" else "1"
    other = {"q": "công văn"} if path == "/search" else {}
    assert client.get(path, query_string={**other, name: typed}).status_code == 200  # ASCII: read
    value = HOSTILE[kind](typed)
    assert int(value) == int(typed)  # what werkzeug's type=int read
    answer = client.get(path, query_string={**other, name: value})
    assert answer.status_code == 422, (answer.status_code, text(answer)[:300])
    assert answer.headers.get("X-Kho-Error") == code
    assert "chữ số 0–9" in text(answer)


def test_a_file_removal_with_a_version_in_arabic_digits_removes_nothing(
    app: Flask, kho: Kho, people: People
) -> None:
    clerk, worker = people.actor("van_thu"), people.actor("chuyen_vien")
    doc = kho.repo.create_document("den", incoming(code_number="27", page_amount=1), None, None, clerk)
    file = kho.repo.create_file(
        {"file_notation": "27.VP", "title": "Hồ sơ u27", "maintenance": "10 năm",
         "creator": "Phạm Minh Chính", "start_date": "01/03/2026"},
        worker,
    )
    file = kho.repo.add_to_file(file.record_id, doc.record_id, expected_version=file.version, actor=worker)
    web = logged_in(app, people, "chuyen_vien")
    path = f"/files/{file.record_id}"
    answer = post(
        web, f"{path}/documents/{doc.record_id}/remove",
        {"expected_version": str(file.version).translate(ARABIC)}, path,
    )
    assert answer.status_code == 422 and answer.headers.get("X-Kho-Error") == "FIELD_INVALID"
    assert kho.repo.get(file.record_id, actor=worker).documents == (doc.record_id,)


def test_an_intake_confirmation_with_a_version_in_full_width_digits_confirms_nothing(
    app: Flask, kho: Kho, people: People, signed: dict[str, bytes]
) -> None:
    web = logged_in(app, people, "van_thu")
    review_path = upload(web, signed["valid"])
    version = re.search(r'name="expected_version" value="(\d+)"', text(web.get(review_path)))
    assert version
    wide = version.group(1).translate(WIDE)
    metadata = incoming(issued_date="02/03/2026", arrival_date="05/03/2026")
    answer = post(web, review_path + "/confirm", {**metadata, "expected_version": wide}, review_path)
    # the review form again (its own refusal), with the field's message
    assert answer.status_code == 422 and "“Phiên bản” phải là số nguyên" in text(answer)
    assert 'name="expected_version"' in text(web.get(review_path))  # still waiting for review


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_an_account_with_a_clearance_in_other_digits_is_not_created(
    app: Flask, people: People, kind: str
) -> None:
    """Before u27 (and review rv48) "３" made a Tuyệt mật account, "٢" a Tối mật one."""
    web = logged_in(app, people, "quan_tri")
    page = text(web.get("/admin/accounts"))
    once = ONCE.findall(page)
    form = {
        "full_name": "Nguyễn Văn Ba Mươi", "unit": AGENCY, "roles": "chuyen_vien",
        "clearance": HOSTILE[kind]("3"),
        "csrf_token": csrf(web, "/admin/accounts"), **({"once": once[-1]} if once else {}),
    }
    answer = web.post("/admin/accounts", data=form)
    assert answer.status_code == 422, text(answer)[:300]
    assert 'id="new-username"' not in text(answer) and "chữ số 0–9" in text(answer)
    assert "Nguyễn Văn Ba Mươi" not in text(web.get("/admin/accounts"))
