"""A small, seeded PyTorch LSTM regressor for :mod:`seqscale.lab.compare` and :mod:`seqscale.lab.demo`.

``LSTM(n_features -> 32 hidden, 1 layer) -> Linear(n_out * n_targets)`` on the last hidden state,
trained with Adam on the MSE loss in mini-batches of 32 for a fixed epoch budget, with early
stopping on a validation split taken from the *end* of the training windows (time order: the
network is judged on windows later than every window it learns from). The best weights are
restored. An epoch is every training window, or a fresh random draw of 256 of them when there are
more: an epoch costs at most 8 mini-batches, whatever the length of the data.

Deterministic for a given seed: the weights, the mini-batch order and the thread count are fixed
(the previous thread count comes back afterwards); training runs on the CPU, one thread by
default (the fastest for a network this small), where every operation it uses is deterministic.
``torch.use_deterministic_algorithms`` is not touched: it changes nothing on the CPU and its first
call imports torch's compiler stack (seconds).
torch is imported here only, never by ``import seqscale``.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from seqscale.errors import InputError, ParameterError

__all__ = ["TrainResult", "build_model", "predict", "train_lstm"]

HIDDEN = 32
LEARNING_RATE = 5e-3
BATCH_SIZE = 32
EPOCH_WINDOWS = 256  # windows per epoch at most (a fresh random draw each epoch): bounded cost
EPOCHS = 40
PATIENCE = 8
VALIDATION_SHARE = 0.2
THREADS = 1  # a network this small trains fastest on one thread (no contention, no spin-waits)


@dataclass
class TrainResult:
    """A trained network and how training went.

    Attributes
    ----------
    model : torch.nn.Module with the best (lowest validation loss) weights, in eval mode
    history : {"train": [...], "validation": [...]} mean MSE per epoch (in the units of y)
    best_epoch : 1-based epoch of the restored weights
    epochs_run : epochs trained before the budget ran out or early stopping fired
    """

    model: Any
    history: dict[str, list[float]] = field(default_factory=dict)
    best_epoch: int = 0
    epochs_run: int = 0


def build_model(n_features: int, n_out: int, n_targets: int, hidden: int = HIDDEN) -> Any:
    """``LSTM(n_features, hidden) -> Linear(hidden, n_out * k)``; output ``[batch, n_out, k]``."""
    from torch import nn

    class LSTMRegressor(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(n_features, hidden, num_layers=1, batch_first=True)
            self.head = nn.Linear(hidden, n_out * n_targets)

        def forward(self, x: Any) -> Any:
            out, _ = self.lstm(x)
            return self.head(out[:, -1, :]).reshape(-1, n_out, n_targets)

    return LSTMRegressor()


@contextlib.contextmanager
def _torch_settings(threads: int | None) -> Iterator[None]:
    """A fixed thread count while training; restored afterwards."""
    import torch

    old_threads = torch.get_num_threads()
    torch.set_num_threads(max(1, THREADS if threads is None else int(threads)))
    try:
        yield
    finally:
        torch.set_num_threads(old_threads)


def _check(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = np.ascontiguousarray(y, dtype=np.float32)
    if X.ndim != 3 or y.ndim != 3 or X.shape[0] != y.shape[0]:
        raise InputError(
            f"expected X [samples, n_in, features] and y [samples, n_out, targets] with the same "
            f"number of samples; got {X.shape} and {y.shape}."
        )
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise InputError("X and y must be finite to train the LSTM (fill or drop missing values).")
    return X, y


def train_lstm(
    X: Any,
    y: Any,
    *,
    seed: int = 0,
    epochs: int = EPOCHS,
    patience: int = PATIENCE,
    hidden: int = HIDDEN,
    lr: float = LEARNING_RATE,
    batch_size: int = BATCH_SIZE,
    epoch_windows: int = EPOCH_WINDOWS,
    validation: float = VALIDATION_SHARE,
    threads: int | None = None,
) -> TrainResult:
    """Train the LSTM regressor on windows ``X [samples, n_in, features]`` -> ``y``.

    Parameters
    ----------
    X, y : float arrays (``SequencePipeline.transform`` output), samples in time order
    seed : seeds the weights and the mini-batch order (numpy and torch)
    epochs : epoch budget; patience : stop after this many epochs without a better validation loss
    lr : Adam learning rate; batch_size : mini-batch size (batches are shuffled within the train
        part only)
    epoch_windows : training windows per epoch at most: larger training parts give each epoch a
        fresh random draw of this many windows, so an epoch costs the same on any data size
        (smaller ones use every window every epoch)
    validation : share of the *last* windows held out for early stopping (at least one window)
    threads : torch threads while training (the previous setting is restored); default 1: this
        small network trains several times faster on one thread than on two busy cores

    Returns
    -------
    TrainResult
    """
    import torch

    if not 0.0 < validation < 1.0:
        raise ParameterError(f"validation={validation!r} must be a share in (0, 1).")
    X, y = _check(X, y)
    if min(epochs, patience, batch_size, epoch_windows) < 1:
        raise ParameterError("epochs, patience, batch_size and epoch_windows must be >= 1.")
    n = X.shape[0]
    n_val = max(1, math.ceil(validation * n))
    if n - n_val < 1:
        raise InputError(f"{n} windows are too few to hold out a validation part; pass more data.")
    with _torch_settings(threads):
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        model = build_model(X.shape[2], y.shape[1], y.shape[2], hidden)
        optimizer = _Adam(model.parameters(), lr=lr)
        fit = (torch.from_numpy(X[: n - n_val]), torch.from_numpy(y[: n - n_val]))
        xv, yv = torch.from_numpy(X[n - n_val :]), torch.from_numpy(y[n - n_val :])
        history: dict[str, list[float]] = {"train": [], "validation": []}
        best, best_epoch, best_state, waited = math.inf, 0, None, 0
        for epoch in range(1, epochs + 1):
            order = rng.permutation(n - n_val)[:epoch_windows]
            history["train"].append(_epoch(model, optimizer, fit, order, batch_size))
            model.eval()
            with torch.no_grad():
                val = float(torch.nn.functional.mse_loss(model(xv), yv))
            history["validation"].append(val)
            if val < best:
                best, best_epoch, waited = val, epoch, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                waited += 1
                if waited >= patience:
                    break
        if best_state is not None:  # None only when every validation loss was NaN
            model.load_state_dict(best_state)
        model.eval()
    return TrainResult(model, history, best_epoch or len(history["train"]), len(history["train"]))


def _epoch(model: Any, optimizer: _Adam, data: tuple, order: np.ndarray, batch_size: int) -> float:
    """One pass over the training windows in ``order``; the mean training loss."""
    import torch

    xt, yt = data
    order = torch.from_numpy(order)
    model.train()
    total = 0.0
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(xt[idx]), yt[idx])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
    return total / len(order)


class _Adam:
    """Adam (Kingma and Ba) with torch's defaults: betas (0.9, 0.999), eps 1e-8, no weight decay.

    The update of ``torch.optim.Adam`` (its single-tensor CPU path) written out, because creating a
    torch optimizer imports torch's compiler stack (seconds on a busy machine) and this network
    needs none of it.
    """

    def __init__(self, params: Any, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        import torch

        self.params = [p for p in params if p.requires_grad]
        self.lr, (self.beta1, self.beta2), self.eps, self.steps = lr, betas, eps, 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        import torch

        self.steps += 1
        b1, b2 = self.beta1, self.beta2
        step_size = self.lr / (1 - b1**self.steps)
        root2 = math.sqrt(1 - b2**self.steps)
        with torch.no_grad():
            for p, m, v in zip(self.params, self.m, self.v):
                if p.grad is None:
                    continue
                m.lerp_(p.grad, 1 - b1)
                v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                p.addcdiv_(m, (v.sqrt() / root2).add_(self.eps), value=-step_size)


def predict(model: Any, X: Any, threads: int | None = None) -> np.ndarray:
    """The model's output for ``X`` as a float32 array ``[samples, n_out, n_targets]``."""
    import torch

    X = np.ascontiguousarray(X, dtype=np.float32)
    with _torch_settings(threads), torch.no_grad():
        model.eval()
        return model(torch.from_numpy(X)).numpy().astype(np.float32)
