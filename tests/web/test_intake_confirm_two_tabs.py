"""The same received document confirmed from two tabs at once, through the real pages (review
a6; the repository's side is tests/repository/test_intake_confirm_race.py).

Before, both tabs were sent on to the record page and the document had two số đến. Now one is,
and the other is answered 409 with a Vietnamese message; the register has one row."""

from __future__ import annotations

import io
import re
import threading
from typing import Any

from flask import Flask
from kho_people import People
from kho_testing import incoming
from kho_web import CSRF, ONCE, login, post, text

from web.context import Kho


def test_two_tabs_confirming_one_document_at_once_give_it_one_number(
    app: Flask, kho: Kho, people: People, signed: dict[str, bytes]
) -> None:
    tabs = [app.test_client(), app.test_client()]
    for tab in tabs:
        login(tab, people, "van_thu")
    uploaded = post(
        tabs[0],
        "/intake",
        {"direction": "den", "files": (io.BytesIO(signed["valid"]), "cv.pdf")},
        "/intake",
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302, text(uploaded)
    review_path = uploaded.headers["Location"]
    forms: list[dict[str, str]] = []
    for tab in tabs:  # each tab opens the review page, as a browser does
        page = text(tab.get(review_path))
        version = re.search(r'name="expected_version" value="(\d+)"', page)
        assert version, page
        once = ONCE.search(page)
        forms.append(
            {
                **incoming(issued_date="02/03/2026", arrival_date="05/03/2026"),
                "expected_version": version.group(1),
                "csrf_token": CSRF.search(page).group(1),  # type: ignore[union-attr]
                **({"once": once.group(1)} if once else {}),
            }
        )
    together = threading.Barrier(2, timeout=30)
    gate = kho.repo._gate

    def gate_together(*args: Any, **kwargs: Any) -> Any:
        together.wait()  # both requests have read the document in intake
        return gate(*args, **kwargs)

    kho.repo._gate = gate_together  # type: ignore[method-assign]
    answers: list[Any] = [None, None]

    def confirm(i: int) -> None:
        answers[i] = tabs[i].post(review_path + "/confirm", data=forms[i])

    threads = [threading.Thread(target=confirm, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    codes = sorted(a.status_code for a in answers)
    assert codes == [302, 409], [(a.status_code, text(a)[:300]) for a in answers]  # before: [302, 302]
    refused = next(a for a in answers if a.status_code == 409)
    assert "đang được người khác vào sổ" in text(refused)
    entries = [info.key for info in kho.repo.store.list("registers/")]
    assert len(entries) == 1, entries
