"""Mini-batch SGD in core.training: the batches, bit-for-bit GD at batch_size = n, batch sharpness against
dense per-batch Hessians, the Rayleigh bound, the Edge of Stochastic Stability, and interpolation first."""

import math

import numpy as np
import pytest

from core import network, training

WIDTHS = (3, 5, 1)


@pytest.fixture(scope="module")
def tiny():
    rng = np.random.default_rng(7)
    return rng.standard_normal((20, 3)), rng.standard_normal((20, 1))


@pytest.mark.parametrize("method, beta", [("gd", 0.0), ("heavy_ball", 0.6)])
def test_mini_batch_steps_follow_the_documented_batches(tiny, method, beta):
    """Each epoch: a permutation from default_rng([seed, 7]) cut into n // b batches (remainder dropped)."""
    X, y = tiny
    lr, b, steps, seed = 0.1, 6, 11, 3
    run = training.train(lr, steps, widths=WIDTHS, data=(X, y), seed=seed, method=method, beta=beta, batch_size=b)
    rng = np.random.default_rng([seed, 7])
    batches = []
    while len(batches) < steps:
        order = rng.permutation(20)
        batches += [order[i * b : (i + 1) * b] for i in range(20 // b)]  # 3 batches, 2 samples left out
    theta, last = network.init_params(WIDTHS, seed), 0.0
    for t in range(steps):
        assert run["loss"][t] == pytest.approx(network.loss(theta, X, y, WIDTHS), rel=1e-12)  # full-batch loss
        _, g = network.loss_and_grad(theta, X[batches[t]], y[batches[t]], WIDTHS)
        last = -lr * g + beta * last
        theta = theta + last
    np.testing.assert_allclose(run["params"], theta, rtol=1e-12, atol=1e-14)
    assert run["batch_size"] == b and run["n_samples"] == 20


@pytest.mark.parametrize("kwargs", [{}, {"method": "heavy_ball", "beta": 0.5}, {"dataset": "spirals"}])
def test_batch_size_n_is_todays_full_batch_run_bit_for_bit(kwargs):
    if kwargs.get("dataset") == "spirals":
        kwargs = kwargs | {"widths": (2, 16, 2), "loss": "ce", "top_k": 2}
    full = training.train(0.2, 150, **kwargs)
    same = training.train(0.2, 150, batch_size=128, **kwargs)
    for key in ("loss", "sharpness", "top_k", "residual", "grad_norm", "update_norm", "top_projection", "params"):
        np.testing.assert_array_equal(full[key], same[key])
    assert np.isnan(full["batch_sharpness"]).all()
    # batch = all data: g_BᵀH_Bg_B/‖g_B‖² = gᵀHg/‖g‖², a Rayleigh quotient of H, so ≤ λ_max, from one batch
    sampled = np.isfinite(same["sharpness"])
    assert (same["batch_sharpness"][sampled] <= same["sharpness"][sampled] * (1 + 1e-9)).all()
    assert (same["batch_count"][sampled] == 1).all() and (same["batch_sharpness_stderr"][sampled] == 0).all()


def test_batch_sharpness_with_all_data_is_the_dense_rayleigh_quotient(tiny):
    X, y = tiny
    run = training.train(0.3, 30, widths=WIDTHS, data=(X, y), batch_size=20, sharpness_every=10)
    for i, t in enumerate(run["param_steps"]):
        theta = run["param_history"][i]
        _, g = network.loss_and_grad(theta, X, y, WIDTHS)
        H = network.hessian(theta, X, y, WIDTHS)
        assert run["batch_sharpness"][t] == pytest.approx(g @ H @ g / (g @ g), rel=1e-10)
        assert run["batch_sharpness"][t] <= np.linalg.eigvalsh(H)[-1] + 1e-12


def test_batch_sharpness_is_the_mean_over_fresh_batches_of_dense_quotients(tiny):
    """Replays the documented draws with dense batch Hessians and the documented stopping rule."""
    X, y = tiny
    theta = network.init_params(WIDTHS, 1) * 1.5
    result = training.batch_sharpness(theta, X, y, WIDTHS, batch_size=4, seed=11)
    rng = np.random.default_rng(11)
    quotients = []
    for _ in range(training.MAX_BATCHES):
        index = rng.choice(20, size=4, replace=False)
        _, g = network.loss_and_grad(theta, X[index], y[index], WIDTHS)
        H = network.hessian(theta, X[index], y[index], WIDTHS)
        quotients.append(g @ H @ g / (g @ g))
        k = len(quotients)
        if k >= training.MIN_BATCHES and np.std(quotients, ddof=1) / math.sqrt(k) <= 0.01 * abs(np.mean(quotients)):
            break
    assert result["count"] == len(quotients)
    assert result["mean"] == pytest.approx(np.mean(quotients), rel=1e-9)
    assert result["stderr"] == pytest.approx(np.std(quotients, ddof=1) / math.sqrt(len(quotients)), rel=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batch_sharpness_never_exceeds_the_largest_batch_eigenvalue(tiny, seed):
    """A Rayleigh quotient of H_B is at most λ_max(H_B): with one sample per batch, check each sample."""
    X, y = tiny
    theta = network.init_params(WIDTHS, seed)
    result = training.batch_sharpness(theta, X, y, WIDTHS, batch_size=20, seed=seed)
    assert result["count"] == 1
    assert result["mean"] <= np.linalg.eigvalsh(network.hessian(theta, X, y, WIDTHS))[-1] + 1e-12


def test_sgd_edge_of_stochastic_stability():
    """theory.md §8 on the default problem, batch 16 of 128, η = 0.2: batch sharpness rises to 2/η and hovers
    there (tail median within 15 %) while the full-batch λ_max stays below it; the edge comes before the
    loss falls under 1 % of its start."""
    run = training.train(0.2, 2000, batch_size=16, sharpness_every=50)
    report = training.edge_report(run)
    assert report["quantity"] == "batch_sharpness"
    ratio = run["batch_sharpness"] / run["thresholds"]
    assert ratio[0] < 0.3
    assert abs(report["tail_median"] - 1) < 0.15
    full = run["sharpness"] / run["thresholds"]
    tail = full[1400:][np.isfinite(full[1400:])]
    assert np.median(tail) < 0.85
    assert report["reached_at"] is not None and not report["interpolated_first"]


def test_sgd_edge_with_twice_the_samples():
    """More data than the default: n = 256, batch 16, η = 0.4, 4,000 steps. The batch sharpness climbs from
    0.2 × 2/η to the edge and hovers (tail median within 15 %) while the full-batch λ_max stays near 0.6 × 2/η;
    the loss is still above 1 % of its start when the edge is reached."""
    run = training.train(0.4, 4000, n_samples=256, batch_size=16, sharpness_every=200)
    report = training.edge_report(run)
    assert (run["batch_sharpness"] / run["thresholds"])[0] < 0.3
    assert abs(report["tail_median"] - 1) < 0.15
    full = run["sharpness"] / run["thresholds"]
    assert np.nanmedian(full[2800:]) < 0.75
    assert report["reached_at"] is not None and not report["interpolated_first"]


def test_a_small_problem_interpolates_first():
    """100 digits of 4 classes under SGD (batch 16, η = 0.5): the loss falls below 1 % of its start while the
    batch sharpness stays near half of 2/η, and edge_report says the run interpolated first."""
    from core import datasets

    X, y = datasets.make("digits", 100, 0, classes=4)
    run = training.train(0.5, 800, widths=(64, 16, 16, 4), data=(X, y), batch_size=16, sharpness_every=50)
    report = training.edge_report(run)
    assert report["quantity"] == "batch_sharpness"
    assert report["interpolated_first"] and report["reached_at"] is None
    assert report["interpolated_at"] is not None and report["peak"] < 0.8


def test_edge_report_for_full_batch_gd():
    run = training.train(0.2, 1000)
    report = training.edge_report(run)
    assert report["quantity"] == "sharpness" and abs(report["tail_median"] - 1) < 0.1
    assert 200 < report["reached_at"] < 400 and not report["interpolated_first"]


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 57])
def test_running_median_of_three_matches_the_windows_one_by_one(n):
    """edge_report's smoothing, vectorised, against np.median of each window (the first one or two are shorter)."""
    values = np.random.default_rng(n).standard_normal(n)
    windows = [np.median(values[max(0, i - 2) : i + 1]) for i in range(n)]
    assert np.array_equal(training.running_median3(values), np.array(windows))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"batch_size": 0}, "batch_size = 0: give a whole number from 1 to 128"),
        ({"batch_size": 129}, "batch_size = 129: give a whole number from 1 to 128, the number of training samples"),
        ({"batch_size": 2.5}, "batch_size = 2.5"),
        ({"batch_size": True}, "batch_size = True"),
        ({"batch_size": 16, "method": "nesterov", "beta": 0.5}, "runs with method 'gd' or 'heavy_ball'"),
        ({"batch_size": 16, "method": "rmsprop"}, "runs with method 'gd' or 'heavy_ball'"),
    ],
)
def test_bad_batch_sizes_say_what_is_allowed(kwargs, message):
    with pytest.raises(ValueError, match=message):
        training.train(0.1, 5, **kwargs)
    if "method" not in kwargs:
        with pytest.raises(ValueError, match="batch_size"):
            training.batch_sharpness(network.init_params((8, 16, 16, 1)), *_gaussian(), (8, 16, 16, 1), **kwargs)


def _gaussian():
    from core import datasets

    return datasets.make("gaussian", 128, 0)
