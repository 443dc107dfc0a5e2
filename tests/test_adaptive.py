"""Adam and RMSProp in core.training: the update, λ_max(P⁻¹H) against dense eigensolves, the threshold
(2 + 2β₁)/((1 − β₁)η) against a frozen-preconditioner quadratic, and the Edge of Stability they reach."""

import math

import numpy as np
import pytest
import scipy.linalg

from core import network, training

WIDTHS = (3, 5, 1)


@pytest.fixture(scope="module")
def tiny():
    rng = np.random.default_rng(4)
    return rng.standard_normal((20, 3)), rng.standard_normal((20, 1))


def explicit_run(method, lr, steps, X, y, beta1=0.9, beta2=0.999, eps=1e-8):
    """PyTorch's Adam / RMSprop written out step by step: (θ_t, P_t) for t = 0 … steps, P_t of the step from θ_t."""
    theta = network.init_params(WIDTHS, 0)
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    thetas, preconditioners = [], []
    for t in range(1, steps + 2):
        _, g = network.loss_and_grad(theta, X, y, WIDTHS)
        v = beta2 * v + (1 - beta2) * g * g
        if method == "adam":
            m = beta1 * m + (1 - beta1) * g
            m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
            update = m_hat / (np.sqrt(v_hat) + eps)
            p = (1 - beta1**t) * (np.sqrt(v_hat) + eps)
            assert np.allclose(update, m / p, rtol=1e-12)  # θ ← θ − η P⁻¹ m, the form the docstring states
        else:
            update = g / (np.sqrt(v) + eps)
            p = np.sqrt(v) + eps
        thetas.append(theta.copy())
        preconditioners.append(p)
        theta = theta - lr * update
    return thetas, preconditioners


@pytest.mark.parametrize("method, lr", [("adam", 0.05), ("rmsprop", 0.01)])
def test_update_is_pytorchs(tiny, method, lr):
    X, y = tiny
    run = training.train(lr, 12, widths=WIDTHS, data=(X, y), method=method, sharpness_every=4)
    thetas, preconditioners = explicit_run(method, lr, 12, X, y)
    np.testing.assert_allclose(run["params"], thetas[12], rtol=1e-11, atol=1e-13)
    for t in range(13):
        assert run["loss"][t] == pytest.approx(network.loss(thetas[t], X, y, WIDTHS), rel=1e-11)
    np.testing.assert_allclose(run["preconditioner"], preconditioners[12], rtol=1e-12)


@pytest.mark.parametrize("method, lr", [("adam", 0.05), ("rmsprop", 0.01)])
def test_preconditioned_sharpness_is_the_dense_generalised_eigenvalue(tiny, method, lr):
    """λ_max(P⁻¹H) from Lanczos on P^{-1/2}HP^{-1/2} = the largest λ of Hx = λPx, dense, at every sampled step."""
    X, y = tiny
    run = training.train(lr, 40, widths=WIDTHS, data=(X, y), method=method, sharpness_every=10)
    thetas, preconditioners = explicit_run(method, lr, 40, X, y)
    for t in (0, 10, 20, 30, 40):
        H = network.hessian(thetas[t], X, y, WIDTHS)
        dense = scipy.linalg.eigh(H, np.diag(preconditioners[t]), eigvals_only=True)[-1]
        assert run["preconditioned_sharpness"][t] == pytest.approx(dense, rel=1e-7)
        assert run["sharpness"][t] == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-7)
    unsampled = np.setdiff1d(np.arange(41), run["param_steps"])
    assert np.isnan(run["preconditioned_sharpness"][unsampled]).all()


def frozen_quadratic_diverges(lr, beta1, curvatures, preconditioner, steps=4000):
    """Adam's recursion with P frozen on L = ½ Σ λᵢθᵢ²: m ← β₁m + (1 − β₁)Hθ, θ ← θ − ηP⁻¹m (from rest)."""
    theta = np.ones_like(curvatures)
    m = np.zeros_like(curvatures)
    for _ in range(steps):
        m = beta1 * m + (1 - beta1) * curvatures * theta
        theta = theta - lr * m / preconditioner
        if not np.all(np.abs(theta) < 1e6):
            return True
    return bool(np.max(np.abs(theta)) > 1.0)


@pytest.mark.parametrize("beta1", [0.0, 0.5, 0.9])
def test_threshold_is_where_a_frozen_preconditioner_quadratic_stops_converging(beta1):
    """Bisection on η for the explicit recursion lands on threshold(η) = λ_max(P⁻¹H): 38/η at β₁ = 0.9."""
    curvatures = np.array([0.5, 3.0, 7.0])
    preconditioner = np.array([0.2, 1.5, 0.25])
    top = np.max(curvatures / preconditioner)  # λ_max(P⁻¹H) = 28 here (H, P diagonal)
    low, high = 1e-4, 10.0
    assert not frozen_quadratic_diverges(low, beta1, curvatures, preconditioner)
    assert frozen_quadratic_diverges(high, beta1, curvatures, preconditioner)
    for _ in range(40):
        mid = math.sqrt(low * high)
        low, high = (mid, high) if not frozen_quadratic_diverges(mid, beta1, curvatures, preconditioner) else (low, mid)
    method = "rmsprop" if beta1 == 0.0 else "adam"
    assert training.threshold(low, method, beta1=beta1) == pytest.approx(top, rel=5e-3)
    if beta1 == 0.9:
        assert training.threshold(low, "adam") * low == pytest.approx(38.0)


def test_threshold_formulas():
    assert training.threshold(0.01, "adam") == pytest.approx(3800.0)
    assert training.threshold(0.01, "adam", beta1=0.5) == pytest.approx(600.0)
    assert training.threshold(0.01, "adam", beta1=0.0) == training.threshold(0.01, "rmsprop") == pytest.approx(200.0)
    run = training.train(0.01, 3, method="adam", beta1=0.8)
    assert run["threshold"] == pytest.approx(3.6 / 0.2 / 0.01) and run["method"] == "adam"


def tail_median(values, fraction=0.3):
    tail = values[int((1 - fraction) * len(values)) :]
    return float(np.median(tail[np.isfinite(tail)]))


@pytest.mark.parametrize("lr", [0.01, 0.003])
def test_adam_edge_of_stability_on_the_default_problem(lr):
    """theory.md §7: λ_max(P⁻¹H) rises to 38/η and hovers within 15 %; the raw sharpness stays far from 2/η."""
    run = training.train(lr, 3000, method="adam")
    ratio = run["preconditioned_sharpness"] / run["thresholds"]
    assert run["diverged_at"] == -1
    assert ratio[0] < 0.5
    assert np.nanmax(ratio) > 1.0
    assert abs(tail_median(ratio) - 1) < 0.15
    raw = tail_median(run["sharpness"])
    assert raw < 0.25 * (2 / lr)  # raw sharpness tracks no η-threshold: 27–39 against 2/η = 200 or 667


def test_rmsprop_edge_of_stability_on_the_default_problem():
    run = training.train(0.003, 3000, method="rmsprop")
    ratio = run["preconditioned_sharpness"] / run["thresholds"]
    assert run["diverged_at"] == -1 and run["thresholds"][0] == pytest.approx(2 / 0.003)
    assert abs(tail_median(ratio) - 1) < 0.15
    assert tail_median(run["sharpness"]) < 0.05 * (2 / 0.003)


def test_full_batch_methods_record_no_preconditioned_sharpness():
    run = training.train(0.2, 20)
    assert np.isnan(run["preconditioned_sharpness"]).all() and run["preconditioner"] is None


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"beta1": 1.0}, "beta1 = 1.0: Adam's β₁"),
        ({"beta1": 1.5}, "0 ≤ beta1 < 1"),
        ({"beta1": -0.1}, "0 ≤ beta1 < 1"),
        ({"beta1": float("nan")}, "0 ≤ beta1 < 1"),
        ({"beta1": "high"}, "must be a number"),
        ({"beta2": 1.0}, "0 ≤ beta2 < 1"),
        ({"eps": 0.0}, "0 < ε"),
        ({"eps": -1e-8}, "0 < ε"),
        ({"eps": float("nan")}, "0 < ε"),
        ({"eps": 10.0}, "ε ≤ 1"),
        ({"eps": None}, "must be a number"),
        ({"batch_size": 16}, "mini-batch SGD, which runs with method 'gd' or 'heavy_ball'"),
    ],
)
def test_bad_adam_inputs_say_what_is_allowed(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        training.train(0.01, 5, method="adam", **kwargs)
