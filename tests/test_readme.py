"""Every Python example in the README runs as shown, each as its own script in a fresh interpreter.

A block is saved as ``example.py`` and run with ``python example.py``, the way a reader runs it:
``__name__`` is ``"__main__"`` and multiprocessing (Dask's local cluster) spawns fresh processes
that re-import the script. Blocks that print are checked for what they print.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)

#: (text that identifies a block, strings its output must contain)
PRINTS = [
    ('bounds={"temp": (-10, 30)}', ["0.72", "n_above", "share_outside", "scale"]),
    ("np.repeat(np.arange(2000), 50)", ["(2000, 1) True", "True"]),
    ("inverse_target(model(", ["actual", "realgdp"]),
    ("seqscale.advise(load_macrodata()", ["seqscale advice", "realgdp"]),
    ("LocalCluster(", ["(1000000, 8) (8,)"]),
    (
        'set_output(transform="pyarrow")',
        [
            "['scaled__load', 'scaled__temp', 'onehot__quarter=1']",
            "True",
            "['load', 'temp', 'quarter']",
            "Table",
        ],
    ),
    ("sample_weight=weights", ["[-0.88 26.07] [14.75 35.35]"]),
    ("validate=True)", ["candidate", "rules", "minmax", "standard", "the rules' plan is kept"]),
]


def _expected(code: str) -> list[str]:
    return [text for key, texts in PRINTS if key in code for text in texts]


def test_every_printing_block_is_checked():
    printing = [code for code in BLOCKS if "print(" in code]
    assert all(_expected(code) for code in printing), "a README block prints but its output is unchecked"


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs_as_a_script(code, tmp_path):
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for text in _expected(code):
        assert text in done.stdout, f"{text!r} not printed:\n{done.stdout[-2000:]}"
