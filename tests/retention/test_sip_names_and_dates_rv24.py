"""rv24: what rv17 did not attack in a package's manifests.

* One file under two names: Kho reads a METS href letter for letter; a reader that takes it as
  a URI (XLink) decodes ``%XX``. A METS listing ``documentation/%52EADME.txt`` (a file of that
  literal name) beside ``documentation/README.txt`` lists, for that reader, the README twice
  with two checksums, and a file it never checked.
* A PREMIS event, or a METS date, later than now: a history of what has not happened, which the
  archive orders the package's events by."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from kho_people import People
from kho_retention import Clock
from kho_sip import good_package, listed_beside_readme, refused, replace_listed, zipped

from kho.errors import KhoError
from kho.timeutil import to_iso_utc
from retention.sip_import import import_package
from web.context import Kho

PREMIS = "metadata/preservation/premis.xml"


@pytest.mark.parametrize("name", ["documentation/%52EADME.txt", "documentation/Ghi%20chú.txt"])
def test_a_reference_a_uri_reader_decodes_to_another_name_is_refused(
    kho: Kho, people: People, tmp_path: Path, name: str
) -> None:
    root = good_package(kho, people, tmp_path, docs=1)
    if name.endswith("Ghi%20chú.txt"):  # both spellings present, each listed with its checksum
        listed_beside_readme(root, "documentation/Ghi chú.txt", b"the text a URI reader takes")
    listed_beside_readme(root, name, b"the text Kho checks under the escaped name")
    error = refused(kho, people, zipped(root, tmp_path / "two-names.zip"))
    assert error.code == "SIP_REFERENCE_AMBIGUOUS" and "%" in error.message
    assert error.details["file"] == name


def _premis_event_at(root: Path, when: str) -> None:
    text = (root / PREMIS).read_text(encoding="utf-8")
    found = re.search(r"<premis:eventDateTime>([^<]+)</premis:eventDateTime>", text)
    assert found
    replace_listed(
        root,
        PREMIS,
        text.replace(found.group(0), f"<premis:eventDateTime>{when}</premis:eventDateTime>").encode(),
    )


def _mets_created_at(root: Path, when: str) -> None:
    text = (root / "METS.xml").read_text(encoding="utf-8")
    found = re.search(r'<mets:metsHdr [^>]*CREATEDATE="([^"]+)"', text)
    assert found
    (root / "METS.xml").write_text(text.replace(found.group(1), when, 1), encoding="utf-8")


@pytest.mark.parametrize("where", ["premis-event", "mets-header"])
@pytest.mark.parametrize("door", ["library", "installation"])
def test_a_date_in_the_future_is_refused(
    kho: Kho, people: People, tmp_path: Path, clock: Clock, where: str, door: str
) -> None:
    root = good_package(kho, people, tmp_path, docs=1)
    ahead = to_iso_utc(clock.now + timedelta(days=400))
    (_premis_event_at if where == "premis-event" else _mets_created_at)(root, ahead)
    archive = zipped(root, tmp_path / "future.zip")
    if door == "library":
        error = refused(kho, people, archive)
    else:
        with pytest.raises(KhoError) as info:
            kho.import_package(archive, actor=people.actor("luu_tru"))
        error = info.value
    assert error.code == "SIP_DATE_IN_FUTURE"
    assert ahead[:10] in error.message


@pytest.mark.parametrize(
    "when",
    [
        "in ten minutes",  # within the skew another machine's clock may have
        "2027-03-01T16:00:00",  # no zone: 16:00 somewhere east of UTC is already past
        "2027",  # not an ISO date and time: PREMIS allows other forms, not judged
    ],
)
def test_dates_that_may_be_past_are_accepted(
    kho: Kho, people: People, tmp_path: Path, clock: Clock, when: str
) -> None:
    root = good_package(kho, people, tmp_path, docs=1)
    _premis_event_at(
        root, to_iso_utc(clock.now + timedelta(minutes=10)) if when == "in ten minutes" else when
    )
    done = import_package(kho.repo, zipped(root, tmp_path / "ok.zip"), actor=people.actor("luu_tru"))
    assert done["files"] > 0
