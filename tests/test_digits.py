"""The 8 × 8 digits: read offline from scikit-learn's bundled file, equal to load_digits, scaled and centred,
subsets by seed and class count, cached, clear errors, and the Edge of Stability on them with GD."""

import socket

import numpy as np
import pytest

from core import datasets, training


def test_raw_digits_are_scikit_learns_load_digits():
    from sklearn.datasets import load_digits

    pixels, labels = datasets.digits_raw()
    bunch = load_digits()
    np.testing.assert_array_equal(pixels, bunch.data)
    np.testing.assert_array_equal(labels, bunch.target)
    assert pixels.shape == (1797, 64) and pixels.min() == 0 and pixels.max() == 16


def test_loading_needs_no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("no network in this test")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    datasets.digits_raw.cache_clear()
    pixels, _ = datasets.digits_raw()
    assert pixels.shape == (1797, 64)


def test_digits_are_read_once_and_cannot_be_edited():
    datasets.digits_raw.cache_clear()
    first = datasets.digits_raw()
    datasets.make("digits", 50, 0)
    datasets.make("digits", 60, 1, classes=3)
    assert datasets.digits_raw() is first
    info = datasets.digits_raw.cache_info()
    assert info.misses == 1 and info.hits >= 3
    with pytest.raises(ValueError):
        first[0][0, 0] = 99.0  # read-only: a caller cannot change the cached images


def test_subset_is_scaled_centred_one_hot_and_drawn_from_the_chosen_classes():
    X, y = datasets.make("digits", 500, 0, classes=4)
    assert X.shape == (500, 64) and y.shape == (500, 4)
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-13)
    np.testing.assert_array_equal(y.sum(axis=1), 1)
    spread = X.max(axis=0) - X.min(axis=0)
    assert (spread <= 1 + 1e-12).all() and spread.max() == pytest.approx(1.0)  # pixels/16 span [0, 1] at most
    assert datasets.input_dim("digits") == 64 and datasets.output_dim("digits", 4) == 4


def test_subset_rows_are_distinct_images_of_the_right_class():
    X, y = datasets.make("digits", 200, 3, classes=5)
    pixels, labels = datasets.digits_raw()
    rng = np.random.default_rng([3, 5])
    chosen = np.sort(rng.choice(np.flatnonzero(labels < 5), size=200, replace=False))
    np.testing.assert_allclose(X, pixels[chosen] / 16 - (pixels[chosen] / 16).mean(axis=0), atol=1e-15)
    np.testing.assert_array_equal(y.argmax(axis=1), labels[chosen])
    assert len(np.unique(chosen)) == 200 and labels[chosen].max() == 4


def test_deterministic_by_seed():
    a, b, c = datasets.make("digits", 80, 2), datasets.make("digits", 80, 2), datasets.make("digits", 80, 3)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])
    assert datasets.default_loss("digits") == "mse"  # one-hot targets under mse, Cohen et al.'s setting


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_samples": 800, "classes": 4}, "the digits 0–3 have 7[0-9][0-9] images; give a whole number from 1"),
        ({"n_samples": 0}, "n_samples = 0"),
        ({"n_samples": 50, "classes": 1}, "classes = 1: give a whole number of digit classes from 2 to 10"),
        ({"n_samples": 50, "classes": 11}, "from 2 to 10"),
        ({"n_samples": 50, "classes": 2.5}, "classes = 2.5"),
        ({"n_samples": 50, "seed": -1}, "seed"),
    ],
)
def test_bad_digit_requests_say_what_is_allowed(kwargs, message):
    with pytest.raises(ValueError, match=message):
        datasets.make("digits", **({"seed": 0} | kwargs))


def test_classes_is_for_the_digits_only():
    with pytest.raises(ValueError, match="classes = 3 is for the digits only"):
        datasets.make("gaussian", 10, 0, classes=3)


def test_gradient_descent_reaches_the_edge_on_digits():
    """300 digits of 4 classes, MLP 64-16-16-4 swish, mse on one-hot targets, η = 0.8: the sharpness rises
    from ≈ 0.65 × 2/η past 2/η and hovers within 5 % of it while the loss falls (the page's digits preset)."""
    X, y = datasets.make("digits", 300, 0, classes=4)
    run = training.train(0.8, 1000, widths=(64, 16, 16, 4), data=(X, y))
    ratio = run["sharpness"] / run["thresholds"]
    assert ratio[0] < 0.75 and np.nanmax(ratio) > 1.0
    report = training.edge_report(run)
    assert abs(report["tail_median"] - 1) < 0.05
    assert run["loss"][-1] < 0.05 * run["loss"][0]
    assert run["diverged_at"] == -1
