"""Shared machinery: workload sizes, timing, peak memory, machine description, result tables.

Timing: every case runs once as a warm-up (numba compilation, page faults, caches), then
``repeats`` times; the median wall time is reported. Each time is divided by a reference measured
in the same process and the same run (``x.copy()`` for a transform, a flat ``x.sum()`` for a fit),
so ratios stay comparable across machines.

Peak memory (in-memory workloads): one extra, untimed call per case. Before it, the garbage
collector runs and glibc returns freed heap pages to the system (``malloc_trim``); the kernel's
resident-set high-water mark is then reset (``/proc/self/clear_refs``) and read back after the
call (``VmHWM``). The figure is the growth of the resident set during the call: output arrays,
temporaries of every library (numpy, pandas, numba, C extensions alike), but not the inputs,
which already exist. Where the high-water mark cannot be reset, ``tracemalloc`` (which sees
numpy and pandas allocations, not numba's) is used instead and the table says so.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SCALE_ENV = "SEQSCALE_BENCH_SCALE"
REPEATS_ENV = "SEQSCALE_BENCH_REPEATS"
MiB = 1024.0 * 1024.0


def scale() -> float:
    """Workload size multiplier (``SEQSCALE_BENCH_SCALE``, default 1.0 = the documented sizes)."""
    value = float(os.environ.get(SCALE_ENV, "1.0"))
    if not value > 0:
        raise SystemExit(f"{SCALE_ENV} must be > 0, got {value}")
    return value


def scaled(n: int, minimum: int = 1) -> int:
    """``n`` times the scale, at least ``minimum``."""
    return max(int(minimum), round(n * scale()))


def repeats(default: int = 5) -> int:
    """Timed runs per case (``SEQSCALE_BENCH_REPEATS`` overrides every workload's default)."""
    env = os.environ.get(REPEATS_ENV)
    return max(1, int(env)) if env else default


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------ timing
@dataclass
class Timing:
    median: float
    runs: list[float]


def timeit(
    fn: Callable[[], Any],
    n: int,
    setup: Callable[[], Any] | None = None,
    warmup: int = 1,
    warm_seconds: float = 0.0,
) -> Timing:
    """Median wall time of ``fn()`` over ``n`` runs after ``warmup`` runs; ``setup`` is untimed.

    With ``warm_seconds``, warm-up runs go on until that much time has passed (at most 50):
    short calls that allocate large outputs reach their steady speed only after a dozen calls.
    """
    start = time.perf_counter()
    for i in range(50):
        if i >= warmup and time.perf_counter() - start >= warm_seconds:
            break
        if setup is not None:
            setup()
        _ = fn()
        del _
    runs = []
    for _ in range(n):
        if setup is not None:
            setup()
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        runs.append(time.perf_counter() - t0)
        del out
    return Timing(statistics.median(runs), runs)


# ------------------------------------------------------------------------------ references
def _halves(n: int, parts: int) -> list[tuple[int, int]]:
    step = -(-n // parts)
    return [(a, min(n, a + step)) for a in range(0, n, step)] or [(0, 0)]


def parallel_copy(x: np.ndarray, threads: int = 2) -> np.ndarray:
    """``x.copy()`` done by ``threads`` threads, each copying (and faulting in) its slice of a fresh
    array; numpy releases the GIL while it copies, so this is the machine's copy over two cores."""
    from concurrent.futures import ThreadPoolExecutor

    out = np.empty_like(x)
    src, dst = x.reshape(-1), out.reshape(-1)
    with ThreadPoolExecutor(threads) as pool:
        list(
            pool.map(lambda ab: np.copyto(dst[ab[0] : ab[1]], src[ab[0] : ab[1]]), _halves(src.size, threads))
        )
    return out


def parallel_sum(x: np.ndarray, threads: int = 2) -> float:
    """A flat ``x.sum()`` done by ``threads`` threads (numpy reductions release the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    flat = x.reshape(-1)
    with ThreadPoolExecutor(threads) as pool:
        return float(sum(pool.map(lambda ab: flat[ab[0] : ab[1]].sum(), _halves(flat.size, threads))))


# ------------------------------------------------------------------------------ memory
def _status(field_name: str) -> int | None:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    m = re.search(rf"^{field_name}:\s+(\d+)\s+kB", text, re.M)
    return int(m.group(1)) * 1024 if m else None


def _trim() -> None:
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_hwm() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return _status("VmHWM") is not None


MEMORY_METHOD = "rss"  # set to "tracemalloc" by the first probe when the reset is not possible


def peak_memory(
    fn: Callable[[], Any],
    setup: Callable[[], Any] | None = None,
    inspect: Callable[[Any], Any] | None = None,
) -> tuple[float, Any]:
    """Bytes the resident set grows by during one call of ``fn`` (see the module notes), and
    ``inspect(result)`` (None without ``inspect``)."""
    global MEMORY_METHOD
    if setup is not None:
        setup()
    _trim()
    base = _status("VmRSS")
    info = None
    if base is not None and _reset_hwm():
        out = fn()
        peak = _status("VmHWM")
        info = None if inspect is None else inspect(out)
        del out
        return float(max(0, peak - base)), info
    MEMORY_METHOD = "tracemalloc"
    tracemalloc.start()
    try:
        out = fn()
        _, peak = tracemalloc.get_traced_memory()
        info = None if inspect is None else inspect(out)
        del out
    finally:
        tracemalloc.stop()
    return float(peak), info


def memory_note() -> str:
    if MEMORY_METHOD == "rss":
        return (
            "Peak memory: growth of the resident set during one call (kernel high-water mark "
            "reset before the call; inputs excluded, outputs and all temporaries included)."
        )
    return (
        "Peak memory: tracemalloc peak of one call (numpy/pandas allocations; numba's own "
        "allocations are not seen) — the resident-set high-water mark could not be reset here."
    )


def max_rss_bytes() -> int:
    """Peak resident set of this process so far (``getrusage``; kB on Linux)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(r) * (1 if sys.platform == "darwin" else 1024)


# ------------------------------------------------------------------------------ results
@dataclass
class Goal:
    workload: str
    goal: str
    measured: str
    passed: bool | None  # None: could not be measured (skipped)
    note: str = ""
    value: float | None = None  # the measured number, for the median and range over runs
    unit: str = ""  # how ``value`` is printed: "x" (ratio), "faster", "%", "GB", "err"


@dataclass
class Section:
    key: str
    title: str
    columns: list[str]
    rows: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)  # what was checked but cannot fail (no goal)
    seconds: float = 0.0
    commit: str = ""  # the seqscale commit it was measured at (``machine()["seqscale_commit"]``)

    def add(self, **row: Any) -> dict:
        self.rows.append(row)
        return row

    def goal(
        self,
        goal: str,
        measured: str,
        passed: bool | None,
        note: str = "",
        value: float | None = None,
        unit: str = "",
    ) -> None:
        value = None if value is None else float(value)
        self.goals.append(Goal(self.label, goal, measured, passed, note, value, unit))

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict, commit: str = "") -> Section:
        """The section ``to_json`` wrote; ``commit`` where ``d`` has none (written before sections
        recorded their commit)."""
        d = {"commit": commit, **d}
        goals = [Goal(**g) for g in d.pop("goals", [])]
        return cls(**d, goals=goals)

    @property
    def label(self) -> str:
        """The workload's short name, e.g. ``W2``."""
        return self.title.split(" ")[0]


def fmt_time(seconds: float | None) -> str:
    if seconds is None or not np.isfinite(seconds):
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_mib(nbytes: float | None) -> str:
    if nbytes is None or not np.isfinite(nbytes):
        return "—"
    return f"{nbytes / MiB:,.0f} MiB"


def fmt_ratio(r: float | None) -> str:
    if r is None or not np.isfinite(r):
        return "—"
    return f"{r:.2f}\u00d7" if r < 100 else f"{r:,.0f}\u00d7"


def fmt_speedup(r: float) -> str:
    """How many times faster seqscale is (``r`` = their time / ours); below 1, say it is slower."""
    if r is None or not np.isfinite(r):
        return "\u2014"
    if r >= 1:
        return f"{r:,.0f}\u00d7 faster" if r >= 100 else f"{r:.1f}\u00d7 faster"
    return f"{1 / r:.1f}\u00d7 slower"


def fmt_err(e: float | None) -> str:
    if e is None:
        return "—"
    if not np.isfinite(e):
        return "nan"
    return "0 (exact)" if e == 0 else f"{e:.1e}"


def mark(passed: bool | None) -> str:
    return "SKIP" if passed is None else ("PASS" if passed else "FAIL")


# ------------------------------------------------------------------------------ machine
def _load() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def _version(module: str) -> str:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        return "not installed"


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = None
    try:
        m = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
        ram = int(m.group(1)) * 1024 if m else None
    except OSError:
        pass
    try:
        import psutil

        physical = psutil.cpu_count(logical=False)
    except Exception:
        physical = None
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    commit = ""
    try:
        root = Path(__file__).resolve().parent.parent
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "seqscale"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        commit += " (+ uncommitted changes)" if dirty else ""
    except (OSError, subprocess.SubprocessError):
        pass
    numba_threads = None
    try:
        import numba

        numba_threads = numba.config.NUMBA_NUM_THREADS
    except Exception:
        pass
    return {
        "cpu": cpu,
        "logical_cpus": os.cpu_count(),
        "usable_cpus": affinity,
        "physical_cores": physical,
        "ram_gib": None if ram is None else round(ram / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numba_threads": numba_threads,
        "versions": {
            name: _version(name)
            for name in (
                "seqscale",
                "numpy",
                "numba",
                "scikit-learn",
                "pandas",
                "pyarrow",
                "dask",
                "distributed",
                "dask-ml",
                "u8darts",
                "tslearn",
            )
        },
        "seqscale_commit": commit,
        "scale": scale(),
        "load_average_start": _load(),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


# ------------------------------------------------------------------------------ commits, loads
def workload_list(labels: list[str]) -> str:
    """``W1, W4`` and so on: the labels in order, three or more consecutive workloads as a range
    (``W4`` to ``W7`` joined by an en dash)."""
    groups: list[list[str]] = []
    for label in labels:
        m = re.fullmatch(r"W(\d+)", label)
        prev = groups[-1][-1] if groups else ""
        p = re.fullmatch(r"W(\d+)", prev)
        if m and p and int(m.group(1)) == int(p.group(1)) + 1:
            groups[-1].append(label)
        else:
            groups.append([label])
    out = []
    for g in groups:
        out += [f"{g[0]}\u2013{g[-1]}"] if len(g) >= 3 else g
    return ", ".join(out)


def _commits(commits: list[str]) -> str:
    known = [c for c in dict.fromkeys(commits) if c]
    if not known:
        return "an unknown commit"
    return known[0] if len(known) == 1 else ", ".join(known[:-1]) + " and " + known[-1]


def _remeasured(key: str, machines: list[dict]) -> tuple[list[str], int]:
    """The days ``key`` was re-measured on and in how many of the runs."""
    updates = [[u for u in m.get("updates", []) if key in u["workloads"]] for m in machines]
    days = sorted({u["date"].split(" ")[0] for us in updates for u in us})
    return days, sum(1 for us in updates if us)


def measured_at(runs: list[list[Section]], machines: list[dict]) -> tuple[str, bool]:
    """Which seqscale commit the workloads were measured at, to follow "seqscale".

    Returns
    -------
    text : str
        ``" at abc1234"`` when every workload was measured in its run (``""`` when the commit is
        unknown), else ``": W1, W3 at abc1234; W2 at def5678 (re-measured 2026-12-02)"``.
    per_workload : bool
        Whether ``text`` names the commit per workload.
    """
    n = len(runs)
    groups: dict[tuple, list[str]] = {}
    for parts in zip(*runs):
        days, count = _remeasured(parts[0].key, machines)
        commits = _commits([s.commit for s in parts])
        groups.setdefault((commits, tuple(days), count), []).append(parts[0].label)
    if len(groups) <= 1 and not any(days for _, days, _ in groups):
        commits = next(iter(groups))[0] if groups else "an unknown commit"
        return ("" if commits == "an unknown commit" else f" at {commits}"), False
    texts = []
    for (commits, days, count), labels in groups.items():
        text = f"{workload_list(labels)} at {commits}"
        if days:
            within = "" if count == n else f" in {count} of {n} runs"
            text += f" (re-measured {', '.join(days)}{within})"
        texts.append(text)
    return ": " + "; ".join(texts), True


def load_parts(mach: dict, sections: list[Section]) -> list[tuple[str, str, list | None, list | None]]:
    """When and under which system load each part of a run was measured.

    Returns
    -------
    list of (workloads, date, load at the start, load at the end)
        The run itself first, with ``workloads`` empty (left out when every one of its workloads
        has been re-measured since), then each re-measurement (``mach["updates"]``), with the
        workloads it replaced.
    """
    labels = {s.key: s.label for s in sections}
    updates = mach.get("updates", [])
    again = {w for u in updates for w in u["workloads"]}
    parts = []
    if not updates or any(s.key not in again for s in sections):
        parts.append(
            ("", mach.get("date", "?"), mach.get("load_average_start"), mach.get("load_average_end"))
        )
    for u in updates:
        who = workload_list([labels.get(w, w.upper()) for w in u["workloads"]])
        parts.append((who, u["date"], u.get("load_average_start"), u.get("load_average_end")))
    return parts


# ------------------------------------------------------------------------------ rendering
def _table(columns: list[str], rows: list[dict]) -> list[str]:
    out = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        out.append("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
    return out


def render(
    mach: dict,
    sections: list[Section],
    total_seconds: float,
    goals_lines: list[str] | None = None,
    runs_note: str = "",
    commits: str | None = None,
) -> str:
    """The results page; ``goals_lines`` and ``runs_note`` replace the goals table and add a
    paragraph when several runs are folded into one page, ``commits`` (from ``measured_at``) then
    names the commits of all of them."""
    v = mach["versions"]
    mach.setdefault("load_average_end", _load())
    if commits is None:
        commits = measured_at([sections], [mach])[0]
    parts, starts = [], []
    for who, date, start, end in load_parts(mach, sections):
        loads = [x for x in (start, end) if x]
        if loads:
            parts.append(
                (f"{who} re-measured {date}: " if who else "")
                + f"{loads[0][0]:g} at the start, {loads[-1][0]:g} at the end"
            )
            starts.append(loads[0][0])
    busy = ""
    if parts:
        busy = " System load average (1 min) " + "; ".join(parts)
        busy += " (which counts the benchmark's own processes)"
        # only the load before the first workload (of the run or a re-measurement) tells of others
        if max(starts) > 0.5 * (mach["usable_cpus"] or 1):
            busy += (
                " — **other processes were competing for the CPUs: absolute times and ratios are "
                "less reliable than on an idle machine**"
            )
        busy += "."
    lines = [
        "# seqscale benchmarks",
        "",
        f"Machine: {mach['cpu']}, {mach['usable_cpus']} usable CPUs "
        f"({mach['physical_cores'] or '?'} physical cores), {mach['ram_gib']} GiB RAM, "
        f"{mach['os']}, Python {mach['python']}. numba {v['numba']} "
        f"({mach['numba_threads']} threads), numpy {v['numpy']}, scikit-learn {v['scikit-learn']}, "
        f"pandas {v['pandas']}, pyarrow {v['pyarrow']}, dask {v['dask']}, dask-ml {v['dask-ml']}, "
        f"darts {v['u8darts']}, tslearn {v['tslearn']}. seqscale {v['seqscale']}{commits}.",
        "",
        f"Run: {mach['date']}, `SEQSCALE_BENCH_SCALE={mach['scale']:g}`"
        + ("" if mach["scale"] == 1 else " (workloads smaller than the documented sizes)")
        + f", {total_seconds / 60:.1f} min in total. Times are medians after a warm-up run; "
        "ratios divide by a reference measured in the same run (the faster of the one- and "
        "two-thread `x.copy()` for transforms, of the one- and two-thread flat `x.sum()` for fits), "
        "so lower is better. Memory: see each section." + busy,
        "",
        *([runs_note, ""] if runs_note else []),
        "## Goals",
        "",
    ]
    goals = [g for s in sections for g in s.goals]
    if goals_lines is not None:
        lines += goals_lines
        goals = []
    else:
        lines += _table(
            ["workload", "goal", "measured", "result"],
            [
                {
                    "workload": g.workload,
                    "goal": g.goal,
                    "measured": g.measured + (f" ({g.note})" if g.note else ""),
                    "result": f"**{mark(g.passed)}**",
                }
                for g in goals
            ],
        )
        counts = {k: sum(1 for g in goals if mark(g.passed) == k) for k in ("PASS", "FAIL", "SKIP")}
        lines += [
            "",
            f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped.",
        ]
    lines.append("")
    facts = [f"{s.label}: {f}" for s in sections for f in s.facts]
    if facts:
        lines += ["Facts checked in this run (not goals: they cannot fail by being slow):", ""]
        lines += [f"- {f}" for f in facts] + [""]
    for s in sections:
        lines += [f"## {s.title}", ""]
        if s.rows:
            lines += _table(s.columns, s.rows)
            lines.append("")
        for note in s.notes:
            lines.append(f"- {note}")
        lines += [f"- Section time: {s.seconds:.0f} s.", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_results(
    machines: list[dict], runs: list[list[Section]], seconds: list[float], out_dir: Path
) -> str:
    """``latest.md`` (one run, or the median and range of several) and ``latest.json`` (every run)."""
    from benchmarks import _aggregate

    out_dir.mkdir(parents=True, exist_ok=True)
    if len(runs) == 1:
        text = render(machines[0], runs[0], seconds[0])
    else:
        text = _aggregate.render(machines, runs, seconds)
    payload = {
        "runs": [
            {"machine": m, "total_seconds": t, "sections": [s.to_json() for s in sections]}
            for m, sections, t in zip(machines, runs, seconds)
        ]
    }
    write_atomic(out_dir / "latest.json", json.dumps(payload, indent=1, default=_json_default) + "\n")
    write_atomic(out_dir / "latest.md", text)
    return text


def load_results(path: Path) -> tuple[list[dict], list[list[Section]], list[float]]:
    """The machines, sections and total seconds of every run in a ``latest.json``.

    A section written without its commit gets its run's ``seqscale_commit``.
    """
    payload = json.loads(path.read_text())
    machines, runs, seconds = [], [], []
    for run in payload["runs"]:
        commit = run["machine"].get("seqscale_commit", "")
        machines.append(run["machine"])
        runs.append([Section.from_json(d, commit) for d in run["sections"]])
        seconds.append(run["total_seconds"])
    return machines, runs, seconds


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it onto ``path``: a run
    stopped midway leaves the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            tmp.chmod(path.stat().st_mode & 0o777)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
