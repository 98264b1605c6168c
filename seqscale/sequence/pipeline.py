"""``SequencePipeline``: from a raw table to LSTM tensors, and predictions back to real units.

One object keeps the order and the bookkeeping right: ``(log1p) -> difference -> scale ->
encode -> window``, each fitted on the training frame only, each series on its own when asked,
the target treated to match the network's output activation, and one JSON file to save it all.

Decisions worth knowing
-----------------------
* Regression targets are also *inputs*: their past values (scaled like the target) are features
  of ``X``, and inverting differenced forecasts needs their last known levels, so ``transform``
  requires the target column. Classification labels are not inputs: ``transform`` works without
  them (``y`` is then None).
* Differencing leaves no value for the first ``lag * order`` rows of each series: they are dropped
  before windowing (pass that much extra history in front of a test frame).
* ``inverse_target`` uses the frame of the last ``transform`` call (or ``frame=``) for the time
  index and the last known levels of each sample's input window.

Examples
--------
>>> import numpy as np, pandas as pd
>>> df = pd.DataFrame({"t": range(40), "x": np.sin(np.arange(40)), "y": np.arange(40.0) ** 1.5})
>>> pipe = SequencePipeline({"y": {"role": "target", "difference": {"lag": 1, "order": 1}}},
...                         time="t", n_in=5).fit(df)
>>> X, y = pipe.transform(df)
>>> X.shape, y.shape, X.dtype
((34, 5, 2), (34, 1, 1), dtype('float32'))
>>> back = pipe.inverse_target(y)
>>> bool(np.allclose(back["y"], df["y"].iloc[6:]))
True
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from seqscale.core.affine import Affine
from seqscale.errors import CoefficientFileError, InputError, NotFittedError, ParameterError
from seqscale.frames.time_columns import with_time
from seqscale.sequence import pipeline_specs as specs
from seqscale.sequence import pipeline_steps as steps
from seqscale.sequence import pipeline_target as target
from seqscale.sequence import plan_schema
from seqscale.sequence.difference import Difference
from seqscale.sequence.encode import OneHotEncoder
from seqscale.sequence.leakage import check_test_start, check_windows
from seqscale.sequence.pipeline_io import from_dict, load, save, to_dict
from seqscale.sequence.plan import load_plan, validate_plan
from seqscale.sequence.rows import caller_rows
from seqscale.sequence.window import to_supervised, window_index

__all__ = ["SequencePipeline", "check_windows", "load_pipeline", "pipeline_from_dict"]

_KINDS = ("point", "quantiles", "paths")


class SequencePipeline(BaseEstimator):
    """Log, difference, scale, encode and window a long-format table for an LSTM; invert back.

    Parameters
    ----------
    columns : dict {name: spec}, optional
        Role of each column as in a plan file: ``{"role": "input"|"target"|"categorical"|
        "ignore", "method": "minmax"|"standard"|"robust"|"maxabs"|"none", "log": bool,
        "difference": None | {"lag": int, "order": int}, "bounds": [lo, hi] | None,
        "feature_range": [a, b], "handle_unknown": "ignore"|"error"}``. Unlisted columns:
        numeric -> input scaled by minmax, others -> categorical (one-hot).
    target : str or list of str, optional
        Column(s) to predict (or mark them with ``"role": "target"``).
    time, id : str, optional
        Time column (rows are sorted by it) and series id column (long-format panel). Never
        features.
    n_in, n_out : int, default 12 and 1
        Input steps and forecast steps per sample.
    output_activation : {"linear", "sigmoid", "tanh", "relu", "softmax"}, default "linear"
        Decides the target's treatment: sigmoid -> minmax to (0, 1) (0/1 targets unchanged),
        tanh -> minmax to (-1, 1), relu -> minmax to (0, 1), softmax -> one-hot classes,
        linear -> standard when roughly normal (|skew| < 0.5, |excess kurtosis| < 1) else minmax.
        An explicit, inconsistent method is refused (``ParameterError``).
    task : {"regression", "binary", "multiclass"}, default "regression"
    per_series : bool, default False
        Fit each numeric column's scaler per series (``groups=``), so every series is scaled on
        its own.
    series_features : bool, default False
        Add each series' level and scale (of the targets) as constant input features.
    test_start : timestamp, number, row position or dict {series: start}, optional
        Declared start of the test period (e.g. ``split_by_time(...).cutoff``): ``fit`` refuses
        data reaching into it with ``LeakageError``.
    allow_leakage : bool, default False

    Attributes
    ----------
    feature_names_out_ : ndarray of str, the features of ``X`` (``quarter=1`` for one-hot columns)
    target_names_out_ : list of str, the channels of ``y``
    specs_ : dict, the resolved spec of every used column
    scalers_, encoders_, differences_ : dict column -> fitted step
    span_ : int, rows dropped at the start of each series by differencing
    cutoff_ : the last training time (or the number of training rows)
    """

    def __init__(
        self,
        columns=None,
        *,
        target=None,
        time=None,
        id=None,
        n_in=12,
        n_out=1,
        output_activation="linear",
        task="regression",
        per_series=False,
        series_features=False,
        test_start=None,
        allow_leakage=False,
    ):
        self.columns = columns
        self.target = target
        self.time = time
        self.id = id
        self.n_in = n_in
        self.n_out = n_out
        self.output_activation = output_activation
        self.task = task
        self.per_series = per_series
        self.series_features = series_features
        self.test_start = test_start
        self.allow_leakage = allow_leakage

    # ------------------------------------------------------------------------------ plans
    @classmethod
    def from_plan(cls, plan: Any, **params: Any) -> SequencePipeline:
        """Build an unfitted pipeline from a plan dict or a plan JSON file (validated).

        ``params`` override constructor arguments (e.g. ``test_start=``).

        Examples
        --------
        >>> plan = {"format": "seqscale.plan", "version": 1, "time": "t", "id": None,
        ...         "target": ["y"], "task": "regression", "output_activation": "linear",
        ...         "window": {"n_in": 4, "n_out": 1}, "per_series": False,
        ...         "series_features": False, "columns": {"y": {"role": "target",
        ...         "method": "minmax", "log": False, "difference": None, "bounds": None}}}
        >>> SequencePipeline.from_plan(plan).n_in
        4
        """
        is_path = isinstance(plan, (str, os.PathLike))
        plan = load_plan(plan) if is_path else validate_plan(plan)
        kwargs = {
            "columns": plan["columns"],
            "target": list(plan["target"]),
            "time": plan.get("time"),
            "id": plan.get("id"),
            "n_in": plan["window"]["n_in"],
            "n_out": plan["window"]["n_out"],
            "output_activation": plan["output_activation"],
            "task": plan["task"],
            "per_series": plan["per_series"],
            "series_features": plan["series_features"],
        }
        kwargs.update(params)
        return cls(**kwargs)

    def to_plan(self) -> dict:
        """The plan dict (format of ``docs/ARCHITECTURE.md``); complete once fitted."""
        fitted = hasattr(self, "specs_")
        if fitted:
            cols = {c: specs.plan_entry(s) for c, s in self.specs_.items()}
            targets = list(self.targets_)
        else:
            cols = {str(k): dict(v) for k, v in (self.columns or {}).items()}
            targets = (
                []
                if self.target is None
                else ([self.target] if isinstance(self.target, str) else list(self.target))
            )
        return {
            "format": "seqscale.plan",
            "version": 1,
            "time": self.time,
            "id": self.id,
            "target": targets,
            "task": self.task,
            "output_activation": self.output_activation,
            "window": {"n_in": self.n_in, "n_out": self.n_out},
            "per_series": bool(self.per_series),
            "series_features": bool(self.series_features),
            "columns": cols,
        }

    # ------------------------------------------------------------------------------ fit
    def fit(self, frame: Any, y: Any = None) -> SequencePipeline:
        """Fit every step on the training frame only (long format: id, time, columns).

        A 3D array of windows is refused: fit on the frame, then window (``transform``).
        """
        if isinstance(frame, np.ndarray) and frame.ndim == 3:
            check_windows(frame, stacklevel=3)
            raise InputError(
                "fit got a 3D array of windows; fit on the frame, not on windows: scaling "
                "statistics must come from each value once. Pass the [time, columns] DataFrame."
            )
        self._check_params()
        df = with_time(steps.as_frame(frame), self.time)
        if not self.allow_leakage:
            check_test_start(df, self.test_start, time=self.time, id=self.id)
        for attr in [a for a in vars(self) if a.endswith("_") and not a.startswith("_")]:
            delattr(self, attr)
        self.__dict__.pop("_inverse_state", None)
        df, positions = steps.sorted_rows(df, self.time, self.id)
        with caller_rows(positions):
            used, self.targets_ = specs.resolve_columns(df, self.columns, self.target, self.time, self.id)
            self._fit_steps(df, used)
        self._validate_plan()
        return self

    def _check_params(self) -> None:
        specs.check_task(self.task, self.output_activation)
        for name in ("n_in", "n_out"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ParameterError(f"{name}={value!r} is invalid; use an integer >= 1.")
        for name in ("per_series", "series_features"):
            if getattr(self, name) and self.id is None:
                raise ParameterError(f"{name}=True needs the series id column: pass id='...'.")

    def _check_spans(self, ids: Any, n_rows: int) -> None:
        """Refuse a difference whose lag x order is not shorter than the training series."""
        counts = pd.Series(ids).value_counts() if ids is not None else None
        shortest = n_rows if counts is None else int(counts.min()) if len(counts) else 0
        for col, diff in self.differences_.items():
            if diff.span >= shortest:
                where = "the shortest training series" if ids is not None else "the training data"
                raise InputError(
                    f"columns.{col}.difference: lag {diff.lag} x order {diff.order} drops the first "
                    f"{diff.span} rows of each series, but {where} has {shortest} rows; lower the lag "
                    "or the order, or fit on more data."
                )

    def _fit_steps(self, df: pd.DataFrame, used: dict) -> None:
        ids = df[self.id].to_numpy() if self.id is not None else None
        if self.task != "regression" and len(self.targets_) > 1:
            raise ParameterError(
                f"task={self.task!r} predicts one label column; got targets {self.targets_}. "
                "Fit one pipeline per label."
            )
        self.target_kind_ = self.task
        self.specs_ = {}
        for col, spec in used.items():
            if spec["role"] == "target":
                spec = specs.target_spec(
                    col,
                    spec,
                    self._target_values(df, col, spec, ids),
                    self.task,
                    self.output_activation,
                    ids,
                )
            self.specs_[col] = spec
        diffs = {c: s["difference"] for c, s in self.scaled_columns().items() if s["difference"]}
        self.differences_ = {c: Difference(d["lag"], d["order"]) for c, d in diffs.items()}
        self.span_ = max((d.span for d in self.differences_.values()), default=0)
        self._check_spans(ids, len(df))
        if ids is None:  # the levels at the end of training continue the series (Difference.last_)
            for c, d in self.differences_.items():
                with contextlib.suppress(InputError):
                    d.fit(steps.levels(df, c, self.specs_[c]["log"]).to_numpy())
        prep = steps.prepare(self, df)
        self._fit_scalers(prep)
        self._fit_encoders(df)
        if self.series_features:
            scaled = self.scaled_columns()
            cols = [c for c in scaled if self.specs_[c]["role"] == "target"] or list(scaled)
            self.series_table_ = steps.series_table(df, ids, cols)
        self.feature_names_out_ = np.asarray(self._feature_names(), dtype=object)
        self.n_features_out_ = len(self.feature_names_out_)
        self.target_names_out_ = self._target_names()
        times = df[self.time] if self.time is not None else None
        self.cutoff_ = len(df) if times is None else _plain(times.max())
        self.n_rows_seen_ = len(df)

    def _target_values(self, df: pd.DataFrame, col: str, spec: dict, ids: Any) -> pd.Series:
        """The values the target's scaler will see (after log1p/difference), for the rules."""
        if self.task != "regression" or not pd.api.types.is_numeric_dtype(df[col]):
            return df[col]
        x = steps.levels(df, col, bool(spec.get("log")))
        d = spec.get("difference")
        return steps.difference(x, ids, d["lag"], d["order"]) if d else x

    def _fit_scalers(self, prep: steps.Prepared) -> None:
        self.scalers_ = {}
        ids = None if prep.ids is None else prep.ids[prep.keep]
        for col, spec in self.scaled_columns().items():
            try:
                plan_schema.check_scaled_entry(col, specs.plan_entry(spec))
            except plan_schema.PlanError as err:
                raise ParameterError(f"columns: field {err.where!r}: {err.message}") from None
            scaler = specs.make_scaler(spec)
            if scaler is not None:
                data = prep.numeric[col][prep.keep].to_frame(col).reset_index(drop=True)
                with caller_rows(np.flatnonzero(prep.keep)):
                    scaler.fit(data, groups=ids if self.per_series else None)
                problem = steps.scaled_range_problem(col, spec, scaler)
                if problem:
                    field = f"columns.{col}.bounds" if spec.get("bounds") is not None else f"column {col!r}"
                    raise InputError(f"{field}: {problem}.")
            self.scalers_[col] = scaler

    def _fit_encoders(self, df: pd.DataFrame) -> None:
        self.encoders_ = {}
        for col, spec in self.specs_.items():
            if spec["role"] == "categorical":
                enc = OneHotEncoder(handle_unknown=spec.get("handle_unknown", "ignore"), missing="category")
                self.encoders_[col] = enc.fit(df[[col]])
        t = self.targets_[0]
        if self.target_kind_ != "regression" and self.specs_[t].get("encode") == "onehot":
            self.target_encoder_ = target.label_encoder(t, self.specs_[t]["classes"])

    def _validate_plan(self) -> None:
        try:
            validate_plan(self.to_plan(), source="columns")
        except CoefficientFileError as err:
            raise ParameterError(str(err)) from None

    # ------------------------------------------------------------------------------ helpers
    def _require_fitted(self) -> None:
        if not hasattr(self, "feature_names_out_"):
            raise NotFittedError(
                "This SequencePipeline is not fitted yet; call fit(train_frame) or load a saved "
                "pipeline with load_pipeline(path)."
            )

    def scaled_columns(self) -> dict[str, dict]:
        """Numeric columns that go through log/difference/scale (inputs and regression targets)."""
        regression = self.task == "regression"
        return {
            c: s
            for c, s in self.specs_.items()
            if s["role"] == "input" or (s["role"] == "target" and regression)
        }

    def _feature_names(self) -> list[str]:
        names: list[str] = []
        scaled = self.scaled_columns()
        for col, spec in self.specs_.items():
            if col in scaled:
                names.append(col)
            elif spec["role"] == "categorical":
                names += [str(n) for n in self.encoders_[col].get_feature_names_out()]
        if self.series_features:
            names += self.series_table_["names"]
        return names

    def _target_names(self) -> list[str]:
        t = self.targets_[0]
        if self.target_kind_ == "regression":
            return list(self.targets_)
        if self.specs_[t].get("encode") == "onehot":
            return [f"{t}={target.label(c)}" for c in self.specs_[t]["classes"]]
        return [t]

    # ------------------------------------------------------------------------------ transform
    def transform_frame(self, frame: Any) -> pd.DataFrame:
        """The scaled and encoded 2D table before windowing (id, time, features, targets).

        Rows are sorted by (id, time); each series' first ``span_`` rows (no difference) are
        dropped. Never refits.
        """
        return self._frame(frame)[0]

    def _frame(self, frame: Any) -> tuple[pd.DataFrame, steps.Prepared]:
        self._require_fitted()
        if isinstance(frame, np.ndarray) and frame.ndim == 3:
            raise InputError("transform needs the [time, columns] frame, not windows.")
        df, positions = steps.sorted_rows(steps.as_frame(frame), self.time, self.id)
        with caller_rows(positions):
            prep = steps.prepare(self, df)
            with caller_rows(np.flatnonzero(prep.keep)):
                return self._kept_table(df, prep), prep

    def _kept_table(self, df: pd.DataFrame, prep: steps.Prepared) -> pd.DataFrame:
        """The scaled and encoded rows of ``df`` (sorted) that differencing keeps."""
        keep, ids = prep.keep, (None if prep.ids is None else prep.ids[prep.keep])
        kept = df.iloc[np.flatnonzero(keep)]
        out = {k: kept[k].to_numpy() for k in (self.id, self.time) if k is not None}
        for col, spec in self.specs_.items():
            if col in prep.numeric:
                out[col] = self._scale(col, prep.numeric[col][keep], ids)
            elif spec["role"] == "categorical":
                if col not in kept.columns:
                    raise InputError(steps.missing_message(col, spec))
                block = self.encoders_[col].transform(kept[[col]])
                out.update(zip(self.encoders_[col].get_feature_names_out(), block.T))
        if self.series_features:
            out.update(zip(self.series_table_["names"], steps.series_values(self.series_table_, ids).T))
        t = self.targets_[0]
        if self.target_kind_ != "regression" and t in df.columns:
            out.update(zip(self.target_names_out_, target.encode(self, kept[t]).T))
        return pd.DataFrame(out, index=pd.RangeIndex(int(keep.sum())))

    def _scale(self, col: str, x: pd.Series, ids: Any) -> np.ndarray:
        scaler = self.scalers_[col]
        if scaler is None:
            raw = x.to_numpy(dtype=np.float64)
            steps.check_scaled(col, self.specs_[col], raw, raw)
            return raw
        data = x.to_frame(col).reset_index(drop=True)
        out = scaler.transform(data, groups=ids if self.per_series else None)[col].to_numpy()
        steps.check_scaled(col, self.specs_[col], x.to_numpy(dtype=np.float64), out)
        return out

    def transform(self, frame: Any) -> tuple[np.ndarray, np.ndarray | None]:
        """LSTM tensors: ``X [samples, n_in, n_features]``, ``y [samples, n_out, n_targets]``.

        Both are float32 and C-contiguous.
        ``y`` is None when the (classification) target column is absent. Windows never cross
        series. Never refits. Remembers what :meth:`inverse_target` needs.
        """
        table, prep = self._frame(frame)
        names = [str(n) for n in self.feature_names_out_]
        has_y = all(n in table.columns for n in self.target_names_out_)
        cols = names + ([n for n in self.target_names_out_ if n not in names] if has_y else [])
        values = table[cols].to_numpy(dtype=np.float64)
        ids = table[self.id].to_numpy() if self.id is not None else None
        where = [cols.index(n) for n in self.target_names_out_] if has_y else [0]
        steps.check_length(ids, len(table), self.n_in + self.n_out, self.span_)
        out = to_supervised(values, self.n_in, self.n_out, targets=where, groups=ids)
        first = window_index(values, self.n_in, self.n_out, groups=ids)
        self._inverse_state = steps.remember(self, table, prep, np.asarray(first))
        X = np.ascontiguousarray(out[0][:, :, : len(names)], dtype=np.float32)
        y = np.ascontiguousarray(out[1], dtype=np.float32) if has_y else None
        return X, y

    def fit_transform(self, frame: Any, y: Any = None) -> tuple[np.ndarray, np.ndarray | None]:
        """``fit(frame).transform(frame)``."""
        return self.fit(frame).transform(frame)

    # ------------------------------------------------------------------------------ inverse
    def target_index(self, frame: Any = None) -> pd.Index:
        """Time of each sample's first target step (a MultiIndex (id, time) for panels)."""
        state = self._state(frame)
        if state["ids"] is None:
            return state["times"]
        return pd.MultiIndex.from_arrays([state["ids"], state["times"]], names=[self.id, state["times"].name])

    def _state(self, frame: Any) -> dict:
        self._require_fitted()
        if frame is not None:
            self.transform(frame)
        state = getattr(self, "_inverse_state", None)
        if state is None:
            raise InputError(
                "call transform(frame) first, or pass frame= (the frame the predictions come from)."
            )
        return state

    def inverse_target(self, predictions: Any, frame: Any = None, *, kind: str = "point") -> Any:
        """Predictions back in original units: undo scaling, differencing, then log1p.

        Parameters
        ----------
        predictions : array-like (numpy, torch tensor)
            ``kind="point"``: ``[samples]``, ``[samples, horizon]`` or ``[samples, horizon,
            n_targets]``; class probabilities ``[samples, horizon, n_classes]`` for softmax.
            ``kind="quantiles"``: ``[samples, horizon, n_quantiles]``; ``kind="paths"``:
            ``[samples, horizon, n_paths]`` (sample trajectories).
        frame : DataFrame, optional
            The frame the predictions' inputs came from; default: the last ``transform`` call.
        kind : {"point", "quantiles", "paths"}

        Returns
        -------
        DataFrame for point forecasts, indexed by the time of each sample's first target step
        (id column for panels), columns ``y`` (horizon 1) or ``y+1 .. y+h``; labels for
        classification. An ndarray ``[samples, horizon, k]`` for quantiles and paths (the index
        is :meth:`target_index`).

        Notes
        -----
        Scaling is monotone, so quantiles map exactly. Through differencing, quantiles map
        exactly only up to ``horizon <= lag`` (one future difference per level); beyond, pass
        sample paths (``kind="paths"``) and take quantiles of the returned levels.
        """
        if kind not in _KINDS:
            raise ParameterError(f"kind={kind!r} is invalid; use one of {_KINDS}.")
        state = self._state(frame)
        pred = target.as_array(predictions)
        if pred.shape[0] != state["n"]:
            raise InputError(
                f"predictions have {pred.shape[0]} samples but the frame gives {state['n']}; "
                "pass the frame the predictions were made from (frame=)."
            )
        if self.target_kind_ != "regression":
            return target.decode(self, pred, state, kind)
        if kind == "point":
            return target.point_frame(self, target.invert_point(self, pred, state), state)
        if len(self.targets_) != 1 or pred.ndim != 3:
            raise InputError(
                f"kind={kind!r} needs predictions [samples, horizon, k] of a single target; got "
                f"shape {pred.shape} for targets {self.targets_}."
            )
        return target.invert_one(self, self.targets_[0], pred, state, kind)

    def to_torch(self, *, target: bool = False, dtype: Any = None) -> Any:
        """The pipeline's scaling step as a ``torch.nn.Module`` over the columns of ``X`` (or ``y``).

        Scaled columns get their scaler's coefficients; one-hot and series-feature columns the
        identity. ``forward`` maps prepared values (after log1p and differencing, encoded) to
        the network's inputs and ``inverse`` maps scaled values back — e.g. ``to_torch(
        target=True).inverse(model(x))`` gives the target in the units it had after
        differencing. Rebuilding levels stays with :meth:`inverse_target`, which needs the
        last known observations. Per-series pipelines: use each scaler's ``to_torch()``.
        """
        from seqscale.export.torch import AffineModule

        self._require_fitted()
        if self.per_series:
            raise ParameterError(
                "a per-series pipeline has one set of coefficients per series; export each "
                "column's scaler with pipe.scalers_[column].to_torch() and pass series ids."
            )
        names = list(self.target_names_out_ if target else self.feature_names_out_)
        columns = [self._affine_of(str(n)) for n in names]
        affine = Affine(
            *(
                np.array([getattr(c, f)[0] for c in columns])
                for f in ("shift", "scale", "offset", "low", "high")
            )
        )
        kwargs = {} if dtype is None else {"dtype": dtype}
        return AffineModule.from_affine(affine, feature_names=[str(n) for n in names], **kwargs)

    def _affine_of(self, name: str) -> Affine:
        """Coefficients of one output column (identity for encoded or unscaled columns)."""
        scaler = self.scalers_.get(name)
        if scaler is None:
            one, zero, nan = np.ones(1), np.zeros(1), np.full(1, np.nan)
            return Affine(zero, one, zero, nan, nan)
        return scaler.affine_.take(np.array([0]))

    def check(self, frame: Any) -> pd.DataFrame:
        """Out-of-range and drift report of later data, per input column (never refits).

        Every column the network sees as a number (method ``"none"`` included) is prepared as
        the network would see it (log1p, differencing) and checked against its fitted range:
        count and share of values outside, largest excess, first row (the frame's row label),
        and the shift of the mean in training standard deviations (see
        :meth:`seqscale.MinMaxScaler.check`), in the column's units before scaling; ``units``
        says which (``levels``, ``log1p``, ``differences (lag 1)`` ...). Per-series pipelines
        report per (series, column).
        """
        self._require_fitted()
        df, positions = steps.sorted_rows(steps.as_frame(frame), self.time, self.id)
        with caller_rows(positions):
            prep = steps.prepare(self, df)
            with caller_rows(np.flatnonzero(prep.keep)):
                reports = self._check_reports(prep)
        if not reports:
            raise InputError("this pipeline scales no column, so there is nothing to check.")
        return pd.concat(reports)

    def _check_reports(self, prep: steps.Prepared) -> list[pd.DataFrame]:
        """One report per scaled column, on the rows differencing keeps."""
        keep = prep.keep
        ids = None if prep.ids is None else prep.ids[keep]
        reports = []
        for col in prep.numeric:
            scaler = self.scalers_.get(col)
            if scaler is None:  # a file written before method "none" kept its statistics
                continue
            values = prep.numeric[col][keep].to_frame(col).set_axis(prep.frame.index[keep], axis=0)
            report = scaler.check(values, groups=ids if self.per_series else None)
            reports.append(report.assign(units=self._units(col)))
        return reports

    def _units(self, col: str) -> str:
        """The units a column is checked and scaled in: levels, log1p, differences of either."""
        spec = self.specs_[col]
        base = "log1p" if spec.get("log") else "levels"
        d = spec.get("difference")
        if not d:
            return base
        what = "differences" if d["order"] == 1 else f"order-{d['order']} differences"
        return f"{what} (lag {d['lag']}) of {base}"

    def inverse_frame(self, frame: Any) -> pd.DataFrame:
        """Columns of ``frame`` named like scaled columns, mapped back to original units.

        Undoes the scaling (and ``log1p`` for columns that are not differenced). A differenced
        column comes back as differences in original units: rebuilding levels needs the last
        known observations, which :meth:`inverse_target` takes from the input windows.
        """
        self._require_fitted()
        df = steps.as_frame(frame).copy()
        present = [c for c in self.scalers_ if c in df.columns]
        if not present:
            raise InputError(
                f"none of the columns {list(df.columns)} was scaled by this pipeline; "
                f"its scaled columns are {list(self.scalers_)}."
            )
        ids = df[self.id].to_numpy() if (self.per_series and self.id in df.columns) else None
        for col in present:
            spec, scaler = self.specs_[col], self.scalers_[col]
            values = df[col].to_numpy(dtype=np.float64)
            if scaler is not None:
                values = scaler.inverse_transform(pd.DataFrame({col: values}), groups=ids)[col].to_numpy()
            if spec.get("log") and not spec.get("difference"):
                values = np.expm1(values)
            df[col] = values
        return df

    # ------------------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the fitted pipeline (plan and every step's state) as one JSON file, atomically."""
        save(self, path)

    def to_dict(self) -> dict:
        """The pipeline file's content as a plain dict."""
        return to_dict(self)


def load_pipeline(path: str | os.PathLike[str]) -> SequencePipeline:
    """Read a pipeline file written by :meth:`SequencePipeline.save`; refuse a bad file.

    Raises
    ------
    CoefficientFileError
        Missing, truncated or tampered file; the message names the field.
    """
    return load(path, SequencePipeline)


def pipeline_from_dict(record: Any, source: str = "pipeline") -> SequencePipeline:
    """Rebuild a fitted pipeline from :meth:`SequencePipeline.to_dict` output (validated)."""
    return from_dict(record, SequencePipeline, source)


# ---------------------------------------------------------------------------------- helpers
def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
