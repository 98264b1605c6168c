"""Shared fixtures: scaler pairs, random data, the public data sets exported as files, and the
runner of the ``seqscale`` command in this process (``run``, ``ok``, ``user_error``)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import preprocessing as skp

import seqscale

#: (seqscale class, scikit-learn class, constructor kwargs shared by both)
PAIRS = {
    "minmax": (seqscale.MinMaxScaler, skp.MinMaxScaler, {}),
    "standard": (seqscale.StandardScaler, skp.StandardScaler, {}),
    "robust": (seqscale.RobustScaler, skp.RobustScaler, {}),
    "maxabs": (seqscale.MaxAbsScaler, skp.MaxAbsScaler, {}),
}
METHODS = list(PAIRS)
SCALER_CLASSES = [PAIRS[m][0] for m in METHODS]


def make(method: str, **kwargs):
    cls, _, base = PAIRS[method]
    return cls(**{**base, **kwargs})


def make_sklearn(method: str, **kwargs):
    _, cls, base = PAIRS[method]
    return cls(**{**base, **kwargs})


def assert_close(actual, expected, rtol=1e-12, atol=1e-12):
    np.testing.assert_allclose(
        np.asarray(actual, dtype=np.float64),
        np.asarray(expected, dtype=np.float64),
        rtol=rtol,
        atol=atol,
    )


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(params=METHODS)
def method(request):
    return request.param


@pytest.fixture
def X2(rng):
    """Random 2D data with features on very different scales and offsets."""
    return rng.normal(size=(60, 3)) * [1.0, 100.0, 1e-3] + [0.0, -50.0, 0.007]


@pytest.fixture
def X3(rng):
    """Random 3D [samples, timesteps, features] data."""
    return rng.normal(size=(8, 5, 3)) * [1.0, 10.0, 0.1] + [3.0, -20.0, 0.5]


@pytest.fixture(scope="session")
def real_data_dir(tmp_path_factory):
    """A folder for the public data sets exported once per test session."""
    return tmp_path_factory.mktemp("real-data")


def _exporter(folder, suffix, export):
    written = {}

    def path(name: str, sort: str = "id"):
        """Path of data set ``name`` exported (on first request) to ``folder``."""
        from seqscale.datasets import dataset_info

        stem = name if dataset_info(name).id is None else f"{name}-by-{sort}"
        if stem not in written:
            written[stem] = export(name, folder / f"{stem}{suffix}", sort=sort)
        return written[stem]

    return path


@pytest.fixture(scope="session")
def real_csv(real_data_dir):
    """``real_csv(name, sort="id")`` -> Path of a public data set as CSV, written as people do.

    Dates as ISO text, date-times, integer years, '1959Q1' quarters, '1949-01' months; panels in
    long format sorted by id then time (``sort="id"``) or by time then id (``sort="time"``).
    """
    from seqscale.datasets import export_csv

    return _exporter(real_data_dir, ".csv", export_csv)


@pytest.fixture(scope="session")
def real_parquet(real_data_dir):
    """``real_parquet(name, sort="id")`` -> Path of a public data set as Parquet (real dtypes)."""
    from seqscale.datasets import export_parquet

    return _exporter(real_data_dir, ".parquet", export_parquet)


# ------------------------------------------------------------------------------ the command line
def run(*args, env: dict[str, str] | None = None, warn: bool = False):
    """``seqscale ARGS`` run in this process by typer's CliRunner (stdout and stderr apart);
    Python's warnings are silenced unless ``warn`` (the command prints them on stderr)."""
    from typer.testing import CliRunner

    from seqscale.cli.app import app

    with warnings.catch_warnings():
        if not warn:
            warnings.simplefilter("ignore")
        return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=True, env=env)


def ok(result):
    """``result`` of :func:`run`, asserted successful."""
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result


def files(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def user_error(result, *words, folder=None, before=None) -> str:
    """Assert a user mistake: exit code 2, one stderr line "seqscale: error: ..." holding every
    one of ``words``, no traceback, and (with ``folder``) no file left behind but ``before``."""
    assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("seqscale: error:"), result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    for word in words:
        assert str(word) in lines[0], f"{word!r} not in {lines[0]!r}"
    if folder is not None:
        assert files(folder) == before, "an output or temporary file was left behind"
    return lines[0]
