"""Fuzzing the files seqscale reads: coefficient, plan and pipeline files, and CSV text.

Valid files are built from small data, then mutated at the byte level (truncate, flip, insert,
delete) and at the JSON level (replace any value with a random JSON value, delete a key or an
element, add a key). Loading must either succeed and give a usable object (finite output of the
right shape on a small array, or a SeqscaleError), or raise CoefficientFileError — never another
exception type, never a hang. Random CSV text gives a DataFrame or a DataFileError. Plans with
domain values drawn near float32's and float64's limits: an accepted plan whose fit succeeds
gives finite float32 tensors for its own finite training data.

``SEQSCALE_FUZZ_EXAMPLES`` sets the number of examples per test (``make fuzz``: 20000).
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import signal
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import seqscale
from seqscale.errors import CoefficientFileError, DataFileError, SeqscaleError, SeqscaleWarning
from seqscale.files import csv_reader as _csv
from seqscale.files import io as sio

EXAMPLES = int(os.environ.get("SEQSCALE_FUZZ_EXAMPLES", "400"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
HANG_SECONDS = 20


@contextlib.contextmanager
def no_hang(seconds=HANG_SECONDS):
    """Fail (instead of hanging the suite) when one example takes longer than ``seconds``."""

    def alarm(signum, frame):
        raise TimeoutError(f"one fuzz example took more than {seconds} s (a hang?)")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ----------------------------------------------------------------------------- valid files
def small_frame(n=24):
    rng = np.random.default_rng(1)
    return pd.DataFrame({"a": rng.normal(5, 2, n), "b": rng.uniform(-3, 9, n), "c": rng.gamma(2, 2, n)})


def pipeline_frame(n=40):
    rng = np.random.default_rng(11)
    return pd.DataFrame({
        "date": pd.date_range("2020-01-01", periods=n, freq="D"), "q": np.tile(["a", "b"], n // 2),
        "x": rng.normal(10, 2, n), "y": np.cumsum(rng.normal(size=n)) + 50,
    })  # fmt: skip


def valid_plans():
    base = {
        "format": "seqscale.plan", "version": 1, "time": "date", "id": None, "target": ["y"],
        "task": "regression", "output_activation": "linear", "window": {"n_in": 4, "n_out": 1},
        "per_series": False, "series_features": False,
        "columns": {
            "q": {"role": "categorical", "handle_unknown": "ignore"},
            "x": {"role": "input", "log": False, "difference": None, "method": "standard",
                  "bounds": {"mean": 10.0, "std": 2.0}},
            "y": {"role": "target", "log": False, "difference": {"lag": 1, "order": 1},
                  "method": "minmax", "feature_range": [-1, 1], "bounds": None},
        },
    }  # fmt: skip
    other = json.loads(json.dumps(base))
    other["columns"]["x"] = {"role": "input", "log": True, "difference": {"lag": 2, "order": 1},
                             "method": "robust", "bounds": None}  # fmt: skip
    other["columns"]["q"] = {"role": "ignore", "reason": "not needed"}
    other["columns"]["y"]["method"] = "maxabs"
    other["columns"]["y"].pop("feature_range")
    return {"plan_standard_minmax": base, "plan_robust_maxabs": other}


def build_files(folder):
    """name -> bytes of a valid file."""
    files = {}
    df = small_frame()
    grouped = df.assign(site=np.repeat(["n", "s", "e"], 8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SeqscaleWarning)
        classes = {"minmax": seqscale.MinMaxScaler, "standard": seqscale.StandardScaler,
                   "robust": seqscale.RobustScaler, "maxabs": seqscale.MaxAbsScaler}  # fmt: skip
        for method, cls in classes.items():
            cls().fit(df).save(folder / "f.json")
            files[f"coef_{method}_per_feature"] = (folder / "f.json").read_bytes()
            cls().fit(grouped, groups="site").save(folder / "f.json")
            files[f"coef_{method}_per_series"] = (folder / "f.json").read_bytes()
        seqscale.MinMaxScaler(bounds={"a": (0, 10)}).fit(df).save(folder / "f.json")
        files["coef_minmax_domain"] = (folder / "f.json").read_bytes()
        seqscale.StandardScaler(mean={1: 3.0}).fit(np.asarray(df)).save(folder / "f.json")
        files["coef_standard_unnamed"] = (folder / "f.json").read_bytes()
    plans = {}
    for name, plan in valid_plans().items():
        seqscale.validate_plan(plan)
        plans[name] = json.dumps(plan, indent=2).encode()
    seqscale.SequencePipeline.from_plan(valid_plans()["plan_standard_minmax"]).fit(pipeline_frame()).save(
        folder / "p.json"
    )
    pipes = {"pipeline": (folder / "p.json").read_bytes()}
    return files, plans, pipes


VALID: dict = {}  # filled once per module (kept out of the test signatures: shorter reports)


@pytest.fixture(scope="module", autouse=True)
def valid_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    coefs, plans, pipes = build_files(folder)
    VALID.update({"coef": coefs, "plan": plans, "pipeline": pipes, "folder": folder})
    yield VALID
    VALID.clear()


def test_fixtures_are_valid():
    valid = VALID
    folder = valid["folder"]
    for kind in ("coef", "plan", "pipeline"):
        for name, data in valid[kind].items():
            path = folder / f"{name}.json"
            path.write_bytes(data)
            check(kind, path)


# ----------------------------------------------------------------------------- checks
def _finite_or_seqscale_error(func):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = func()
    except SeqscaleError:
        return None
    return out


def _use_scaler(est):
    n = int(est.n_features_in_)
    assert 1 <= n <= 10
    X = np.linspace(-2.0, 7.0, 5 * n).reshape(5, n)
    names = est._feature_names_list() if hasattr(est, "feature_names_in_") else None
    if names is not None:
        X = pd.DataFrame(X, columns=names)
    groups = None
    if getattr(est, "_grouped", False):
        groups = [est.series_[i % len(est.series_)] for i in range(5)]
    for func in (est.transform, est.inverse_transform):
        out = _finite_or_seqscale_error(lambda f=func: f(X, groups=groups))
        if out is None:
            continue
        values = np.asarray(out, dtype=np.float64)
        assert values.shape == (5, n)
        assert np.isfinite(values).all(), f"{func.__name__} gave non-finite output: {values}"


def _use_pipeline(pipe):
    out = _finite_or_seqscale_error(lambda: pipe.transform(pipeline_frame()))
    if out is None:
        return
    X, y = out
    assert X.ndim == 3 and X.shape[0] > 0
    assert np.isfinite(X).all()
    assert y is None or np.isfinite(y).all()


# Bugs this file found, each pinned by an xfail test at the end of the file. The fuzz tests let
# exactly these through (type and message), so that they keep hunting for new ones meanwhile.
KNOWN_BUGS: list = []  # (exception type, message fragment) of a bug being fixed; empty when none


def _known_bug(err: BaseException) -> bool:
    return not isinstance(err, SeqscaleError) and any(
        type(err) is kind and text in str(err) for kind, text in KNOWN_BUGS
    )


def check(kind, path):
    """Load ``path`` as ``kind``; only CoefficientFileError may escape; a loaded object works."""
    try:
        _check(kind, path)
    except Exception as err:
        if _known_bug(err):
            return
        raise


def _check(kind, path):
    with no_hang():
        if kind == "pipeline":  # both loaders agree
            try:
                seqscale.load_pipeline(path)
            except CoefficientFileError as err:
                assert str(path) in str(err)
        try:
            if kind == "plan":
                plan = seqscale.load_plan(path)
            else:
                obj = seqscale.load(path)
        except CoefficientFileError as err:
            assert str(path) in str(err)
            return
        if kind == "plan":
            assert isinstance(plan, dict)
            pipe = _finite_or_seqscale_error(
                lambda: seqscale.SequencePipeline.from_plan(plan).fit(pipeline_frame())
            )
            if pipe is not None:
                _use_pipeline(pipe)
        elif type(obj).__name__ == "SequencePipeline":
            _use_pipeline(obj)
        else:
            _use_scaler(obj)


# ----------------------------------------------------------------------------- byte mutations
def _apply_ops(data: bytes, ops) -> bytes:
    out = bytearray(data)
    for op, where, payload in ops:
        pos = int(where * len(out)) if out else 0
        if op == "truncate":
            del out[pos:]
        elif op == "flip" and out:
            pos = min(pos, len(out) - 1)
            out[pos] ^= payload[0] or 1
        elif op == "insert":
            out[pos:pos] = payload
        elif op == "delete":
            del out[pos : pos + len(payload)]
    return bytes(out)


BYTE_OPS = st.lists(
    st.tuples(
        st.sampled_from(["truncate", "flip", "insert", "delete"]),
        st.floats(0, 1, exclude_max=True),
        st.binary(min_size=1, max_size=6)
        | st.sampled_from([b"0", b"-", b"NaN", b"1e999", b"null", b"]", b"}", b'"', b",", b"\xff"]),
    ),
    min_size=1,
    max_size=3,
)


def _byte_test(valid, kind, name, ops, tag):
    data = _apply_ops(valid[kind][name], ops)
    path = valid["folder"] / f"{tag}_{os.getpid()}.json"
    path.write_bytes(data)
    check(kind, path)


@FUZZ
@given(data=st.data(), ops=BYTE_OPS)
def test_fuzz_coefficient_bytes(data, ops):
    name = data.draw(st.sampled_from(sorted(VALID["coef"])))
    _byte_test(VALID, "coef", name, ops, "cb")


@FUZZ
@given(data=st.data(), ops=BYTE_OPS)
def test_fuzz_plan_bytes(data, ops):
    name = data.draw(st.sampled_from(sorted(VALID["plan"])))
    _byte_test(VALID, "plan", name, ops, "pb")


@FUZZ
@given(ops=BYTE_OPS)
def test_fuzz_pipeline_bytes(ops):
    _byte_test(VALID, "pipeline", "pipeline", ops, "qb")


# ----------------------------------------------------------------------------- JSON mutations
SPECIAL_NUMBERS = [0, -1, 1, 2**63, -(2**63), 2**64 + 1, 10**400, 1e308, -1e308, 5e-324, -0.0, 1e-300,
                   float("nan"), float("inf"), float("-inf")]  # fmt: skip
NUMBER_STRINGS = ["NaN", "nan", "inf", "-inf", "1e999", "-1e309", "0", "-0", "", " 1", "1,5", "0x10"]
JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(SPECIAL_NUMBERS)
    | st.sampled_from(NUMBER_STRINGS)
    | st.text(max_size=8)
    | st.sampled_from(
        [
            "minmax",
            "standard",
            "robust",
            "maxabs",
            "none",
            "per_series",
            "per_feature",
            "input",
            "target",
            "categorical",
            "ignore",
            "x",
            "y",
            "q",
            "a",
            "date",
        ]
    )
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node, prefix=()):
    """Every path to a value of the JSON tree (the root excluded)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield (*prefix, i)
            yield from _paths(value, (*prefix, i))


def _containers(node, prefix=()):
    if isinstance(node, (dict, list)):
        yield prefix
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            yield from _containers(value, (*prefix, key))


def _get(node, path):
    for key in path:
        node = node[key]
    return node


@st.composite
def json_mutation(draw, record):
    record = json.loads(json.dumps(record))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add", "swap"]))
        paths = list(_paths(record))
        if op in ("replace", "delete", "swap") and paths:
            path = draw(st.sampled_from(paths))
            parent, key = _get(record, path[:-1]), path[-1]
            if op == "replace":
                parent[key] = draw(JSON_VALUES)
            elif op == "swap":  # another value of the same file: plausible, so deeper checks run
                other = _get(record, draw(st.sampled_from(paths)))
                parent[key] = json.loads(json.dumps(other))
            else:
                del parent[key]
        else:
            container = _get(record, draw(st.sampled_from(list(_containers(record)))))
            if isinstance(container, dict):
                container[draw(st.text(max_size=8) | st.sampled_from(["domain", "series", "pooled"]))] = draw(
                    JSON_VALUES
                )
            else:
                container.insert(draw(st.integers(0, len(container))), draw(JSON_VALUES))
    return record


def _json_test(valid, kind, name, data, tag):
    record = json.loads(valid[kind][name])
    mutated = data.draw(json_mutation(record))
    path = valid["folder"] / f"{tag}_{os.getpid()}.json"
    try:
        text = json.dumps(mutated, allow_nan=True)
    except (ValueError, OverflowError):
        return
    path.write_text(text)
    check(kind, path)


@FUZZ
@given(data=st.data())
def test_fuzz_coefficient_json(data):
    name = data.draw(st.sampled_from(sorted(VALID["coef"])))
    _json_test(VALID, "coef", name, data, "cj")


@FUZZ
@given(data=st.data())
def test_fuzz_plan_json(data):
    name = data.draw(st.sampled_from(sorted(VALID["plan"])))
    _json_test(VALID, "plan", name, data, "pj")


@FUZZ
@given(data=st.data())
def test_fuzz_pipeline_json(data):
    _json_test(VALID, "pipeline", "pipeline", data, "qj")


# ----------------------------------------------------------------------------- CSV text
CELLS = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(
        [
            "",
            " ",
            "NA",
            "nan",
            "NULL",
            "inf",
            "-inf",
            "1e999",
            "1,5",
            "1.2.3",
            "abc",
            '"',
            '""',
            '"a,b"',
            '"x\ny"',
            "\ufeff",
            "é",
            "2024-01-01",
            "TRUE",
            "-",
            "+",
            ".",
            "e5",
        ]
    ),
    st.text(max_size=5),
)


@st.composite
def csv_text(draw):
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    width = draw(st.integers(1, 4))
    names = st.sampled_from(["a", "b", "c", "temp", "x y", "", "1", "a"]) | st.text(max_size=3)
    header = draw(st.lists(names, min_size=width, max_size=width))
    rows = draw(st.lists(st.lists(CELLS, min_size=max(width - 1, 1), max_size=width + 1), max_size=8))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(sep.join(row) for row in [header, *rows])
    if draw(st.booleans()):
        text += newline
    if draw(st.booleans()):
        text = "\ufeff" + text
    encoded = text.encode("utf-8", errors="surrogatepass")
    if draw(st.integers(0, 4)) == 0:
        encoded = _apply_ops(encoded, draw(BYTE_OPS))
    return encoded


@FUZZ
@given(data=csv_text(), suffix=st.sampled_from([".csv", ".tsv", ".txt"]))
def test_fuzz_read_table(data, suffix):
    path = VALID["folder"] / f"fuzz_{os.getpid()}{suffix}"
    path.write_bytes(data)
    with no_hang():
        try:
            frame = sio.read_table(path)
        except DataFileError as err:
            assert str(path) in str(err)
            return
        assert isinstance(frame, pd.DataFrame)
        assert frame.columns.is_unique
        assert all(isinstance(c, str) and c for c in frame.columns)
        for name in frame.columns:
            column = frame[name]
            if pd.api.types.is_float_dtype(column):
                values = column.to_numpy()
                assert not any(isinstance(v, str) for v in values)
        try:
            batches = list(sio.iter_batches(path, batch_size=3))
        except DataFileError:
            return
        assert sum(b.num_rows for b in batches) == len(frame)


# ----------------------------------------------------------------------------- bugs found
def _load_edited(tmp_path, change, method="minmax"):
    record = json.loads(VALID["coef"][f"coef_{method}_per_feature"])
    change(record)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(record))
    return seqscale.load(path)


@pytest.mark.parametrize("value", [["minmax"], {"a": 1}])
def test_bug_unhashable_method(tmp_path, value):
    with pytest.raises(CoefficientFileError, match="'method'"):
        _load_edited(tmp_path, lambda r: r.__setitem__("method", value))


@pytest.mark.parametrize(
    "param, value", [("margin", None), ("margin", "x"), ("mask_value", [1]), ("mask_value", "abc")]
)
def test_bug_params_not_numbers(tmp_path, param, value):
    with pytest.raises(CoefficientFileError, match=param):
        _load_edited(tmp_path, lambda r: r["params"].__setitem__(param, value))


@pytest.mark.parametrize("make", [lambda: seqscale.MinMaxScaler(margin=None),
                                  lambda: seqscale.StandardScaler(mask_value="abc")])  # fmt: skip
def test_bug_constructor_params_not_numbers(make):
    with pytest.raises(seqscale.ParameterError):
        make().fit(np.arange(6.0).reshape(3, 2))


@pytest.mark.parametrize(
    "text, rows",
    [
        (b'0",0\r,a', [["", "a"]]),  # found by make fuzz: a stray quote in a header name
        (b'a"b,c\n1,2\n3,4\n', [["1", "2"], ["3", "4"]]),
        (b'\n\na,"b""c"\n1,2\n', [["1", "2"]]),
        (b'"a\nb",c\n1,2\n', [["1", "2"]]),
        (b"a\n\t", [["\t"]]),  # found by make fuzz: a last line of spaces, no line break
        (b"a\n1\n  ", [["1"], ["  "]]),
        (b"a\n\xef\xbb\xbf\n0", [["\ufeff"], ["0"]]),  # found by make fuzz: a mark inside the file
        (b"\xef\xbb\xbfa\n\xef\xbb\xbfx\n0", [["\ufeffx"], ["0"]]),
        (b'a\n0;"\n"x\ny"', [['0;"'], ["x\ny"]]),  # found by make fuzz: a stray quote in a row
        (b'a\n1"\n"p\nq"\n2\n"r\ns"\n', [['1"'], ["p\nq"], ["2"], ["r\ns"]]),
    ],
)
def test_bug_stream_reads_the_rows_read_table_reads(tmp_path, text, rows):
    """``iter_batches`` found the header's end by counting quotes: a quote inside a name (text,
    not a quoted field) hid every row from the stream while ``read_table`` read them; it dropped a
    last line of spaces, and a byte-order mark starting a row, that ``read_table`` reads."""
    path = tmp_path / "q.csv"
    path.write_bytes(text)
    frame = sio.read_table(path)
    streamed = [batch.to_pylist() for batch in sio.iter_batches(path, batch_size=1, raw=list(frame.columns))]
    assert [list(row.values()) for batch in streamed for row in batch] == rows
    assert len(frame) == len(rows)


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list('ab,;"\n\r')), max_size=30),
    delimiter=st.sampled_from([",", ";"]),
)
def test_header_end_agrees_with_the_csv_module(text, delimiter):
    """The header record ends where Python's csv reader ends it (quotes at a field's start only)."""
    import csv
    import io

    def records(text):  # (no spaces drawn: a line of spaces is blank to seqscale, a record to csv)
        return [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if r]

    data = text.encode()
    end = _csv._header_end(data, delimiter)
    if end is not None:
        assert records(data[:end].decode()) == records(text)[:1] and data[:end].strip()


def _record_ends_one_byte_at_a_time(data: bytes, delimiter: str) -> list[int]:
    ends, quoted, field_start, i = [], False, True, 0
    while i < len(data):
        byte = data[i : i + 1]
        if quoted:
            if byte == b'"':
                if data[i + 1 : i + 2] == b'"':
                    i += 1
                else:
                    quoted = False
        elif byte in (b"\n", b"\r"):
            ends.append(i + 1)
            field_start = True
        elif byte == b'"' and field_start:
            quoted, field_start = True, False
        else:
            field_start = byte == delimiter.encode()
        i += 1
    return ends


@settings(max_examples=500, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list('a ,;"\n\r')), max_size=40), delimiter=st.sampled_from(",;")
)
def test_record_ends_follow_the_quoting_rule(text, delimiter):
    """Where a stream chunk may be cut: every line break outside a quoted field, and no other."""
    data = text.encode()
    assert _csv._record_ends(data, delimiter).tolist() == _record_ends_one_byte_at_a_time(data, delimiter)


def test_special_numbers_are_distinct():
    """The strategies above really produce the awkward values they claim to."""
    assert any(isinstance(v, float) and math.isnan(v) for v in SPECIAL_NUMBERS)
    assert 10**400 in SPECIAL_NUMBERS


# ----------------------------------------------------------------------------- edited pipeline plans
PLAN_VALUES = st.one_of(
    JSON_VALUES,
    st.sampled_from([True, False, None, 0, 1, 2, 3, 4, -1, 0.5, "minmax", "standard", "robust", "maxabs",
                     "none", "input", "target", "ignore", "categorical", "date", "x", "y", "q",
                     {"lag": 1, "order": 1}, {"lag": 2, "order": 1}, [0, 1], [-1, 1],
                     {"mean": 10.0, "std": 2.0}]),
)  # fmt: skip


@st.composite
def plan_edit(draw, record):
    """The pipeline record with one to three edits inside its embedded plan."""
    record = json.loads(json.dumps(record))
    plan = record["plan"]
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(plan))
        path = draw(st.sampled_from(paths))
        parent, key = _get(plan, path[:-1]), path[-1]
        op = draw(st.sampled_from(["replace", "toggle", "delete", "swap"]))
        if op == "toggle" and isinstance(parent[key], bool):
            parent[key] = not parent[key]
        elif op == "toggle" and isinstance(parent[key], (int, float)):
            parent[key] = parent[key] + draw(st.sampled_from([-1, 1, 0.5]))
        elif op == "delete":
            del parent[key]
        elif op == "swap":
            parent[key] = json.loads(json.dumps(_get(plan, draw(st.sampled_from(paths)))))
        else:
            parent[key] = copy.deepcopy(draw(PLAN_VALUES))  # the sampled constants stay unedited
    return record


def _transformed(pipe):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pipe.transform(pipeline_frame())


@pytest.fixture(scope="module")
def fitted_pipelines():
    out = {}
    for name, plan in valid_plans().items():
        pipe = seqscale.SequencePipeline.from_plan(plan).fit(pipeline_frame())
        path = VALID["folder"] / f"{name}.pipeline.json"
        pipe.save(path)
        out[name] = (json.loads(path.read_text()), _transformed(pipe))
    return out


@FUZZ
@given(data=st.data())
def test_fuzz_pipeline_plan_edits_accepted_only_when_the_same(fitted_pipelines, data):
    """Every plan field: an edited pipeline file loads only if it transforms exactly as before."""
    name = data.draw(st.sampled_from(sorted(fitted_pipelines)))
    record, (X, y) = fitted_pipelines[name]
    edited = data.draw(plan_edit(record))
    path = VALID["folder"] / f"pe_{os.getpid()}.json"
    try:
        path.write_text(json.dumps(edited, allow_nan=True))
    except (ValueError, OverflowError):
        return
    with no_hang():
        try:
            pipe = seqscale.load(path)
        except CoefficientFileError as err:
            assert str(path) in str(err)
            return
        X2, y2 = _transformed(pipe)
    assert np.array_equal(X, X2, equal_nan=True) and np.array_equal(y, y2, equal_nan=True)


@pytest.mark.parametrize("edit", ["log flipped", "log removed", "lag changed", "window changed",
                                  "time changed", "role changed"])  # fmt: skip
def test_pipeline_with_an_edited_plan_is_refused(fitted_pipelines, edit, tmp_path):
    record = json.loads(json.dumps(fitted_pipelines["plan_robust_maxabs"][0]))
    columns = record["plan"]["columns"]
    if edit == "log flipped":
        columns["x"]["log"] = False
    elif edit == "log removed":
        del columns["x"]["log"]
    elif edit == "lag changed":
        columns["x"]["difference"]["lag"] = 1
    elif edit == "window changed":
        record["plan"]["window"]["n_in"] = 3
    elif edit == "time changed":
        record["plan"]["time"] = "x"
    else:
        columns["x"]["role"] = "target"
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(record))
    with pytest.raises(CoefficientFileError, match="plan"):
        seqscale.load(path)


def test_pipeline_reason_may_be_edited(fitted_pipelines, tmp_path):
    record = json.loads(json.dumps(fitted_pipelines["plan_robust_maxabs"][0]))
    record["plan"]["columns"]["x"]["reason"] = "checked by hand on 2026-12-01"
    path = tmp_path / "annotated.json"
    path.write_text(json.dumps(record))
    X2, y2 = _transformed(seqscale.load(path))
    X, y = fitted_pipelines["plan_robust_maxabs"][1]
    assert np.array_equal(X, X2, equal_nan=True) and np.array_equal(y, y2, equal_nan=True)


def test_pipeline_file_without_plan_digest_names_the_field(fitted_pipelines, tmp_path):
    """A file from before the plan digest (or with it removed) is refused with the cause."""
    record = copy.deepcopy(next(iter(fitted_pipelines.values()))[0])
    del record["state"]["plan_digest"]
    path = tmp_path / "old.pipeline.json"
    path.write_text(json.dumps(record))
    with pytest.raises(seqscale.CoefficientFileError, match=r"plan_digest.*earlier seqscale"):
        seqscale.load_pipeline(path)


# ----------------------------------------------------------------------------- domain values
# Magnitudes around float32's and float64's limits (the pipeline returns float32 tensors).
EXTREME = st.sampled_from([3.4e38, 3.41e38, 6.8e38, 1e38, 3e-39, 2.9e-39, 1e-37, 1e-300, 1e300, 1.7e308,
                           5e-324, 1e-20, 1e20, 1.0, 0.5, 10.0, 0.0])  # fmt: skip
FINITE = st.floats(allow_nan=False, allow_infinity=False)
DOMAIN_NUMBER = st.builds(lambda v, sign: v * sign, EXTREME | FINITE, st.sampled_from([1, -1]))


@st.composite
def domain_plan(draw):
    """A valid plan whose x (and maybe y) carries drawn domain values, maybe fitted per series."""
    plan = valid_plans()["plan_standard_minmax"]
    for col in draw(st.sampled_from([["x"], ["y"], ["x", "y"]])):
        entry = plan["columns"][col]
        method = draw(st.sampled_from(["standard", "minmax", "maxabs"]))
        entry.update(method=method)
        entry.pop("feature_range", None)
        if method == "standard":
            entry["bounds"] = {"mean": draw(DOMAIN_NUMBER), "std": abs(draw(DOMAIN_NUMBER))}
        else:
            entry["bounds"] = sorted([draw(DOMAIN_NUMBER), draw(DOMAIN_NUMBER)])
        if method == "minmax" and draw(st.booleans()):
            entry["feature_range"] = sorted([draw(DOMAIN_NUMBER), draw(DOMAIN_NUMBER)])
    if draw(st.booleans()):  # per series: q becomes the id
        del plan["columns"]["q"]
        plan.update(id="q", per_series=True)
    return plan


@settings(FUZZ, max_examples=max(EXAMPLES // 4, 100))  # a fit per example: a quarter of the count
@given(plan=domain_plan(), size=st.sampled_from([1.0, 1e-38, 1e-20, 1e20, 1e37, 1e300]))
def test_fuzz_plan_domain_values_accepted_means_finite_output(plan, size):
    """An accepted plan gives finite tensors on finite data: a fit that succeeds transforms its
    own training frame into finite float32 windows; any refusal is a SeqscaleError."""
    frame = pipeline_frame().assign(x=lambda d: d["x"] * size, y=lambda d: d["y"] * size)
    try:
        seqscale.validate_plan(plan)
    except CoefficientFileError:
        event("plan refused")
        return
    with no_hang(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pipe = seqscale.SequencePipeline.from_plan(plan).fit(frame)
        except SeqscaleError:
            event("fit refused")
            return
        X, y = pipe.transform(frame)  # no refusal here: the fit checked its own training range
    event("transformed")
    assert X.dtype == np.float32 and np.isfinite(X).all() and np.isfinite(y).all()
