"""Fixtures shared by every test area.

``KHO_REQUIRE_SERVICES=1`` (set by ``scripts/test.sh``, which starts the real services first)
turns a missing service variable into an error before any test runs, and every skipped test into
a failure: under CI nothing may quietly not run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import kho_buckets
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KHO_SHARED_DIR", ROOT.parent / "shared"))

SERVICE_VARIABLES = (
    "KHO_TEST_S3_ENDPOINT",
    "KHO_TEST_REDIS_URL",
    "KHO_TEST_ELASTICSEARCH_URL",
    "KHO_TEST_ELASTICSEARCH_HOME",
    "KHO_TEST_TIKA_URL",
)


def _services_required() -> bool:
    return os.environ.get("KHO_REQUIRE_SERVICES", "") not in ("", "0")


def pytest_configure(config: pytest.Config) -> None:
    # A `kho verify` run as a program by a test starts no warm agent that outlives the suite;
    # tests/web/test_cli_verify_agent.py turns it on for its own private folders.
    os.environ["KHO_VERIFY_AGENT"] = "0"
    if _services_required():
        missing = [name for name in SERVICE_VARIABLES if not os.environ.get(name)]
        if missing:
            raise pytest.UsageError(
                "KHO_REQUIRE_SERVICES is set but these variables are not: " + ", ".join(missing)
                + ' (run: eval "$(scripts/services.sh env)")'
            )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if _services_required() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped while KHO_REQUIRE_SERVICES is set (nothing may skip): {reason}"


@pytest.fixture(autouse=True)
def drop_test_buckets() -> Iterator[None]:
    """Every S3 bucket the test named with ``kho_buckets.new_bucket`` is removed when it ends,
    passed or failed (the gateway keeps its objects in RAM and is shared)."""
    yield
    kho_buckets.drop_made()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"shared material not found at {SHARED} (set KHO_SHARED_DIR)")
    return SHARED


@pytest.fixture(scope="session")
def corpus_pdf_dir(shared_dir: Path) -> Path:
    return shared_dir / "corpora" / "pdf"
