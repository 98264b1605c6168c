"""scikit-learn's own scaler tests, run against seqscale's four scalers."""

from __future__ import annotations

from tests.peer._sklearn_peer import load, tests_of

for _module in ("test_data", "test_common"):
    for _name, _func in tests_of(load(_module)).items():
        globals()[f"{_module}__{_name}"] = _func
