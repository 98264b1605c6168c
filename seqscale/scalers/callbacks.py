"""scikit-learn's fit callbacks (``set_callbacks``), where the installed scikit-learn has them.

scikit-learn 1.9 added callbacks to estimators (``sklearn.callback``, experimental): hooks called
when a fit task begins and ends. The scalers take them as scikit-learn's ``StandardScaler``
does: one task per ``fit`` or ``partial_fit`` call. With an older scikit-learn the scalers have
no ``set_callbacks``, as scikit-learn's own did not.
"""

from __future__ import annotations

from typing import Any

try:
    from sklearn.callback import CallbackSupportMixin, with_callbacks
except ImportError:  # scikit-learn < 1.9

    class CallbackSupportMixin:  # type: ignore[no-redef]
        """Placeholder: the installed scikit-learn has no callbacks."""

    def with_callbacks(method):  # type: ignore[no-redef]
        return method


__all__ = ["CallbackSupportMixin", "begin", "end", "has_callbacks", "with_callbacks"]


def has_callbacks(est: Any) -> bool:
    """Whether callbacks were set on ``est``."""
    return bool(getattr(est, "_skl_callbacks", None))


def begin(est: Any, X: Any, y: Any, sample_weight: Any) -> Any:
    """Start the fit task: set the callbacks up and call their ``on_fit_task_begin``."""
    if not has_callbacks(est):
        return None
    ctx = est._init_callback_context()
    ctx.call_on_fit_task_begin(estimator=est, X=X, y=y, metadata={"sample_weight": sample_weight})
    return ctx


def end(ctx: Any, est: Any, X: Any, y: Any, sample_weight: Any) -> None:
    """End the fit task: ``on_fit_task_end`` with the fitted estimator (teardown follows)."""
    if ctx is not None:
        ctx.call_on_fit_task_end(
            estimator=est, X=X, y=y, metadata={"sample_weight": sample_weight}, reconstruction_attributes={}
        )
