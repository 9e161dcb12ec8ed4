"""Start-up of the ``kho`` command beside raw baselines, in the same run (a script, not a test).

    .venv/bin/python bench/bench_cli.py [--repeat 3] [--pdf FILE]

Each line is the wall time of a whole process, min / median of ``--repeat`` runs, and the
median CPU time (user + system, its worker processes included: on a loaded machine the wall
time measures the queue for a core, the CPU time what the command costs):

  baseline   ``python -c 'import click'`` (an interpreter and the CLI library, nothing of Kho)
  kho        ``--help``, ``config``, ``search --help``, ``verify --help``, ``register list`` and
             ``whoami`` (the last two open the store and stop at AUTH_REQUIRED: no account is
             logged in, which is the start-up of every record command), ``search quy định`` (same)
  logged in  the same commands doing their work as an account with a valid token, on a demo
             store (``kho demo``, then ``kho login`` as its văn thư): ``whoami``, ``register
             list`` (reads and prints the incoming register), ``record show`` of one record
             (opens its encrypted version), ``search quy định`` (opens the index, runs the query)
  verify     ``kho verify`` of one small signed PDF, beside poppler's ``pdfsig`` on it: in-process
             (``KHO_VERIFY_AGENT=0``: what a session without an agent pays), served by a warm
             agent, and **the first call of a session**: each repeat in a fresh agent folder,
             ``kho whoami`` (logged in; it starts the agent after its output, its own row), a
             wait until the agent listens, then one ``kho verify``

The project's ``.py`` files are byte-compiled first (as an installed package is), so the figures
do not include compiling source; the data directory is a fresh temporary one.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))

from verify_cli import agent_socket  # noqa: E402

SHARED = Path(os.environ.get("KHO_SHARED_DIR", ROOT.parent / "shared"))
DEFAULT_PDF = SHARED / "corpora" / "pdf" / "vn-gov__194-ttg.signed.pdf"


def wall(argv: list[str], env: dict[str, str], repeat: int, agent_dir: Path | None = None
         ) -> tuple[float, float, float, int]:
    """Wall min / median, CPU median (user + system of the process and of every process it
    waited for, e.g. a verification worker, and of the verify agent's children), exit code of
    the last run."""
    times = []
    cpu = []
    code = 0
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        agent_before = agent_cpu(agent_dir)
        started = time.perf_counter()
        proc = subprocess.run(argv, env=env, capture_output=True, check=False, cwd=ROOT)
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
                   + agent_cpu(agent_dir, wait_for_reap=True) - agent_before)
        code = proc.returncode
    return min(times), statistics.median(times), statistics.median(cpu), code


def _agent_pids(agent_dir: Path) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(agent_dir).encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def agent_cpu(agent_dir: Path | None, wait_for_reap: bool = False) -> float:
    """CPU seconds of the verify agent and of the children it has reaped (``/proc/PID/stat``
    utime + stime + cutime + cstime); 0 without an agent."""
    if agent_dir is None or not Path("/proc").is_dir():
        return 0.0
    if wait_for_reap:
        time.sleep(1.1)  # the agent reaps finished children once a second
    ticks = 0
    for pid in _agent_pids(agent_dir):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(x) for x in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")




def logged_in_rows(
    kho: list[str], env: dict[str, str], home: Path
) -> list[tuple[str, list[str], dict[str, str]]]:
    """Commands that do their work as the demo's văn thư (a valid token), on a demo store of
    their own: ``kho demo`` loads it, ``kho login`` saves the token under ``home``."""
    home.mkdir()
    login_env = {**env, "KHO_DATA_DIR": str(home / "data"), "HOME": str(home)}

    def run(*argv: str, stdin: str | None = None) -> str:
        return subprocess.run([*kho, *argv], env=login_env, input=stdin, capture_output=True,
                              text=True, check=True, cwd=ROOT).stdout

    run("demo")
    run("login", "khuedt.ubnd", "--password-stdin", stdin="Kho@demo2026\n")
    hits = json.loads(run("search", "--json", "quy định")).get("hits") or []
    rows = [
        ("kho whoami (logged in)", [*kho, "whoami"], login_env),
        ("kho register list (logged in)", [*kho, "register", "list"], login_env),
    ]
    if hits:
        rows.append(("kho record show ID (logged in)", [*kho, "record", "show", hits[0]["id"]],
                     login_env))
    rows.append(("kho search quy định (logged in)", [*kho, "search", "quy", "định"], login_env))
    return rows


def first_verify_of_session(
    kho: list[str], login_env: dict[str, str], pdf: Path, repeat: int, tmp: Path
) -> tuple[tuple[float, float, float, int], tuple[float, float, float, int], bool]:
    """``kho whoami`` then the session's first ``kho verify``, each repeat in a fresh agent
    folder (no agent before the whoami): (wall min, wall median, CPU median, exit) of the
    whoami (its own process: the agent it starts runs apart) and of the verify (client + the
    agent's children); whether whoami started an agent (the last repeat)."""
    who_wall, who_cpu, first_wall, first_cpu = [], [], [], []
    codes = [0, 0]
    for i in range(repeat):
        agent_dir = tmp / f"session-{i}"
        agent_dir.mkdir(mode=0o700)
        env = {**login_env, "KHO_VERIFY_AGENT_DIR": str(agent_dir)}
        low, _, cpu, codes[0] = wall([*kho, "whoami"], env, 1)
        who_wall.append(low)
        who_cpu.append(cpu)
        started = agent_socket(agent_dir, 15) is not None  # (a tree without it: in-process)
        time.sleep(0.5)  # as a person would: the next command is not typed at once
        low, _, cpu, codes[1] = wall([*kho, "verify", str(pdf)], env, 1, agent_dir)
        first_wall.append(low)
        first_cpu.append(cpu)
        shutil.rmtree(agent_dir)  # the agent exits when its socket goes
    return ((min(who_wall), statistics.median(who_wall), statistics.median(who_cpu), codes[0]),
            (min(first_wall), statistics.median(first_wall), statistics.median(first_cpu), codes[1]),
            started)


def main() -> None:
    global ROOT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pdf", type=Path, default=DEFAULT_PDF)
    parser.add_argument("--tree", type=Path, default=ROOT,
                        help="The source tree whose kho runs (PYTHONPATH, working folder); default "
                             "this one: another checkout measures a before/after with this venv.")
    parser.add_argument("--no-login", action="store_true",
                        help="Skip the logged-in rows (they first load the demo store, 10-30 s).")
    args = parser.parse_args()
    ROOT = args.tree.resolve()
    for package in ("kho", "repository", "ingest", "search", "web", "retention"):
        compileall.compile_dir(ROOT / package, quiet=1)
    python = sys.executable
    kho = [python, "-m", "web.cli"]
    with tempfile.TemporaryDirectory(prefix="kho-bench-cli-") as tmp:
        # Agents started ahead of need (by whoami, login) only in the session rows below.
        env = {**os.environ, "KHO_DATA_DIR": str(Path(tmp) / "data"), "HOME": tmp,
               "PYTHONPATH": str(ROOT), "KHO_VERIFY_AGENT_PRESTART": "0"}
        rows: list[tuple[str, list[str], dict[str, str]]] = [
            ("baseline: python -c 'import click'", [python, "-c", "import click"], env),
            ("kho --help", [*kho, "--help"], env),
            ("kho config", [*kho, "config"], env),
            ("kho search --help", [*kho, "search", "--help"], env),
            ("kho verify --help", [*kho, "verify", "--help"], {**env, "KHO_VERIFY_AGENT": "0"}),
            ("kho register list (no login)", [*kho, "register", "list"], env),
            ("kho whoami (no login)", [*kho, "whoami"], env),
            ("kho search quy định (no login)", [*kho, "search", "quy", "định"], env),
        ]
        login_env: dict[str, str] | None = None
        if not args.no_login:
            login_rows = logged_in_rows(kho, env, Path(tmp) / "demo")
            login_env = {**login_rows[0][2], "KHO_VERIFY_AGENT_PRESTART": "1"}
            rows += login_rows
        agent_dir = Path(tmp) / "agent"  # private (0700): the verify agent's socket
        agent_dir.mkdir(mode=0o700)
        agent_env = {**env, "KHO_VERIFY_AGENT_DIR": str(agent_dir)}
        verify = [*kho, "verify", str(args.pdf)]
        if args.pdf.exists():
            rows.append((f"kho verify {args.pdf.name} (in-process)", verify,
                         {**env, "KHO_VERIFY_AGENT": "0"}))
            rows.append((f"kho verify {args.pdf.name} (warm agent)", verify, agent_env))
            if shutil.which("pdfsig"):
                rows.append((f"baseline: pdfsig {args.pdf.name}", ["pdfsig", str(args.pdf)], env))
        print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
              f"wall seconds, min / median of {args.repeat}; CPU seconds, median")
        base = None
        for label, argv, row_env in rows:
            if row_env is agent_env:  # a first kho verify starts the agent; wait until it listens
                subprocess.run(argv, env=row_env, capture_output=True, check=False, cwd=ROOT)
                if agent_socket(agent_dir, 60) is None:
                    label = label.replace("(warm agent)", "(no agent started)")
            low, mid, cpu, code = wall(argv, row_env, args.repeat,
                                       agent_dir if row_env is agent_env else None)
            if base is None:
                base = mid
            print(f"{label:55s} {low:6.3f} / {mid:6.3f} s  ({mid / base:4.1f}x click)"
                  f"  cpu {cpu:6.3f} s  exit {code}")
        if args.pdf.exists() and login_env is not None:
            *session, started = first_verify_of_session(kho, login_env, args.pdf, args.repeat,
                                                        Path(tmp))
            how = "" if started else " (no agent started: in-process)"
            for label, (low, mid, cpu, code) in zip(
                (f"kho whoami (logged in), fresh agent folder{how}",
                 f"kho verify {args.pdf.name} (first call of a session){how}"), session,
                strict=True):
                print(f"{label:55s} {low:6.3f} / {mid:6.3f} s  ({mid / (base or 1):4.1f}x click)"
                      f"  cpu {cpu:6.3f} s  exit {code}")
        print(f"(load average at the end {os.getloadavg()[0]:.1f}; the warm agent's CPU is that of "
              "the client plus the agent's children, read from /proc)")


if __name__ == "__main__":
    main()
