"""core.momentum against explicit two-step recursions, numpy's eigvals and the formulas of theory.md §4."""

import math
from decimal import Decimal, getcontext

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import momentum as mom
from core import quadratic

BETAS = [0.0, 0.3, 0.9, 0.99]


def random_orthogonal(n, rng):
    # QR of a Gaussian matrix, signs fixed so Q is Haar-distributed.
    qmat, r = np.linalg.qr(rng.standard_normal((n, n)))
    return qmat * np.sign(np.diag(r))


def explicit_run(eigenvalues, lr, beta, theta0_eig, steps, method, rng):
    """The two-step recursions on the full θ with A = QΛQᵀ, rotated into the eigenbasis after."""
    n = len(eigenvalues)
    qmat = random_orthogonal(n, rng)
    a = qmat @ np.diag(eigenvalues) @ qmat.T
    theta = qmat @ theta0_eig
    prev = theta.copy()  # start at rest: θ_{−1} = θ_0
    out = [theta]
    for _ in range(steps):
        if method == "heavy_ball":
            new = theta - lr * (a @ theta) + beta * (theta - prev)
        elif method == "nesterov":
            y = theta + beta * (theta - prev)
            new = y - lr * (a @ y)
        else:
            new = theta - lr * (a @ theta)
        prev, theta = theta, new
        out.append(theta)
    return np.array(out) @ qmat  # row t is (Qᵀ θ_t)ᵀ


def scalar_recursion(h, beta, x0, steps, method):
    """x_{t+1} = a x_t − b x_{t−1} in plain Python floats, straight from theory.md §4."""
    h, beta, x0 = float(h), float(beta), float(x0)  # Python floats overflow to inf silently
    if method == "heavy_ball":
        a, b = 1 + beta - h, beta
    elif method == "nesterov":
        a, b = (1 + beta) * (1 - h), beta * (1 - h)
    else:
        a, b = 1 - h, 0.0
    xs, prev, x = [x0], x0, x0
    for _ in range(steps):
        prev, x = x, a * x - b * prev
        xs.append(x)
    return np.array(xs)


def normwise_errors(got, ref, rho):
    """‖got_t − ref_t‖ / scale_t, scale_t = max(‖ref_t‖, max_{s<t} ‖ref_s‖ ρ^(t−1−s)).

    The reference's own rounding at step s is about ε‖ref_s‖ and decays no faster than ρ^(t−s)
    (ρ = the slowest rate), so where every direction dies fast (ηλ = 1 solves GD in one step)
    ‖ref_t‖ alone is rounding noise and would make any answer look wrong. Below 1e-300 (subnormal
    floats, digits lost to underflow) relative errors mean nothing: the scale stops there.
    """
    norms = np.linalg.norm(ref, axis=1)
    scale = np.maximum(norms, 1e-300)
    carried = 0.0
    for t in range(1, len(norms)):
        carried = max(norms[t - 1], rho * carried)
        scale[t] = max(scale[t], carried)
    return np.linalg.norm(got - ref, axis=1) / scale


# ---------------------------------------------------------------- iterates vs brute force


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 50),
    steps=st.integers(1, 200),
    method=st.sampled_from(mom.METHODS),
    beta=st.sampled_from(BETAS) | st.floats(0.0, 0.99),
    ratio=st.floats(0.05, 1.3),
)
def test_iterates_match_explicit_recursion_in_original_basis(seed, n, steps, method, beta, ratio):
    rng = np.random.default_rng(seed)
    lam = rng.uniform(0.01, 3.0, n)
    flat = rng.random(n) < 0.1
    flat[np.argmax(lam)] = False
    lam[flat] = 0.0  # some flat directions
    lr = ratio * mom.max_stable_lr(lam, beta, method)
    theta0 = rng.standard_normal(n)
    got = mom.iterates(lam, lr, beta, theta0, steps, method)
    ref = explicit_run(lam, lr, beta, theta0, steps, method, rng)
    assert got.shape == (steps + 1, n) and got.dtype == np.float64
    assert np.max(normwise_errors(got, ref, mom.rate(lam, lr, beta, method))) <= 1e-10


@pytest.mark.parametrize("method", ["heavy_ball", "nesterov"])
@pytest.mark.parametrize("beta", BETAS)
def test_iterates_match_explicit_recursion_fixed_cases(method, beta):
    rng = np.random.default_rng(int(beta * 100))
    n, steps = 50, 200
    lam = np.geomspace(0.01, 2.0, n)
    for ratio in (0.3, 0.7, 0.999, 1.1):
        lr = ratio * mom.max_stable_lr(lam, beta, method)
        theta0 = rng.standard_normal(n)
        got = mom.iterates(lam, lr, beta, theta0, steps, method)
        ref = explicit_run(lam, lr, beta, theta0, steps, method, rng)
        assert np.max(normwise_errors(got, ref, mom.rate(lam, lr, beta, method))) <= 1e-10


def decimal_recursion(h, beta, steps, method):
    """x_{t+1} = a x_t − b x_{t−1} from x_{−1} = x_0 = 1 in 50-digit decimals (the inputs taken exactly)."""
    getcontext().prec = 50
    h, beta = Decimal(float(h)), Decimal(float(beta))
    a, b = (1 + beta - h, beta) if method == "heavy_ball" else ((1 + beta) * (1 - h), beta * (1 - h))
    xs, prev, x = [Decimal(1)], Decimal(1), Decimal(1)
    for _ in range(steps):
        prev, x = x, a * x - b * prev
        xs.append(x)
    return np.array([float(v) for v in xs])


@pytest.mark.parametrize("method", ["heavy_ball", "nesterov"])
def test_iterates_at_critical_damping_against_high_precision(method):
    # At a repeated root (a² = 4b) a closed form through the roots breaks down; matrix powers and the
    # recursion do not. x_t is ill-conditioned there: rounding a = 1 + β − h alone moves x_t by ~t²ε.
    beta, steps = 0.81, 3000
    if method == "heavy_ball":
        h = (1 - math.sqrt(beta)) ** 2  # a = 1 + β − h = 2√β
    else:
        h = 1 - 4 * beta / (1 + beta) ** 2  # (1 + β)²(1 − h) = 4β
    lam = np.array([h, h * (1 + 1e-9), h * (1 - 1e-9)])
    ref = np.stack([decimal_recursion(x, beta, steps, method) for x in lam], axis=1)
    t = np.arange(0, steps + 1, 7)
    np.testing.assert_allclose(mom.iterates(lam, 1.0, beta, 1.0, steps, method), ref, rtol=1e-9, atol=0)
    np.testing.assert_allclose(mom.iterates_at(lam, 1.0, beta, 1.0, t, method), ref[t], rtol=1e-9, atol=0)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 40),
    steps=st.integers(0, 3000),
    method=st.sampled_from(mom.METHODS),
    beta=st.sampled_from(BETAS) | st.floats(0.0, 0.99),
    ratio=st.floats(0.01, 1.1),
    n_t=st.integers(0, 60),
)
def test_iterates_at_equals_rows_of_iterates(seed, n, steps, method, beta, ratio, n_t):
    rng = np.random.default_rng(seed)
    lam = rng.uniform(0.0, 5.0, n)
    lr = ratio * mom.max_stable_lr(lam, beta, method)
    theta0 = rng.standard_normal(n)
    full = mom.iterates(lam, lr, beta, theta0, steps, method)
    t = np.unique(np.concatenate([rng.integers(0, steps + 1, n_t), [0, steps]]))
    at = mom.iterates_at(lam, lr, beta, theta0, t, method)
    assert at.shape == (t.size, n)
    np.testing.assert_array_equal(np.isfinite(at), np.isfinite(full[t]))
    rows = np.isfinite(full[t]).all(axis=1)
    # Max-norms, which cannot overflow where the 2-norm of a 1e200-sized row would.
    diff = np.max(np.abs(at[rows] - full[t][rows]), axis=1, initial=0.0)
    assert np.all(diff <= 1e-9 * np.max(np.abs(full[t][rows]), axis=1, initial=0.0) + 1e-290)


def test_iterates_at_accepts_empty_and_unsorted_steps():
    lam, theta0 = np.array([0.5, 1.5]), np.array([1.0, -2.0])
    assert mom.iterates_at(lam, 0.5, 0.9, theta0, np.array([], dtype=int), "heavy_ball").shape == (0, 2)
    full = mom.iterates(lam, 0.5, 0.9, theta0, 50, "nesterov")
    t = np.array([50, 3, 0, 17])
    np.testing.assert_allclose(mom.iterates_at(lam, 0.5, 0.9, theta0, t, "nesterov"), full[t], rtol=1e-12)


# ---------------------------------------------------------------- β = 0 is plain GD


@pytest.mark.parametrize("method", mom.METHODS)
def test_beta_zero_is_plain_gd(method):
    rng = np.random.default_rng(7)
    lam = np.concatenate([rng.uniform(0.0, 2.5, 30), [0.0, -0.3, 1.0]])
    theta0 = rng.standard_normal(lam.size)
    lr, steps = 0.9, 300
    t = np.arange(steps + 1)[:, None]
    direct = (1.0 - lr * lam) ** t * theta0  # finite here: |1 − ηλ| ≤ 1.25, 1.25^300 ≈ 1e29
    # atol: below ~1e-300 the direct product is subnormal and has lost digits itself.
    np.testing.assert_allclose(mom.iterates(lam, lr, 0.0, theta0, steps, method), direct, rtol=1e-15, atol=1e-300)
    ts = np.array([0, 1, 2, 77, 300])
    np.testing.assert_allclose(mom.iterates_at(lam, lr, 0.0, theta0, ts, method), direct[ts], rtol=1e-15, atol=1e-300)


def test_gd_ignores_beta():
    lam, theta0 = np.array([0.2, 1.0, 1.9]), np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(
        mom.iterates(lam, 1.0, 0.7, theta0, 40, "gd"), mom.iterates(lam, 1.0, 0.0, theta0, 40, "gd")
    )
    assert mom.max_stable_lr(lam, 0.7, "gd") == 2 / 1.9


def test_beta_zero_matches_core_quadratic():
    # The one test that uses core.quadratic: both modules must agree on plain GD.
    rng = np.random.default_rng(3)
    lam = rng.uniform(0.0, 3.0, 20)
    theta0 = rng.standard_normal(20)
    for method in ("heavy_ball", "nesterov"):
        got = mom.iterates(lam, 0.7, 0.0, theta0, 500, method)
        np.testing.assert_allclose(got, quadratic.iterates(lam, 0.7, theta0, 500), rtol=1e-11, atol=1e-300)


# ---------------------------------------------------------------- overflow


@pytest.mark.parametrize("method", mom.METHODS)
def test_overflow_gives_inf_never_nan(method):
    beta = 0.5
    lam = np.array([1e3, 1e6, 0.5, 3.0, 0.0, -1.0, 1e6])
    theta0 = np.array([1.0, -1e-300, 1.0, 0.0, 1.0, 2.0, 0.0])
    steps = 100_000
    full = mom.iterates(lam, 1.0, beta, theta0, steps, method)
    assert full.shape == (steps + 1, lam.size)
    assert not np.isnan(full).any()
    assert np.isinf(full[-1, [0, 1, 5]]).all()  # the diverging directions overflowed
    assert np.all(full[:, [3, 6]] == 0)  # θ̃_0 = 0 stays 0, even where ρ is huge (no 0·inf)
    assert np.all(full[:, 4] == 1.0)  # λ = 0: never moves
    assert np.all(np.isfinite(full[:, 2]))  # a converging direction
    t = np.array([0, 1, 2, 10, 100, 1000, 54_321, 99_999, 100_000])
    at = mom.iterates_at(lam, 1.0, beta, theta0, t, method)
    assert not np.isnan(at).any()
    np.testing.assert_array_equal(np.sign(at[:, [0, 1, 5]]), np.sign(full[t][:, [0, 1, 5]]))
    np.testing.assert_array_equal(np.isinf(at), np.isinf(full[t]))
    # Before overflow the values are those of the plain recursion, signs included.
    for i in (0, 1, 5):
        ref = scalar_recursion(lam[i] * 1.0, beta, theta0[i], 300, method)
        finite = np.isfinite(ref) & (np.abs(ref) < 1e300)
        np.testing.assert_allclose(full[:301][finite, i], ref[finite], rtol=1e-12)


@pytest.mark.parametrize("method", ["heavy_ball", "nesterov"])
def test_tiny_start_stays_finite_longer_than_float_powers(method):
    # x_t is linear in x_0: with x_0 = 2^-900 every value is 2^-900 times the x_0 = 1 run, exactly,
    # until that run overflows; after it the tiny run must keep growing at the rate ρ.
    lam, beta, steps = np.array([4.0]), 0.5, 2000
    big = mom.iterates(lam, 1.0, beta, 1.0, steps, method)[:, 0]
    tiny = mom.iterates(lam, 1.0, beta, 2.0**-900, steps, method)[:, 0]
    ok = np.isfinite(big) & (tiny != 0)
    np.testing.assert_array_equal(tiny[ok] * 2.0**900, big[ok])
    assert np.isinf(big[-1]) and np.isinf(tiny[-1])
    last_big, last_tiny = np.flatnonzero(np.isfinite(big))[-1], np.flatnonzero(np.isfinite(tiny))[-1]
    rho = float(mom.spectral_radius(4.0, beta, method))
    assert last_tiny - last_big == pytest.approx(900 / math.log2(rho), abs=3)


# ---------------------------------------------------------------- the 2 × 2 matrix and its spectral radius


def grid():
    h = np.linspace(-0.5, 6.0, 261)
    beta = np.linspace(0.0, 0.995, 200)
    hh, bb = np.meshgrid(h, beta)
    return hh, bb


@pytest.mark.parametrize("method", mom.METHODS)
def test_iteration_matrix_is_the_two_step_recursion(method):
    rng = np.random.default_rng(0)
    h, beta = rng.uniform(-1, 5, 50), rng.uniform(0, 0.99, 50)
    x, prev = rng.standard_normal(50), rng.standard_normal(50)
    m = mom.iteration_matrix(h, beta, method)
    assert m.shape == (50, 2, 2)
    new = np.einsum("kij,kj->ki", m, np.stack([x, prev], axis=1))
    if method == "heavy_ball":
        nxt = (1 + beta - h) * x - beta * prev
    elif method == "nesterov":
        nxt = (1 + beta) * (1 - h) * x - beta * (1 - h) * prev
    else:
        nxt = (1 - h) * x
    np.testing.assert_allclose(new[:, 0], nxt, rtol=1e-14, atol=1e-14)
    np.testing.assert_array_equal(new[:, 1], x)


@pytest.mark.parametrize("method", mom.METHODS)
def test_spectral_radius_equals_eigvals(method):
    hh, bb = grid()
    m = mom.iteration_matrix(hh, bb, method)
    numeric = np.abs(np.linalg.eigvals(m)).max(axis=-1)
    closed = mom.spectral_radius(hh, bb, method)
    assert closed.shape == hh.shape and not np.isnan(closed).any()
    # Next to a repeated root (tr² = 4 det) the roots move like √(rounding): compare loosely there.
    tr, det = np.trace(m, axis1=-2, axis2=-1), np.linalg.det(m)
    near_double = np.abs(tr**2 - 4 * det) < 1e-6
    np.testing.assert_allclose(closed[~near_double], numeric[~near_double], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(closed[near_double], numeric[near_double], atol=1e-6)


@pytest.mark.parametrize("method", mom.METHODS)
def test_stability_threshold_matches_eigvals(method):
    hh, bb = grid()
    numeric = np.abs(np.linalg.eigvals(mom.iteration_matrix(hh, bb, method))).max(axis=-1)
    edge = mom.boundary(bb, method)
    predicted_stable = (hh > 0) & (hh < edge)
    away = (np.abs(hh - edge) > 1e-6) & (np.abs(hh) > 1e-6)
    np.testing.assert_array_equal((numeric < 1)[away], predicted_stable[away])
    # theory.md §4: heavy ball 2 + 2β, Nesterov (2 + 2β)/(1 + 2β), GD 2.
    expected = {"gd": 2.0 + 0 * bb, "heavy_ball": 2 + 2 * bb, "nesterov": (2 + 2 * bb) / (1 + 2 * bb)}[method]
    np.testing.assert_allclose(edge, expected, rtol=1e-15)
    # On the boundary one root is exactly −1.
    on_edge = np.abs(np.linalg.eigvals(mom.iteration_matrix(edge[:, 0], bb[:, 0], method)))
    np.testing.assert_allclose(on_edge.max(axis=-1), 1.0, atol=1e-6)


@pytest.mark.parametrize("method", mom.METHODS)
@pytest.mark.parametrize("beta", BETAS)
def test_max_stable_lr(method, beta):
    rng = np.random.default_rng(1)
    lam = rng.uniform(0.1, 10.0, 30)
    eta = mom.max_stable_lr(lam, beta, method)
    expected = {
        "gd": 2 / lam.max(),
        "heavy_ball": (2 + 2 * beta) / lam.max(),
        "nesterov": (2 + 2 * beta) / ((1 + 2 * beta) * lam.max()),
    }[method]
    assert eta == pytest.approx(expected, rel=1e-15)
    assert mom.rate(lam, 0.999 * eta, beta, method) < 1 < mom.rate(lam, 1.001 * eta, beta, method)
    assert mom.max_stable_lr(-lam, beta, method) == math.inf
    assert mom.max_stable_lr([0.0, -1.0], beta, method) == math.inf


@pytest.mark.parametrize("method", mom.METHODS)
def test_regime_matches_eigvals(method):
    hh, bb = grid()
    z = np.linalg.eigvals(mom.iteration_matrix(hh, bb, method))
    dominant = np.take_along_axis(z, np.abs(z).argmax(axis=-1)[..., None], axis=-1)[..., 0]
    numeric = np.abs(dominant)
    labels = mom.regime(hh, bb, method)
    assert labels.shape == hh.shape and set(np.unique(labels)) <= set(mom.REGIMES)
    # Leave out the points where rounding may flip the answer: next to ρ = 1, to a repeated root,
    # and to a = 0 (where the dominant real root changes sign).
    m = mom.iteration_matrix(hh, bb, method)
    tr, det = np.trace(m, axis1=-2, axis2=-1), np.linalg.det(m)
    clear = (np.abs(numeric - 1) > 1e-6) & (np.abs(tr**2 - 4 * det) > 1e-6) & (np.abs(tr) > 1e-6)
    expect = np.where(
        numeric > 1,
        "diverging",
        np.where(np.abs(z.imag).max(axis=-1) > 0, "rippling", np.where(dominant.real >= 0, "monotone", "oscillating")),
    )
    np.testing.assert_array_equal(labels[clear], expect[clear])


def test_regime_edge_cases():
    for method in mom.METHODS:
        for beta in BETAS:
            edge = mom.boundary(beta, method)
            assert mom.regime(0.0, beta, method) == "flat"
            assert mom.regime(edge, beta, method) == "marginal"
            assert mom.regime(edge * (1 + 1e-9), beta, method) == "diverging"
            assert mom.regime(edge * (1 - 1e-9), beta, method) == "oscillating"
            assert mom.regime(-0.1, beta, method) == "diverging"
            assert mom.regime(1e-9, beta, method) == "monotone"
    # η = boundary/λ_max lands on the boundary to within rounding.
    lam = np.array([0.3, 7.7])
    for method in mom.METHODS:
        labels = mom.regime(mom.max_stable_lr(lam, 0.9, method) * lam, 0.9, method)
        assert labels[1] == "marginal" and labels[0] != "marginal"
    # Heavy ball with complex roots: rate √β whatever η.
    h = np.linspace(0.2, 3.0, 50)
    beta = 0.81
    complex_roots = (1 + beta - h) ** 2 < 4 * beta
    assert mom.regime(h, beta, "heavy_ball")[complex_roots].tolist() == ["rippling"] * complex_roots.sum()
    np.testing.assert_allclose(mom.spectral_radius(h[complex_roots], beta, "heavy_ball"), 0.9, rtol=1e-15)


def test_spectral_radius_is_fast_shape_and_nan_free_on_big_grids():
    h = np.concatenate([np.linspace(-5, 10, 398), [1e150, 1e300]])
    beta = np.linspace(0, 0.999, 400)
    for method in mom.METHODS:
        r = mom.rate_map(h, beta, method)
        assert r.shape == (400, 400) and not np.isnan(r).any()
        np.testing.assert_array_equal(r[17], mom.spectral_radius(h, beta[17], method))
        assert np.isinf(r[:, -1]).all() and (r[:, -2] > 1e149).all()
        assert (mom.regime(h[None, :], beta[:, None], method)[:, -2:] == "diverging").all()


# ---------------------------------------------------------------- optimal momentum (Polyak)


def test_optimal_formulas_on_a_known_spectrum():
    opt = mom.optimal([1.0, 25.0, 100.0, 0.0, -3.0])  # κ = 100 over the λ > 0
    assert opt["kappa"] == pytest.approx(100.0)
    assert opt["lr"] == pytest.approx(4 / 121)
    assert opt["beta"] == pytest.approx((9 / 11) ** 2)
    assert opt["rate"] == pytest.approx(9 / 11)
    assert opt["gd_lr"] == pytest.approx(2 / 101)
    assert opt["gd_rate"] == pytest.approx(99 / 101)
    nothing = mom.optimal([0.0, -1.0])  # no λ > 0: no step size converges
    assert nothing["lr"] == math.inf and nothing["gd_lr"] == math.inf
    assert nothing["rate"] == 1.0 and nothing["gd_rate"] == 1.0 and nothing["beta"] == 0.0


@pytest.mark.parametrize("kappa", [1e32, 1e33, 1e40, 1e300])
def test_optimal_beta_stays_below_one_when_its_formula_rounds_to_it(kappa):
    """β* = ((√κ − 1)/(√κ + 1))² is below 1 for every κ but rounds to 1.0 in float64 past κ ≈ 3e32: the
    largest float below 1 is returned then, which every momentum function accepts (a URL with λ_min = 1e-40
    crashed the momentum page)."""
    opt = mom.optimal([1.0 / kappa, 1.0])
    assert 0.0 < opt["beta"] < 1.0 and 0.0 < opt["rate"] < 1.0
    assert opt["beta"] >= math.nextafter(1.0, 0.0) or kappa < 3e32
    for method in ("heavy_ball", "nesterov"):
        assert math.isfinite(mom.max_stable_lr([1.0 / kappa, 1.0], opt["beta"], method))


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 40), log_kappa=st.floats(0.0, 6.0))
def test_optimal_rate_is_the_spectral_radius(seed, n, log_kappa):
    rng = np.random.default_rng(seed)
    lam_min = rng.uniform(0.01, 1.0)
    lam = np.concatenate([[lam_min, lam_min * 10**log_kappa], lam_min * 10 ** rng.uniform(0, log_kappa, n - 2)])
    opt = mom.optimal(lam)
    assert opt["rate"] == pytest.approx(math.sqrt(opt["beta"]), rel=1e-14)
    # At (η*, β*) the extreme directions are critically damped (repeated root, radius √β*), and every
    # direction in between has complex roots of radius √β*: the rate is (√κ − 1)/(√κ + 1).
    h = opt["lr"] * lam
    m = mom.iteration_matrix(h, opt["beta"], "heavy_ball")
    numeric = np.abs(np.linalg.eigvals(m)).max(axis=-1)
    np.testing.assert_allclose(numeric, opt["rate"], atol=2e-7)
    np.testing.assert_allclose(mom.spectral_radius(h, opt["beta"], "heavy_ball"), opt["rate"], atol=2e-7)
    assert mom.rate(lam, opt["lr"], opt["beta"], "heavy_ball") == pytest.approx(opt["rate"], abs=2e-7)
    assert mom.rate(lam, opt["gd_lr"], 0.0, "gd") == pytest.approx(opt["gd_rate"], rel=1e-12)
    assert opt["rate"] <= opt["gd_rate"] + 1e-15


def test_rate_ignores_flat_directions():
    assert mom.rate([0.0, 0.0], 0.5, 0.9, "heavy_ball") == 1.0
    assert mom.rate([0.0, 1.0], 0.5, 0.0, "gd") == 0.5


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"beta": 1.0}, "β"),
        ({"beta": -0.1}, "β"),
        ({"beta": float("nan")}, "β"),
        ({"lr": -0.1}, "learning rate"),
        ({"method": "adam"}, "unknown method"),
        ({"steps": 100_001}, "steps"),
        ({"steps": -1}, "steps"),
        ({"theta0": [1.0, 2.0, 3.0]}, "θ₀"),
    ],
)
def test_invalid_arguments_raise(kwargs, message):
    args = {"eigenvalues": [1.0, 2.0], "lr": 0.5, "beta": 0.5, "theta0": [1.0, 1.0], "steps": 10, "method": "nesterov"}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        mom.iterates(**args)


def test_invalid_arguments_raise_elsewhere():
    with pytest.raises(ValueError, match="steps"):
        mom.iterates_at([1.0], 0.5, 0.5, [1.0], [0, 100_001], "heavy_ball")
    with pytest.raises(ValueError, match="unknown method"):
        mom.max_stable_lr([1.0], 0.5, "momentum")
    with pytest.raises(ValueError, match="β"):
        mom.spectral_radius(1.0, 1.2, "heavy_ball")
    with pytest.raises(ValueError, match="β"):
        mom.rate_map([1.0], [0.5, 1.0], "nesterov")
