"""Tests of seqscale.advisor.report: the HTML report and the figure helper."""

from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd
import pytest

from seqscale.advisor.api import advise
from seqscale.advisor.report import apply_recommendation, figure_to_data_uri, write_report
from seqscale.errors import ParameterError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    n = 600
    frame = pd.DataFrame(
        {
            "when": pd.date_range("2021-01-01", periods=n, freq="D"),
            "price<&>": 50 + np.cumsum(rng.normal(0.2, 1, n)),
            "temp": rng.normal(20, 5, n),
            "shop": rng.choice(["north", "south", "east"], n),
            "open": rng.integers(0, 2, n),
            "spikes": rng.lognormal(0, 1.2, n),
            "y": rng.normal(0, 3, n),
        }
    )
    return frame, advise(frame, target="y", time="when")


def _images(text: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", text)]


def test_report_renders(data, tmp_path):
    frame, advice = data
    path = write_report(
        advice,
        frame,
        tmp_path / "report.html",
        extra_sections=[("LSTM comparison", "<p id='extra'>loss curves here</p>")],
    )
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    for name in ("temp", "shop", "open", "spikes", "y"):
        assert name in text
    assert "price&lt;&amp;&gt;" in text and "price<&>" not in text
    assert "600 rows x 7 columns" in text
    assert "<p id='extra'>loss curves here</p>" in text and "LSTM comparison" in text
    images = _images(text)
    assert len(images) >= 10
    assert all(img.startswith(PNG_SIGNATURE) for img in images)
    assert max(len(img) for img in images) < 120_000
    (tmp_path / "example.png").write_bytes(images[0])
    assert not list(tmp_path.glob(".*.tmp"))


def test_report_method_and_split(data, tmp_path):
    frame, advice = data
    path = advice.report(tmp_path / "r.html", split=400)
    text = path.read_text(encoding="utf-8")
    assert "400 training rows, 200 test rows" in text
    with pytest.raises(ParameterError):
        write_report(advice, frame, tmp_path / "bad.html", split=2.5)


def test_sampling_note_in_report(tmp_path):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(5, 2, 3000), "y": rng.normal(size=3000)})
    advice = advise(frame, sample=500)
    text = write_report(advice, frame, tmp_path / "s.html").read_text(encoding="utf-8")
    assert "random sample of 500" in text


def test_apply_recommendation_fits_on_train(data):
    frame, advice = data
    from seqscale.advisor import profile as _profile

    order = _profile.ordering(frame, "when", None, 0.2)
    train = ~order.is_test
    col = advice["temp"]
    out, coef = apply_recommendation(frame["temp"].to_numpy(), col, order, train)
    assert coef["method"] == col.method == "standard"
    assert abs(out[train].mean()) < 1e-9 and abs(out[train].std() - 1) < 1e-9


def test_figure_to_data_uri():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3, 2))
    fig.subplots().plot([1, 2, 3])
    uri = figure_to_data_uri(fig)
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]).startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("method", ["standard", "minmax", "robust", "maxabs", "meanabs"])
def test_the_report_shows_the_coefficients_the_scalers_fit(method):
    """The report's transformed values and coefficients are those of the scaler a pipeline fits
    (its coefficient file), on a bundled data set."""
    import dataclasses

    from seqscale import datasets
    from seqscale.advisor import profile as _profile
    from seqscale.scalers import coefficients
    from seqscale.scalers.registry import SCALERS

    frame = datasets.load_dataset("airpassengers")
    advice = advise(frame, target="passengers", time="date")
    col = dataclasses.replace(advice["passengers"], method=method, log=False, difference=None)
    order = _profile.ordering(frame, "date", None, 0.2)
    train = ~order.is_test
    values = frame["passengers"].to_numpy(dtype=np.float64)
    out, coef = apply_recommendation(values, col, order, train)
    scaler = SCALERS[method]().fit(values[train][:, None])
    (channel,) = coefficients.to_dict(scaler)["channels"]
    assert {k: coef[k] for k in ("shift", "scale", "offset")} == {
        k: channel[k] for k in ("shift", "scale", "offset")
    }
    np.testing.assert_array_equal(out, scaler.transform(values[:, None])[:, 0])
