"""``kho verify`` through the user's warm verification agent (:mod:`kho.verify_agent`).

Real processes, real sockets: the first ``kho verify`` runs in-process and starts the agent; the
next ones are served by it. Each test checks what an attacker or a stale agent could change: the
output and exit status are those of an in-process run, the trust list is read by every command,
a folder open to others is not used, another user is refused, changed code is not served, an
idle agent goes away. And the import guard: a served ``kho verify`` imports none of pyHanko's
stack; an in-process one none of its signing or network parts.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from verify_cli import agent_socket

from ingest.signatures import trustlist
from kho import verify_agent

ROOT = Path(__file__).resolve().parents[2]
PDF = "vn-gov__194-ttg.signed.pdf"

NEVER_IN_PROCESS = ("aiohttp", "requests", "pyhanko.sign.signers.pdf_signer", "pyhanko.sign.timestamps",
                    "tzlocal", "qrcode", "uharfbuzz", "fontTools", "multiprocessing",
                    "cryptography.hazmat.primitives.serialization.pkcs12")
"""What an in-process ``kho verify`` (the agent's own imports included) never runs: the signing
stack and its network clients, the local time zone, fonts, the PKCS#12 reader."""

NEVER_SERVED = ("pyhanko", "pyhanko_certvalidator", "asn1crypto", "cryptography", "asyncio",
                "aiohttp", "requests", "ingest", "tantivy", "repository")
"""What a ``kho verify`` the agent serves never imports itself."""


@pytest.fixture
def agent_dir() -> Iterator[Path]:
    """A private folder for the agent's socket (short: a socket path has ~100 bytes at most).
    Removing it at the end makes the agent exit (it watches its socket)."""
    folder = Path(tempfile.mkdtemp(prefix="kho-agent-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _env(agent_dir: Path, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KHO_TRUST_DIR", "KHO_VERIFY_AGENT")}
    return {**env, "KHO_DATA_DIR": str(tmp_path / "data"), "KHO_VERIFY_AGENT_DIR": str(agent_dir),
            "KHO_VERIFY_AGENT_IDLE": "60", **extra}


def _kho_verify(args: list[str], env: dict[str, str]
                ) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``python -X importtime -m web.cli verify ARGS`` in the test's work folder (with
    ``-m`` the current folder is on the module path, which names the agent): the process and
    what it imported (every import of the process and of the children it forks is written on
    its stderr)."""
    work = Path(env["KHO_DATA_DIR"]).parent / "work"
    work.mkdir(exist_ok=True)
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "web.cli", "verify", *args],
                          env={"PYTHONPATH": str(ROOT), **env}, cwd=work, capture_output=True,
                          text=True, timeout=600, check=False)
    modules = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s+(\S+)$", proc.stderr, re.M))
    return proc, modules


def _messages(stderr: str) -> str:
    return "\n".join(line for line in stderr.splitlines() if not line.startswith("import time:"))


def _wait_for_agent(agent_dir: Path, timeout: float = 120) -> Path:
    found = agent_socket(agent_dir, timeout)
    assert found is not None, f"no agent listens in {agent_dir}: {list(agent_dir.iterdir())}"
    return found


def _same_moment(stdout: str) -> str:
    """The output with the moment of validation (``validated_at``, the clock's) left out."""
    return re.sub(r'"validated_at": "[^"]*"', '"validated_at": "…"', stdout)


def _loaded(modules: set[str], names: tuple[str, ...]) -> set[str]:
    return {m for m in modules for n in names if m == n or m.startswith(n + ".")}


@pytest.fixture
def warm(agent_dir: Path, tmp_path: Path, corpus_pdf_dir: Path) -> dict[str, str]:
    """An agent serving this test's folder, started by a first (in-process) ``kho verify``."""
    env = _env(agent_dir, tmp_path)
    first, modules = _kho_verify([str(corpus_pdf_dir / PDF)], env)
    assert first.returncode == 0, _messages(first.stderr)
    assert "pyhanko" in modules  # it ran here …
    _wait_for_agent(agent_dir)  # … and started the agent
    return env


def test_the_agent_gives_the_output_and_status_of_an_in_process_run(
    warm: dict[str, str], tmp_path: Path, corpus_pdf_dir: Path
) -> None:
    samples = sorted(corpus_pdf_dir.glob("*.pdf"))[:6]
    assert any("spoofing" in s.name for s in sorted(corpus_pdf_dir.glob("*.pdf")))
    spoof = corpus_pdf_dir / "dss__pdf-spoofing-attack.pdf"
    work = tmp_path / "work"  # where _kho_verify runs
    work.mkdir(exist_ok=True)
    (work / "junk.pdf").write_text("không phải PDF", encoding="utf-8")
    files = [*map(str, samples), str(spoof), "junk.pdf", "missing.pdf"]  # relative: the caller's folder
    for args in (files, ["--json", *files], [str(corpus_pdf_dir / PDF)], ["--bogus-option"]):
        here, here_modules = _kho_verify(args, {**warm, "KHO_VERIFY_AGENT": "0"})
        served, served_modules = _kho_verify(args, warm)
        assert "pyhanko" in here_modules or args == ["--bogus-option"]
        assert not _loaded(served_modules, NEVER_SERVED), sorted(_loaded(served_modules, NEVER_SERVED))
        assert (served.returncode, _same_moment(served.stdout)) == (
            here.returncode, _same_moment(here.stdout)), args
        assert _messages(served.stderr) == _messages(here.stderr), args
        assert "Traceback" not in served.stdout + served.stderr
    assert here.returncode == 2 and "--bogus-option" in here.stderr
    by_name = {Path(r["file"]).name: r for r in map(
        json.loads, _kho_verify(["--json", *files], warm)[0].stdout.splitlines())}
    assert by_name["dss__pdf-spoofing-attack.pdf"]["verdict"]["indication"] != "TOTAL-PASSED"
    assert "error" in by_name["missing.pdf"]



def test_a_command_the_agent_served_before_its_caller_looked_is_not_run_again(
    agent_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Session 43's CI race, forced: the caller is descheduled right after handing over its
    request, and the agent's child runs a quick command (a usage error), reports and exits
    before the caller looks again. The caller then found the connection closed (a zero-byte
    ``sendall`` of the request's empty rest: ``EPIPE``), took it for "not served" and ran the
    command itself: its usage error was written twice. The agent's answer decides: accepted,
    the caller waits for its status and never runs the command again."""
    monkeypatch.setenv("KHO_VERIFY_AGENT_DIR", str(agent_dir))
    monkeypatch.setenv("KHO_VERIFY_AGENT_IDLE", "60")
    monkeypatch.setenv("KHO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KHO_TRUST_DIR", raising=False)
    verify_agent.start()  # an agent for this process's interpreter, path and environment
    _wait_for_agent(agent_dir)
    real_send_fds = socket.send_fds

    def send_then_wait_until_served(sock: socket.socket, buffers: list[bytes], fds: list[int],
                                    *rest: object) -> int:
        sent = real_send_fds(sock, buffers, fds, *rest)
        poller = select.poll()
        poller.register(sock, select.POLLRDHUP)  # the agent's side closed: the command is done
        assert poller.poll(300_000), "the agent did not serve the request"
        return sent

    monkeypatch.setattr(socket, "send_fds", send_then_wait_until_served)
    code = verify_agent.run(["verify", "--bogus-option"], "kho")
    monkeypatch.setattr(socket, "send_fds", real_send_fds)
    err = capfd.readouterr().err
    assert code == 2, err  # the agent's status: None would make the caller run it again
    assert err.count("CLI_OPTION_UNKNOWN") == 1, err


def _self_signed_ca_pem() -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Kho test CA (not the signer's)")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def test_a_changed_trust_list_is_read_by_the_next_served_command(
    warm: dict[str, str], tmp_path: Path, corpus_pdf_dir: Path
) -> None:
    trust = tmp_path / "trust"
    shutil.copytree(trustlist.BUNDLE_DIR, trust)
    env = {**warm, "KHO_TRUST_DIR": str(trust)}
    pdf = ["--json", str(corpus_pdf_dir / PDF)]
    before, modules = _kho_verify(pdf, env)
    assert not _loaded(modules, NEVER_SERVED)  # served
    assert json.loads(before.stdout)["verdict"]["indication"] == "TOTAL-PASSED"
    for cert in trust.iterdir():  # the administrator replaces the list: the signer's root goes
        cert.unlink()
    (trust / "other-ca.pem").write_bytes(_self_signed_ca_pem())
    after, modules = _kho_verify(pdf, env)
    assert not _loaded(modules, NEVER_SERVED)
    here, _ = _kho_verify(pdf, {**env, "KHO_VERIFY_AGENT": "0"})
    result = json.loads(after.stdout)
    assert result["verdict"]["indication"] != "TOTAL-PASSED"
    assert result["trust_store"] != json.loads(before.stdout)["trust_store"]
    assert (after.returncode, _same_moment(after.stdout)) == (here.returncode, _same_moment(here.stdout))


def test_a_folder_open_to_others_is_not_used(tmp_path: Path, corpus_pdf_dir: Path) -> None:
    folder = Path(tempfile.mkdtemp(prefix="kho-agent-"))
    try:
        folder.chmod(0o755)
        env = _env(folder, tmp_path)
        for _ in range(2):
            proc, modules = _kho_verify([str(corpus_pdf_dir / PDF)], env)
            assert proc.returncode == 0 and "pyhanko" in modules  # in-process, both times
        time.sleep(1)
        assert not list(folder.iterdir())  # no socket was made there
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_the_private_folder_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = tmp_path / "mine"
    monkeypatch.setenv("KHO_VERIFY_AGENT_DIR", str(mine))
    assert verify_agent.private_dir() is None  # missing, not created unless asked
    assert verify_agent.private_dir(create=True) == str(mine)
    assert stat.S_IMODE(mine.stat().st_mode) == 0o700
    mine.chmod(0o770)
    assert verify_agent.private_dir() is None  # open to the group
    mine.chmod(0o700)
    link = tmp_path / "link"
    link.symlink_to(mine)
    monkeypatch.setenv("KHO_VERIFY_AGENT_DIR", str(link))
    assert verify_agent.private_dir() is None  # a symbolic link is not followed


def _intruder_answer(sock: Path, out: Path) -> bytes:
    """What user ``nobody`` gets from the agent at ``sock`` when it asks for a command writing
    to ``out`` (the agent's folder and socket must let it connect)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the intruder (user nobody), holding a file to write to
        answer = b"?"
        try:
            target = open(out, "w")  # noqa: SIM115 - kept open across the user change
            os.setgid(65534)
            os.setuid(65534)
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.connect(str(sock))  # the folder and the socket let it in …
            request = json.dumps({"argv": ["verify", "--help"], "prog_name": "kho", "cwd": "/",
                                  "env": {}, "stdout": ["utf-8", "strict"],
                                  "stderr": ["utf-8", "strict"]}).encode()
            fd = target.fileno()
            conn.settimeout(30)
            try:
                socket.send_fds(conn, [struct.pack(">I", len(request)) + request], [fd, fd, fd])
                answer = conn.recv(5) or b"closed"
            except (ConnectionResetError, BrokenPipeError):
                answer = b"closed"
        except BaseException as exc:
            answer = f"error {exc!r}".encode()
        os.write(write_fd, answer)
        os._exit(0)
    os.close(write_fd)
    os.waitpid(pid, 0)
    with os.fdopen(read_fd, "rb") as pipe:
        return pipe.read()


def test_another_user_is_refused(warm: dict[str, str], agent_dir: Path, tmp_path: Path) -> None:
    """Even with the folder and the socket opened to everyone, the agent serves only its user.
    Acting as another user needs root, which the test command has (it installs Debian
    packages): without it this test fails rather than skips."""
    assert os.geteuid() == 0, "the test suite runs as root (scripts/test.sh); this test needs it"
    sock = _wait_for_agent(agent_dir)
    agent_dir.chmod(0o711)
    sock.chmod(0o666)
    out = tmp_path / "out"
    out.write_text("")
    assert _intruder_answer(sock, out) == b"closed"  # connected, then dropped without a word
    assert out.read_text() == ""  # nothing ran for it


def test_a_changed_module_file_is_seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the agent compares before each command: every loaded module file's size and time."""
    module = tmp_path / "kho_agent_probe.py"
    module.write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import kho_agent_probe  # noqa: F401

    try:
        before = verify_agent._module_files()
        assert str(module) in before
        assert verify_agent._module_files() == before
        module.write_text("VALUE = 22\n")
        assert verify_agent._module_files() != before
    finally:
        sys.modules.pop("kho_agent_probe", None)


def test_an_agent_whose_code_changed_steps_aside(tmp_path: Path, corpus_pdf_dir: Path) -> None:
    """A module the agent loaded changes (an upgrade): the next command runs in-process, with
    the same result, and the old agent exits."""
    folder = Path(tempfile.mkdtemp(prefix="kho-agent-"))
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("# loaded by every interpreter of this test\n")
    env = {**_env(folder, tmp_path), "PYTHONPATH": f"{ROOT}{os.pathsep}{site}"}
    try:
        pdf = [str(corpus_pdf_dir / PDF)]
        proc, _ = _kho_verify(pdf, env)
        assert proc.returncode == 0, _messages(proc.stderr)
        first = _wait_for_agent(folder)
        served, modules = _kho_verify(pdf, env)
        assert not _loaded(modules, NEVER_SERVED)  # the agent serves …
        (site / "sitecustomize.py").write_text("# changed: a new version was installed\n\n")
        again, modules = _kho_verify(pdf, env)
        assert again.returncode == 0 and again.stdout == proc.stdout == served.stdout
        assert "pyhanko" in modules  # … until its code changed: run in-process
        assert _wait_for_agent(folder) == first  # the in-process run started a fresh agent
        third, modules = _kho_verify(pdf, env)
        assert not _loaded(modules, NEVER_SERVED) and third.stdout == proc.stdout  # served again
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_an_idle_agent_exits(tmp_path: Path, corpus_pdf_dir: Path) -> None:
    folder = Path(tempfile.mkdtemp(prefix="kho-agent-"))
    try:
        env = {**_env(folder, tmp_path), "KHO_VERIFY_AGENT_IDLE": "1"}
        proc, _ = _kho_verify([str(corpus_pdf_dir / PDF)], env)
        assert proc.returncode == 0
        sock = _wait_for_agent(folder)
        deadline = time.monotonic() + 30
        while sock.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not sock.exists()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_in_process_verification_imports_no_signing_or_network_stack(
    tmp_path: Path, corpus_pdf_dir: Path
) -> None:
    """The whole ``kho verify`` process (and the child it forks) with the agent off, and the
    agent's own imports: pyHanko's validation parts only."""
    env = {**_env(Path("/nonexistent"), tmp_path), "KHO_VERIFY_AGENT": "0"}
    proc, modules = _kho_verify([str(corpus_pdf_dir / PDF)], env)
    assert proc.returncode == 0, _messages(proc.stderr)
    assert "pyhanko.sign.validation" in modules
    assert not _loaded(modules, NEVER_IN_PROCESS), sorted(_loaded(modules, NEVER_IN_PROCESS))
    # what the agent imports before it serves (run, not only named in sys.modules: the
    # PKCS#12 reader and tzlocal are there unrun, see ingest.signatures._lazy_pyhanko)
    probe = ("from kho import verify_agent; import ingest.signatures.cli; "
             "from ingest.signatures import _fastpath, _pool, rules, trust, trustlist, verify; "
             "from web.cli import main")
    agent_modules = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s+(\S+)$", subprocess.run(
        [sys.executable, "-X", "importtime", "-c", probe], env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=300, check=True).stderr, re.M))
    assert "pyhanko.sign.validation" in agent_modules
    assert not _loaded(agent_modules, NEVER_IN_PROCESS), sorted(_loaded(agent_modules, NEVER_IN_PROCESS))


# --- started ahead of need by `kho login` / `kho whoami` ------------------------------------


def _agents_of(folder: Path) -> list[int]:
    """Processes whose command line names ``folder`` (agents serving a socket in it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(folder).encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def _kho(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m web.cli ARGS`` (the ``kho`` program) in ``cwd``; with a timeout far below the
    agent's idle time, so a command whose pipes the agent kept open would fail here."""
    return subprocess.run([sys.executable, "-m", "web.cli", *args], env={"PYTHONPATH": str(ROOT), **env},
                          cwd=cwd, capture_output=True, text=True, timeout=30, check=False)


@pytest.fixture
def logged_in(env: dict[str, str], people, agent_dir: Path, tmp_path: Path) -> dict[str, str]:
    """The văn thư's environment with a valid token, the agent on (default settings) in a
    private folder of the test's own."""
    base = {k: v for k, v in os.environ.items() if k != "KHO_VERIFY_AGENT"}
    return {**base, **env, "KHO_TOKEN": people.tokens["van_thu"],
            "KHO_VERIFY_AGENT_DIR": str(agent_dir), "KHO_VERIFY_AGENT_IDLE": "60"}


def test_whoami_starts_the_agent_that_serves_the_first_verify(
    logged_in: dict[str, str], agent_dir: Path, tmp_path: Path, corpus_pdf_dir: Path
) -> None:
    """After ``kho whoami`` (its output whole, its pipes closed at once), an agent listens with
    the protections of one ``kho verify`` starts: folder 0700, socket 0600, another user
    refused; the session's first ``kho verify`` is served by it (no pyHanko imported by the
    command) with the output and status of an in-process run."""
    work = tmp_path / "work"
    work.mkdir()
    alone = _kho(["whoami"], {**logged_in, "KHO_VERIFY_AGENT_PRESTART": "0"}, work)
    assert alone.returncode == 0 and "Đỗ Thị Khuê" in alone.stdout
    assert not list(agent_dir.iterdir()) and not _agents_of(agent_dir)
    started = time.monotonic()
    proc = _kho(["whoami"], logged_in, work)
    assert time.monotonic() - started < 20  # returned without waiting for the agent
    assert (proc.returncode, proc.stdout, proc.stderr) == (alone.returncode, alone.stdout, alone.stderr)
    sock = _wait_for_agent(agent_dir)
    assert stat.S_IMODE(agent_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(sock.stat().st_mode) == 0o600
    assert len(_agents_of(agent_dir)) == 1
    again = _kho(["whoami"], logged_in, work)  # an agent is alive: no second one
    assert again.stdout == alone.stdout and len(_agents_of(agent_dir)) == 1
    pdf = ["--json", str(corpus_pdf_dir / PDF)]
    served, modules = _kho_verify(pdf, logged_in)  # (in tmp_path/work, as the whoami)
    assert not _loaded(modules, NEVER_SERVED), sorted(_loaded(modules, NEVER_SERVED))
    here, _ = _kho_verify(pdf, {**logged_in, "KHO_VERIFY_AGENT": "0"})
    assert (served.returncode, _same_moment(served.stdout)) == (here.returncode, _same_moment(here.stdout))
    assert _messages(served.stderr) == _messages(here.stderr)
    assert os.geteuid() == 0, "the test suite runs as root (scripts/test.sh); this test needs it"
    agent_dir.chmod(0o711)
    sock.chmod(0o666)
    out = tmp_path / "out"
    out.write_text("")
    assert _intruder_answer(sock, out) == b"closed" and out.read_text() == ""


def _login(env: dict[str, str], cwd: Path, username: str, password: str, *extra: str
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "web.cli", "login", username, "--password-stdin", *extra],
                          env={"PYTHONPATH": str(ROOT), **env}, cwd=cwd, input=password + "\n",
                          capture_output=True, text=True, timeout=30, check=False)


@pytest.mark.parametrize("switch", [{"KHO_VERIFY_AGENT": "0"}, {"KHO_VERIFY_AGENT_PRESTART": "0"},
                                    {"ARGS": "--help"}, {"KHO_TOKEN": "not-a-token"},
                                    {"PASSWORD": "sai-mat-khau"}])
def test_no_agent_is_started_ahead_when_switched_off_or_refused(
    logged_in: dict[str, str], people, agent_dir: Path, tmp_path: Path, switch: dict[str, str]
) -> None:
    """``KHO_VERIFY_AGENT=0`` (never an agent), ``KHO_VERIFY_AGENT_PRESTART=0`` (only a first
    ``kho verify`` starts one), ``--help``, a refused ``whoami`` (bad token) and a failed login
    start none. The agent is spawned before the command's process exits, so none exists after
    it (the same check finds the one a successful command starts: the last lines)."""
    from kho_people import PASSWORD

    work = tmp_path / "work"
    work.mkdir()
    extra = [switch["ARGS"]] if "ARGS" in switch else []
    env = {**logged_in, **{k: v for k, v in switch.items() if k not in ("ARGS", "PASSWORD")}}
    if "PASSWORD" not in switch:  # (with a valid token whoami would start it)
        who = _kho(["whoami", *extra], env, work)
        assert who.returncode == (2 if "KHO_TOKEN" in switch else 0), who.stderr
        assert not _agents_of(agent_dir), switch
    if "KHO_TOKEN" not in switch:
        login = _login(env, work, people.usernames["van_thu"], switch.get("PASSWORD", PASSWORD), *extra)
        assert login.returncode == (2 if "PASSWORD" in switch else 0), login.stderr
        assert not _agents_of(agent_dir), switch
    assert not list(agent_dir.iterdir())
    good = {k: v for k, v in logged_in.items() if k != "KHO_TOKEN"}
    assert _login(good, work, people.usernames["van_thu"], PASSWORD).returncode == 0
    assert len(_agents_of(agent_dir)) == 1  # a successful login does start it
    _wait_for_agent(agent_dir)


def test_a_verify_waits_for_an_agent_still_importing_and_only_then(tmp_path: Path) -> None:
    """An agent holds its lock from the start and makes its socket after its imports: a
    ``kho verify`` in between waits for the socket (bounded); with no lock holder it does not
    wait at all, and a holder that never listens is given up after the bound."""
    import fcntl
    import threading

    folder = Path(tempfile.mkdtemp(prefix="kho-agent-"))
    try:
        path = str(folder / "verify-test.sock")
        started = time.monotonic()
        with pytest.raises(OSError):
            verify_agent._connect(path)  # nobody: refused at once
        assert time.monotonic() - started < 0.5
        lock = os.open(path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # an agent is importing …
        assert verify_agent._alive(path)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)

        def listen_later() -> None:
            time.sleep(0.5)
            server.bind(path)
            server.listen(1)

        later = threading.Thread(target=listen_later)
        later.start()
        started = time.monotonic()
        client = verify_agent._connect(path)  # … and listens 0.5 s later: waited for
        waited = time.monotonic() - started
        later.join()
        client.close()
        server.close()
        assert 0.4 < waited < verify_agent._STARTING_WAIT
        os.unlink(path)
        started = time.monotonic()
        with pytest.raises(OSError):
            verify_agent._connect(path)  # a holder that never listens: given up
        assert verify_agent._STARTING_WAIT <= time.monotonic() - started < 5
        os.close(lock)
        assert not verify_agent._alive(path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
