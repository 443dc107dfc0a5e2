"""core.training: the Edge of Stability itself, the momentum thresholds, divergence, caps, gradient flow."""

import math
import warnings

import numpy as np
import pytest

from core import datasets, network, training


def eos_summary(run, steps):
    """(first sharpness, max sharpness, median over the last 30 % of steps, first loss, last loss)."""
    s = run["sharpness"]
    tail = s[int(0.7 * steps) :]
    tail = tail[np.isfinite(tail)]
    return s[0], np.nanmax(s), np.median(tail), run["loss"][0], run["loss"][-1]


@pytest.fixture(scope="module")
def default_run():
    return training.train(0.2, 1000)


def test_edge_of_stability_gd(default_run):
    """theory.md §5: S starts below ½·2/η, crosses 2/η, then hovers within 10 % of it; the loss still falls."""
    threshold = default_run["threshold"]
    assert threshold == pytest.approx(2 / 0.2)
    first, peak, tail, loss0, loss_end = eos_summary(default_run, 1000)
    assert first < threshold / 2
    assert peak > threshold
    assert abs(tail / threshold - 1) < 0.10
    assert loss_end < loss0
    assert default_run["diverged_at"] == -1


def test_edge_of_stability_oscillates_along_the_top_eigenvector(default_run):
    """At EoS the step's component along v₁ flips sign every step (ηλ₁ ≈ 2: factor 1 − ηλ₁ ≈ −1)."""
    proj = default_run["top_projection"][700:-1]
    flips = np.mean(np.sign(proj[1:]) != np.sign(proj[:-1]))
    assert flips > 0.9
    early = default_run["top_projection"][:100]  # far below 2/η: the component mostly decays without flipping
    assert np.mean(np.sign(early[1:]) != np.sign(early[:-1])) < 0.3


def test_edge_of_stability_heavy_ball():
    """The threshold moves to (2 + 2β)/η with momentum, and sharpness follows it there."""
    beta, lr, steps = 0.5, 0.4, 600
    run = training.train(lr, steps, method="heavy_ball", beta=beta)
    threshold = (2 + 2 * beta) / lr
    assert run["threshold"] == pytest.approx(threshold)
    first, peak, tail, loss0, loss_end = eos_summary(run, steps)
    assert first < threshold / 2 and peak > threshold
    assert abs(tail / threshold - 1) < 0.10
    assert loss_end < loss0


def test_edge_of_stability_nesterov():
    beta, lr, steps = 0.5, 0.15, 600
    run = training.train(lr, steps, method="nesterov", beta=beta)
    threshold = (2 + 2 * beta) / ((1 + 2 * beta) * lr)
    assert run["threshold"] == pytest.approx(threshold)
    first, peak, tail, loss0, loss_end = eos_summary(run, steps)
    assert first < threshold / 2 and peak > threshold
    assert abs(tail / threshold - 1) < 0.10
    assert loss_end < loss0


def test_threshold_formulas():
    assert training.threshold(0.1) == pytest.approx(20.0)
    assert training.threshold(0.1, "heavy_ball", 0.9) == pytest.approx(38.0)
    assert training.threshold(0.1, "nesterov", 0.5) == pytest.approx(3.0 / (2.0 * 0.1))
    assert training.threshold(0.1, "nesterov", 0.0) == training.threshold(0.1, "gd")
    with pytest.raises(ValueError, match="method"):
        training.threshold(0.1, "lion")


@pytest.mark.parametrize(
    "method, beta", [("gd", 0.0), ("heavy_ball", 0.5), ("heavy_ball", 0.9), ("nesterov", 0.5), ("nesterov", 0.9)]
)
def test_momentum_threshold_is_where_a_quadratic_stops_converging(method, beta):
    """widths (d, 1) + mse is a quadratic with Hessian A: 3 % under the threshold converges, 3 % over diverges.

    This checks each update rule against theory.md §4, not just the formula for the threshold.
    """
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((50, 4)), rng.standard_normal((50, 1))
    X1 = np.column_stack([X, np.ones(50)])
    lam_max = np.linalg.eigvalsh(X1.T @ X1 / 50)[-1]
    lr_edge = training.threshold(1.0, method, beta) / lam_max  # the η with threshold(η) = λ_max
    stable = training.train(
        0.97 * lr_edge, 3000, widths=(4, 1), data=(X, y), method=method, beta=beta, sharpness_every=1000
    )
    unstable = training.train(
        1.03 * lr_edge, 3000, widths=(4, 1), data=(X, y), method=method, beta=beta, sharpness_every=1000
    )
    assert stable["diverged_at"] == -1 and stable["loss"][-1] < stable["loss"][0]
    assert stable["sharpness"][0] == pytest.approx(lam_max, rel=1e-10)
    assert unstable["diverged_at"] > 0


def test_huge_learning_rate_diverges_cleanly():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings leak out either
        run = training.train(50.0, 200)
    t = run["diverged_at"]
    assert 0 < t <= 200
    assert all(len(run[key]) == 201 for key in ("step", "loss", "sharpness", "grad_norm", "update_norm"))
    assert np.isfinite(run["loss"][:t]).all()
    assert np.isnan(run["loss"][t + 1 :]).all() and np.isnan(run["sharpness"][t:]).all()
    assert np.isnan(run["grad_norm"][t:]).all()


def test_record_shapes_and_sampling():
    run = training.train(0.1, 25, sharpness_every=10, top_k=3)
    assert list(run["step"]) == list(range(26))
    sampled = np.flatnonzero(np.isfinite(run["sharpness"]))
    assert list(sampled) == [0, 10, 20, 25] == list(run["param_steps"])
    assert run["top_k"].shape == (26, 3)
    top = run["top_k"][sampled]
    assert np.all(np.diff(top, axis=1) <= 0)  # descending
    np.testing.assert_array_equal(top[:, 0], run["sharpness"][sampled])
    assert np.all(run["residual"][sampled] < 1e-5 * top[:, 0])
    assert run["param_history"].shape == (4, 433)
    np.testing.assert_array_equal(run["param_history"][-1], run["params"])
    assert np.isnan(run["update_norm"][-1]) and np.isfinite(run["update_norm"][:-1]).all()
    assert np.isnan(run["accuracy"]).all()  # mse: no accuracy
    assert run["hvp_count"] > 0


def test_recorded_values_are_the_model_values():
    """loss, grad_norm and sharpness at step t are those of the recorded θ_t (checked independently)."""
    run = training.train(0.3, 20, sharpness_every=20)
    X, y = datasets.make("gaussian", 128, 0)
    theta = run["param_history"][-1]
    value, grad = network.loss_and_grad(theta, X, y, (8, 16, 16, 1))
    assert run["loss"][20] == pytest.approx(value, rel=1e-12)
    assert run["grad_norm"][20] == pytest.approx(np.linalg.norm(grad), rel=1e-12)
    exact = np.linalg.eigvalsh(network.hessian(theta, X, y, (8, 16, 16, 1)))[-1]
    assert run["sharpness"][20] == pytest.approx(exact, rel=1e-8)
    # and GD really is θ_{t+1} = θ_t − η∇L(θ_t) from init_params
    theta = network.init_params((8, 16, 16, 1), 0)
    for _ in range(20):
        theta = theta - 0.3 * network.loss_and_grad(theta, X, y, (8, 16, 16, 1))[1]
    np.testing.assert_allclose(run["params"], theta, rtol=1e-12, atol=1e-14)


def test_runs_are_deterministic():
    a = training.train(0.2, 30, seed=3, top_k=2)
    b = training.train(0.2, 30, seed=3, top_k=2)
    for key in ("loss", "sharpness", "top_k", "params"):
        np.testing.assert_array_equal(a[key], b[key])
    c = training.train(0.2, 30, seed=4)
    assert not np.allclose(a["params"], c["params"])


def test_callback_gets_growing_partial_records(monkeypatch):
    monkeypatch.setattr(training, "CALLBACK_SECONDS", 0.0)
    seen = []
    training.train(0.1, 12, sharpness_every=5, callback=lambda part, t: seen.append((t, len(part["loss"]))))
    assert seen[:12] == [(t, t + 1) for t in range(12)]
    assert seen[-1] == (12, 13)  # the final call gets the whole run


def test_callback_is_called_at_least_at_the_end():
    seen = []
    run = training.train(0.1, 5, callback=lambda part, t: seen.append(part))
    assert len(seen) >= 1 and seen[-1] is run


def test_cross_entropy_records_accuracy():
    run = training.train(0.5, 100, widths=(2, 16, 16, 2), loss="ce", dataset="spirals", activation="tanh")
    acc = run["accuracy"]
    assert np.all((acc >= 0) & (acc <= 1)) and acc[-1] > 0.5
    assert run["loss"][-1] < run["loss"][0]


def test_user_data_overrides_the_dataset():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 3)), rng.standard_normal(40)
    run = training.train(0.1, 10, widths=(3, 8, 1), data=(X, y))
    assert run["loss"][0] == pytest.approx(network.loss(network.init_params((3, 8, 1), 0), X, y, (3, 8, 1)))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"steps": 20_001}, "steps"),
        ({"steps": -1}, "steps"),
        ({"sharpness_every": 0}, "sharpness_every"),
        ({"top_k": 6}, "top_k"),
        ({"lr": 0.0}, "learning rate"),
        ({"lr": math.nan}, "learning rate"),
        ({"method": "lion"}, "method"),
        ({"method": "heavy_ball", "beta": 1.0}, "beta"),
        ({"dataset": "spirals"}, "widths must start with 2"),
        ({"dataset": "mnist"}, "Unknown dataset"),
        ({"n_samples": 2001}, "n_samples"),
        ({"seed": -1}, "seed"),
        ({"method": "heavy_ball", "beta": "a lot"}, "beta"),
        ({"activation": "gelu"}, "activation"),
        ({"widths": (8, 300, 1)}, "1 to 256"),
        ({"data": (np.ones((3, 8)), np.ones((4, 1)))}, "same"),
        ({"data": (np.full((3, 8), np.nan), np.ones((3, 1)))}, "finite"),
    ],
)
def test_caps_and_bad_arguments_raise_value_error(kwargs, message):
    args = {"lr": 0.1, "steps": 10} | kwargs
    with pytest.raises(ValueError, match=message):
        training.train(**args)


def test_gradient_descent_follows_gradient_flow_for_small_steps():
    """GD is Euler's method on dθ/dt = −∇L: at a fixed time T its distance from the flow is O(η)."""
    distances = []
    for lr, steps in ((0.01, 100), (0.005, 200)):
        run = training.train(lr, steps, sharpness_every=steps // 10)
        flow = training.gradient_flow(lr, steps, sharpness_every=steps // 10, with_sharpness=False)
        assert flow["success"] and list(flow["step"]) == list(run["param_steps"])
        np.testing.assert_allclose(flow["time"], lr * flow["step"])
        dist = training.distance_to_flow(run, flow)
        assert dist["distance"][0] == 0.0  # same start
        assert np.all(dist["relative"] < 2e-4)
        distances.append(dist["distance"][-1])
    assert distances[0] / distances[1] == pytest.approx(2.0, rel=0.15)  # first order in η


def test_gradient_flow_decreases_the_loss_and_reports_sharpness():
    flow = training.gradient_flow(0.2, 100, sharpness_every=10)
    assert np.all(np.diff(flow["loss"]) <= 0)  # dL/dt = −‖∇L‖² ≤ 0
    assert np.isfinite(flow["sharpness"]).all() and flow["sharpness"][-1] > 1.5 * flow["sharpness"][0]
    assert flow["params"].shape == (11, 433)


def test_gradient_flow_stops_at_its_time_budget():
    flow = training.gradient_flow(0.2, 1000, max_seconds=0.05, with_sharpness=False)
    assert not flow["success"] and "time" in flow["message"]
    assert np.isnan(flow["params"][-1]).all() and np.isfinite(flow["params"][0]).all()


def test_gradient_flow_switches_to_bdf_only_when_stiff_and_every_path_agrees(monkeypatch):
    """RK45 while cheap; once the rising sharpness makes the flow stiff (t to 200 at the defaults), BDF with
    the exact Hessian from where RK45 got to. Large models (above FLOW_DENSE_MAX_PARAMS) never build a dense
    Jacobian; BDF from the first steps integrates the same ODE."""
    assert training.gradient_flow(0.01, 100, sharpness_every=20, with_sharpness=False)["njev"] == 0
    switched = training.gradient_flow(0.2, 1000, sharpness_every=100, with_sharpness=False)
    stiff_at = training.FLOW_STIFF_FEVALS
    monkeypatch.setattr(training, "FLOW_STIFF_FEVALS", 50)
    bdf = training.gradient_flow(0.2, 1000, sharpness_every=100, with_sharpness=False)
    monkeypatch.setattr(training, "FLOW_DENSE_MAX_PARAMS", 10)
    rk45 = training.gradient_flow(0.2, 1000, sharpness_every=100, with_sharpness=False)
    assert switched["success"] and bdf["success"] and rk45["success"]
    assert 0 < switched["njev"] < bdf["njev"] and rk45["njev"] == 0
    assert switched["nfev"] > stiff_at
    scale = np.linalg.norm(rk45["params"], axis=1)
    for other in (switched, bdf):
        assert np.all(np.linalg.norm(other["params"] - rk45["params"], axis=1) < 1e-5 * scale)
