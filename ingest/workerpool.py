"""Worker processes for reading hostile input, each a fresh interpreter with a time and
memory limit per request: the machinery shared by the signature verification
(:mod:`ingest.signatures._pool`, ``python -m ingest.signatures._worker``) and the bounded
pdfium reads (:mod:`ingest.text.box`, ``python -m ingest.text._worker``).

It imports neither pyHanko nor pdfium, so a worker that only reads text does not pay for the
signature stack at start (nor the other way round). What a worker may take (time, memory,
readiness) is :class:`Limits`; every exchange with a worker has a deadline (:class:`_Worker`);
a worker that overran, died, sent a refused reply or was interrupted mid-exchange is replaced
(:meth:`VerifierPool.call`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

logger = logging.getLogger(__name__)
_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Limits:
    """What one verification may take in a worker or forked child: time and memory."""

    timeout: float
    """Seconds one document may take in a worker (``KHO_SIGNATURE_TIMEOUT``)."""
    memory_mb: int
    """Address space of a worker (``KHO_SIGNATURE_MEMORY_MB``)."""
    ready_timeout: float = 10.0
    """Seconds a worker that has answered may take to be ready for the next document (its
    after-reply housekeeping), and to take in a request or hand over its reply
    (``KHO_SIGNATURE_READY_TIMEOUT``); past it the worker is killed and replaced and the
    document sent to the new one."""

    @classmethod
    def from_env(cls) -> Limits:
        return cls(
            timeout=float(os.environ.get("KHO_SIGNATURE_TIMEOUT", "120")),
            memory_mb=int(os.environ.get("KHO_SIGNATURE_MEMORY_MB", "2048")),
            ready_timeout=float(os.environ.get("KHO_SIGNATURE_READY_TIMEOUT", "10")),
        )


class WorkerStuck(Exception):
    """A worker was not ready for a request, or did not take it in or hand over its reply,
    within :attr:`Limits.ready_timeout` (stuck in its housekeeping, or wedged)."""


READY = b"\x06"
"""What a worker writes when it waits for its next request (after starting, and after each
reply's housekeeping): the caller sends a request only once it has read it."""


def _send(stream: BinaryIO, message: Any) -> None:
    blob = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack(">Q", len(blob)) + blob)
    stream.flush()


class BadReply(Exception):
    """A worker's reply that the caller refuses to take in: larger than the caller allows, a
    pickle that names a class or function, or a shape the request kind does not give. The
    worker parsed hostile bytes; what it says back is checked, never run."""


class _PlainUnpickler(pickle.Unpickler):
    """Unpickles only what needs no lookup of a global: None, bool, int, float, str, bytes,
    tuple, list, dict, set. A reply naming any class or function (the way a pickle runs code:
    ``os.system`` through ``__reduce__``; or a global object it would then alter) is refused
    before anything is called. The worker sends plain data (:func:`_plain`)."""

    def find_class(self, module: str, name: str) -> Any:
        raise BadReply(f"reply names {module}.{name}")


def _plain(value: Any) -> Any:
    """``value`` with every ``str`` subclass (the verdict's ``StrEnum`` members) as a plain
    ``str``, through dicts, lists and tuples: what :class:`_PlainUnpickler` takes back."""
    if isinstance(value, str):
        return value if type(value) is str else str(value)
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_plain(v) for v in value]
        return items if isinstance(value, list) else tuple(items)
    return value


def _loads_plain(blob: bytes) -> Any:
    """A reply's pickle, plain data only (:class:`_PlainUnpickler`); :class:`BadReply` else."""
    try:
        return _PlainUnpickler(io.BytesIO(blob)).load()
    except BadReply:
        raise
    except Exception as exc:  # truncated, unknown opcode, persistent id...
        raise BadReply(f"reply not readable: {type(exc).__name__}") from exc


MAX_REPLY_BYTES = 64 * 1024 * 1024
"""Largest verification reply taken in (a report of a few signatures is kilobytes)."""


def _recv(stream: BinaryIO) -> Any:
    head = stream.read(8)
    if len(head) < 8:
        raise EOFError("worker pipe closed")
    (size,) = struct.unpack(">Q", head)
    if size > MAX_REPLY_BYTES:
        raise BadReply(f"reply of {size} bytes")
    blob = stream.read(size)
    if len(blob) < size:
        raise EOFError("worker pipe closed")
    return _loads_plain(blob)


MATERIALS_KEPT = 2
"""How many pieces of :class:`Material` a worker keeps (the current trust list and the one
before it, so that a document verified with the old list while a change lands does not make a
worker rebuild either); the least recently used beyond it is evicted."""

MATERIAL_UNKNOWN = "material-unknown"
"""A worker's reply to a request that names, by digest alone, material it does not hold
(never sent to it, or evicted): the pool sends the request again with the material."""


def _canonical(value: Any) -> bytes:
    """An unambiguous encoding of nested tuples of ``bytes`` and ``str`` (a tag and a length
    before every item), what :func:`material_digest` hashes: no two values share one."""
    if isinstance(value, bytes):
        return b"b" + struct.pack(">Q", len(value)) + value
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return b"s" + struct.pack(">Q", len(raw)) + raw
    if isinstance(value, tuple):
        return b"t" + struct.pack(">Q", len(value)) + b"".join(_canonical(v) for v in value)
    raise TypeError(f"material holds a {type(value).__name__}")


def material_digest(payload: tuple[Any, ...]) -> str:
    """SHA-256 (hex) of ``payload``'s canonical encoding (:func:`_canonical`)."""
    digest = hashlib.sha256()
    digest.update(_canonical(payload))
    return digest.hexdigest()


@dataclass(frozen=True)
class Material:
    """Large, rarely changing data a worker keeps between requests (the trust list's anchors
    and CRLs): sent to a worker once, named by its digest in every request after that.

    A request with material starts with ``(digest, payload or None)``. The pool remembers per
    worker process which digests it sent (:attr:`_Worker.materials`, a worker started anew
    remembers none, so a restarted or replaced worker is sent the material again); a worker that
    lacks the named material all the same (it evicted it, or failed to build it) answers
    :data:`MATERIAL_UNKNOWN` and is sent it. A worker keys what it keeps by the digest it
    computes itself over the payload it received, and refuses a payload whose digest is not
    the one named: a digest can only ever select material that was sent with it."""

    payload: tuple[Any, ...]
    digest: str = field(default="")

    def __post_init__(self) -> None:
        if not self.digest:
            object.__setattr__(self, "digest", material_digest(self.payload))


def _request_head(data_size: int, rest: tuple[Any, ...]) -> bytes:
    """What precedes a request's document: the sizes, then the other arguments pickled (the
    document's bytes follow as they are, no pickled copy of a few megabytes)."""
    meta = pickle.dumps(rest, protocol=pickle.HIGHEST_PROTOCOL)
    return struct.pack(">QQ", len(meta), data_size) + meta


def _recv_request(stream: BinaryIO) -> tuple[Any, ...]:
    """``(data, *rest)`` of a request (:func:`_request_head` and the document's bytes);
    :class:`EOFError` when the pipe closed."""
    head = stream.read(16)
    if len(head) < 16:
        raise EOFError("worker pipe closed")
    meta_size, data_size = struct.unpack(">QQ", head)
    meta = stream.read(meta_size)
    data = stream.read(data_size)
    if len(meta) < meta_size or len(data) < data_size:
        raise EOFError("worker pipe closed")
    return (data, *pickle.loads(meta))


def _widen_pipe(stream: BinaryIO) -> None:
    """Let the request pipe hold 1 MiB (Linux; 64 KiB by default), so a document of a few
    megabytes crosses in a few writes rather than one wake-up of each side per 64 KiB."""
    try:
        import fcntl

        fcntl.fcntl(stream.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)
    except (ImportError, AttributeError, OSError, ValueError):
        pass  # the default size works, only with more wake-ups


def _limit_memory(limit: int) -> None:
    """Cap this process's address space at ``limit`` bytes (where the platform allows)."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass


class _Worker:
    """A fresh interpreter (nothing of the caller's state, threads or patches is inherited,
    and the caller's main module is not re-imported).

    The caller talks to it through the raw pipe ends, every step under a deadline: a worker
    that is not ready for the next request (stuck in the housekeeping after its last reply),
    or that stops taking in a request or handing over a reply, costs at most
    ``ready_timeout`` (:class:`WorkerStuck`), never a hang on a full pipe."""

    def __init__(self, memory_mb: int, command: tuple[str, ...] | None = None) -> None:
        self.process = subprocess.Popen(
            [*(command or (sys.executable, "-m", "ingest.signatures._worker")), str(memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=str(_ROOT),
            bufsize=0,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin: BinaryIO = self.process.stdin
        self.stdout: BinaryIO = self.process.stdout
        _widen_pipe(self.stdin)
        os.set_blocking(self.stdin.fileno(), False)
        self.served = False
        """Has it answered a request (then its readiness is bounded by ``ready_timeout``;
        a new worker's start, imports included, by the document's timeout)."""
        self.materials: OrderedDict[str, None] = OrderedDict()
        """The digests of the :class:`Material` this process was sent and keeps, least recently
        used first (as the worker keeps them, :data:`MATERIALS_KEPT`)."""

    def call(
        self,
        data: bytes,
        rest: tuple[Any, ...],
        timeout: float,
        ready_timeout: float,
        decode: Callable[[bytes], Any] = _loads_plain,
        max_reply: int = MAX_REPLY_BYTES,
    ) -> Any:
        """The reply, read by ``decode`` from at most ``max_reply`` bytes; :class:`WorkerStuck`
        (nothing of the document done: send it elsewhere), :class:`TimeoutError` (the document
        took longer than ``timeout``), :class:`EOFError` when the worker died,
        :class:`BadReply` when its reply is refused."""
        ready = self._read(1, ready_timeout if self.served else max(timeout, ready_timeout), "ready")
        if ready != READY:
            raise EOFError("worker out of step")
        self._write(_request_head(len(data), rest), data, ready_timeout)
        readable, _, _ = select.select([self.stdout], [], [], timeout)
        if not readable:
            raise TimeoutError
        (size,) = struct.unpack(">Q", self._read(8, ready_timeout, "reply"))
        if size > max_reply:
            raise BadReply(f"reply of {size} bytes, over {max_reply}")
        reply = decode(self._read(size, ready_timeout, "reply"))
        self.served = True
        return reply

    def _write(self, head: bytes, data: bytes, limit: float) -> None:
        deadline = time.monotonic() + limit
        fd = self.stdin.fileno()
        for part in (memoryview(head), memoryview(data)):
            while part:
                left = deadline - time.monotonic()
                _, writable, _ = select.select([], [fd], [], max(0.0, left))
                if not writable:
                    raise WorkerStuck(f"worker took no request in {limit:g} s")
                try:
                    part = part[os.write(fd, part[: 1 << 20]) :]
                except BlockingIOError:
                    continue
                except BrokenPipeError as exc:
                    raise EOFError("worker pipe closed") from exc

    def _read(self, size: int, limit: float, what: str) -> bytes:
        deadline = time.monotonic() + limit
        fd = self.stdout.fileno()
        chunks: list[bytes] = []
        while size:
            readable, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not readable:
                raise WorkerStuck(f"worker sent no {what} in {limit:g} s")
            chunk = os.read(fd, min(size, 1 << 20))
            if not chunk:
                raise EOFError("worker pipe closed")
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def call_with(
        self,
        material: Material | None,
        data: bytes,
        rest: tuple[Any, ...],
        timeout: float,
        ready_timeout: float,
        decode: Callable[[bytes], Any] = _loads_plain,
        max_reply: int = MAX_REPLY_BYTES,
    ) -> Any:
        """:meth:`call` with ``(digest, payload or None)`` of ``material`` before ``rest``: the
        payload only when this worker was not sent it, or says it lacks it
        (:data:`MATERIAL_UNKNOWN`, then once more with it). :class:`BadReply` when a worker
        asks for material it was just sent."""
        if material is None:
            return self.call(data, rest, timeout, ready_timeout, decode, max_reply)
        send = material.digest not in self.materials
        while True:
            head = (material.digest, material.payload if send else None)
            reply = self.call(data, (*head, *rest), timeout, ready_timeout, decode, max_reply)
            if not (isinstance(reply, tuple) and reply and reply[0] == MATERIAL_UNKNOWN):
                break
            self.materials.pop(material.digest, None)
            if send:
                raise BadReply("worker asked again for the material it was sent")
            send = True
        self.materials[material.digest] = None
        self.materials.move_to_end(material.digest)
        while len(self.materials) > MATERIALS_KEPT:
            self.materials.popitem(last=False)
        return reply

    def stop(self) -> None:
        for stream in (self.stdin, self.stdout):
            with contextlib.suppress(OSError):
                stream.close()
        if self.process.poll() is None:
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)


class VerifierPool:
    """Worker processes that verify documents one at a time each (or, started with another
    ``command``, serve another kind of request on the same machinery: the bounded pdfium
    reads of :mod:`ingest.text.box`)."""

    def __init__(
        self,
        size: int = 1,
        limits: Limits | None = None,
        *,
        command: tuple[str, ...] | None = None,
        name: str = "signature",
    ) -> None:
        """``command``: how to start a worker (its memory limit is appended), by default
        ``python -m ingest.signatures._worker``; ``name``: what the log calls its workers."""
        self.name = name
        self.size = max(1, size)
        self.limits = limits or Limits.from_env()
        self.command = command
        self._idle: list[_Worker] = []
        self._started = 0
        self._cond = threading.Condition()
        self._closed = False

    def _take(self) -> _Worker:
        with self._cond:
            while not self._idle and self._started >= self.size:
                self._cond.wait()
            if self._idle:
                return self._idle.pop()
            self._started += 1
        return self._start_counted()

    def prestart(self) -> None:
        """Start a worker now if none is started yet, so that its interpreter start-up overlaps
        what the caller does before its first document (returns at once)."""
        with self._cond:
            if self._idle or self._started or self._closed:
                return
            self._started += 1
        self._give_back(self._start_counted())

    def _start_counted(self) -> _Worker:
        """A new worker, already counted in ``_started`` (the count given back if it fails)."""
        try:
            return _Worker(self.limits.memory_mb, self.command)
        except BaseException:
            with self._cond:
                self._started -= 1
                self._cond.notify()
            raise

    def _give_back(self, worker: _Worker | None) -> None:
        with self._cond:
            if worker is None or self._closed:
                self._started -= 1
            else:
                self._idle.append(worker)
            self._cond.notify()
        if worker is not None and self._closed:
            worker.stop()

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
        material: Material | None = None,
    ) -> tuple[str, Any]:
        """``("ok", result dict)``, or ``(problem, detail)`` with problem one of
        ``timeout``, ``memory``, ``crash``, ``error``, ``stuck``. ``crls``: the trust list's
        CRLs (DER). The anchors, ``source`` and CRLs are the trust material
        (:func:`trust_material`), sent to a worker once and named by their digest after that (a
        worker keys the stores it keeps by it, so a CRL added to the trust list reaches a warm
        worker at its next document); ``material``: the same, already made by the caller
        (:attr:`ingest.signatures.trust.TrustStore.worker_material`, hashed once a store).

        A worker found stuck before it took the document (not ready within
        ``limits.ready_timeout`` after its last reply) is killed and the document goes to a new
        one; ``stuck`` only if that one is stuck too."""
        # (no text-layer settings, None: a verification alone)
        request: tuple[Any, ...] = (allow_fetching, now, policy or _safe_policy(), None)
        return self.call(data, request, material=material or trust_material(anchors, source, crls))

    def call(
        self,
        data: bytes,
        request: tuple[Any, ...],
        timeout: float | None = None,
        *,
        decode: Callable[[bytes], tuple[str, Any]] = _loads_plain,
        max_reply: int = MAX_REPLY_BYTES,
        material: Material | None = None,
    ) -> tuple[str, Any]:
        """One exchange with a worker: ``data`` and ``request`` in, the worker's reply
        ``(status, payload)`` out (read by ``decode``, at most ``max_reply`` bytes), or
        ``(problem, detail)`` as :meth:`verify` says (``crash`` also for a refused reply).
        ``material``: what the worker keeps between requests (:class:`Material`, sent only to a
        worker that lacks it; the request then starts with its digest).
        ``timeout``: this request's deadline (``limits.timeout`` by default). A worker that
        replied ``memory``, overran, died or was interrupted mid-exchange (an exception in the
        caller: Celery's soft time limit, Ctrl-C) is replaced, never given back out of step;
        the pool is shared by the caller's threads."""
        limit = self.limits.timeout if timeout is None else timeout
        for attempt in (1, 2):
            worker = self._take()
            keep: _Worker | None = None  # given back only after a whole exchange
            try:
                reply = worker.call_with(
                    material, data, request, limit, self.limits.ready_timeout, decode, max_reply
                )
                if not (isinstance(reply, tuple) and len(reply) == 2 and isinstance(reply[0], str)):
                    raise BadReply("reply is not (status, payload)")
                status, payload = reply
                if status != "memory":
                    keep = worker
                return status, payload
            except BadReply as exc:
                logger.warning("%s worker %s replaced: %s", self.name, worker.process.pid, exc)
                return "crash", f"reply refused ({exc})"
            except WorkerStuck as exc:
                keep = None
                logger.warning("%s worker %s replaced: %s", self.name, worker.process.pid, exc)
                if attempt == 2:
                    return "stuck", self.limits.ready_timeout
            except TimeoutError:
                keep = None
                return "timeout", limit
            except (EOFError, OSError):
                keep = None
                try:
                    code = worker.process.wait(5)
                except subprocess.TimeoutExpired:
                    code = None
                return "crash", code
            finally:
                if keep is None:
                    worker.stop()
                self._give_back(keep)
        raise AssertionError("unreachable")

    def idle_worker_cpu(self, settle: float = 2.0) -> dict[int, float]:
        """CPU seconds (user + system) used so far by each idle worker, by process id, read from
        ``/proc`` (empty where there is none). For benchmarks: with one worker, the difference
        of its reading before and after :meth:`verify` is the CPU that document took in the
        worker, which the load of other processes on the machine does not inflate as it does
        the wall time (``bench/eval_signatures.py``). Read once the worker waits for its next
        request (at most ``settle`` seconds later), so that the housekeeping it does after
        replying counts for the document it belongs to."""
        with self._cond:
            pids = [worker.process.pid for worker in self._idle]
        found = {}
        for pid in pids:
            _wait_until_waiting(pid, settle)
            seconds = _process_cpu_seconds(pid)
            if seconds is not None:
                found[pid] = seconds
        return found

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._started -= len(idle)
        for worker in idle:
            worker.stop()


def _process_cpu_seconds(pid: int) -> float | None:
    """CPU seconds of process ``pid``: the scheduler's nanosecond count of its time on a CPU
    (``/proc/PID/schedstat``), else user + system time from ``/proc/PID/stat`` (clock ticks of
    10 ms, too coarse for a 40 ms document); ``None`` where neither can be read."""
    try:
        with open(f"/proc/{pid}/schedstat", encoding="ascii") as fh:
            return int(fh.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            # after the command name (in parentheses, may hold spaces): state is field 0,
            # utime and stime are fields 11 and 12
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _wait_until_waiting(pid: int, timeout: float) -> None:
    """Return once process ``pid`` sleeps (``S`` in ``/proc/PID/stat``: an idle worker blocked
    on its request pipe), or after ``timeout`` seconds, or at once where ``/proc`` is absent."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return
        if state != "R" or time.monotonic() >= deadline:
            return
        time.sleep(0.001)


def _mapped_bytes() -> int:
    """The address space this process maps now (0 where ``/proc`` is absent)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def trust_material(anchors: tuple[bytes, ...], source: str, crls: tuple[bytes, ...] = ()) -> Material:
    """The trust material of a verification request: the anchors' and CRLs' DER and the
    store's source, as a signature worker builds its trust store from them
    (:mod:`ingest.signatures._pool`)."""
    return Material((tuple(anchors), source, tuple(crls)))


def _safe_policy() -> Any:
    """The default policy of a verify request, imported only when one is made (this module
    stays free of the signature stack)."""
    from ingest.signatures.rules import SAFE_CRYPTO

    return SAFE_CRYPTO
