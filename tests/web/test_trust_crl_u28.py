"""``kho trust add-crl/remove-crl`` and CRLs in ``kho trust list``; a running pipeline (the
web server's, a Celery worker's: both are ``Pipeline.from_settings``) learns of a CRL added
after it verified the same signer, at its next document, without a restart."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from kho_crls import make_crl, serial
from kho_people import People
from kho_web import cli_as

from ingest.signatures import Indication, trustlist
from ingest.signatures.combined import verify_and_read_text
from ingest.testpki import REVOCATION_TIME, TestPKI, document_for, sign_as
from web.cli import main
from web.context import Kho


def _add_test_ca(runner: CliRunner, pki: TestPKI, tmp_path: Path) -> None:
    for name, der in (("test-root", pki.root.cert_der), ("test-ca", pki.ca.cert_der)):
        (tmp_path / f"{name}.der").write_bytes(der)
        added = runner.invoke(main, ["trust", "add", str(tmp_path / f"{name}.der"), "--source", "testpki"])
        assert added.exit_code == 0, added.output


def test_add_crl_lists_refuses_and_removes_and_each_change_is_audited(
    managed_env: dict[str, str], kho: Kho, people: People, tmp_path: Path
) -> None:
    pki = TestPKI.build()
    runner = cli_as(people, "quan_tri")
    _add_test_ca(runner, pki, tmp_path)
    crl_file = tmp_path / "ca.crl"
    crl_file.write_bytes(make_crl(pki, {serial(pki.revoked_personal.cert_der): REVOCATION_TIME}, pem=True))

    added = runner.invoke(main, ["trust", "add-crl", str(crl_file), "--source", "https://ca.kho.test/ca.crl"])
    assert added.exit_code == 0, added.output
    assert "1 chứng thư bị thu hồi" in added.output
    assert "quá hạn cập nhật" in added.output  # its nextUpdate (2026-03-08) has passed

    listed = runner.invoke(main, ["trust", "list"])
    assert listed.exit_code == 0, listed.output
    assert "Danh sách thu hồi chứng thư (CRL): 1." in listed.output
    assert "Kho Test CA" in listed.output and "2026-03-01" in listed.output and "2026-03-08" in listed.output
    body = json.loads(runner.invoke(main, ["trust", "list", "--json"]).output)
    [entry] = body["crls"]
    assert (entry["revoked"], entry["stale"], entry["next_update"][:10]) == (1, True, "2026-03-08")

    twice = runner.invoke(main, ["trust", "add-crl", str(crl_file), "--source", "x"])
    assert twice.exit_code == 2 and "TRUST_CRL_EXISTS" in twice.output
    not_crl = tmp_path / "test-root.der"
    wrong = runner.invoke(main, ["trust", "add-crl", str(not_crl), "--source", "x"])
    assert wrong.exit_code == 2 and "TRUST_CRL_INVALID" in wrong.output and "Traceback" not in wrong.output

    removed = runner.invoke(main, ["trust", "remove-crl", entry["sha256"][:12]])
    assert removed.exit_code == 0, removed.output
    assert trustlist.read(Path(managed_env["KHO_DATA_DIR"]) / "trust").crls == ()

    events = [(e.action, e.details.get("sha256")) for e in kho.repo.audit.query(action="trust:")]
    assert events[-2:] == [("trust:add-crl", entry["sha256"]), ("trust:remove-crl", entry["sha256"])]


def test_only_a_quan_tri_adds_a_crl(
    managed_env: dict[str, str], kho: Kho, people: People, tmp_path: Path
) -> None:
    pki = TestPKI.build()
    crl_file = tmp_path / "ca.crl"
    crl_file.write_bytes(make_crl(pki, {}))
    runner = cli_as(people, "van_thu")
    clerk = runner.invoke(main, ["trust", "add-crl", str(crl_file), "--source", "x"])
    assert clerk.exit_code == 2 and "Lỗi [" in clerk.output
    assert not (Path(managed_env["KHO_DATA_DIR"]) / "trust").exists()
    assert [e.details["action"] for e in kho.repo.audit.query(action="access:denied")] == ["system:operate"]


def test_a_warm_pipeline_gives_the_new_verdict_after_a_crl_is_added(
    managed_env: dict[str, str], kho: Kho, people: People, tmp_path: Path
) -> None:
    """The pipeline verifies the revoked signer (pass: no revocation data), then a quản trị
    adds the CA's CRL with the CLI; the same pipeline, the same warm verification workers
    (their stores and validated-path memory), verifies the same document again: REVOKED, in
    the verification-only request and in the combined verify + text request (ingest)."""
    pki = TestPKI.build()
    runner = cli_as(people, "quan_tri")
    _add_test_ca(runner, pki, tmp_path)
    data = sign_as(
        document_for(pki.revoked_personal).data, pki, pki.revoked_personal,
        at=REVOCATION_TIME + timedelta(days=90),
    )
    pipeline = kho.pipeline
    for _ in range(2):  # warm: the worker keeps the store and the validated path
        assert pipeline.verify(data).verdict.indication is Indication.TOTAL_PASSED

    crl_file = tmp_path / "ca.crl"
    crl_file.write_bytes(make_crl(
        pki, {serial(pki.revoked_personal.cert_der): REVOCATION_TIME},
        next_update=datetime.now(UTC) + timedelta(days=7),
    ))
    added = runner.invoke(main, ["trust", "add-crl", str(crl_file), "--source", "https://ca.kho.test/ca.crl"])
    assert added.exit_code == 0, added.output

    after = pipeline.verify(data)
    assert (after.verdict.indication, after.verdict.sub_indication) == (Indication.TOTAL_FAILED, "REVOKED")
    assert after.trust_store == pipeline.trust.fingerprint
    read = verify_and_read_text(data, pipeline.trust, allow_fetching=False, policy=pipeline.crypto_policy,
                                settings=pipeline.text_settings)
    assert read is not None
    assert read.verification.verdict.indication is Indication.TOTAL_FAILED

    entry = trustlist.read(Path(managed_env["KHO_DATA_DIR"]) / "trust").crls[0]
    assert runner.invoke(main, ["trust", "remove-crl", entry.sha256]).exit_code == 0
    assert pipeline.verify(data).verdict.indication is Indication.TOTAL_PASSED
