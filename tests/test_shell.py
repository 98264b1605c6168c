"""The ``seqscale`` command as a shell runs it: real processes, pipes, a pseudo-terminal, bash.

Stdout carries only results, whatever stderr is; a progress bar appears on stderr when stderr is
a terminal (by bytes for CSV, with a total); ``NO_COLOR`` turns colors off there; piped tables
keep every word; ``--version``, ``python -m seqscale`` and bash completion work.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seqscale.files import io as sio
from seqscale.util.version import __version__

ROOT = Path(__file__).resolve().parents[1]
COLOR = re.compile(r"\x1b\[[0-9;]*m")  # SGR sequences: colors and styles


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    return {**env, **extra}


def seqscale(*args, **env: str) -> subprocess.CompletedProcess:
    """``python -m seqscale ARGS`` with stdout and stderr piped."""
    command = [sys.executable, "-m", "seqscale", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=_env(**env))


def with_terminal_stderr(*args, env: dict[str, str]) -> tuple[str, str, int]:
    """Run with stdout piped and stderr on a pseudo-terminal (as ``seqscale ... > out``)."""
    import pty

    master, slave = pty.openpty()
    command = [sys.executable, "-m", "seqscale", *map(str, args)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        chunks.append(chunk)
    out = proc.stdout.read().decode()
    code = proc.wait(timeout=300)
    os.close(master)
    return out, b"".join(chunks).decode(errors="replace"), code


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory) -> Path:
    rng = np.random.default_rng(0)
    n = 60_000
    frame = pd.DataFrame({"site": rng.choice(["north", "south"], n), "load": rng.normal(50, 10, n)})
    frame["temp"] = rng.normal(15, 8, n)
    return sio.write_table(frame, tmp_path_factory.mktemp("shell") / "big.csv")


@pytest.fixture(scope="module")
def terminal_runs(big_csv):
    """The same fit with stderr on a terminal, with and without NO_COLOR."""
    runs = {}
    for name, extra in {"color": {}, "no_color": {"NO_COLOR": "1"}}.items():
        env = _env(TERM="xterm-256color", COLUMNS="100", **extra)
        out_file = big_csv.with_name(f"c_{name}.json")
        runs[name] = with_terminal_stderr("fit", big_csv, "-o", out_file, env=env)
    return runs


def test_stdout_keeps_only_results_when_stderr_is_a_terminal(terminal_runs, big_csv):
    out, err, code = terminal_runs["no_color"]
    assert code == 0, err
    assert out.splitlines() == [
        "fitted scaler on 60000 rows; columns: load, temp",
        f"coefficients written to {big_csv.with_name('c_no_color.json')}",
    ], out
    assert "━" not in out and "\x1b" not in out  # no bar, no escape codes in the results
    size = big_csv.stat().st_size / 1e6
    assert f"fit {big_csv.name}" in err and f"/{size:.1f} MB" in err, err  # by bytes, with a total
    assert re.search(r"0:00:\d\d", err)  # elapsed and remaining time


def test_no_color_is_respected(terminal_runs):
    colored = COLOR.findall(terminal_runs["color"][1])
    assert any(re.search(r"\b(3\d|9[0-7]|38;[25])", code) for code in colored), "no colors to turn off"
    plain = COLOR.findall(terminal_runs["no_color"][1])
    assert not any(re.search(r"\[(?:[0-9;]*;)?(3[0-8]|9[0-7])[;m]", code) for code in plain), plain


def test_piped_run_prints_results_only(big_csv, tmp_path):
    done = seqscale("fit", big_csv, "-o", tmp_path / "c.json", "--method", "standard")
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and "\x1b" not in done.stdout  # no bar when nobody watches
    assert json.loads((tmp_path / "c.json").read_text())["method"] == "standard"


def test_piped_tables_keep_every_word(real_csv):
    path = real_csv("nile")
    done = seqscale("advise", path, "--target", "volume", "--time", "year")
    assert done.returncode == 0, done.stderr
    import seqscale as lib

    advice = lib.advise(sio.read_table(path), target="volume", time="year")
    reason = " ".join(advice["volume"].reason.split())
    assert len(reason) > 120 and reason in done.stdout  # whole, on one line
    assert "…" not in done.stdout and "\x1b" not in done.stdout


BOX = re.compile("[\u2500-\u257f]")  # box-drawing characters: ─ │ ╭ ┃ ━ ...
COMMANDS = ["advise", "fit", "transform", "inverse", "check", "compare", "demo"]


def _helps() -> dict[str, list[str]]:
    """Every help text the command line has: the group's, and each command's options'."""
    import typer

    from seqscale.cli.app import app

    group = typer.main.get_command(app)
    texts = {"": [p.help for p in group.params if getattr(p, "help", None)]}
    for name in COMMANDS:
        command = group.commands[name]
        texts[name] = [p.help for p in command.params if getattr(p, "help", None) and not p.hidden]
        texts[name].append(command.help.split("\n")[0])
    return texts


#: Runs ``seqscale`` once per line of argv (JSON) in one process, with ``env`` changes between:
#: one interpreter start instead of one per help page.
_SCRIPT = """
import json, os, sys
from seqscale.cli.app import main
for env, args in json.loads(sys.argv[1]):
    for name, value in env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    sys.argv = ["seqscale", *args]
    try:
        main()
    except SystemExit:
        pass
    print("=" * 8, "end", flush=True)
"""


def _helps_in_one_process(calls: list, *, terminal: bool, **env: str) -> list[str]:
    """Stdout of each ``(env, args)`` call, on a pipe or on a pseudo-terminal."""
    command = [sys.executable, "-c", _SCRIPT, json.dumps(calls)]
    if not terminal:
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=_env(**env))
        assert done.returncode == 0, done.stderr
        text = done.stdout
    else:
        import pty

        master, slave = pty.openpty()
        proc = subprocess.Popen(command, stdout=slave, stderr=subprocess.PIPE, env=_env(**env))
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=300)
        os.close(master)
        text = b"".join(chunks).decode(errors="replace").replace("\r\n", "\n")
    return text.split("=" * 8 + " end\n")[:-1]


def test_piped_help_is_plain_with_every_description_whole():
    helps = _helps()
    names = list(helps)
    pages = _helps_in_one_process(
        [[{}, [*([n] if n else []), "--help"]] for n in names] + [[{}, []]], terminal=False, COLUMNS="80"
    )
    for name, page in zip(names, pages):
        assert f"Usage: seqscale {name}".strip() in page, page
        assert not BOX.search(page) and "\x1b" not in page, page
        lines = page.splitlines()
        for text in helps[name]:
            assert any(text in line for line in lines), f"{name}: {text!r} not on one line"
    assert "<minmax|standard|robust|maxabs|meanabs>" in pages[names.index("fit")]
    assert "[default: minmax]" in pages[names.index("fit")]
    assert "Usage: seqscale" in pages[-1] and not BOX.search(pages[-1])  # bare: the help, plain


def test_help_on_a_terminal_is_plain_when_asked():
    columns, args = 60, ["fit", "--help"]
    calls = [[{"NO_COLOR": "1"}, args], [{"NO_COLOR": None, "TERM": "dumb"}, args], [{"TERM": "xterm"}, args]]
    no_color, dumb, asked_nothing = _helps_in_one_process(
        calls, terminal=True, TERM="xterm-256color", COLUMNS=str(columns)
    )
    for text in (no_color, dumb):
        assert "Usage: seqscale fit" in text and not BOX.search(text) and "\x1b[3" not in text, text
        assert max(map(len, text.splitlines())) <= columns  # wrapped to the terminal
        flat = re.sub(r"-\s+", "-", " ".join(text.split()))  # a compound may break after its hyphen
        for help_text in _helps()["fit"]:
            assert " ".join(help_text.split()) in flat, help_text
    assert BOX.search(asked_nothing)  # a terminal that asked for nothing keeps the rich layout


@pytest.mark.slow  # three CLI runs, advise among them; every word of piped tables is checked below
def test_piped_tables_have_no_boxes(tmp_path, real_csv):
    path = real_csv("nile")
    assert seqscale("fit", path, "--time", "year", "-o", tmp_path / "c.json").returncode == 0
    done = seqscale("check", path, "-c", tmp_path / "c.json")
    assert done.returncode == 0, done.stderr
    assert not BOX.search(done.stdout), done.stdout
    header = next(line for line in done.stdout.splitlines() if "share outside" in line)
    assert header.split()[:4] == ["feature", "n", "below", "above"]
    row = next(line for line in done.stdout.splitlines() if line.split()[:1] == ["volume"])
    assert row.split()[1:4] == ["100", "0", "0"]  # every year of the Nile within its fitted range
    advice = seqscale("advise", path, "--target", "volume", "--time", "year", NO_COLOR="1")
    assert advice.returncode == 0 and not BOX.search(advice.stdout), advice.stdout


def test_version_and_module_entry_point():
    done = seqscale("--version")
    assert done.returncode == 0 and done.stdout == f"seqscale {__version__}\n" and done.stderr == ""


def test_method_is_a_choice_listed_in_help(tmp_path, big_csv):
    from typer.testing import CliRunner

    from seqscale.cli.app import app

    runner = CliRunner()
    usage = runner.invoke(app, ["--help"], prog_name="seqscale", env={"COLUMNS": "200"})
    assert (
        "Usage: seqscale" in usage.stdout
        and "--version" in usage.stdout
        and "--install-completion" in usage.stdout
    )
    text = runner.invoke(app, ["fit", "--help"], env={"COLUMNS": "200"}).stdout
    choices = r"[<\[]minmax\|standard\|robust\|maxabs\|meanabs[>\]]"
    assert re.search(choices, text) and "[default: minmax]" in text
    done = runner.invoke(app, ["fit", str(big_csv), "-o", str(tmp_path / "c.json"), "--method", "zscore"])
    assert done.exit_code == 2 and done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("seqscale: error: Invalid value for '--method': 'zscore' is not one of 'minmax'")
    assert not (tmp_path / "c.json").exists()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completion(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "seqscale"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m seqscale "$@"\n')
    wrapper.chmod(0o755)
    env = _env(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", HOME=str(tmp_path), SHELL="/bin/bash")
    install = subprocess.run(
        ["seqscale", "--install-completion", "bash"], env=env, capture_output=True, text=True, timeout=300
    )
    assert install.returncode == 0, install.stderr
    assert "source" in (tmp_path / ".bashrc").read_text()
    script = (
        'eval "$(seqscale --show-completion bash)"\n'
        "COMP_WORDS=(seqscale fi); COMP_CWORD=1; _seqscale_completion seqscale; echo ${COMPREPLY[@]}\n"
        'COMP_WORDS=(seqscale fit x.csv --method ""); COMP_CWORD=4; _seqscale_completion seqscale\n'
        "echo ${COMPREPLY[@]}\n"
    )
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=300)
    from seqscale.scalers.estimators import SCALERS

    assert done.stdout.splitlines() == ["fit", " ".join(SCALERS)], done.stderr
