"""core.datasets: shapes, determinism, the formulas, and the CSV reader's errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import datasets
from core.datasets import from_csv, make


@pytest.mark.parametrize("name", datasets.DATASETS)
def test_shapes_dtypes_and_dims(name):
    X, y = make(name, 37, 0)
    assert X.shape == (37, datasets.input_dim(name)) and y.shape == (37, datasets.output_dim(name))
    assert X.dtype == np.float64 and y.dtype == np.float64
    assert np.isfinite(X).all() and np.isfinite(y).all()
    assert datasets.default_loss(name) in ("mse", "ce")


@pytest.mark.parametrize("name", datasets.DATASETS)
def test_deterministic_by_seed(name):
    a, b, c = make(name, 50, 3), make(name, 50, 3), make(name, 50, 4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_gaussian_is_standard_normal_in_r8():
    X, y = make("gaussian", 2000, 0)
    # within 5 standard errors: 16,000 and 2,000 draws
    assert abs(X.mean()) < 0.04 and abs(X.std() - 1) < 0.03
    assert abs(y.mean()) < 0.12 and abs(y.std() - 1) < 0.08
    assert datasets.input_dim("gaussian") == 8 and datasets.output_dim("gaussian") == 1


def test_teacher_is_fixed_by_the_seed_whatever_n():
    """The teacher network depends on the seed only: more samples extend the same task."""
    X_small, y_small = make("teacher", 50, 1)
    X_big, y_big = make("teacher", 400, 1)
    np.testing.assert_array_equal(X_big[:50], X_small)
    np.testing.assert_allclose(y_big[:50], y_small, rtol=1e-15)
    assert 0.2 < y_big.std() < 3  # unit-ish scale, not constant
    _, y_other = make("teacher", 50, 2)
    assert not np.allclose(y_other, y_small)


def test_chebyshev_is_half_t3_plus_t5():
    x, y = make("chebyshev", 300, 2)
    assert np.all(np.abs(x) <= 1)
    t3 = 4 * x**3 - 3 * x
    t5 = 16 * x**5 - 20 * x**3 + 5 * x
    np.testing.assert_allclose(y, 0.5 * (t3 + t5), rtol=1e-12, atol=1e-12)


def test_spirals_are_balanced_one_hot_classes_on_two_arms():
    X, y = make("spirals", 400, 0)
    np.testing.assert_array_equal(y.sum(axis=1), np.ones(400))
    assert set(np.unique(y)) == {0.0, 1.0} and y[:, 0].sum() == 200
    # arm k: angle = 3π t + kπ at radius 2t, so angle − 1.5π·radius ≡ kπ (mod 2π), up to the jitter
    radius = np.hypot(X[:, 0], X[:, 1])
    label = y.argmax(axis=1)
    offset = np.angle(np.exp(1j * (np.arctan2(X[:, 1], X[:, 0]) - 1.5 * np.pi * radius - np.pi * label)))
    far = radius > 0.5  # near the centre the jitter dominates the angle
    # (radial jitter 0.05 moves the offset by 1.5π·0.05 ≈ 0.24; a wrong arm would be off by π)
    assert np.median(np.abs(offset[far])) < 0.3 and np.mean(np.abs(offset[far]) < 0.7) > 0.95


@pytest.mark.parametrize("n", [0, -1, 2001, 2.5, True])
def test_n_samples_is_capped(n):
    with pytest.raises(ValueError, match="n_samples"):
        make("gaussian", n, 0)


def test_unknown_name():
    with pytest.raises(ValueError, match="gaussian, teacher, chebyshev, spirals"):
        make("mnist", 10, 0)
    with pytest.raises(ValueError, match="Unknown dataset"):
        datasets.input_dim("mnist")


# ---------------------------------------------------------------- CSV


def test_csv_with_header_and_targets():
    X, y = from_csv("a,b,target\n1,2,3\n4,5.5,-6e-1\n")
    np.testing.assert_array_equal(X, [[1, 2], [4, 5.5]])
    np.testing.assert_array_equal(y, [[3], [-0.6]])
    X, y = from_csv("1,2,3\n4,5,6\n", n_targets=2)
    assert X.shape == (2, 1) and y.shape == (2, 2)


def test_csv_bytes_bom_semicolons_tabs_blank_lines_quotes():
    X, y = from_csv(b"\xef\xbb\xbfx;y\n1;2\n\n3;4\r\n")
    np.testing.assert_array_equal(X, [[1], [3]])
    np.testing.assert_array_equal(y, [[2], [4]])
    X, y = from_csv('1\t"2"\n3\t4')
    np.testing.assert_array_equal(y, [[2], [4]])


@pytest.mark.parametrize(
    "text, n_targets, pieces",
    [
        ("", 1, ["empty"]),
        ("x,y\n", 1, ["header", "no data"]),
        ("1,2\n3\n", 1, ["Line 2", "1 columns", "expected 2"]),
        ("1,2\n3,abc\n", 1, ["Line 2", "column 2", "'abc'", "finite number"]),
        ("1,2\n3,\n", 1, ["Line 2", "column 2", "empty"]),
        ("1,2\nnan,4\n", 1, ["Line 2", "column 1", "'nan'"]),
        ("1,2\n1e999,4\n", 1, ["Line 2", "column 1"]),
        ("1,x\n2,3\n", 1, ["Line 1", "column 2", "header"]),
        ("1,2\n3,4\n", 2, ["2 columns", "n_targets = 2", "feature"]),
        ("1,2\n", 0, ["n_targets"]),
        ("1," * 64 + "1\n", 1, ["65 columns", "at most 64"]),
        ("1,2\n" * 2001, 1, ["2,001 data rows", "2,000"]),
        (b"1,2\n\xff\xfe,3\n", 1, ["not UTF-8", "0xff", "offset 4"]),
        (12, 1, ["text or bytes"]),
    ],
)
def test_csv_rejections_say_what_where_and_what_is_allowed(text, n_targets, pieces):
    with pytest.raises(ValueError) as err:
        from_csv(text, n_targets)
    for piece in pieces:
        assert piece in str(err.value)


def test_csv_long_tokens_are_shortened_in_messages():
    with pytest.raises(ValueError) as err:
        from_csv("1,2\n3," + "z" * 10_000 + "\n")
    assert len(str(err.value)) < 300


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('0123456789.,;\t\n\r -+eE"xnaif_\x00 ')), max_size=200))
def test_any_csv_like_text_parses_or_raises_value_error(text):
    try:
        X, y = from_csv(text)
    except ValueError as err:
        assert str(err)
        return
    assert X.ndim == 2 and y.ndim == 2 and len(X) == len(y) >= 1 and X.shape[1] >= 1
    assert np.isfinite(X).all() and np.isfinite(y).all()


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)), st.integers(-2, 70))
def test_any_input_parses_or_raises_value_error(data, n_targets):
    try:
        from_csv(data, n_targets)
    except ValueError:
        pass


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 30), st.integers(2, 10), st.integers(0, 2**32 - 1))
def test_csv_round_trips_numbers_exactly(rows, cols, seed):
    data = np.random.default_rng(seed).standard_normal((rows, cols)) * 10.0 ** np.random.default_rng(seed).integers(
        -5, 5, (rows, cols)
    )
    text = "\n".join(",".join(repr(float(v)) for v in row) for row in data)
    X, y = from_csv(text, n_targets=1)
    np.testing.assert_array_equal(np.column_stack([X, y]), data)
