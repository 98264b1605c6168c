"""Public names keep their meaning whatever else is imported: importing a submodule binds it as
an attribute of its package, so a public function named like a submodule (`seqscale.advise` and
a subpackage `seqscale/advise/`) would be replaced by the module."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Run in a fresh interpreter: the test must see the names before any submodule is imported, which
# other tests in the same process may already have done.
_SCRIPT = r"""
import importlib, json, pkgutil, sys, types
import seqscale

# they bind only `torch` / `keras` on seqscale.export, which the name check below covers
FRAMEWORKS = {"seqscale.export.torch", "seqscale.export.keras"}

def packages():
    out = {"seqscale": seqscale}
    for info in pkgutil.walk_packages(seqscale.__path__, "seqscale."):
        if info.ispkg:
            out[info.name] = importlib.import_module(info.name)
    return out

def public(package):
    names = getattr(package, "__all__", None)
    if names is None:
        names = [n for n in vars(package) if not n.startswith("_")]
    return {n: id(getattr(package, n)) for n in names}

before = {name: public(pkg) for name, pkg in packages().items()}
imported = []
for info in pkgutil.walk_packages(seqscale.__path__, "seqscale."):
    if info.name.rsplit(".", 1)[-1] == "__main__" or info.name in FRAMEWORKS:
        continue  # running it would run the command; importing torch / keras is slow
    try:
        importlib.import_module(info.name)
    except ImportError as error:  # an optional dependency missing here
        if (error.name or "").startswith("seqscale"):
            raise
        continue
    imported.append(info.name)
changed = {}
for name, pkg in packages().items():
    children = {i.name for i in pkgutil.iter_modules(pkg.__path__)}
    for attr, ident in before[name].items():
        now = getattr(pkg, attr)
        if id(now) != ident or (attr in children and not isinstance(now, types.ModuleType)):
            changed[name + "." + attr] = type(now).__name__
    clashes = [a for a in before[name] if a in children and not isinstance(getattr(pkg, a), types.ModuleType)]
    for attr in clashes:
        changed[name + "." + attr + " (named like a submodule)"] = "clash"
json.dump({"imported": imported, "changed": changed, "advise": callable(seqscale.advise)}, sys.stdout)
"""


def _run() -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True, timeout=240
    )
    return json.loads(done.stdout)


def test_public_names_survive_importing_every_submodule():
    result = _run()
    assert "seqscale.advisor.report" in result["imported"]
    assert "seqscale.advisor.api" in result["imported"]
    assert result["advise"] is True
    assert result["changed"] == {}
