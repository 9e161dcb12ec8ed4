"""u31: the web pages and the ``kho`` command's terminal output, whatever text was stored.

A trích yếu or a name stored before control characters and bidirectional overrides were refused
(``Nguyễn \\u202eAn Bình``, a BEL, an ESC sequence) was printed as stored: U+202E reversed the
text in the browser, and on the văn thư's terminal ESC/CSI sequences were obeyed (a window title
set, the screen cleared, a line rewritten). One rule, u30's :func:`kho.xmltext.shown_text`:
each such character shown as U+FFFD. In the pages it is the Jinja environment's ``finalize``
(every ``{{ … }}``: text, attributes, form fields); on the terminal the standard streams while a
command runs, except with ``--json`` (exact). Old texts are planted as u29/u30 did: a version
written by the repository layer below the input rules."""

from __future__ import annotations

import dataclasses
import json

from flask.testing import FlaskClient
from kho_people import People
from kho_testing import incoming
from kho_web import cli_as, login, post, text

from repository.records import SYSTEM
from web.cli import main
from web.context import Kho

OLD_SUBJECT = "Về việc \u202eAn Bình\x07 \x1b]0;pwned\x07\x1b[2J của \x9b31mSở"
SHOWN_SUBJECT = "Về việc \ufffdAn Bình\ufffd \ufffd]0;pwned\ufffd\ufffd[2J của \ufffd31mSở"
OLD_NAME = "Nguyễn \u202eAn\x08 Bình"
SHOWN_NAME = "Nguyễn \ufffdAn\ufffd Bình"
HIDDEN = ("\u202e", "\x07", "\x08", "\x1b", "\x9b")


def _as_stored_long_ago(kho: Kho, record_id: str, note: str | None = None, **fields: str) -> None:
    """A new version of the record whose metadata holds ``fields`` as given: written by the
    repository layer below the input rules, as a text stored before them is."""
    repo = kho.repo
    current = repo._load(record_id)
    assert current.metadata is not None
    new = dataclasses.replace(
        current,
        version=current.version + 1,
        metadata=dataclasses.replace(current.metadata, **fields),
        note=note,
    )
    repo._write_version(current, new, SYSTEM, "record:update", {"fields": sorted(fields)})


def _planted(kho: Kho, people: People) -> tuple[str, int]:
    made = kho.repo.create_document("den", incoming(code_number="311"), None, None, people.actor("van_thu"))
    _as_stored_long_ago(kho, made.record_id, OLD_NAME, subject=OLD_SUBJECT, signer_full_name=OLD_NAME)
    metadata = kho.repo._load(made.record_id).metadata
    assert metadata is not None and metadata.arrival_date is not None
    return made.record_id, metadata.arrival_date.year


def _shows_nothing_hidden(shown: str) -> None:
    for hidden in HIDDEN:
        assert hidden not in shown, repr(hidden)


def test_the_pages_show_a_text_stored_long_ago_without_hiding_or_reversing_it(
    store_site: tuple[Kho, People, FlaskClient],
) -> None:
    kho, people, web = store_site
    record_id, year = _planted(kho, people)
    assert login(web, people, "van_thu").status_code == 302
    for path, query in ((f"/records/{record_id}", {}), ("/registers", {"series": "den", "year": year})):
        answer = web.get(path, query_string=query)
        assert answer.status_code == 200, path
        page = text(answer)
        _shows_nothing_hidden(page)  # before: the stored U+202E, BEL, ESC, CSI in the HTML
        assert SHOWN_SUBJECT in page, path
    assert SHOWN_NAME in text(web.get(f"/records/{record_id}"))
    found = web.get("/search", query_string={"q": "pwned"})  # a hit's marked snippet is |safe HTML
    assert found.status_code == 200
    _shows_nothing_hidden(text(found))
    assert "<mark>pwned</mark>" in text(found) and "\ufffd" in text(found)
    stored = kho.repo._load(record_id).metadata
    assert stored is not None and stored.subject == OLD_SUBJECT  # the store keeps what it holds


def test_a_form_shows_a_hidden_character_where_it_is_and_escaped_html_is_kept(
    web: FlaskClient, people: People
) -> None:
    """A form given back (a refusal) shows "�" in its ``value=`` and ``<textarea>`` where the
    character is, so the person sees it and can take it out; what the page escapes stays escaped."""
    assert login(web, people, "van_thu").status_code == 302
    typed = {"subject": "Về <b>việc</b> \u202eAn & \"Bình\"\x07", "signer_full_name": OLD_NAME}
    answer = post(web, "/outgoing/new", typed, "/outgoing/new")
    assert answer.status_code == 422  # no file chosen: the form comes back with what was typed
    page = text(answer)
    _shows_nothing_hidden(page)
    assert ">Về &lt;b&gt;việc&lt;/b&gt; \ufffdAn &amp; &#34;Bình&#34;\ufffd</textarea>" in page
    assert f'value="{SHOWN_NAME}"' in page


def test_the_kho_command_shows_a_text_stored_long_ago_without_driving_the_terminal(
    kho: Kho, people: People
) -> None:
    record_id, year = _planted(kho, people)
    run = cli_as(people, "van_thu")
    for args in (["record", "show", record_id], ["register", "list", "--series", "den", "--year", str(year)]):
        done = run.invoke(main, args, color=True)  # as on a terminal (click strips "ESC [" … elsewhere)
        assert done.exit_code == 0, done.output
        _shows_nothing_hidden(done.output)  # before: ESC ] 0 ; … BEL set the window's title
        assert SHOWN_SUBJECT in done.output, args
    shown = run.invoke(main, ["record", "show", record_id], color=True)
    assert SHOWN_NAME in shown.output
    history = run.invoke(main, ["record", "history", record_id], color=True)  # the version's note
    assert history.exit_code == 0, history.output
    _shows_nothing_hidden(history.output)
    assert SHOWN_NAME in history.output
    found = run.invoke(main, ["search", "pwned"], color=True)
    assert found.exit_code == 0, found.output
    _shows_nothing_hidden(found.output)
    assert SHOWN_SUBJECT in found.output
    exact = run.invoke(main, ["record", "show", record_id, "--json"])  # machines get the stored text
    assert exact.exit_code == 0, exact.output
    metadata = json.loads(exact.output)["metadata"]
    assert metadata["subject"] == OLD_SUBJECT and metadata["signer_full_name"] == OLD_NAME
