"""A warm ``kho verify``: a per-user process that has already imported pyHanko.

Importing the verification stack (pyHanko, pyhanko_certvalidator, asn1crypto, cryptography,
asyncio, Kho's signature modules) is most of a one-shot ``kho verify`` (0.25-0.3 s of CPU of
~0.45 s; the verification of a small PDF is ~0.05 s), and pyHanko binds what it imports by name,
so it cannot be cut without patching it. After a ``kho verify`` has run in-process, it starts an
*agent*: a process of the same user and the same interpreter that imports that stack once and
waits. The next ``kho verify`` imports only this module (standard library), hands the agent its
arguments, working directory, environment and its standard input, output and error (passed as
file descriptors), and waits for the exit status. The agent forks a child per command; the
child runs the very same click command (:mod:`ingest.verify_cli`, whose work is
:mod:`ingest.signatures.cli`) with the caller's
environment and folder, writing to the caller's own terminal or pipe, so output, verdicts and
exit status are those of an in-process run: the trust list is resolved and read by every command
(``kho trust add/remove`` is seen by the next verification: never a stale list), as are the
settings, limits and files (read by the child, a process of the same user).

Safety:

* **Per user, no socket others can use.** The socket lives in a folder of the user's own
  (``$XDG_RUNTIME_DIR/kho``, else ``/tmp/kho-<uid>``, or ``KHO_VERIFY_AGENT_DIR``), created
  ``0700``; a folder that is a symbolic link, owned by someone else or open to group or others is
  not used (the command then runs in-process, as before). The socket is made ``0600`` and the
  agent also checks the connecting process's user id (``SO_PEERCRED``) and serves only its own.
* **No stale code.** The socket's name is a digest of the interpreter, this installation's folder,
  the user and the environment read when an interpreter starts (``PYTHON*``, ``LANG``, ``LC_*``,
  ``TZ``); before each command the agent checks that no module file it loaded has changed (size,
  modification time) and otherwise answers "stale" and exits: the caller runs in-process and a
  fresh agent starts.
* **Started ahead of need.** ``kho login`` and ``kho whoami`` (what a văn thư runs first in a
  session) start it after their output (:func:`prestart`), so that the session's first
  ``kho verify`` is served warm too; ``KHO_VERIFY_AGENT_PRESTART=0`` leaves the start to the
  first ``kho verify``. It is the same agent, started the same way (:func:`start`).
* **Bounded life.** The agent exits after ``KHO_VERIFY_AGENT_IDLE`` seconds without a command
  (default 300), or as soon as its socket is removed or replaced. ``KHO_VERIFY_AGENT=0`` turns
  it off (every ``kho verify`` runs in-process and starts none).

A caller interrupted while the agent works (Ctrl-C) stops waiting; the agent's child finishes its
verification (bounded by ``KHO_SIGNATURE_TIMEOUT`` per file) and exits.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import struct
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import socket

SWITCH = "KHO_VERIFY_AGENT"
PRESTART_VARIABLE = "KHO_VERIFY_AGENT_PRESTART"
DIR_VARIABLE = "KHO_VERIFY_AGENT_DIR"
IDLE_VARIABLE = "KHO_VERIFY_AGENT_IDLE"
DEFAULT_IDLE = 300.0
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_ACCEPTED, _STALE = b"A", b"S"
_MAX_REQUEST = 1 << 22  # arguments and environment: a few kilobytes
_FAILED = 70  # the agent's child could not run the command (EX_SOFTWARE)
_STARTING_WAIT = 1.5
"""Seconds a ``kho verify`` waits for an agent that is still importing (its lock is held, its
socket not yet made; e.g. just started by ``kho login``) before it runs in-process."""
_AGENT_MAIN = (  # the caller's module path: the agent imports the modules the caller would.
    # It keeps no folder busy and holds none of its starter's other descriptors (pipes).
    "import json, os, sys; os.chdir('/'); os.closerange(3, 1 << 16); "
    "sys.path[:] = json.loads(sys.argv[2]); "
    "from kho.verify_agent import serve; sys.exit(serve(sys.argv[1]))"
)


def wanted(args: list[str]) -> bool:
    """Whether this ``kho`` command line is one the agent serves (``kho verify ...``)."""
    import socket

    return (args[:1] == ["verify"] and os.environ.get(SWITCH, "1") != "0"
            and hasattr(socket, "AF_UNIX") and hasattr(socket, "send_fds")
            and hasattr(socket, "SO_PEERCRED") and hasattr(os, "fork")
            and hasattr(os, "posix_spawn"))


PRESTARTING = ("login", "whoami")
"""The commands a văn thư runs first in a session: after their output, they start the agent
(:func:`prestart`) so that the session's first ``kho verify`` finds it warm."""


def prestart_wanted(args: list[str]) -> bool:
    """Whether this command line starts the agent ahead of need: one of :data:`PRESTARTING`,
    the agent on (``KHO_VERIFY_AGENT``, not ``0``) and ahead-of-need starts on
    (``KHO_VERIFY_AGENT_PRESTART``, not ``0``), on Linux (``SO_PEERCRED``) only."""
    return (args[:1] in ([name] for name in PRESTARTING)
            and "--help" not in args and "-h" not in args
            and os.environ.get(SWITCH, "1") != "0" and os.environ.get(PRESTART_VARIABLE, "1") != "0"
            and sys.platform.startswith("linux") and hasattr(os, "posix_spawn"))


def private_dir(create: bool = False) -> str | None:
    """The user's own folder for the socket, or None when it is missing or not private."""
    base = os.environ.get(DIR_VARIABLE)
    if not base:
        runtime = os.environ.get("XDG_RUNTIME_DIR")
        base = os.path.join(runtime, "kho") if runtime else f"/tmp/kho-{os.geteuid()}"
    if create:
        try:
            os.mkdir(base, 0o700)
        except FileExistsError:
            pass
        except OSError:
            return None
    return base if _is_private(base) else None


def _is_private(folder: str) -> bool:
    try:
        info = os.lstat(folder)
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid()
            and not info.st_mode & 0o077)


def socket_path(folder: str) -> str:
    """The socket of the agent for this interpreter, installation, user and start-up environment."""
    startup_env = sorted(
        (name, value) for name, value in os.environ.items()
        if name.startswith(("PYTHON", "LC_")) or name in ("LANG", "TZ", IDLE_VARIABLE)
    )
    # The groups are part of the key: a caller whose groups changed (removed from a group that
    # may read a folder) is served by an agent with its own groups, never by an older one's.
    identity = [os.geteuid(), os.getegid(), sorted(os.getgroups())]
    key = json.dumps([sys.executable, sys.version, _ROOT, module_path(), identity, startup_env])
    return os.path.join(folder, f"verify-{hashlib.sha256(key.encode()).hexdigest()[:20]}.sock")


def module_path() -> list[str]:
    """This process's module search path, the current folder named (``python -c``, ``-m``)."""
    return [entry or os.getcwd() for entry in sys.path]


def _alive(path: str) -> bool:
    """Whether an agent holds the lock of ``path`` (serving, or still importing)."""
    import fcntl

    try:
        lock = os.open(path + ".lock", os.O_RDWR | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(lock)  # (closing releases a lock taken here)
    return False


def _connect(path: str) -> socket.socket:
    """A connection to the agent at ``path``; if it is still importing (its lock held, no
    socket yet), waited for up to :data:`_STARTING_WAIT` seconds. ``OSError`` if none."""
    import socket
    import time

    deadline = None
    while True:
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            client.connect(path)
            return client
        except (FileNotFoundError, ConnectionRefusedError):
            client.close()
            now = time.monotonic()
            deadline = deadline or now + _STARTING_WAIT
            if now >= deadline or not _alive(path):
                raise
            time.sleep(0.02)
        except OSError:
            client.close()
            raise


def run(args: list[str], prog_name: str) -> int | None:
    """Run ``kho <args>`` in the agent; its exit status, or None when no agent took it (then
    the caller runs the command itself): None only when the agent did not start it
    (:func:`_accepted`)."""
    folder = private_dir()
    if folder is None:
        return None
    try:
        client = _connect(socket_path(folder))
    except OSError:
        return None
    request = json.dumps({
        "argv": args, "prog_name": prog_name, "cwd": os.getcwd(), "env": dict(os.environ),
        "stdout": [sys.stdout.encoding, sys.stdout.errors],
        "stderr": [sys.stderr.encoding, sys.stderr.errors],
    }).encode()
    if not _accepted(client, struct.pack(">I", len(request)) + request):
        client.close()
        return None  # stale (it exits), refused or gone before starting it: run here
    # From here the agent's child runs the command: its status, or a failure said aloud.
    try:
        tail = _recv_exact(client, 4)
    except OSError:
        tail = b""
    finally:
        client.close()
    if len(tail) < 4:
        sys.stderr.write("Lỗi [VERIFY_AGENT_FAILED]: tiến trình kiểm tra chữ ký dừng bất thường; "
                         f"hãy chạy lại với {SWITCH}=0.\n")
        return 2
    return int(struct.unpack(">i", tail)[0])


def _accepted(client: socket.socket, blob: bytes) -> bool:
    """Hand the agent the request ``blob`` and the caller's standard streams; whether the agent
    started the command (its first byte, :data:`_ACCEPTED`). That byte alone decides: a quick
    command (a usage error, ``--help``) may be run, reported and its connection closed while
    the caller, descheduled, has not yet looked again, and a send that then fails (``EPIPE``:
    once a zero-byte send of the request's empty rest, session 43's CI) says nothing about
    it; what the agent wrote before closing is still there to read. A command it started is
    never run here again (its output would be written twice)."""
    import socket

    try:
        sent = socket.send_fds(client, [blob], [0, 1, 2])
        if sent < len(blob):
            client.sendall(blob[sent:])
    except OSError:
        try:  # an incomplete request: the agent reads an end and closes; none is then started
            client.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    try:
        return _recv_exact(client, 1) == _ACCEPTED
    except OSError:
        return False


def start() -> None:
    """Start the agent in the background (after an in-process ``kho verify``, or ahead of need
    by :func:`prestart`); nothing when the folder is not private or an agent already holds the
    socket's lock. The agent itself exits at once if another one serves (two starting at once).

    Spawned (``posix_spawn``: no copy of this process, no ``subprocess`` import) in a session
    of its own, its standard streams on ``/dev/null``: the command that starts it returns at
    once and a shell or pipe waiting for that command's output never waits for the agent."""
    folder = private_dir(create=True)
    if folder is None:
        return
    path = socket_path(folder)
    if _alive(path):
        return
    null = os.devnull
    try:
        os.posix_spawn(
            sys.executable,
            [sys.executable, "-P", "-c", _AGENT_MAIN, path, json.dumps(module_path())],
            os.environ,
            file_actions=[(os.POSIX_SPAWN_OPEN, 0, null, os.O_RDONLY, 0),
                          (os.POSIX_SPAWN_OPEN, 1, null, os.O_WRONLY, 0),
                          (os.POSIX_SPAWN_OPEN, 2, null, os.O_WRONLY, 0)],
            setsid=True,
        )
    except OSError:
        pass


def prestart(args: list[str]) -> None:
    """After a successful :data:`PRESTARTING` command (its output written and flushed): start
    the agent unless switched off (:func:`prestart_wanted`). The agent has the protections of
    one a ``kho verify`` starts: it is the same program (:func:`start`)."""
    if not prestart_wanted(args):
        return
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    start()


def _recv_exact(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


# --- the agent -------------------------------------------------------------------------------


def _module_files() -> dict[str, tuple[int, int]]:
    """Size and modification time of every module file this process has loaded (what the
    agent compares before each command: :func:`_changed`)."""
    found: dict[str, tuple[int, int]] = {}
    for module in list(sys.modules.values()):
        name = getattr(module, "__file__", None)
        if not name or name in found:
            continue
        try:
            info = os.stat(name)
        except OSError:
            found[name] = (-1, -1)
            continue
        found[name] = (info.st_size, info.st_mtime_ns)
    return found


def _changed(loaded: dict[str, tuple[int, int]]) -> bool:
    """Whether a module file the agent had loaded has changed since (an upgrade)."""
    for name, (size, mtime) in loaded.items():
        try:
            info = os.stat(name)
        except OSError:
            if size != -1:
                return True
            continue
        if (info.st_size, info.st_mtime_ns) != (size, mtime):
            return True
    return False


def same_user(conn: socket.socket) -> bool:
    """Whether the process at the other end of ``conn`` runs as this process's user."""
    import socket

    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid == os.geteuid()


def _read_request(conn: socket.socket) -> tuple[dict[str, object], list[int]]:
    import socket

    head, fds, _flags, _addr = socket.recv_fds(conn, 4, 3)
    try:
        if len(head) < 4:
            head += _recv_exact(conn, 4 - len(head))
        (size,) = struct.unpack(">I", head) if len(head) == 4 else (-1,)
        body = _recv_exact(conn, size) if 0 <= size <= _MAX_REQUEST else b""
        if len(fds) != 3 or size < 0 or len(body) != size:
            raise OSError("incomplete request")
        request = json.loads(body)
        if not isinstance(request, dict):
            raise OSError("not a request")
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    return request, fds


def serve(path: str) -> int:
    """The agent's loop (started by :func:`start`)."""
    import fcntl
    import gc
    import select
    import socket
    import time

    folder = os.path.dirname(path)
    if not _is_private(folder):
        return 1
    lock = os.open(path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0  # another agent serves this socket (held for its whole life)
    from kho.config import process_settings  # (the agent's bound, parsed as start-up did)

    idle = process_settings().verify_agent_idle
    gc.disable()
    import ingest.signatures.cli  # noqa: F401 - the stack a verification uses
    from ingest.signatures import (  # noqa: F401 - and what a document imports on first need
        _fastpath,
        _pool,
        _viewer,
        rules,
        trust,
        trustlist,
        verify,
    )
    from web.cli import main

    gc.freeze()
    gc.enable()
    loaded = _module_files()
    if os.path.lexists(path):
        os.unlink(path)  # a dead agent's socket (the lock says none is alive)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    mask = os.umask(0o177)
    try:
        server.bind(path)
    finally:
        os.umask(mask)
    inode = os.stat(path).st_ino
    server.listen(16)
    children: set[int] = set()
    last = time.monotonic()
    try:
        while True:
            for pid in list(children):
                done, _ = os.waitpid(pid, os.WNOHANG)
                if done:
                    children.discard(pid)
            ready, _, _ = select.select([server], [], [], 1.0)
            if not ready:
                try:
                    moved = os.stat(path).st_ino != inode
                except OSError:
                    moved = True
                if moved or (not children and time.monotonic() - last > idle):
                    return 0
                continue
            conn, _ = server.accept()
            last = time.monotonic()
            with conn:
                if not same_user(conn):
                    continue
                try:
                    request, fds = _read_request(conn)
                except Exception:  # a bad or empty request closes its connection only
                    continue
                try:
                    if _changed(loaded):
                        conn.sendall(_STALE)
                        return 0
                    pid = os.fork()
                    if pid == 0:
                        server.close()
                        _child(conn, request, fds, main)  # never returns
                    children.add(pid)
                finally:
                    for fd in fds:
                        os.close(fd)
    finally:
        server.close()
        try:
            if os.stat(path).st_ino == inode:
                os.unlink(path)
        except OSError:
            pass


def _child(conn: socket.socket, request: dict[str, object], fds: list[int], main: object) -> None:
    """One command in a forked child of the agent, as the caller would have run it."""
    import io
    import time
    import traceback

    code = _FAILED
    try:
        conn.sendall(_ACCEPTED)
        for target, fd in zip((0, 1, 2), fds, strict=True):
            os.dup2(fd, target)
        out_encoding, out_errors = request["stdout"]  # type: ignore[misc]
        err_encoding, err_errors = request["stderr"]  # type: ignore[misc]
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False))
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding=out_encoding,
                                      errors=out_errors, line_buffering=os.isatty(1))
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding=err_encoding,
                                      errors=err_errors, line_buffering=True)
        os.environ.clear()
        os.environ.update(request["env"])  # type: ignore[arg-type]
        time.tzset()
        os.chdir(str(request["cwd"]))
        try:
            main.main(args=list(request["argv"]), prog_name=str(request["prog_name"]))  # type: ignore[attr-defined, call-overload]
            code = 0
        except SystemExit as exc:
            if exc.code is None:
                code = 0
            elif isinstance(exc.code, int):
                code = exc.code
            else:
                print(exc.code, file=sys.stderr)
                code = 1
        except BaseException:
            traceback.print_exc()
            code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        try:
            conn.sendall(struct.pack(">i", code))
        except OSError:
            pass
        os._exit(0)


