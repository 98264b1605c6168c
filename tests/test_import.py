"""``import seqscale`` stays light: heavy optional libraries are loaded only when used."""

import subprocess
import sys

HEAVY = ["torch", "dask", "matplotlib", "statsmodels", "numba", "keras", "polars"]


def test_import_leaves_heavy_libraries_unloaded():
    code = (
        "import sys, seqscale\n"
        f"heavy = {HEAVY!r}\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in heavy)\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import seqscale loaded: {out.stdout.strip()}"


def test_public_names():
    import seqscale

    for name in [
        "MinMaxScaler",
        "StandardScaler",
        "RobustScaler",
        "MaxAbsScaler",
        "load",
        "Moments",
        "Affine",
        "SeqscaleError",
        "__version__",
    ]:
        assert hasattr(seqscale, name)
    for name in seqscale.__all__:
        assert hasattr(seqscale, name)
