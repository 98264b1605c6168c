"""``python -m benchmarks ... --update``: some workloads re-measured in every run of the results.

No workload runs here: ``_run_suite`` is replaced by one returning sections built through the
harness API, as a workload's ``run()`` builds them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import __main__ as bench
from benchmarks import _aggregate
from benchmarks import _harness as h

README = f"# project\n\nintro\n\n{_aggregate.README_START}\nold summary\n{_aggregate.README_END}\n\nrest\n"
DASH = "\u2013"  # between the first and last of a range of workloads
TITLES = {
    "w1": "W1 dense windows",
    "w2": "W2 panel (per-series scaling)",
    "w3": "W3 streaming (Parquet file)",
    "w4": "W4 Dask (two-worker LocalCluster)",
}


@pytest.fixture(scope="module")
def base_machine() -> dict:
    return h.machine()


def _section(key: str, commit: str, k: int, value: float) -> h.Section:
    s = h.Section(key, TITLES[key], ["case", "time", "vs copy"])
    ratio = value * (1 + 0.1 * k)
    s.add(case="fit", time=h.fmt_time(value / 10), seconds=value / 10, **{"vs copy": h.fmt_ratio(ratio)})
    s.add(case="transform", time=h.fmt_time(value / 20), seconds=value / 20)
    s.goal("fit at most 3 times a flat sum", h.fmt_ratio(ratio), ratio <= 3, value=ratio, unit="x")
    s.facts.append(f"windows are views ({value:.0f} checked)")
    s.notes.append(f"measured at {commit}")
    s.seconds = 10.0 * value + k
    s.commit = commit
    return s


@pytest.fixture
def suite(monkeypatch, base_machine):
    """Replace ``_run_suite``: ``suite.commit`` and ``suite.value`` set what the next runs return."""

    class Fake:
        commit = "aaa1111"
        value = 2.0
        hour = 8

        def __init__(self) -> None:
            self.calls: list[list[str]] = []

        def __call__(self, names: list[str]) -> tuple[dict, list[h.Section], float]:
            k = len(self.calls)
            self.calls.append(list(names))
            mach = {
                **base_machine,
                "seqscale_commit": self.commit,
                "scale": h.scale(),
                "date": f"2026-12-0{2 if self.commit == 'aaa1111' else 3} {self.hour + k:02d}:00 UTC",
                "load_average_start": [0.5 + k, 0.5, 0.5],
                "load_average_end": [1.25 + k, 1.0, 1.0],
            }
            sections = [_section(n, self.commit, k, self.value) for n in names]
            return mach, sections, sum(s.seconds for s in sections) + 1.0

    fake = Fake()
    monkeypatch.setattr(bench, "_run_suite", fake)
    fake.compiled = []  # the runs done when the kernels were compiled
    monkeypatch.setattr(bench, "_warm_kernels", lambda: fake.compiled.append(len(fake.calls)))
    return fake


@pytest.fixture
def results(tmp_path: Path, suite) -> Path:
    """A two-run result set of W1 to W4 at ``aaa1111``, and a README summary written from it."""
    (tmp_path / "README.md").write_text(README)
    args = ["w1", "w2", "w3", "w4", "--runs", "2", "--results", str(tmp_path)]
    assert bench.main([*args, "--readme", str(tmp_path / "README.md")]) == 0
    assert suite.compiled == [0]  # once, before the first run
    suite.calls.clear()
    suite.commit, suite.value = "bbb2222", 5.0
    return tmp_path


def _update(results: Path, *args: str) -> int:
    return bench.main([*args, "--update", "--results", str(results), "--readme", str(results / "README.md")])


def _dumped_sections(path: Path) -> list[dict[str, str]]:
    runs = json.loads(path.read_text())["runs"]
    return [{s["key"]: json.dumps(s, indent=1) for s in run["sections"]} for run in runs]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_update_replaces_exactly_the_named_sections(results, suite):
    before = _dumped_sections(results / "latest.json")
    assert _update(results, "w2", "w4", "--runs", "2") == 0
    assert suite.calls == [["w2", "w4"], ["w2", "w4"]] and suite.compiled == [0, 0]
    after = _dumped_sections(results / "latest.json")
    for old, new in zip(before, after):
        assert list(new) == ["w1", "w2", "w3", "w4"]  # the order of the existing runs
        assert new["w1"] == old["w1"] and new["w3"] == old["w3"]
        assert new["w2"] != old["w2"] and new["w4"] != old["w4"]
    machines, runs, seconds = h.load_results(results / "latest.json")
    for k, (mach, sections) in enumerate(zip(machines, runs)):
        assert [s.commit for s in sections] == ["aaa1111", "bbb2222", "aaa1111", "bbb2222"]
        assert sections[1].to_json() == _section("w2", "bbb2222", k, 5.0).to_json()
        assert mach["seqscale_commit"] == "aaa1111"
        (update,) = mach["updates"]
        assert update["workloads"] == ["w2", "w4"] and update["commit"] == "bbb2222"
        assert update["load_average_start"] == [0.5 + k, 0.5, 0.5]
        assert seconds[k] == pytest.approx(sum(s.seconds for s in sections) + 1.0)
    assert not [p for p in results.iterdir() if p.name.endswith(".tmp")]


def test_a_second_update_takes_its_workloads_from_the_first(results, suite):
    assert _update(results, "w2", "w3", "--runs", "2") == 0
    suite.commit = "ccc3333"
    assert _update(results, "w3", "--runs", "2") == 0
    machines, runs, _ = h.load_results(results / "latest.json")
    assert [u["workloads"] for u in machines[0]["updates"]] == [["w2"], ["w3"]]
    assert [s.commit for s in runs[0]] == ["aaa1111", "bbb2222", "ccc3333", "aaa1111"]
    assert (
        "W1, W4 at aaa1111; W2 at bbb2222 (re-measured 2026-12-03); W3 at ccc3333"
        in (results / "latest.md").read_text()
    )


def test_the_note_names_the_commit_of_each_workload(results):
    md = (results / "latest.md").read_text()
    assert "**2 full runs** of seqscale at aaa1111;" in md
    assert " at aaa1111.\n" in md  # the machine line
    assert _update(results, "w2", "w3", "--runs", "2") == 0
    md = (results / "latest.md").read_text()
    named = "W1, W4 at aaa1111; W2, W3 at bbb2222 (re-measured 2026-12-03)"
    assert f"**2 runs** of seqscale: {named}; every figure" in md
    assert f": {named}." in md.split("\n")[2]  # the machine line
    assert (
        "run 1 2026-12-02 08:00 UTC: 0.5 → 1.25 (W2, W3 re-measured 2026-12-03 08:00 UTC: 0.5 → 1.25)" in md
    )
    assert (
        "run 2 2026-12-02 09:00 UTC: 1.5 → 2.25 (W2, W3 re-measured 2026-12-03 09:00 UTC: 1.5 → 2.25)" in md
    )
    readme = (results / "README.md").read_text()
    assert readme.startswith("# project\n\nintro\n\n") and readme.endswith("\n\nrest\n")
    assert "2 runs of seqscale (`make bench RUNS=2` and `--update`" in readme
    assert f"{named}. Median (smallest{DASH}largest) over the runs." in readme
    assert "start of each run: 0.5 (W2, W3: 0.5), 1.5 (W2, W3: 1.5)." in readme


def test_one_run_names_the_commits_in_its_header(tmp_path, suite):
    assert bench.main(["w1", "w2", "w3", "--results", str(tmp_path)]) == 0
    suite.calls.clear()
    suite.commit, suite.hour = "bbb2222", 11
    assert bench.main(["w2", "--update", "--results", str(tmp_path)]) == 0
    md = (tmp_path / "latest.md").read_text()
    assert ": W1, W3 at aaa1111; W2 at bbb2222 (re-measured 2026-12-03)." in md
    assert "0.5 at the start, 1.25 at the end; W2 re-measured 2026-12-03 11:00 UTC: 0.5 at the start" in md


def test_workload_ranges():
    assert h.workload_list(["W1", "W4", "W5", "W6", "W7"]) == f"W1, W4{DASH}W7"
    assert h.workload_list(["W2", "W3", "W8"]) == "W2, W3, W8"
    assert h.workload_list(["W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8"]) == f"W1{DASH}W8"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["w2", "--runs", "3"], "holds 2 run(s); re-measure with --runs 2"),
        (["w2"], "holds 2 run(s); re-measure with --runs 2"),
        (["w5", "--runs", "2"], "w5 not measured in every run"),
        (["w9", "--runs", "2"], "unknown workload(s) w9"),
        (["--runs", "2"], "name them"),
    ],
)
def test_refusals_leave_every_file_alone(results, suite, capsys, args, says):
    files = _files(results)
    capsys.readouterr()
    assert _update(results, *args) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and says in err and "Traceback" not in err
    assert suite.calls == [] and suite.compiled == [0]  # refused before compiling
    assert _files(results) == files


def test_refuses_without_latest_json(tmp_path, suite, capsys):
    (tmp_path / "README.md").write_text(README)
    assert _update(tmp_path, "w2", "--runs", "2") == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "latest.json does not exist" in err
    assert suite.calls == []
    assert _files(tmp_path) == {"README.md": README.encode()}


def test_refuses_another_scale(results, suite, capsys, monkeypatch):
    files = _files(results)
    monkeypatch.setenv(h.SCALE_ENV, "0.5")
    assert _update(results, "w2", "--runs", "2") == 2
    assert "measured at SEQSCALE_BENCH_SCALE=1, not 0.5" in capsys.readouterr().err
    assert suite.calls == [] and _files(results) == files


def test_results_written_before_sections_had_a_commit(results, suite):
    path = results / "latest.json"
    payload = json.loads(path.read_text())
    for run in payload["runs"]:
        for s in run["sections"]:
            del s["commit"]
    path.write_text(json.dumps(payload, indent=1))
    _, runs, _ = h.load_results(path)
    assert {s.commit for sections in runs for s in sections} == {"aaa1111"}
    assert _update(results, "w1", "--runs", "2") == 0
    _, runs, _ = h.load_results(path)
    assert [s.commit for s in runs[1]] == ["bbb2222", "aaa1111", "aaa1111", "aaa1111"]
    assert (
        f"W1 at bbb2222 (re-measured 2026-12-03); W2{DASH}W4 at aaa1111"
        in (results / "latest.md").read_text()
    )


def test_written_files_replace_the_old_ones_whole(tmp_path, monkeypatch):
    target = tmp_path / "latest.md"
    target.write_text("old")
    target.chmod(0o644)

    def broken(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(h.os, "fsync", broken)
    with pytest.raises(OSError, match="disk full"):
        h.write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["latest.md"]
    monkeypatch.undo()
    h.write_atomic(target, "new")
    assert target.read_text() == "new" and target.stat().st_mode & 0o777 == 0o644
