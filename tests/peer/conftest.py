"""Fixtures scikit-learn's test modules expect, and the selection of the tests that count."""

from __future__ import annotations

import numpy as np
import pytest

from tests.peer._sklearn_peer import divergence, is_slow, touches_scalers


@pytest.fixture
def global_random_seed():
    return 42  # scikit-learn's default when SKLEARN_TESTS_GLOBAL_RANDOM_SEED is unset


@pytest.fixture(params=[np.float32, np.float64])
def global_dtype(request):
    return request.param


@pytest.hookimpl(tryfirst=True)  # before -m selects by the slow marks added here
def pytest_collection_modifyitems(config, items):
    """Keep only the peer tests that exercise one of the four scalers; mark the slow ones."""
    keep, drop = [], []
    for item in items:
        if "peer" not in item.nodeid.split("::")[0]:
            keep.append(item)
            continue
        params = getattr(getattr(item, "callspec", None), "params", {})
        if not touches_scalers(item.function, params):
            drop.append(item)
            continue
        keep.append(item)
        if is_slow(item.originalname, params):
            item.add_marker(pytest.mark.slow)
        pinned = divergence(item.originalname, params)
        if pinned is not None:
            item.add_marker(pytest.mark.xfail(strict=True, raises=pinned[1], reason=pinned[0]))
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
