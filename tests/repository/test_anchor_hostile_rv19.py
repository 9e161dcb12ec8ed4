"""A store writer plants objects under ``audit/checkpoints/`` and ``audit/events/`` that no Kho
wrote (review rv19): a checkpoint number of a thousand digits or of a billion, fields of the
wrong type, JSON nested too deep to parse, key names that are not numbers. Verification must
name each one and still answer (no traceback, no memory exhausted walking made-up numbers);
the next checkpoint must still be signed, numbered after the real ones; the offline verifier
must do the same with an export; registration must not stop on a forged checkpoint."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import audit_tamper as tamper
import pytest
from kho_testing import AGENCY, AGENCY_NAME, CLERK, incoming, make_store, outside_anchor

from kho.errors import AuditChainBroken
from repository import audit_offline as offline
from repository.anchor import Anchor, checkpoint_key, export, make_checkpoint, verify_anchored
from repository.audit import event_key
from repository.records import Repository
from repository.storage.base import ObjectStore

DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.fixture(params=["local", "s3"])
def anchored(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[Repository, ObjectStore, Anchor]:
    """Three registered records (events 0..5) and one checkpoint, signed outside the store."""
    store = make_store(request.param, tmp_path, "rv19-store")
    repo = Repository(
        store, make_store(request.param, tmp_path, "rv19-keys"), agency_id=AGENCY, agency_name=AGENCY_NAME
    )
    anchor = outside_anchor(tmp_path)
    repo.anchor = anchor
    for n in range(3):
        repo.create_document("den", incoming(code_number=f"{100 + n}"), None, None, CLERK)
    assert make_checkpoint(store, anchor)["number"] == 1
    return repo, store, anchor


def _body(**fields: Any) -> bytes:
    body = {"format_version": 1, "seq": 0, "head": "0" * 64, "signature": "AA==", **fields}
    return json.dumps(body).encode()


PLANTED: dict[str, tuple[str, bytes]] = {
    "number-a-word": (checkpoint_key(7), _body(number="bảy")),
    "number-1000-digits": (checkpoint_key(8), _body(number=10**999)),
    "number-fits-a-key": (checkpoint_key(9), _body(number=999_999_999)),
    "seq-a-word": (checkpoint_key(10), _body(number=10, seq="x")),
    "samples-a-list": (checkpoint_key(11), _body(number=11, samples=[1, 2])),
    "registers-a-word": (checkpoint_key(12), _body(number=12, registers={"registers/x/": "x"})),
    "acknowledges-a-number": (checkpoint_key(13), _body(number=13, acknowledges=5)),
    "nested-too-deep": (checkpoint_key(14), DEEP),
    "not-an-object": (checkpoint_key(15), b"[1, 2]"),
    "name-not-a-number": ("audit/checkpoints/zzz.json", _body(number=3)),
    "name-200-digits": ("audit/checkpoints/" + "9" * 200 + ".json", _body(number=4)),
    "name-past-every-number": ("audit/checkpoints/999999999999.json", _body(number=5)),
}


def _verify_in_a_bounded_process(store: ObjectStore, anchor: Anchor, tmp_path: Path) -> list[str]:
    """``verify_anchored`` run in a child limited to 2 GB of address space and 120 s, so that a
    walk over made-up numbers fails there instead of taking the shared machine's memory."""
    from repository.storage.local import LocalStore

    if isinstance(store, LocalStore):
        opened = f"LocalStore(Path({str(store.root)!r}))"
    else:  # the gateway's options as kho_testing.s3_options reads them (that module costs ~1 CPU-s)
        opened = (
            f"open_store({'s3://' + store.bucket!r}, endpoint=os.environ['KHO_TEST_S3_ENDPOINT'],"
            " access_key=os.environ.get('KHO_TEST_S3_ACCESS_KEY', ''),"
            " secret_key=os.environ.get('KHO_TEST_S3_SECRET_KEY', ''), secure=False)"
        )
    script = textwrap.dedent(
        f"""
        import json, os, resource, sys
        from pathlib import Path
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
        sys.path[:0] = {[str(Path(__file__).parents[2])]!r}  # this checkout's code, not the venv's
        from repository.anchor import Anchor, verify_anchored
        from repository.audit import AuditLog
        from repository.storage import open_store
        from repository.storage.local import LocalStore
        store = {opened}
        anchor = Anchor(signing_key=Path({str(anchor.signing_key)!r}),
                        checkpoint_dir=Path({str(anchor.checkpoint_dir)!r}))
        report = verify_anchored(AuditLog(store), anchor)
        print(json.dumps([f.kind for f in report.findings]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    kinds: list[str] = json.loads(done.stdout.splitlines()[-1])
    return kinds


@pytest.mark.parametrize("planted", sorted(PLANTED))
def test_a_planted_checkpoint_is_named_and_the_real_ones_still_count(
    anchored: tuple[Repository, ObjectStore, Anchor], planted: str, tmp_path: Path
) -> None:
    repo, store, anchor = anchored
    key, data = PLANTED[planted]
    store.put_if_absent(key, data)

    kinds = _verify_in_a_bounded_process(store, anchor, tmp_path)
    assert kinds == ["checkpoint"], kinds  # the planted file, named; nothing else

    # The next checkpoint is signed and numbered after the real one (a planted name or number
    # neither stops it nor pushes it past what a key holds), and still vouches for the chain.
    repo.create_document("den", incoming(code_number="200"), None, None, CLERK)
    second = make_checkpoint(store, anchor)
    assert second["number"] == 2
    assert [f.kind for f in verify_anchored(repo.audit, anchor).findings] == ["checkpoint"]
    tamper.rewrite_consistently(store, drop={3})
    kinds = sorted(f.kind for f in verify_anchored(repo.audit, anchor).findings)
    assert kinds == ["checkpoint", "rewritten", "rewritten"]  # both real checkpoints see it


def test_an_event_nested_too_deep_is_unreadable_and_the_log_refuses_with_its_code(
    anchored: tuple[Repository, ObjectStore, Anchor], tmp_path: Path
) -> None:
    """The newest event object replaced by ``[[[…]]]``: verify names it, the checkpoint signer
    and the next act refuse with AUDIT_CHAIN_BROKEN instead of a RecursionError (a 500)."""
    repo, store, anchor = anchored
    last = max(int(i.key.rsplit("/", 1)[1].split(".")[0]) for i in store.list("audit/events/"))
    store.delete(event_key(last))
    store.put_if_absent(event_key(last), DEEP)

    kinds = _verify_in_a_bounded_process(store, anchor, tmp_path)
    assert "unreadable" in kinds and set(kinds) <= {"unreadable", "rewritten", "truncated"}, kinds
    with pytest.raises(AuditChainBroken):
        make_checkpoint(store, anchor)
    fresh = Repository(store, repo.keys.store, agency_id=AGENCY, agency_name=AGENCY_NAME)
    with pytest.raises(AuditChainBroken):
        fresh.create_document("den", incoming(code_number="300"), None, None, CLERK)


def test_the_offline_verifier_names_a_planted_checkpoint_in_an_export(
    anchored: tuple[Repository, ObjectStore, Anchor], tmp_path: Path
) -> None:
    repo, _, anchor = anchored
    out = tmp_path / "export"
    export(repo.audit, anchor, out)
    (out / "checkpoints" / "000000000099.json").write_bytes(_body(number=10**999))
    (out / "checkpoints" / "000000000098.json").write_bytes(DEEP)
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps({"number": "một", "seq": 0}))
    done = subprocess.run(
        [sys.executable, "-I", str(out / "verify_audit.py"), str(out), "--checkpoint", str(mine)],
        capture_output=True,
        text=True,
        cwd=out,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert done.stderr == ""
    assert done.stdout.count("[checkpoint]") == 3, done.stdout
    key = offline.load_public_key(out / "public-key.pem")
    assert [f.kind for f in offline.verify_export(out, key)] == ["checkpoint", "checkpoint"]


def test_a_forged_checkpoint_without_a_signing_key_does_not_stop_registration(
    anchored: tuple[Repository, ObjectStore, Anchor],
) -> None:
    """An installation without ``KHO_AUDIT_SIGNING_KEY`` reads the store's checkpoints
    unsigned for the registers' floor: a head that is not a number must not make every
    registration fail."""
    repo, store, _ = anchored
    plain = Repository(store, repo.keys.store, agency_id=AGENCY, agency_name=AGENCY_NAME)
    prefixes = {i.key.rsplit("/", 1)[0] + "/" for i in store.list("registers/")}
    store.put_if_absent(checkpoint_key(50), _body(number=50, registers=dict.fromkeys(prefixes, "x")))
    record = plain.create_document("den", incoming(code_number="400"), None, None, CLERK)
    assert record.registration is not None and record.registration.number == 4
