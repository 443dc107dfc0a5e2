"""core.quadratic against explicit matrix iteration and the closed forms of theory.md §2–3."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import quadratic as q


def random_orthogonal(n, rng):
    # QR of a Gaussian matrix, signs fixed so Q is Haar-distributed.
    z = rng.standard_normal((n, n))
    qmat, r = np.linalg.qr(z)
    return qmat * np.sign(np.diag(r))


def explicit_run(eigenvalues, lr, theta0_eig, steps, rng):
    """θ ← (I − ηA)θ with A = QΛQᵀ, in the original basis, then rotated back into the eigenbasis."""
    n = len(eigenvalues)
    qmat = random_orthogonal(n, rng)
    a = qmat @ np.diag(eigenvalues) @ qmat.T
    theta = qmat @ theta0_eig
    out = [qmat.T @ theta]
    step = np.eye(n) - lr * a
    for _ in range(steps):
        theta = step @ theta
        out.append(qmat.T @ theta)
    return np.array(out)


@pytest.mark.parametrize("n,steps,ratio", [(1, 50, 0.45), (5, 200, 0.9), (20, 200, 0.99), (50, 120, 1.0)])
def test_iterates_match_explicit_matrix_iteration(n, steps, ratio):
    rng = np.random.default_rng(n)
    lam = rng.uniform(0.05, 3.0, n)
    lr = ratio * q.max_stable_lr(lam)
    theta0 = rng.standard_normal(n)
    exact = q.iterates(lam, lr, theta0, steps)
    brute = explicit_run(lam, lr, theta0, steps, rng)
    for t in range(steps + 1):
        err = np.linalg.norm(exact[t] - brute[t]) / np.linalg.norm(brute[t])
        assert err <= 1e-10, (t, err)
    # The zig-zag: signs agree wherever the value is clearly away from zero.
    big = np.abs(brute) > 1e-8 * np.abs(brute).max(axis=1, keepdims=True)
    assert np.array_equal(np.sign(exact[big]), np.sign(brute[big]))


def test_iterates_shape_and_start():
    out = q.iterates([1.0, 2.0, 3.0], 0.1, [1.0, -2.0, 0.5], 7)
    assert out.shape == (8, 3)
    np.testing.assert_array_equal(out[0], [1.0, -2.0, 0.5])


def test_loss_curve_is_half_sum_lambda_theta_squared():
    rng = np.random.default_rng(3)
    lam = rng.uniform(-0.5, 2.0, 12)
    theta0 = rng.standard_normal(12)
    lr = 0.7
    it = q.iterates(lam, lr, theta0, 60)
    expected = 0.5 * (it**2 * lam).sum(axis=1)
    np.testing.assert_allclose(q.loss_curve(lam, lr, theta0, 60), expected, rtol=1e-10, atol=1e-300)


def test_max_stable_and_optimal_lr_closed_forms():
    lam = np.array([0.5, 2.0, 4.0])
    assert q.max_stable_lr(lam) == 2.0 / 4.0
    assert q.optimal_lr(lam) == 2.0 / (0.5 + 4.0)
    assert q.max_stable_lr([-1.0, 0.0]) == math.inf
    assert q.optimal_lr([0.0, -3.0]) == math.inf
    # η* minimises the rate, which equals (κ − 1)/(κ + 1) there.
    kappa = q.condition_number(lam)
    assert q.rate(lam, q.optimal_lr(lam)) == pytest.approx((kappa - 1) / (kappa + 1), rel=1e-14)
    grid = np.linspace(0.01, 0.49, 500)
    assert min(q.rate(lam, g) for g in grid) >= q.rate(lam, q.optimal_lr(lam)) - 1e-12


@pytest.mark.parametrize("lam_max", [1e-6, 0.3, 1.0, 7.0, 1e6])
def test_just_below_eta_max_converges_just_above_diverges(lam_max):
    lam = np.array([lam_max / 100, lam_max / 2, lam_max])
    eta_max = q.max_stable_lr(lam)
    theta0 = np.ones(3)
    below = q.iterates(lam, eta_max * (1 - 1e-3), theta0, 20_000)
    above = q.iterates(lam, eta_max * (1 + 1e-3), theta0, 20_000)
    assert abs(below[-1, 2]) < 1e-6 and q.status(lam, eta_max * (1 - 1e-3), theta0)["status"] == "converges"
    assert abs(above[-1, 2]) > 1e6 and q.status(lam, eta_max * (1 + 1e-3), theta0)["status"] == "diverges"
    assert q.status(lam, eta_max, theta0)["status"] == "oscillates forever"


@pytest.mark.parametrize(
    "lam,lr,regime,last",
    [
        (1.0, 0.5, "monotone decay", 0.5**10),
        (1.0, 1.0, "solved in one step", 0.0),
        (1.0, 1.5, "zig-zag decay", 0.5**10),  # (−0.5)^10 > 0
        (1.0, 2.0, "oscillates forever", 1.0),
        (1.0, 3.0, "oscillating blow-up", 2.0**10),
        (0.0, 0.7, "flat (never moves)", 1.0),
        (-1.0, 0.5, "saddle: grows", 1.5**10),
        (1.0, 0.0, "frozen (η = 0)", 1.0),
    ],
)
def test_every_row_of_the_regimes_table(lam, lr, regime, last):
    assert q.regimes([lam], lr)[0] == regime
    out = q.iterates([lam], lr, [1.0], 10)[:, 0]
    assert out[-1] == pytest.approx(last, rel=1e-12, abs=1e-300)
    if regime in ("zig-zag decay", "oscillates forever", "oscillating blow-up"):
        assert np.all(np.sign(out[1:]) == -np.sign(out[:-1]))  # flips every step
    if regime == "monotone decay":
        assert np.all(np.diff(out) < 0) and np.all(out > 0)


def test_overflow_gives_signed_inf_and_diverged_flag_never_nan():
    lam = np.array([1e6, 1.0, 0.0, -2.0])
    out = q.iterates(lam, 1.0, [1.0, 1.0, 0.0, 1.0], 100_000)
    assert not np.isnan(out).any()
    assert np.isinf(out[-1, 0]) and np.isinf(out[-1, 3]) and out[-1, 3] > 0
    # r = 1 − 1e6 < 0: the sign alternates even at ±inf.
    assert np.sign(out[99_999, 0]) == -np.sign(out[100_000, 0])
    assert out[-1, 2] == 0.0
    loss = q.loss_curve(lam, 1.0, [1.0, 1.0, 0.0, 1.0], 100_000)
    assert not np.isnan(loss).any() and loss[-1] == math.inf  # λ=1e6 wins over the saddle
    st_ = q.status(lam, 1.0, [1.0, 1.0, 0.0, 1.0])
    assert st_["status"] == "diverges" and st_["direction"] == 0 and st_["step"] == 2.0  # 999,999 < 1e6 after one step


def test_loss_inf_minus_inf_resolved_by_growth_rate():
    # Saddle grows faster than the steep direction: loss → −inf, never NaN.
    log_l, sign = q.log_loss([3.0, -5.0], 1.0, [1.0, 1.0], np.array([0, 10, 1000, 100_000]))
    assert not np.isnan(log_l).any() and sign[-1] == -1 and log_l[-1] > 400


def test_exact_cancellation_gives_zero_loss():
    log_l, sign = q.log_loss([1.0, -1.0], 0.0, [1.0, 1.0], np.array([0, 5]))
    assert np.all(np.isneginf(log_l)) and np.all(sign == 0)


def test_steps_to_tolerance():
    lam = [1.0, 4.0]
    lr = 0.25
    rho = q.rate(lam, lr)
    assert rho == 0.75
    k = q.steps_to_tolerance(lam, lr, 1e-6)
    assert rho**k <= 1e-6 < rho ** (k - 1)
    assert q.steps_to_tolerance(lam, 0.5, 1e-6) == math.inf  # ηλ_max = 2
    assert q.steps_to_tolerance([2.0], 0.5, 1e-3) == 1
    with pytest.raises(ValueError, match="between 0 and 1"):
        q.steps_to_tolerance(lam, lr, 2.0)


def test_blowup_step_is_first_to_pass_a_million():
    lam = np.array([1.0, 5.0, 3.0])
    i, t = q.blowup_step(lam, 1.0, np.ones(3))
    assert i == 1  # |1 − 5| = 4 grows fastest
    assert 4.0**t >= 1e6 > 4.0 ** (t - 1)


def test_steps_cap():
    with pytest.raises(ValueError, match="100,000"):
        q.iterates([1.0], 0.1, [1.0], 100_001)


@given(
    steps=st.integers(0, 100_000),
    max_points=st.integers(10, 400),
)
@settings(max_examples=200, deadline=None)
def test_sample_steps_bounded_sorted_with_ends(steps, max_points):
    t = q.sample_steps(steps, max_points=max_points)
    assert t[0] == 0 and t[-1] == steps
    assert len(t) <= max_points and np.all(np.diff(t) > 0)


@given(
    lam=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=30),
    lr=st.floats(0, 1e6, allow_nan=False),
    t=st.integers(0, 100_000),
)
@settings(max_examples=300, deadline=None)
def test_never_nan_anywhere(lam, lr, t):
    steps = np.array([0, 1, t])
    theta0 = np.linspace(-1, 1, len(lam))
    assert not np.isnan(q.iterates_at(lam, lr, theta0, steps)).any()
    log_l, sign = q.log_loss(lam, lr, theta0, steps)
    assert not np.isnan(log_l).any() and not np.isnan(sign).any()


def test_representative_directions_keep_extremes():
    lam = np.random.default_rng(0).uniform(0, 1, 5000)
    idx = q.representative_directions(lam, 20)
    assert len(idx) <= 20
    assert lam[idx].max() == lam.max() and lam[idx].min() == lam.min()
    assert list(q.representative_directions([3.0, 1.0], 20)) == [0, 1]
