"""Checks at the boundary: every bad input gets a ValueError/TypeError naming the argument,
value and fix; hostile arrays give a valid result or such an error, never a NaN score passed
off as a result nor an exception of another type from deep inside torch or numpy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from memae import MemAEDetector
from memae.video.config import VideoConfig
from tests.conftest import FAST, QUICK

CLEAR = (ValueError, TypeError)


@pytest.fixture(scope="module")
def fitted() -> MemAEDetector:
    X = np.random.default_rng(0).normal(size=(60, 5)).astype(np.float32)
    return MemAEDetector(**{**FAST, "epochs": 2}).fit(X)


def _X(n: int = 20, d: int = 5) -> np.ndarray:
    return np.random.default_rng(1).normal(size=(n, d))


@pytest.mark.parametrize("X, error, match", [
    (np.array([[1.0, np.nan], [2.0, 3.0], [1.0, 1.0]]), ValueError, "NaN.*impute"),
    (np.array([[1.0, np.inf], [2.0, 3.0], [1.0, 1.0]]), ValueError, "infinity.*impute"),
    (np.ones(10), ValueError, "(?s)Expected 2D array.*reshape"),
    (np.ones((10, 2, 3)), ValueError, r"got shape \(10, 2, 3\).*X\[:, None\]"),
    (np.ones((0, 4)), ValueError, "0 sample"),
    (np.ones((1, 4)), ValueError, "1 sample.*at least 2"),
    (np.array([["a", "b"], ["c", "d"]]), ValueError, "convert.*one-hot"),
    (np.array([[1.0, {"a": 1}], [2.0, 3.0]], dtype=object), TypeError, "one-hot"),
    (None, TypeError, "got None"),
])
def test_fit_rejects(X, error, match) -> None:
    with pytest.raises(error, match=match):
        MemAEDetector(**FAST).fit(X)


@pytest.mark.parametrize("param, value", [
    ("contamination", 0.0), ("contamination", 0.7), ("contamination", "auto"),
    ("epochs", 0), ("epochs", 2.5), ("batch_size", -1), ("learning_rate", 0),
    ("validation_fraction", 1.0), ("target_fpr", 1.5), ("patience", 0),
    ("standardize", "yes"), ("device", "tpu"), ("memory_size", 0),
    ("shrink_threshold", 2.0), ("entropy_weight", -1.0), ("random_state", -3),
    ("random_state", 2**40), ("score_batch_size", 0),
])
def test_bad_parameters_name_the_parameter_and_value(param: str, value) -> None:
    detector = MemAEDetector(**{**FAST, param: value})
    with pytest.raises(ValueError, match=rf"{param} must be .*got {value!r}"):
        detector.fit(_X())


@pytest.mark.parametrize("param", ["model_params", "epochs", "validation_fraction",
                                   "patience"])
def test_auto_is_a_detector_value_the_video_configuration_refuses(param: str) -> None:
    # The detector fills "auto" from the data kind's preset; a video config has none.
    assert MemAEDetector(**{**FAST, param: "auto"}).fit(_X()).n_train_ > 0
    with pytest.raises(ValueError, match=rf"{param}: got 'auto'; expected"):
        VideoConfig(**{param: "auto"})
    with pytest.raises(ValueError, match=rf"{param} must be 'auto' or .*got 'Auto'"):
        MemAEDetector(**{**FAST, param: "Auto"}).fit(_X())


def test_feature_count_must_match_fit(fitted: MemAEDetector) -> None:
    with pytest.raises(ValueError, match="X has 4 features.*expecting 5.*same columns"):
        fitted.decision_function(_X(d=4))


def test_image_shape_must_match_fit() -> None:
    X = np.random.default_rng(0).random((20, 1, 8, 8)).astype(np.float32)
    detector = MemAEDetector(**{**FAST, "epochs": 1}, memory_size=5).fit(X)
    with pytest.raises(ValueError, match=r"sample shape \(1, 10, 10\).*\(1, 8, 8\)"):
        detector.decision_function(np.zeros((2, 1, 10, 10)))
    with pytest.raises(ValueError, match=r"fitted on images \(n, C, H, W\).*\(1, 8, 8\)"):
        detector.decision_function(np.zeros((2, 64)))


def test_dataframe_columns_that_are_not_numbers_are_named() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": np.arange(6.0), "when": pd.date_range("2026", periods=6),
                          "b": np.arange(6)})
    with pytest.raises(TypeError, match=r"non-numeric columns 'when' \(datetime64"):
        MemAEDetector(**FAST).fit(frame)


def test_scoring_rejects_nan_and_empty(fitted: MemAEDetector) -> None:
    bad = _X()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fitted.predict(bad)
    with pytest.raises(ValueError, match="0 sample"):
        fitted.decision_function(np.empty((0, 5)))


DTYPES = st.sampled_from([np.float16, np.float32, np.float64, np.int8, np.int64, np.uint8,
                          np.bool_, np.complex64, np.dtype("<U3"), np.dtype("O")])


# Floats from tiny to beyond float32's range (3.4e38), with NaN and infinities.
VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                   st.sampled_from([0.0, 1.0, -1.0, 1e30, -1e30, 3e38, 1e39]))


def _array(dtype: np.dtype, shape: tuple[int, ...], draw_values: list[float]) -> np.ndarray:
    values = np.resize(np.array(draw_values or [0.0]), shape)
    with np.errstate(all="ignore"):
        if np.dtype(dtype).kind in "iub":
            return np.nan_to_num(values, posinf=1, neginf=-1).clip(-100, 100).astype(dtype)
        if np.dtype(dtype).kind == "U":
            return values.astype(str).astype(dtype)
        return values.astype(dtype)


@st.composite
def hostile_arrays(draw, max_dims: int = 5) -> np.ndarray:
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=4))
    return _array(draw(DTYPES), shape, draw(st.lists(VALUES, max_size=8)))


@st.composite
def plausible_arrays(draw) -> np.ndarray:
    """Tables of finite floats, some of them huge: inputs that should mostly fit."""
    shape = (draw(st.integers(2, 12)), draw(st.integers(1, 4)))
    finite = st.one_of(st.floats(-1e3, 1e3), st.sampled_from([1e30, -1e30, 3e38]))
    dtype = draw(st.sampled_from([np.float32, np.float64, np.int64]))
    return _array(dtype, shape, draw(st.lists(finite, min_size=1, max_size=24)))


def _is_valid(detector: MemAEDetector, scores: np.ndarray, n: int) -> bool:
    return scores.shape == (n,) and bool(np.isfinite(scores).all())


@QUICK
@given(X=st.one_of(hostile_arrays(), plausible_arrays()))
def test_fit_gives_a_model_or_a_clear_error(X: np.ndarray) -> None:
    try:
        detector = MemAEDetector(**{**FAST, "epochs": 1, "batch_size": 8}, memory_size=4).fit(X)
    except CLEAR as error:
        assert str(error)
        return
    assert _is_valid(detector, detector.decision_scores_, len(X))
    assert np.isfinite(detector.threshold_)


@QUICK
@given(X=hostile_arrays(max_dims=3))
def test_scoring_gives_finite_scores_or_a_clear_error(small_detector, X: np.ndarray) -> None:
    try:
        scores = small_detector.decision_function(X)
    except CLEAR as error:
        assert str(error)
        return
    assert _is_valid(small_detector, scores, len(X))
