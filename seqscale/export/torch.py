"""Fitted coefficients as PyTorch modules: scale inside the model, predict in real units.

A fitted scaler becomes an :class:`AffineModule` (one set of coefficients per feature) or a
:class:`GroupedAffineModule` (one per series and feature). Both hold the numbers as float64
buffers (moved by ``.to(device)``, never trained, left at full precision by ``.float()`` or
``.half()``), scale along the last axis of ``[batch, time, features]`` or ``[batch, features]``
tensors in the input's dtype, and work under ``torch.jit.script``, ``torch.export.export`` and
``torch.onnx.export`` (the ONNX model runs in ONNX Runtime). Their ``state_dict`` holds
everything, settings included, so a module built from its shapes alone (``AffineModule(3)``,
as ``load_from_checkpoint`` does) is restored by ``load_state_dict``.
:class:`ScaledModel` wraps a network so that it takes raw inputs and returns predictions in the
original units.

Only this module imports torch; ``import seqscale`` never does.

Examples
--------
>>> import numpy as np, torch, seqscale
>>> from seqscale.export.torch import module_from_scaler
>>> X = np.random.default_rng(0).normal(50, 10, size=(8, 12, 2))
>>> scaler = seqscale.StandardScaler().fit(X)
>>> m = module_from_scaler(scaler, dtype=torch.float64)
>>> bool(torch.allclose(m(torch.from_numpy(X)), torch.from_numpy(scaler.transform(X))))
True
"""

from typing import Any, Optional

import numpy as np
import torch
from torch import Tensor, nn

from seqscale.core.affine import Affine
from seqscale.errors import InputError, NotFittedError, ParameterError, UnseenSeriesError

__all__ = [
    "AffineModule",
    "GroupedAffineModule",
    "GroupedScaledModel",
    "ScaledModel",
    "module_from_scaler",
    "wrap_model",
]

_FIELDS = ("shift", "scale", "offset", "low", "high", "divisor")
#: What a new module holds in each buffer: the identity map, unbounded.
_IDENTITY = (0.0, 1.0, 0.0, -np.inf, np.inf, 1.0)


# ---------------------------------------------------------------------------------- helpers
def _as_float64(a: Any, shape: tuple[int, ...], fill: float) -> np.ndarray:
    if a is None:
        return np.full(shape, fill, dtype=np.float64)
    if isinstance(a, Tensor):
        a = a.detach().cpu().numpy()
    return np.broadcast_to(np.asarray(a, dtype=np.float64), shape).copy()


def _table(affine: Affine | None, shape: tuple[int, ...], fills: tuple[float, ...]) -> Affine:
    """The coefficients as float64 arrays of ``shape`` (``fills`` where a field is missing); the
    divisor stays None for a map that multiplies."""
    arrays = [
        _as_float64(None if affine is None else getattr(affine, f), shape, v) for f, v in zip(_FIELDS, fills)
    ]
    if affine is None or affine.divisor is None:
        arrays[-1] = None
    return Affine(*arrays)


def _last_axis_error(n_features: int, x: Tensor, hint: str) -> str:
    return (
        "expected the last axis to hold "
        + str(n_features)
        + " features, got a tensor of shape "
        + str(list(x.shape))
        + hint
    )


def _clip_bounds(affine: Affine) -> tuple[np.ndarray, np.ndarray]:
    """Output-unit clip bounds, computed in float64 as the numpy path does; +-inf where none."""
    with np.errstate(invalid="ignore", over="ignore"):
        low, high = affine.output_bounds()
    return np.where(np.isnan(low), -np.inf, low), np.where(np.isnan(high), np.inf, high)


def _check_dtype(dtype: torch.dtype) -> None:
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise ParameterError(f"dtype={dtype!r}: use a floating torch dtype such as torch.float32.")


def _mask_value(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    if not np.isfinite(value):
        raise ParameterError(f"mask_value={value!r} must be a finite number or None.")
    return value


def _names(names: Any, n: int) -> list[str] | None:
    if names is None:
        return None
    names = [str(name) for name in names]
    if len(names) != n:
        raise ParameterError(f"{len(names)} feature names for {n} features.")
    return names


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python scalar it holds (``torch.load(weights_only=True)`` reads those)."""
    return value.item() if isinstance(value, np.generic) else value


# ---------------------------------------------------------------------------------- modules
class _Coefficients(nn.Module):
    """What both modules share: float64 coefficient buffers that dtype moves leave at full
    precision, the module's dtype (for integer inputs), and settings kept in ``state_dict``."""

    def __init__(
        self,
        shape: tuple[int, ...],
        *,
        clip: bool = False,
        mask_value: float | None = None,
        feature_names: list[str] | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        """The settings and the coefficient buffers (identity until filled) of a new module whose
        table has ``shape`` (its last axis: the features)."""
        super().__init__()
        self.n_features = shape[-1]
        self.clip = bool(clip)
        self.mask_value = _mask_value(mask_value)
        self.feature_names = _names(feature_names, self.n_features)
        self._init_buffers(shape, dtype)

    def _fill(self, table: Affine) -> None:
        """Copy the coefficients (and the clip bounds they give) into the buffers. A table with
        a divisor makes the module divide by it, as the scaler's ``transform`` does."""
        low, high = _clip_bounds(table)
        self.divides = table.divisor is not None
        divisor = table.divisor if self.divides else np.ones_like(table.scale)
        with torch.no_grad():
            for name, value in zip(_FIELDS, (table.shift, table.scale, table.offset, low, high, divisor)):
                getattr(self, name).copy_(torch.from_numpy(value))

    def _init_buffers(self, shape: tuple[int, ...], dtype: torch.dtype) -> None:
        _check_dtype(dtype)
        self.divides = False
        for name, fill in zip(_FIELDS, _IDENTITY):
            self.register_buffer(name, torch.full(shape, fill, dtype=torch.float64))
        # Carries the module's dtype through .to(dtype)/.float()/.double(); not saved.
        self.register_buffer("_like", torch.empty(0, dtype=dtype), persistent=False)

    def _apply(self, fn: Any, recurse: bool = True) -> "_Coefficients":
        # .float(), .half() and .to(dtype) would round the coefficients, and a later .double()
        # could not bring the digits back: keep them float64, moving only their device.
        kept = {name: self._buffers[name] for name in _FIELDS}
        super()._apply(fn, recurse)
        for name, before in kept.items():
            after = self._buffers[name]
            if before is None or after is None or after.dtype == torch.float64:
                continue
            try:
                self._buffers[name] = before.to(device=after.device)
            except (RuntimeError, TypeError):  # a device without float64 (MPS) keeps the rounded copy
                pass
        return self

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args: Any, **kwargs: Any) -> None:
        # A state saved before modules held a divisor multiplies by ``scale``; its divisor is 1.
        state_dict.setdefault(prefix + "divisor", torch.ones_like(self.divisor))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _scaled(self, x: Tensor, coefs: list[Tensor]) -> Tensor:
        """The scaler's rule: divide where it divides (one rounding, as ``transform``).
        ``coefs``: shift, scale, divisor and offset, in ``x``'s dtype and broadcastable to it."""
        shift, scale, divisor, offset = coefs[0], coefs[1], coefs[2], coefs[3]
        if self.divides:
            return (x - shift) / divisor + offset
        return (x - shift) * scale + offset

    def _unscaled(self, y: Tensor, coefs: list[Tensor]) -> Tensor:
        """The inverse, as ``inverse_transform``: multiply by the divisor, or divide by ``scale``."""
        shift, scale, divisor, offset = coefs[0], coefs[1], coefs[2], coefs[3]
        if self.divides:
            return (y - offset) * divisor + shift
        return (y - offset) / scale + shift

    def _keep_padding(self, x: Tensor, y: Tensor, min_dim: int) -> Tensor:
        """``y``, with ``x`` where a timestep is all ``mask_value`` (padding passes through)."""
        mask_value = self.mask_value
        if mask_value is not None and x.dim() > min_dim:
            padded = (x == mask_value).all(dim=-1, keepdim=True)
            y = torch.where(padded, x, y)
        return y

    def _settings(self) -> dict:
        return {
            "divides": self.divides,
            "clip": self.clip,
            "mask_value": self.mask_value,
            "feature_names": None if self.feature_names is None else list(self.feature_names),
        }

    def _restore(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise ParameterError(f"{type(self).__name__}: the saved settings are not a dict ({state!r}).")
        mask_value = _mask_value(state.get("mask_value"))
        names = _names(state.get("feature_names"), self.n_features)
        self.clip, self.mask_value, self.feature_names = bool(state.get("clip", False)), mask_value, names
        self.divides = bool(state.get("divides", False))


class AffineModule(_Coefficients):
    """``y = (x - shift) * scale + offset`` along the last axis, as a module with buffers.

    For a method whose rule divides (standard, robust, max-abs, mean-abs) the module computes
    ``(x - shift) / divisor + offset`` and its inverse ``(y - offset) * divisor + shift``: the
    scaler's own arithmetic, so a float64 input gets ``transform``'s numbers bit for bit.

    Parameters
    ----------
    n_features : int
        Number of features (channels) on the last axis. The module starts as the identity;
        fill it with :meth:`from_affine`, :func:`module_from_scaler` or ``load_state_dict``
        (which restores the settings below too).
    clip : bool, default=False
        Clip the scaled values to the fitted (or domain) range mapped to output units, like
        ``out_of_range="clip"`` (``forward`` only; ``inverse`` never clips).
    mask_value : float, optional
        Padding value: a timestep whose features all equal it passes through untouched, so a
        later masking layer still sees it (the scaler's ``mask_value``).
    feature_names : list of str, optional
    dtype : torch.dtype, default=torch.float32
        The module's dtype: integer inputs are converted to it, and ``.to(dtype)``,
        ``.float()`` or ``.double()`` change it. The coefficients stay float64 whatever the
        dtype, so such moves lose no digit; each call computes in the input's dtype (a float64
        input gets every digit, a float32 input the coefficients rounded to float32).

    Attributes
    ----------
    shift, scale, offset : Tensor (n_features,), float64
        Buffers of the map; ``scale`` is the derivative ``dy/dx``.
    divisor : Tensor (n_features,), float64
        ``1 / scale`` as the method computed it, used where ``divides`` (else ones).
    divides : bool
        Whether the map divides by ``divisor`` rather than multiplies by ``scale``.
    low, high : Tensor (n_features,), float64
        Clip bounds in output units; ``-inf`` / ``inf`` where a method has none.
    feature_names : list of str or None

    Notes
    -----
    With ``n_features == 1`` the single set of coefficients applies to every element, so a
    1D series or ``[batch, horizon]`` predictions of one target work directly.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from seqscale.core.affine import Affine
    >>> m = AffineModule.from_affine(Affine(np.array([10.0]), np.array([0.5]), np.array([0.0])))
    >>> m(torch.tensor([[10.0], [14.0]])).ravel().tolist()
    [0.0, 2.0]
    >>> m.inverse(torch.tensor([2.0])).tolist()
    [14.0]
    >>> fresh = AffineModule(1)
    >>> _ = fresh.load_state_dict(m.state_dict())
    >>> fresh(torch.tensor([14.0])).tolist()
    [2.0]
    """

    clip: bool
    divides: bool
    mask_value: Optional[float]  # noqa: UP045  (TorchScript attribute type)
    n_features: int

    def __init__(self, n_features: int, **settings: Any) -> None:
        n_features = int(n_features)
        if n_features < 1:
            raise ParameterError(f"n_features={n_features} must be at least 1.")
        super().__init__((n_features,), **settings)

    @classmethod
    def from_affine(cls, affine: Affine, **settings: Any) -> "AffineModule":
        """Build the module from an :class:`~seqscale.core.affine.Affine` of shape ``(n_features,)``
        (``settings``: the keyword arguments of the constructor)."""
        shape = np.shape(affine.scale)
        if len(shape) != 1:
            raise ParameterError(
                f"coefficients of shape {shape} are per series; use GroupedAffineModule.from_affine."
            )
        module = cls(shape[0], **settings)
        module._fill(_table(affine, shape, (np.nan,) * len(_FIELDS)))
        return module

    def get_extra_state(self) -> dict:
        """The settings (``clip``, ``mask_value``, ``feature_names``), saved in ``state_dict``."""
        return self._settings()

    def set_extra_state(self, state: Any) -> None:
        self._restore(state)

    def _prepare(self, x: Tensor) -> Tensor:
        if not x.is_floating_point():
            x = x.to(self._like.dtype)
        if self.n_features != 1 and (x.dim() == 0 or x.shape[-1] != self.n_features):
            raise InputError(
                _last_axis_error(
                    self.n_features,
                    x,
                    "; put the features last ([batch, time, features] or [batch, features]).",
                )
            )
        return x

    def _coefs(self, x: Tensor) -> list[Tensor]:
        return [t.to(x.dtype) for t in [self.shift, self.scale, self.divisor, self.offset]]

    def forward(self, x: Tensor) -> Tensor:
        """Scale ``x`` (features on the last axis); the output keeps ``x``'s dtype and shape."""
        x = self._prepare(x)
        y = self._scaled(x, self._coefs(x))
        if self.clip:
            y = torch.clamp(y, self.low.to(x.dtype), self.high.to(x.dtype))
        return self._keep_padding(x, y, 0)

    @torch.jit.export
    def inverse(self, y: Tensor) -> Tensor:
        """Map scaled values (or predictions) back to original units."""
        y = self._prepare(y)
        return self._keep_padding(y, self._unscaled(y, self._coefs(y)), 0)

    def extra_repr(self) -> str:
        names = "" if self.feature_names is None else f", features={self.feature_names}"
        return f"n_features={self.n_features}, clip={self.clip}{names}"


class GroupedAffineModule(_Coefficients):
    """Per-series coefficients: ``y = (x - shift[s]) * scale[s] + offset[s]`` for series ``s``.

    The buffers have shape ``(n_series + 1, n_features)``: row ``i`` holds the coefficients of
    the series at position ``i`` of :attr:`series`, the last row the fallback used for series
    unseen at fit time (``unseen="pooled"`` or ``"median"``).

    Parameters
    ----------
    n_series, n_features : int
        Shape of the coefficient table (the module starts as the identity; ``load_state_dict``
        restores the coefficients, the series ids and the settings below).
    series : sequence, optional
        The series ids, in row order (``scaler.series_``); used by :meth:`index_of`.
    unseen : {"error", "pooled", "median", "own"}, default="error"
        With "pooled" or "median", position ``-1`` selects the fallback row; otherwise it
        raises :class:`~seqscale.errors.UnseenSeriesError` (a module cannot fit new series, so
        "own" behaves like "error": refit the scaler on the new series first).
    clip, mask_value, feature_names, dtype
        As in :class:`AffineModule`.

    Notes
    -----
    ``forward(x, series_idx)`` takes ``series_idx``, a LongTensor of shape ``[batch]`` holding
    one series position per sample (row of ``x``), from :meth:`index_of`; ``-1`` marks a series
    unseen at fit time. Under ``torch.jit.script`` errors surface as ``torch.jit.Error`` whose
    message names the seqscale error. An exported program (``torch.export``) checks the
    positions with ``torch._assert_async`` and raises ``RuntimeError``; an ONNX model cannot
    raise, so there a position outside ``-1..n_series-1`` (or ``-1`` without a fallback) gives
    NaN for that sample.

    Examples
    --------
    >>> import numpy as np, torch, seqscale
    >>> X = np.array([[1.0], [3.0], [10.0], [30.0]])
    >>> scaler = seqscale.MinMaxScaler(unseen="pooled").fit(X, groups=["a", "a", "b", "b"])
    >>> m = module_from_scaler(scaler)
    >>> idx = m.index_of(["b", "a", "new"])
    >>> idx.tolist()
    [1, 0, -1]
    >>> m(torch.tensor([[20.0], [2.0], [30.0]]), idx).ravel().tolist()
    [0.5, 0.5, 1.0]
    """

    __jit_unused_properties__ = ["series"]  # noqa: RUF012

    clip: bool
    divides: bool
    mask_value: Optional[float]  # noqa: UP045  (TorchScript attribute type)
    n_series: int
    n_features: int
    has_fallback: bool

    def __init__(
        self,
        n_series: int,
        n_features: int,
        *,
        series: Any = None,
        unseen: str = "error",
        **settings: Any,
    ) -> None:
        n_series, n_features = int(n_series), int(n_features)
        if n_series < 1 or n_features < 1:
            raise ParameterError(f"need at least one series and one feature; got ({n_series}, {n_features}).")
        super().__init__((n_series + 1, n_features), **settings)
        self.n_series = n_series
        self._set_unseen(unseen)
        self._set_series(series)

    def _set_unseen(self, unseen: Any) -> None:
        if unseen not in ("error", "pooled", "median", "own"):
            raise ParameterError(f"unseen={unseen!r} is not one of ('error', 'pooled', 'median', 'own').")
        self.unseen = str(unseen)
        self.has_fallback = unseen in ("pooled", "median")

    def _set_series(self, series: Any) -> None:
        ids = None if series is None else np.asarray([_plain(v) for v in series], dtype=object)
        if ids is not None and ids.shape != (self.n_series,):
            raise ParameterError(f"series holds {ids.size} ids for a table of {self.n_series} series.")
        self._series = ids

    @property
    def series(self) -> np.ndarray | None:
        """The series ids in row order (None when not given)."""
        return None if self._series is None else self._series.copy()

    @classmethod
    def from_affine(
        cls, affine: Affine, fallback: Affine | None = None, **settings: Any
    ) -> "GroupedAffineModule":
        """Build the module from a table ``(n_series, n_features)`` and an optional fallback
        (``settings``: the keyword arguments of the constructor)."""
        shape = np.shape(affine.scale)
        if len(shape) != 2:
            raise ParameterError(
                f"coefficients of shape {shape} are not per series; use AffineModule.from_affine."
            )
        unseen = settings.get("unseen", "error")
        if unseen in ("pooled", "median") and fallback is None:
            raise ParameterError(f"unseen={unseen!r} needs the fallback coefficients.")
        module = cls(shape[0], shape[1], **settings)
        rows = _table(affine, shape, (np.nan,) * len(_FIELDS))
        last = _table(fallback, (1, shape[1]), (0.0, 1.0, 0.0, np.nan, np.nan, 1.0))
        if fallback is None and rows.divisor is not None:
            last = Affine(last.shift, last.scale, last.offset, last.low, last.high, np.ones((1, shape[1])))
        module._fill(Affine.stack([rows, last]))
        return module

    def index_of(self, ids: Any) -> Tensor:
        """Positions of raw series ids (strings or ints) among the fitted ones; -1 when unseen.

        Python only (not part of a scripted or exported module): compute the positions next to
        the data loader and pass them to ``forward``.
        """
        import pandas as pd

        if self._series is None:
            raise NotFittedError("this module holds no series ids; pass series= when building it.")
        values = ids.to_numpy() if hasattr(ids, "to_numpy") else np.asarray(ids, dtype=object)
        values = np.atleast_1d(values)
        if values.ndim != 1:
            raise InputError(f"ids must be one id per sample; got an array of shape {values.shape}.")
        codes = pd.Index(self._series).get_indexer(values)
        return torch.from_numpy(codes.astype(np.int64))

    def get_extra_state(self) -> dict:
        """The settings and the series ids, saved in ``state_dict`` (plain Python values)."""
        return {
            **self._settings(),
            "unseen": self.unseen,
            "series": None if self._series is None else self._series.tolist(),
        }

    def set_extra_state(self, state: Any) -> None:
        ids = state.get("series") if isinstance(state, dict) else None
        if ids is not None and len(ids) != self.n_series:
            raise ParameterError(
                f"the saved state holds {len(ids)} series ids for a module of {self.n_series} series."
            )
        self._restore(state)
        self._set_unseen(state.get("unseen", "error"))
        self._set_series(ids)

    def _positions(self, x: Tensor, series_idx: Tensor) -> tuple[Tensor, Optional[Tensor]]:  # noqa: UP045
        """Table rows of the samples, and (in a traced graph, which cannot raise) the samples
        whose position is invalid, or None."""
        if series_idx.dim() != 1 or x.dim() == 0:
            raise InputError(
                "series_idx must hold one series position per sample: a 1D tensor, got shape "
                + str(list(series_idx.shape))
                + " for inputs of shape "
                + str(list(x.shape))
                + "."
            )
        if series_idx.is_floating_point() or series_idx.dtype == torch.bool:
            raise InputError("series_idx must be an integer tensor (positions from index_of).")
        idx = series_idx.to(torch.long)
        bad: Optional[Tensor] = None  # noqa: UP045
        if torch.jit.is_scripting():
            self._check_positions(x, idx)
        elif self._tracing():
            bad = self._graph_checks(x, idx)
        else:
            self._check_positions(x, idx)
        if self.has_fallback or bad is not None:
            idx = torch.where(idx < 0, torch.full_like(idx, self.n_series), idx)
        if bad is not None:
            idx = torch.where(bad, torch.full_like(idx, self.n_series), idx)
        return idx, bad

    def _check_positions(self, x: Tensor, idx: Tensor) -> None:
        if idx.shape[0] != x.shape[0]:
            raise InputError(
                "series_idx must hold one series position per sample: shape ["
                + str(x.shape[0])
                + "], got "
                + str(list(idx.shape))
                + "."
            )
        if bool(((idx < -1) | (idx >= self.n_series)).any()):
            raise InputError(
                "series_idx holds positions outside 0.."
                + str(self.n_series - 1)
                + " (use -1 for a series unseen at fit time)."
            )
        if not self.has_fallback and bool((idx < 0).any()):
            raise UnseenSeriesError(
                "series_idx holds -1 (a series not seen at fit time) and the policy is unseen='"
                + self.unseen
                + "'; fit on the series first, or fit with unseen='pooled' or 'median'."
            )

    @torch.jit.unused
    def _tracing(self) -> bool:
        """Inside torch.export, torch.compile or torch.jit.trace: no data-dependent branching."""
        return torch.compiler.is_compiling() or torch.jit.is_tracing()

    @torch.jit.unused
    def _graph_checks(self, x: Tensor, idx: Tensor) -> Tensor:
        torch._check(  # noqa: SLF001  (torch's traceable checks)
            idx.shape[0] == x.shape[0],
            lambda: "series_idx must hold one series position per sample (as many as rows of x).",
        )
        bad = (idx < -1) | (idx >= self.n_series)
        torch._assert_async(  # noqa: SLF001  (torch's traceable checks)
            (~bad).all(), f"InputError: series_idx holds positions outside 0..{self.n_series - 1}."
        )
        if not self.has_fallback:
            unseen = idx < 0
            torch._assert_async(  # noqa: SLF001  (torch's traceable checks)
                (~unseen).all(),
                f"UnseenSeriesError: series_idx holds -1 and the policy is unseen={self.unseen!r}.",
            )
            bad = bad | unseen
        return bad

    def _take(self, table: Tensor, idx: Tensor, x: Tensor) -> Tensor:
        coef = table.index_select(0, idx).to(x.dtype)
        return coef.reshape(self._coef_shape(idx, x))

    def _coef_shape(self, idx: Tensor, x: Tensor) -> list[int]:
        if self.n_features == 1:
            return [idx.shape[0]] + [1] * (x.dim() - 1)
        if x.dim() < 2 or x.shape[-1] != self.n_features:
            raise InputError(_last_axis_error(self.n_features, x, "."))
        return [idx.shape[0]] + [1] * (x.dim() - 2) + [self.n_features]

    def _finish(self, x: Tensor, y: Tensor, idx: Tensor, bad: Optional[Tensor]) -> Tensor:  # noqa: UP045
        y = self._keep_padding(x, y, 1)
        if bad is not None:
            shape = [idx.shape[0]] + [1] * (x.dim() - 1)
            y = torch.where(bad.reshape(shape), torch.full_like(y, float("nan")), y)
        return y

    def _rows(self, x: Tensor, series_idx: Tensor) -> tuple[Tensor, Tensor, Optional[Tensor]]:  # noqa: UP045
        """``x`` as floats, the table rows of its samples and the invalid ones (see _positions)."""
        if not x.is_floating_point():
            x = x.to(self._like.dtype)
        idx, bad = self._positions(x, series_idx)
        return x, idx, bad

    def _coefs(self, idx: Tensor, x: Tensor) -> list[Tensor]:
        return [self._take(t, idx, x) for t in [self.shift, self.scale, self.divisor, self.offset]]

    def forward(self, x: Tensor, series_idx: Tensor) -> Tensor:
        """Scale ``x`` (first axis: samples) with the coefficients of each sample's series."""
        x, idx, bad = self._rows(x, series_idx)
        y = self._scaled(x, self._coefs(idx, x))
        if self.clip:
            y = torch.clamp(y, self._take(self.low, idx, x), self._take(self.high, idx, x))
        return self._finish(x, y, idx, bad)

    @torch.jit.export
    def inverse(self, y: Tensor, series_idx: Tensor) -> Tensor:
        """Map scaled values (or predictions) of each sample's series back to original units."""
        y, idx, bad = self._rows(y, series_idx)
        return self._finish(y, self._unscaled(y, self._coefs(idx, y)), idx, bad)

    def extra_repr(self) -> str:
        return (
            f"n_series={self.n_series}, n_features={self.n_features}, "
            f"unseen={self.unseen!r}, clip={self.clip}"
        )


# ---------------------------------------------------------------------------------- wrappers
class ScaledModel(nn.Module):
    """A model that takes raw inputs and returns predictions in original units.

    ``forward(x) = output_scaler.inverse(model(input_scaler(x)))``.

    Parameters
    ----------
    model : nn.Module
        The network trained on scaled data (one tensor in, one tensor out).
    input_scaler : AffineModule
    output_scaler : AffineModule, optional
        Coefficients of the predicted features; ``None`` returns the model's output unchanged.

    Examples
    --------
    >>> import torch
    >>> net = ScaledModel(torch.nn.Identity(), AffineModule(2), AffineModule(2))
    >>> net(torch.ones(1, 2)).tolist()
    [[1.0, 1.0]]
    """

    def __init__(
        self,
        model: nn.Module,
        input_scaler: AffineModule,
        output_scaler: AffineModule | None = None,
    ) -> None:
        super().__init__()
        for name, part in (("input_scaler", input_scaler), ("output_scaler", output_scaler)):
            if part is not None and not isinstance(part, AffineModule):
                raise ParameterError(
                    f"{name} must be an AffineModule (got {type(part).__name__}); for per-series "
                    "coefficients use GroupedScaledModel."
                )
        self.model = model
        self.input_scaler = input_scaler
        self.output_scaler = (
            output_scaler if output_scaler is not None else AffineModule(1, dtype=input_scaler._like.dtype)  # noqa: SLF001  (a module of this file)
        )

    def forward(self, x: Tensor) -> Tensor:
        """Raw inputs in, predictions in original units out."""
        return self.output_scaler.inverse(self.model(self.input_scaler(x)))


class GroupedScaledModel(nn.Module):
    """:class:`ScaledModel` for per-series coefficients: ``forward(x, series_idx)``.

    ``series_idx`` holds one series position per sample (``input_scaler.index_of(ids)``); both
    modules must share the same row order (:func:`wrap_model` aligns them).

    Examples
    --------
    >>> import torch
    >>> table = GroupedAffineModule(2, 1)
    >>> net = GroupedScaledModel(torch.nn.Identity(), table, table)
    >>> net(torch.ones(2, 3, 1), torch.tensor([0, 1])).shape
    torch.Size([2, 3, 1])
    """

    def __init__(
        self,
        model: nn.Module,
        input_scaler: GroupedAffineModule,
        output_scaler: GroupedAffineModule | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(input_scaler, GroupedAffineModule) or not (
            output_scaler is None or isinstance(output_scaler, GroupedAffineModule)
        ):
            raise ParameterError("GroupedScaledModel needs GroupedAffineModule input and output scalers.")
        if output_scaler is not None and output_scaler.n_series != input_scaler.n_series:
            raise ParameterError(
                f"the output scaler has {output_scaler.n_series} series and the input scaler "
                f"{input_scaler.n_series}; align them (wrap_model does so by series id)."
            )
        self.model = model
        self.input_scaler = input_scaler
        if output_scaler is None:
            output_scaler = GroupedAffineModule(
                input_scaler.n_series,
                1,
                unseen="pooled",
                dtype=input_scaler._like.dtype,  # noqa: SLF001  (a module of this file)
            )
        self.output_scaler = output_scaler

    def forward(self, x: Tensor, series_idx: Tensor) -> Tensor:
        """Raw inputs and series positions in, predictions in original units out."""
        return self.output_scaler.inverse(self.model(self.input_scaler(x, series_idx)), series_idx)


# ---------------------------------------------------------------------------------- factories
def _require_fitted(scaler: Any) -> Affine:
    affine = getattr(scaler, "affine_", None)
    if affine is None:
        raise NotFittedError(
            f"This {type(scaler).__name__} instance is not fitted yet. Call 'fit' before "
            "converting it to a module, or load fitted coefficients with seqscale.load(path)."
        )
    return affine


def _channels(scaler: Any, features: Any) -> np.ndarray | None:
    if features is None:
        return None
    return np.asarray(scaler.feature_index(features), dtype=np.intp)


def module_from_scaler(
    scaler: Any,
    dtype: torch.dtype = torch.float32,
    *,
    features: Any = None,
    clip: bool | None = None,
    series: Any = None,
) -> AffineModule | GroupedAffineModule:
    """The fitted scaler as a module computing the same numbers as ``transform``.

    Parameters
    ----------
    scaler : fitted seqscale scaler
    dtype : torch.dtype, default=torch.float32
        The module's dtype, for integer inputs (see :class:`AffineModule`). The coefficients
        are kept in float64 whatever the dtype: a float64 input is scaled with every digit.
    features : list of names or positions, optional
        Build the module over only these features (e.g. ``["y"]`` for the target), in this order.
    clip : bool, optional
        Clip the scaled output to the fitted range; default: the scaler's
        ``out_of_range == "clip"``.
    series : sequence of ids, optional
        Grouped fits only: order the rows by these ids (e.g. another scaler's ``series_``), so
        that two modules share positions. Ids the scaler has not seen get the fallback
        coefficients (``unseen="pooled"``/``"median"``), otherwise a ParameterError.

    Returns
    -------
    AffineModule, or GroupedAffineModule when the scaler was fitted with ``groups=``.

    Examples
    --------
    >>> import numpy as np, torch, seqscale
    >>> scaler = seqscale.MinMaxScaler().fit(np.array([[0.0, 10.0], [4.0, 20.0]]))
    >>> m = module_from_scaler(scaler, features=[1])
    >>> m(torch.tensor([[15.0]])).tolist()
    [[0.5]]
    """
    affine = _require_fitted(scaler)
    _check_dtype(dtype)
    channels = _channels(scaler, features)
    names = _fitted_names(scaler)
    if names is not None and channels is not None:
        names = [names[j] for j in channels]
    clip = scaler.effective_out_of_range() == "clip" if clip is None else bool(clip)
    mask_value = getattr(scaler, "mask_value", None) if channels is None else None
    if np.ndim(affine.scale) == 1:
        if series is not None:
            raise ParameterError("series= applies to scalers fitted per series (with groups=).")
        if channels is not None:
            affine = affine.take(channels)
        return AffineModule.from_affine(
            affine, clip=clip, mask_value=mask_value, feature_names=names, dtype=dtype
        )
    fallback = getattr(scaler, "fallback_", None)
    unseen = getattr(scaler, "unseen", "error")
    if channels is not None:
        affine = affine.take((slice(None), channels))
        fallback = None if fallback is None else fallback.take(channels)
    ids = np.asarray(scaler.series_, dtype=object)
    if series is not None:
        affine, ids = _align(affine, fallback, ids, series)
    return GroupedAffineModule.from_affine(
        affine,
        fallback,
        series=ids,
        unseen=unseen,
        clip=clip,
        mask_value=mask_value,
        feature_names=names,
        dtype=dtype,
    )


def _align(
    affine: Affine, fallback: Affine | None, ids: np.ndarray, series: Any
) -> tuple[Affine, np.ndarray]:
    import pandas as pd

    wanted = np.asarray(series.to_numpy() if hasattr(series, "to_numpy") else list(series), dtype=object)
    pos = pd.Index(ids).get_indexer(wanted)
    missing = pos < 0
    if missing.any() and fallback is None:
        shown = [str(v) for v in wanted[missing][:5]]
        raise ParameterError(
            f"{int(missing.sum())} series id(s) have no coefficients in this scaler: {shown}; "
            "fit it "
            "on them, or fit with unseen='pooled' or 'median'."
        )
    parts = []
    for f in _FIELDS:
        table = getattr(affine, f)
        if table is None:
            parts.append(None)
            continue
        row = table[np.where(missing, 0, pos)]
        if missing.any():
            fb = getattr(fallback, f)
            row[missing] = np.nan if fb is None else fb
        parts.append(row)
    return Affine(*parts), wanted


def wrap_model(
    model: nn.Module,
    x_scaler: Any,
    y_scaler: Any = None,
    y_features: Any = None,
    *,
    dtype: torch.dtype = torch.float32,
) -> ScaledModel | GroupedScaledModel:
    """Wrap ``model`` so that it takes raw inputs and predicts in original units.

    Parameters
    ----------
    model : nn.Module
        Trained on ``x_scaler.transform(X)``, predicting scaled targets (features last, or any
        shape for a single target).
    x_scaler : fitted scaler of the inputs
    y_scaler : fitted scaler of the targets, optional
        Defaults to ``x_scaler`` (targets that are input features, as in autoregression).
    y_features : list of names or positions, optional
        The predicted features of ``y_scaler``; default all of them.
    dtype : torch.dtype, default=torch.float32
        The scaling modules' dtype (for integer inputs); their coefficients stay float64.

    Returns
    -------
    ScaledModel, or GroupedScaledModel (``forward(x, series_idx)``) for per-series scalers;
    ``wrapped.input_scaler.index_of(ids)`` gives the positions.

    Examples
    --------
    >>> import numpy as np, torch, seqscale
    >>> X = np.random.default_rng(0).normal(5, 2, size=(16, 3))
    >>> scaler = seqscale.StandardScaler().fit(X)
    >>> net = wrap_model(torch.nn.Identity(), scaler)
    >>> x = torch.tensor(X, dtype=torch.float32)
    >>> bool(torch.allclose(net(x), x, atol=1e-5))
    True
    """
    y_scaler = x_scaler if y_scaler is None else y_scaler
    x_mod = module_from_scaler(x_scaler, dtype)
    if isinstance(x_mod, GroupedAffineModule):
        if np.ndim(_require_fitted(y_scaler).scale) != 2:
            raise ParameterError(
                "the input scaler is per series but the target scaler is not; fit both with "
                "groups= "
                "(or neither)."
            )
        y_mod = module_from_scaler(y_scaler, dtype, features=y_features, clip=False, series=x_mod.series)
        return GroupedScaledModel(model, x_mod, y_mod)
    if np.ndim(_require_fitted(y_scaler).scale) != 1:
        raise ParameterError(
            "the target scaler is per series but the input scaler is not; fit both with groups= (or neither)."
        )
    y_mod = module_from_scaler(y_scaler, dtype, features=y_features, clip=False)
    return ScaledModel(model, x_mod, y_mod)


def _fitted_names(scaler: Any) -> list[str] | None:
    """The scaler's fitted feature names, or None when it was fitted without names."""
    names = getattr(scaler, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]
