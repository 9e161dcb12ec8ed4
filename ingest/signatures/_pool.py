"""Verification in worker processes, with a time and memory limit per document.

Signed PDFs come from outside: a hostile one may make pyHanko run for minutes or allocate
without bound, and the fast path (:mod:`._fastpath`) changes process-wide state. Every
verification therefore runs in a worker process that the pipeline and ``kho verify`` share
(one pool per process that asks, started on first use). A worker is a fresh interpreter
(not forked: nothing of the caller's state, threads or patches is inherited), limits its own address
space (``KHO_SIGNATURE_MEMORY_MB``), activates the fast path and keeps, per trust store, the
parsed anchors and CRLs and pyHanko's trust manager across documents: the trust list is sent to
a worker once and named by its digest after that (:class:`ingest.workerpool.Material`), and a
worker keeps the stores of the two trust lists it used last (:class:`_TrustStores`). A
document that takes longer than ``KHO_SIGNATURE_TIMEOUT`` seconds, or kills its worker, gets an
INDETERMINATE verdict and the worker is replaced. A worker not ready for the next document within
``KHO_SIGNATURE_READY_TIMEOUT`` seconds of its last reply (stuck in the housekeeping it does
after replying) is killed and the document goes to a new one: every exchange with a worker has
a deadline, none can hang the caller.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import select
import signal
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ingest.signatures.model import PdfVerification

# The pool machinery lives in ingest.workerpool (no pyHanko there: the text workers use it
# too); its names are re-exported here for the signature code and its tests.
from ingest.workerpool import (  # noqa: F401
    MATERIAL_UNKNOWN,
    MATERIALS_KEPT,
    MAX_REPLY_BYTES,
    READY,
    BadReply,
    Limits,
    VerifierPool,
    WorkerStuck,
    _limit_memory,
    _loads_plain,
    _mapped_bytes,
    _plain,
    _process_cpu_seconds,
    _recv,
    _recv_request,
    _request_head,
    _safe_policy,
    _send,
    _wait_until_waiting,
    _widen_pipe,
    _Worker,
    material_digest,
)

logger = logging.getLogger(__name__)
# How a worker dies when native code (pdfium) cannot allocate under RLIMIT_AS: it aborts,
# or faults on a failed allocation it did not check.
_OUT_OF_MEMORY_SIGNALS = frozenset({signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS, signal.SIGKILL})


def worker_main(memory_mb: int, *, after_reply: Callable[[], None] | None = None) -> None:
    """Loop of one worker process (``python -m ingest.signatures._worker MB``): requests on
    stdin, results on the original stdout (anything printed goes to stderr), :data:`READY`
    before each request. ``after_reply``: one more housekeeping step after each reply (tests
    start a worker with a stuck one through their own entry point)."""
    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    protocol_in = sys.stdin.buffer
    _limit_memory(memory_mb * 1024 * 1024)
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)
    # Warnings as one line on stderr (never a traceback in front of a person running
    # `kho verify`); the verdict itself names every reason.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("kho signature worker: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    from ingest.signatures import _fastpath
    from ingest.signatures.trust import TrustStore

    _fastpath.activate()
    _warm_up()
    stores = _TrustStores(TrustStore)
    while True:
        protocol_out.write(READY)
        protocol_out.flush()
        try:
            data, digest, material, allow_fetching, now, policy, text = _recv_request(protocol_in)
        except (EOFError, OSError):
            return
        # text: the text-layer settings of a combined request (ingest.signatures.combined), or
        # None; digest and material: the trust list (workerpool.Material), the material only
        # when this worker was not sent it yet
        found = stores.get(digest, material)
        if isinstance(found, tuple):  # (status, detail): not verified
            _send(protocol_out, found)
            del data
            continue
        trust = found
        # The reply goes out first; freeing the document's objects and re-enabling the
        # collector happen after it, while the caller reads the result (and before the
        # next request is read, so a document never starts with the last one's garbage).
        cleanup: list[Callable[[], None]] = []
        if text is not None:  # "verify + text layer" (ingest.signatures.combined): its settings
            from ingest.signatures.combined import combined_reply

            reply = combined_reply(data, trust, allow_fetching, now, policy, text, cleanup)
        else:
            reply = _verify_reply(data, trust, allow_fetching, now, policy, cleanup)
        _send(protocol_out, reply)
        del reply, data
        if after_reply is not None:
            cleanup.append(after_reply)
        _housekeeping(cleanup)


class _TrustStores:
    """The trust stores a worker keeps, by the digest of the material each was built from
    (:class:`ingest.workerpool.Material`): at most :data:`MATERIALS_KEPT`, the least recently
    used evicted (a store holds its CRLs parsed, and indexed once used; before, a worker kept
    one more store for every change of the trust list, for its whole life)."""

    def __init__(self, build: Any, kept: int = MATERIALS_KEPT) -> None:
        self._build = build  # TrustStore, imported by the worker after its memory limit
        self._kept = kept
        self._stores: OrderedDict[str, Any] = OrderedDict()

    def digests(self) -> tuple[str, ...]:
        """The digests kept, least recently used first."""
        return tuple(self._stores)

    def get(self, digest: Any, material: Any) -> Any:
        """The store named by ``digest``, built from ``material`` when it comes with it; else a
        reply for the caller: :data:`MATERIAL_UNKNOWN` (send it), or ``error`` for material that
        is not what its digest names or that builds no store (nothing kept)."""
        if material is None:
            trust = self._stores.get(digest) if isinstance(digest, str) else None
            if trust is None:
                return MATERIAL_UNKNOWN, digest if isinstance(digest, str) else None
            self._stores.move_to_end(digest)
            return trust
        try:
            anchors, source, crls = material
            actual = material_digest(material)
        except (TypeError, ValueError) as exc:
            return "error", f"trust material refused: {type(exc).__name__}: {exc}"[:300]
        if actual != digest:
            return "error", "trust material refused: not the material its digest names"
        try:
            trust = self._build.from_der(anchors, source, crls)
            # pyHanko's trust manager (the anchors indexed by prepared name), built once per
            # store and worker when the store arrives rather than inside the first document
            # (~10-15 ms of its time)
            _ = trust.trust_manager
        except MemoryError:
            return "memory", None
        except Exception as exc:
            return "error", f"trust material refused: {type(exc).__name__}: {exc}"[:300]
        self._stores.pop(actual, None)
        self._stores[actual] = trust
        while len(self._stores) > self._kept:
            self._stores.popitem(last=False)
        return trust


def _housekeeping(steps: list[Callable[[], None]]) -> None:
    """Run every deferred step in order; one that fails is logged and the rest still run
    (the last one re-enables the collector)."""
    for step in steps:
        try:
            step()
        except Exception as exc:
            logger.warning("signature worker housekeeping failed: %s", exc)
    steps.clear()


def _warm_up() -> None:
    """Import what a verification imports on first use (the verification modules, pyHanko's
    stream filters, the cp1252 codec asn1crypto decodes names with), so that a worker's first
    document does not pay for it (~15-20 ms CPU measured on a two-signature document).

    Then move everything that exists to the collector's permanent generation
    (:func:`gc.freeze`): the modules and their tables live as long as the worker, and a full
    collection, every ~100 documents, scanned all of them again (~20 ms each, ~0.2 ms per
    document; bench/NOTES-m17.md). Nothing a document allocates is frozen."""
    import codecs
    import gc

    import pyhanko.pdf_utils.filters  # noqa: F401

    import ingest.signatures._viewer  # (verify imports it where it renders a document)
    import ingest.signatures.verify  # noqa: F401

    codecs.lookup("cp1252")
    gc.freeze()


def _verify_reply(
    data: bytes,
    trust: Any,
    allow_fetching: bool,
    now: Any,
    policy: Any,
    cleanup: list[Callable[[], None]] | None = None,
) -> tuple[str, Any]:
    """One verification in a worker or child, as the reply the caller maps to a verdict:
    ``ok`` with the result, ``memory`` past the memory limit, ``error`` for anything else.
    ``cleanup`` collects the housekeeping steps to run after the reply is sent."""
    from ingest.signatures.verify import verify_in_process

    try:
        return "ok", _plain(verify_in_process(
            data, trust, allow_fetching=allow_fetching, now=now, policy=policy, cleanup=cleanup
        ).to_dict())
    except MemoryError:
        return "memory", None
    except BaseException as exc:  # never leave the caller waiting
        return "error", f"{type(exc).__name__}: {exc}"[:300]


class ForkVerifier:
    """One forked child per document, for a one-shot process (``kho verify``).

    The worker pool's children are fresh interpreters because the processes that own a pool
    live long and run other code (the web server, the pipeline): nothing of the fast path may
    leak into them, and they may hold threads, which ``fork`` does not carry over safely. A
    one-shot ``kho verify`` process is different: it does nothing but verify, has no other
    threads, and has already imported pyHanko to build the trust store, so a second interpreter
    importing everything again (about half of its wall time) buys nothing. A forked child
    inherits those imports and is still a box of its own: it limits its own address space, turns
    the fast path on (patches and the paused collector stay in the child), verifies one document
    and exits; the parent keeps stock libraries and enforces the time limit, and a document that
    exhausts memory, kills the child or takes too long gets the same verdicts as in the pool.
    """

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits.from_env()

    @staticmethod
    def available() -> bool:
        return hasattr(os, "fork") and threading.active_count() == 1

    def verify(
        self,
        data: bytes,
        anchors: tuple[bytes, ...],
        source: str,
        allow_fetching: bool,
        now: datetime | None,
        policy: Any = None,
        *,
        crls: tuple[bytes, ...] = (),
        material: Any = None,
    ) -> tuple[str, Any]:
        """As :meth:`VerifierPool.verify` (the child parses the anchors and CRLs as a pool
        worker does, after turning the fast path on; ``material`` is not needed: a child
        inherits them, and keeps nothing for a next document)."""
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(read_fd)
            code = 0
            try:
                _child_verify(write_fd, self.limits.memory_mb, (
                    data, anchors, source, allow_fetching, now, policy or _safe_policy(), crls
                ))
            except BaseException:  # the parent sees a crash, never a hang
                code = 70
            finally:
                os._exit(code)
        os.close(write_fd)
        with os.fdopen(read_fd, "rb") as stream:
            reply: tuple[str, Any] | None = None
            try:
                ready, _, _ = select.select([stream], [], [], self.limits.timeout)
                reply = _recv(stream) if ready else ("timeout", self.limits.timeout)
            except (EOFError, OSError, BadReply):
                reply = None
            if reply is not None and reply[0] == "timeout":
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        if reply is None:
            code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
            return "crash", code
        return reply

    def close(self) -> None:
        pass


def _child_verify(write_fd: int, memory_mb: int, request: tuple[Any, ...]) -> None:
    """Body of a :class:`ForkVerifier` child: limits, fast path, one verification, reply."""
    out = os.fdopen(write_fd, "wb")
    import faulthandler

    # a native abort under the memory limit is a verdict, not a traceback on the terminal
    faulthandler.disable()
    # On top of what the child inherits: a fresh pool worker starts almost empty, a forked
    # child starts with its caller's address space (a long test run, a big CLI process);
    # either way the document itself gets ``memory_mb``.
    _limit_memory(_mapped_bytes() + memory_mb * 1024 * 1024)
    from ingest.signatures import _fastpath
    from ingest.signatures.trust import TrustStore

    _fastpath.activate()
    data, anchors, source, allow_fetching, now, policy, crls = request
    # one thread reads this store (available() forks only a process of one thread): its
    # anchors are left to pyHanko's lazy reading, not parsed whole (TrustStore.trust_manager)
    trust = TrustStore.from_der(anchors, source, crls, one_thread=True)
    # the child exits right after replying: the operating system frees the document's
    # objects, so the deferred housekeeping is never run
    _send(out, _verify_reply(data, trust, allow_fetching, now, policy, []))
    out.close()


_shared: VerifierPool | None = None
_shared_pid = os.getpid()
_shared_lock = threading.Lock()


def _after_fork_in_child() -> None:
    """A forked child starts with a fresh lock (another thread of the parent may have held it
    at the fork; no thread of the child would release it)."""
    global _shared_lock
    _shared_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def shared_pool() -> VerifierPool:
    """The process's pool (``KHO_SIGNATURE_WORKERS`` workers), started on first use. A forked
    process (a bulk import's worker, a Celery prefork or gunicorn ``--preload`` child) never
    uses the pool of the process it was forked from: those workers' pipes are the parent's, and
    two processes talking to one worker would read each other's replies."""
    global _shared, _shared_pid
    with _shared_lock:
        if _shared_pid != os.getpid():
            _shared, _shared_pid = None, os.getpid()  # the parent's: left to the parent, not closed
        if _shared is None:
            _shared = VerifierPool(int(os.environ.get("KHO_SIGNATURE_WORKERS", "1")))
            atexit.register(_shared.close)
        return _shared


def now_utc() -> datetime:
    return datetime.now(UTC)


def verdict_for_problem(problem: str, detail: Any) -> str:
    """Vietnamese reason for a verification the worker could not finish."""
    if problem == "timeout":
        return f"kiểm tra chữ ký vượt quá thời gian cho phép ({detail:g} giây)"
    if problem == "memory":
        return "kiểm tra chữ ký vượt quá giới hạn bộ nhớ"
    if problem == "stuck":
        return (
            "tiến trình kiểm tra chữ ký không sẵn sàng nhận tài liệu sau "
            f"{detail:g} giây, kể cả tiến trình thay thế"
        )
    if problem == "crash":
        if isinstance(detail, int) and detail < 0:
            try:
                name = signal.Signals(-detail).name
            except ValueError:
                name = f"tín hiệu {-detail}"
            if -detail in _OUT_OF_MEMORY_SIGNALS:
                # pdfium and other native code abort (or fault) when an allocation fails under
                # the address-space limit: a hostile stream that decompresses without bound
                return (
                    "tiến trình kiểm tra chữ ký dừng bất thường do vượt giới hạn bộ nhớ "
                    f"({name}; tài liệu có thể chứa dữ liệu nén quá lớn)"
                )
            return f"tiến trình kiểm tra chữ ký dừng bất thường ({name})"
        return f"tiến trình kiểm tra chữ ký dừng bất thường (mã {detail})"
    return f"lỗi khi kiểm tra chữ ký ({detail})"


__all__ = [
    "BadReply",
    "ForkVerifier",
    "Limits",
    "PdfVerification",
    "VerifierPool",
    "WorkerStuck",
    "shared_pool",
    "verdict_for_problem",
]
