"""Issue 14 in one command: each line of its table beside its raw baseline, measured in the same
run, with the goal and whether this run meets it (a script that prints figures, not a test).

    .venv/bin/python bench/issue14.py [--lines cli,sig5,store,numbers,ingest,ocr,search]
                                      [--quick] [--log-dir DIR]

Each line runs the benchmark script that owns it (``bench/bench_*.py``, in a process of its own)
and reads its figures from the output; the whole output of each is kept in ``--log-dir``. The
S3 lines run when ``KHO_TEST_S3_*`` are set (``eval "$(bash scripts/services.sh env)"`` with the
services started); otherwise they are reported as not run. ``--quick`` runs fewer records,
documents and rounds (a smoke run: its figures are not the issue's).

Not here: the 100,000-document bulk import (hours; ``bench/bench_bulk.py``, figures in
``bench/NOTES-issue14-bulk100k.md`` and ``NOTES-lead47.md``).

Read the figures of one run against each other only. Before the table the script prints what
moves them between runs on a shared machine: the load average, and whether the filesystem of the
temporary folders is ext4 without a journal. There, every file created scans past the inodes of
its block group freed in the last 60-360 s (the kernel's ``recently_deleted`` check, done only
without a journal), so the lines that create many files (local store, ingest) are slower for
minutes after anyone on the machine deleted many files (a test run's cleanup; a benchmark's
temporary store). Session 49 measured it: 15 % of an ingest run's CPU in ``find_inode_bit``
/ ``recently_deleted`` (``perf``), and a record's system time 3.5 ms on that disk against 1.2 ms
on tmpfs (``bench/NOTES-lead49.md``).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


@dataclass(frozen=True)
class Figure:
    """One row of the table: Kho's figure and the baseline's, as printed, and the verdict."""

    line: str
    kho: str
    baseline: str
    goal: str
    met: bool | None
    """None: not measured in this run (a service missing, the script failed)."""


@dataclass(frozen=True)
class Line:
    name: str
    argv: Callable[[bool], list[str]]
    """The command, given ``quick``."""
    read: Callable[[str], list[Figure]]
    """The rows read from the command's output."""
    needs_s3: bool = False
    runs: int = 1
    """Separate runs of the command (a script that measures once: ingest)."""


def _num(pattern: str, text: str, group: int = 1) -> float | None:
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(group)) if match else None


def _fmt(value: float | None, unit: str = "", digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}{unit}"


def _not_run(line: str, goal: str) -> Figure:
    return Figure(line, "not measured", "—", goal, None)


# -- the lines -------------------------------------------------------------------------------
def _read_cli(out: str) -> list[Figure]:
    """``bench_cli.py`` rows: ``label   min /  median s ...``."""
    rows = {
        m.group(1).strip(): (float(m.group(2)), float(m.group(3)))
        for m in re.finditer(r"^(.+?)\s+([\d.]+) /\s+([\d.]+) s\s+\(", out, re.MULTILINE)
    }
    click = rows.get("baseline: python -c 'import click'")
    base = f"import click {_fmt(click[1] if click else None, ' s')}"
    figures = []
    help_ = rows.get("kho --help")
    figures.append(
        Figure(
            "`kho --help` (median)",
            _fmt(help_[1] if help_ else None, " s"),
            base,
            "≤ 0.2 s",
            None if help_ is None else help_[1] <= 0.2,
        )
    )
    others = {
        k: v for k, v in rows.items() if k.startswith("kho ") and "verify" not in k and k != "kho --help"
    }
    if others:
        worst = max(others, key=lambda k: others[k][1])
        figures.append(
            Figure(
                "other `kho` commands, slowest (median)",
                f"{others[worst][1]:.3f} s ({worst})",
                base,
                "≤ 0.25 s",
                others[worst][1] <= 0.25,
            )
        )
    else:
        figures.append(_not_run("other `kho` commands", "≤ 0.25 s"))
    verify = next((v for k, v in rows.items() if k.startswith("kho verify") and "in-process" in k), None)
    pdfsig = next((v for k, v in rows.items() if k.startswith("baseline: pdfsig")), None)
    figures.append(
        Figure(
            "`kho verify` one PDF, in-process (median)",
            _fmt(verify[1] if verify else None, " s"),
            f"pdfsig {_fmt(pdfsig[1] if pdfsig else None, ' s')}",
            "≤ 0.4 s",
            None if verify is None else verify[1] <= 0.4,
        )
    )
    return figures


def _read_sig5(out: str) -> list[Figure]:
    best = _num(r"^\s*([\d.]+) ms wall \(min\)", out)
    cpu = re.search(r"CPU min / median\s+([\d.]+) /\s+([\d.]+) ms", out)
    kho = _fmt(best, " ms wall (min)", 1) + (
        f"; CPU min / median {cpu.group(1)} / {cpu.group(2)} ms" if cpu else ""
    )
    return [
        Figure(
            "5-signature document",
            kho,
            "stock pyHanko 19 s (issue's figure)",
            "≤ 300 ms",
            None if best is None else best <= 300,
        )
    ]


def _section(out: str, title: str) -> str:
    """The part of ``bench_store.py``'s output under ``== <title>...`` (up to the next ``==``)."""
    match = re.search(rf"^== {re.escape(title)}.*?(?=^== |\Z)", out, re.MULTILINE | re.DOTALL)
    return match.group(0) if match else ""


def _rate(section: str, label: str, procs: int) -> tuple[float, float] | None:
    match = re.search(
        rf"^{re.escape(label)}\s+{procs} proc: min ([\d.]+) / median ([\d.]+) /s", section, re.MULTILINE
    )
    return (float(match.group(1)), float(match.group(2))) if match else None


def _requests(section: str, label: str) -> str:
    match = re.search(
        rf"^{re.escape(label)}\s+1 proc:.*?writes: ([\d.]+) per record.*?~ (?:request|fsync) rounds ([\d.]+)",
        section,
        re.MULTILINE,
    )
    return f"; {match.group(1)} writes, {match.group(2)} rounds a record" if match else ""


def _ratio_row(line: str, section: str, raw_label: str, kho_label: str, goal: float) -> Figure:
    raw, kho = _rate(section, raw_label, 1), _rate(section, kho_label, 1)
    if raw is None or kho is None:
        return _not_run(line, f"ratio ≥ {goal}")
    ratio = kho[1] / raw[1]
    return Figure(
        line,
        f"{kho[0]:.1f} / {kho[1]:.1f} /s{_requests(section, kho_label)}",
        f"{raw[1]:.1f} /s",
        f"ratio ≥ {goal}: {ratio:.2f}",
        ratio >= goal,
    )


def _read_store(out: str) -> list[Figure]:
    local, s3 = _section(out, "local folder"), _section(out, "S3 at")
    kho = "Kho store, group commit"
    figures = [
        _ratio_row("store 200 KB, local, 1 proc", local, "raw sha256+aes-gcm+write+fsync", kho, 0.5),
        _ratio_row("store 200 KB, S3, 1 proc", s3, "raw put_object", kho, 0.5),
    ]
    raw1, raw2 = _rate(s3, "raw put_object", 1), _rate(s3, "raw put_object", 2)
    kho1, kho2 = _rate(s3, kho, 1), _rate(s3, kho, 2)
    if None in (raw1, raw2, kho1, kho2):
        figures.append(_not_run("store, S3, 2 procs against 1", "grows with processes"))
    else:
        assert raw1 and raw2 and kho1 and kho2
        grow, raw_grow = kho2[1] / kho1[1] - 1, raw2[1] / raw1[1] - 1
        figures.append(
            Figure(
                "store, S3, 2 procs against 1 (medians)",
                f"{grow:+.0%} ({kho2[1]:.1f} /s)",
                f"put_object {raw_grow:+.0%}",
                "grows with processes",
                grow > 0.05,
            )
        )
    return figures


def _read_numbers(out: str) -> list[Figure]:
    s3 = _section(out, "S3 at")
    raw = _rate(s3, "raw conditional PUT per number", 1)
    kho = _rate(s3, "Kho register numbers, group commit", 1)
    if kho is None:
        return [_not_run("register numbers, S3", "≥ 50 /s")]
    exact = re.search(r"exact: (\w+)", s3)
    return [
        Figure(
            "register numbers, S3, 1 proc",
            f"{kho[0]:.1f} / {kho[1]:.1f} /s{_requests(s3, 'Kho register numbers, group commit')}"
            f"; exact {exact.group(1) if exact else '?'}",
            f"conditional PUT {_fmt(raw[1] if raw else None, ' /s', 1)}",
            "≥ 50 /s",
            kho[1] >= 50,
        )
    ]


def _read_ingest(out: str) -> list[Figure]:
    rates = [float(x) for x in re.findall(r"throughput: ([\d.]+) docs/s", out)]
    if not rates:
        return [_not_run("ingest, born-digital signed, 2 workers, local", "≥ 50 docs/s")]
    median = statistics.median(rates)
    return [
        Figure(
            "ingest, born-digital signed, 2 workers, local (page cache)",
            f"{min(rates):.1f} / {median:.1f} docs/s (min / median of {len(rates)})",
            "—",
            "≥ 50 docs/s",
            median >= 50,
        )
    ]


def _read_ocr(out: str) -> list[Figure]:
    base = _num(r"^baseline.*?:\s+([\d.]+) pages/s", out)
    workers = re.search(r"^workers.*?:\s+([\d.]+) pages/s.*?ratio ([\d.]+)%", out, re.MULTILINE)
    if base is None or workers is None:
        return [_not_run("OCR, 2 cores", "≥ 0.9 of raw")]
    ratio = float(workers.group(2)) / 100
    return [
        Figure(
            "OCR, pages spread over 2 cores",
            f"{workers.group(1)} pages/s",
            f"two tesseract {base:.3f} pages/s",
            f"≥ 0.9: {ratio:.3f}",
            ratio >= 0.9,
        )
    ]


def _read_search(out: str) -> list[Figure]:
    quantiles = r"p50 min\s+([\d.]+) / median\s+([\d.]+) ms\s+p95 min\s+([\d.]+) / median\s+([\d.]+) ms"
    row = re.search(r"^all\s+n=\s*\d+\s+" + quantiles, out, re.MULTILINE)
    plain = re.search(r"^plain tantivy query\s+" + quantiles, out, re.MULTILINE)
    build = _num(r"^backend embedded: indexed (\d+) documents in [\d.]+ s = (\d+) documents/s", out, 2)
    plain_build = _num(r"^plain tantivy build: (\d+) documents/s", out)
    docs = _num(r"^backend embedded: indexed (\d+) documents", out)
    n = f" at {docs:,.0f} docs" if docs else ""
    figures = []
    if row:
        p50, p95 = float(row.group(2)), float(row.group(4))
        figures.append(
            Figure(
                f"search{n}, p50 / p95 (min / median of rounds)",
                f"{row.group(1)} / {row.group(2)} ms, {row.group(3)} / {row.group(4)} ms",
                f"plain tantivy {plain.group(2)} / {plain.group(4)} ms" if plain else "—",
                "p50 ≤ 5, p95 ≤ 15 ms",
                p50 <= 5 and p95 <= 15,
            )
        )
    else:
        figures.append(_not_run("search, p50 / p95", "p50 ≤ 5, p95 ≤ 15 ms"))
    figures.append(
        Figure(
            f"index build{n}",
            _fmt(build, " docs/s", 0),
            f"plain tantivy {_fmt(plain_build, ' docs/s', 0)}",
            "≥ 3,000 docs/s",
            None if build is None else build >= 3000,
        )
    )
    return figures


def _bench(script: str, *args: str) -> list[str]:
    return [PYTHON, str(ROOT / "bench" / script), *args]


LINES = (
    Line("cli", lambda q: _bench("bench_cli.py", "--repeat", "3" if q else "5"), _read_cli),
    Line(
        "sig5",
        lambda q: _bench("bench_signatures.py", "--cpu", "--only", "03-vbhn", "--repeat", "3"),
        _read_sig5,
    ),
    Line(
        "store",
        lambda q: _bench(
            "bench_store.py",
            "--parts",
            "store",
            "--group-commit",
            "on",
            "--processes",
            "1,2",
            "--repeat",
            "1" if q else "3",
            "--records",
            "100" if q else "300",
            "--s3-records",
            "50" if q else "150",
        ),
        _read_store,
    ),
    Line(
        "numbers",
        lambda q: _bench(
            "bench_store.py",
            "--skip-local",
            "--parts",
            "numbers",
            "--group-commit",
            "on",
            "--processes",
            "1",
            "--repeat",
            "1" if q else "3",
            "--s3-records",
            "50" if q else "300",
        ),
        _read_numbers,
        needs_s3=True,
    ),
    Line(
        "ingest",
        lambda q: _bench("bench_ingest.py", "--only", "a", "--count", "100" if q else "400"),
        _read_ingest,
        runs=3,
    ),
    Line(
        "ocr",
        lambda q: _bench(
            "bench_ocr.py",
            "--rows",
            "baseline,workers",
            "--repeat",
            "1" if q else "3",
            *(["--max-pages", "8"] if q else []),
        ),
        _read_ocr,
    ),
    Line(
        "search",
        lambda q: _bench(
            "bench_search.py", "--docs", "5000" if q else "100000", "--repeat", "1" if q else "3"
        ),
        _read_search,
    ),
)


# -- what moves the figures between runs --------------------------------------------------------
def _journal_less_ext4(folder: Path) -> str | None:
    """The device name when ``folder`` is on ext4 mounted without a journal, else None."""
    best: tuple[int, str, str] | None = None
    path = str(folder.resolve())
    with open("/proc/mounts", encoding="utf-8") as mounts:
        for entry in mounts:
            device, mount, fstype = entry.split()[:3]
            if (path == mount or path.startswith(mount.rstrip("/") + "/")) and (
                best is None or len(mount) > best[0]
            ):
                best = (len(mount), device, fstype)
    if best is None or best[2] != "ext4":
        return None
    name = Path(best[1]).name
    journal = Path("/sys/fs/ext4") / name / "journal_task"
    try:
        return name if journal.read_text(encoding="utf-8").strip() == "<none>" else None
    except OSError:
        return None


def _context(tmp: Path) -> list[str]:
    load = os.getloadavg()
    lines = [
        f"{os.cpu_count()} cores; load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1 / 5 / 15 min)"
    ]
    if load[0] > 0.5:
        lines.append("  the machine is not quiet: figures of this run are low against a quiet one")
    device = _journal_less_ext4(tmp)
    if device:
        lines.append(
            f"  {tmp} is on ext4 without a journal ({device}): a file created after many were"
            " deleted (here or by anyone, in the last minutes) costs more; see this script's docstring"
        )
    s3 = os.environ.get("KHO_TEST_S3_ENDPOINT")
    lines.append(
        f"S3 gateway: {s3}"
        if s3
        else "S3 gateway: none (KHO_TEST_S3_ENDPOINT unset): the S3 lines are not run"
    )
    return lines


# -- running ---------------------------------------------------------------------------------------
def _run(line: Line, quick: bool, log_dir: Path) -> list[Figure]:
    outputs = []
    for n in range(line.runs):
        argv = line.argv(quick)
        began = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, check=False)
        seconds = time.perf_counter() - began
        log = log_dir / f"{line.name}{'-' + str(n + 1) if line.runs > 1 else ''}.log"
        log.write_text(
            f"$ {' '.join(argv)}\n# exit {done.returncode}, {seconds:.1f} s\n{done.stdout}\n{done.stderr}",
            encoding="utf-8",
        )
        print(f"  {line.name}: exit {done.returncode} in {seconds:.0f} s ({log})", flush=True)
        outputs.append(done.stdout + "\n" + done.stderr)
    return line.read("\n".join(outputs))


def _table(figures: Sequence[Figure]) -> str:
    rows = [("line", "Kho", "baseline (same run)", "goal", "met")]
    for f in figures:
        rows.append((f.line, f.kho, f.baseline, f.goal, {True: "yes", False: "no", None: "—"}[f.met]))
    return "\n".join(
        "| " + " | ".join(row) + " |" + ("\n|---|---|---|---|---|" if i == 0 else "")
        for i, row in enumerate(rows)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--lines",
        default=",".join(line.name for line in LINES),
        help="comma-separated: " + ", ".join(line.name for line in LINES),
    )
    parser.add_argument("--quick", action="store_true", help="fewer records and rounds (a smoke run)")
    parser.add_argument("--log-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    wanted = [name.strip() for name in args.lines.split(",") if name.strip()]
    unknown = sorted(set(wanted) - {line.name for line in LINES})
    if unknown:
        parser.error(f"unknown lines: {', '.join(unknown)}")
    log_dir = args.log_dir or Path(tempfile.mkdtemp(prefix="kho-issue14-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    for text in _context(Path(tempfile.gettempdir())):
        print(text)
    figures: list[Figure] = []
    for line in LINES:
        if line.name not in wanted:
            continue
        if line.needs_s3 and not os.environ.get("KHO_TEST_S3_ENDPOINT"):
            figures.extend(line.read(""))
            continue
        figures.extend(_run(line, args.quick, log_dir))
    print()
    print(_table(figures))
    print(f"\nlogs: {log_dir}; load average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
