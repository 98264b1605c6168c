"""scikit-learn's own scaler tests, run against seqscale's four scalers."""

from __future__ import annotations

import inspect

import pytest

from tests.peer._sklearn_peer import load, tests_of

for _module in ("test_data", "test_common"):
    for _name, _func in tests_of(load(_module)).items():
        globals()[f"{_module}__{_name}"] = _func


def _seqscale_cases_of_missing_value_handling() -> list:
    """The (est, func, ...) cases of scikit-learn's test_missing_value_handling with seqscale's
    scalers (they are the pinned divergences)."""
    test = test_common__test_missing_value_handling  # noqa: F821 (bound above)
    (mark,) = [m for m in test.pytestmark if m.name == "parametrize"]
    return [case for case in mark.args[1] if type(case[0]).__module__.startswith("seqscale.")]


@pytest.mark.parametrize(
    "case",
    _seqscale_cases_of_missing_value_handling(),
    ids=lambda c: f"{type(c[0]).__name__}-{c[1].__name__}",
)
def test_missing_value_handling_beyond_the_pinned_call(case):
    """The pinned divergence fails only at ``func(X, **est.get_params())``: scikit-learn's
    function does not take seqscale's extra parameters. Run the whole test with the function
    given only the parameters it knows, so that everything after that call (NaN kept by the
    inverse, per-column fits, sparse input) is checked too."""
    est, func, *rest = case
    known = set(inspect.signature(func).parameters)

    def func_with_its_parameters(X, **kwargs):
        return func(X, **{k: v for k, v in kwargs.items() if k in known})

    test_common__test_missing_value_handling(est, func_with_its_parameters, *rest)  # noqa: F821
