"""rv27 (rv24's open items): the bounds of one imported package's check.

* Time: each PDF's verification was bounded (``KHO_SIGNATURE_TIMEOUT``, 120 s) but a package
  was not: 500 PDFs of 119 s each held an import (and a web worker) for 16 hours. The whole check
  now has ``KHO_SIP_TIME_LIMIT``; past it the package is refused (``SIP_TIME_LIMIT``) and nothing
  about it is recorded, so a re-run starts clean.
* Memory: each PDF was read whole to be verified, and a package's files may be of 512 MiB (ten
  times the largest original Kho takes). A PDF larger than the largest original
  (``KHO_MAX_FILE_MB``) now refuses the package before it is read.

Real services, the real E-ARK validator, real pyHanko."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kho_people import People
from kho_sip import good_package, replace_document, zipped

from ingest.signatures import PdfVerification
from kho.errors import KhoError
from retention.sip_import import import_package
from web.context import Kho

FIRST = "representations/rep1/data/001_cv0.pdf"


@pytest.fixture
def installation(kho: Kho) -> Iterator[Callable[..., Kho]]:
    """A second installation over the same data with its own settings, made by the test."""
    opened: list[Kho] = []

    def make(**settings: object) -> Kho:
        other = Kho(dataclasses.replace(kho.settings, **settings))
        other.repo.clock = kho.repo.clock
        opened.append(other)
        return other

    yield make
    for other in opened:
        other.close()


def _imports(kho: Kho) -> list[str]:
    return [i.key for i in kho.repo.store.list("retention/sip-imports/")]


def test_a_package_past_the_installation_s_time_limit_is_refused_and_a_re_run_starts_clean(
    kho: Kho, people: People, tmp_path: Path, installation: Callable[..., Kho]
) -> None:
    archive = zipped(good_package(kho, people, tmp_path, docs=3), tmp_path / "package.zip")
    hurried = installation(sip_time_limit=1.0)
    assert hurried.sip_checks.time_limit == 1.0  # KHO_SIP_TIME_LIMIT reaches the import's checks

    calls = []

    def slow(data: bytes) -> PdfVerification:  # a PDF that takes its verifier 1.2 s (of 120 allowed)
        calls.append(len(data))
        time.sleep(1.2)
        return hurried.pipeline.verify(data)

    checks = dataclasses.replace(hurried.sip_checks, verify=slow)
    with pytest.raises(KhoError) as info:
        import_package(hurried.repo, archive, actor=people.actor("luu_tru"), checks=checks)
    assert len(calls) < 3  # ended at the limit, not after every PDF

    error = info.value
    assert error.code == "SIP_TIME_LIMIT" and error.http_status == 422
    assert "KHO_SIP_TIME_LIMIT" in error.message and error.details["limit"] == 1.0 and error.details["step"]
    assert _imports(kho) == []  # nothing recorded as accepted
    last = [e for e in kho.repo.audit.events() if e.action.startswith("transfer:import")][-1]
    assert last.action == "transfer:import-rejected" and last.details["code"] == "SIP_TIME_LIMIT"
    assert list(kho.work_root.glob("kho-sip-*")) == []  # its working folder removed

    done = kho.import_package(archive, actor=people.actor("luu_tru"))  # the default limit: taken
    assert done["package_version"] == 1 and done["files"] > 0 and len(_imports(kho)) == 1


def test_the_deadline_names_the_step_it_ended_in() -> None:
    from retention.sip_import import Deadline

    now = [100.0]
    deadline = Deadline(30.0, clock=lambda: now[0])
    deadline.check("giải nén")
    now[0] = 130.0
    with pytest.raises(KhoError) as info:
        deadline.check("kiểm tra chữ ký số")
    assert info.value.code == "SIP_TIME_LIMIT" and info.value.details["step"] == "kiểm tra chữ ký số"


def test_a_pdf_larger_than_the_largest_original_refuses_the_package_before_it_is_read(
    kho: Kho, people: People, tmp_path: Path, installation: Callable[..., Kho]
) -> None:
    small = installation(max_file_bytes=1024**2)  # KHO_MAX_FILE_MB=1
    root = good_package(kho, people, tmp_path, docs=2)
    large = b"%PDF-1.7\n%" + os.urandom(1024**2)  # incompressible: no zip bomb
    replace_document(root, FIRST, large)

    with pytest.raises(KhoError) as info:
        small.import_package(zipped(root, tmp_path / "large.zip"), actor=people.actor("luu_tru"))

    error = info.value
    assert error.code == "SIP_TOO_LARGE" and error.details["file"] == FIRST
    assert error.details["bytes"] == len(large) and error.details["limit"] == 1024**2
    assert FIRST in error.message and "chữ ký số" in error.message
    assert _imports(kho) == []
