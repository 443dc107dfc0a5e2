"""core.toy2d against finite differences, closed forms and the numbers of theory.md §6."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import toy2d

coords = st.floats(-3.0, 3.0, allow_nan=False)

# theory.md §6, from (x, y) = (3, 0.05): final sharpness x² + y² of GD at each η (None: diverges).
START = (3.0, 0.05)
GD_FINAL_SHARPNESS = {0.2: 8.57, 0.25: 5.88, 0.3: 2.67, 0.4: 2.00, 0.6: None}
FLOW_FINAL_SHARPNESS = 9.22


# ---------------------------------------------------------------- derivatives


@settings(max_examples=100, deadline=None)
@given(x=coords, y=coords)
def test_grad_matches_central_differences(x, y):
    eps = 1e-6
    fd = np.array(
        [
            (toy2d.loss(x + eps, y) - toy2d.loss(x - eps, y)) / (2 * eps),
            (toy2d.loss(x, y + eps) - toy2d.loss(x, y - eps)) / (2 * eps),
        ]
    )
    np.testing.assert_allclose(toy2d.grad(x, y), fd, rtol=1e-6, atol=1e-7)


@settings(max_examples=100, deadline=None)
@given(x=coords, y=coords)
def test_hessian_matches_central_differences_of_grad(x, y):
    eps = 1e-6
    columns = [
        (toy2d.grad(x + eps, y) - toy2d.grad(x - eps, y)) / (2 * eps),
        (toy2d.grad(x, y + eps) - toy2d.grad(x, y - eps)) / (2 * eps),
    ]
    np.testing.assert_allclose(toy2d.hessian(x, y), np.stack(columns, axis=1), rtol=1e-6, atol=1e-7)


def test_formulas_of_theory_on_a_grid():
    x, y = np.meshgrid(np.linspace(-3, 3, 41), np.linspace(-2, 2, 31))
    np.testing.assert_array_equal(toy2d.loss(x, y), 0.5 * (x * y - 1) ** 2)
    g = toy2d.grad(x, y)
    assert g.shape == x.shape + (2,)
    np.testing.assert_allclose(g[..., 0], (x * y - 1) * y, rtol=1e-15)
    np.testing.assert_allclose(g[..., 1], (x * y - 1) * x, rtol=1e-15)
    h = toy2d.hessian(x, y)
    assert h.shape == x.shape + (2, 2)
    np.testing.assert_allclose(h[..., 0, 0], y**2)
    np.testing.assert_allclose(h[..., 1, 1], x**2)
    np.testing.assert_allclose(h[..., 0, 1], 2 * x * y - 1)
    np.testing.assert_array_equal(h[..., 0, 1], h[..., 1, 0])


@settings(max_examples=100, deadline=None)
@given(x=st.floats(-50.0, 50.0), y=st.floats(-50.0, 50.0))
def test_sharpness_is_the_top_hessian_eigenvalue(x, y):
    top = np.linalg.eigvalsh(toy2d.hessian(x, y))[-1]
    assert toy2d.sharpness(x, y) == pytest.approx(top, rel=1e-12, abs=1e-12)


def test_sharpness_on_the_minima_is_x2_plus_y2():
    x = np.concatenate([np.geomspace(0.05, 20, 200), -np.geomspace(0.05, 20, 200)])
    y = 1 / x
    np.testing.assert_allclose(toy2d.sharpness(x, y), x**2 + y**2, rtol=1e-13)
    np.testing.assert_allclose(toy2d.hessian(x, y)[..., 0, 1], 1.0, rtol=1e-13)  # 2xy − 1
    assert np.all(toy2d.sharpness(x, y) >= 2 - 1e-12)
    assert toy2d.sharpness(1.0, 1.0) == pytest.approx(2.0)
    # Both eigenvalues: 0 and x² + y².
    lo, hi = np.linalg.eigvalsh(toy2d.hessian(2.0, 0.5))
    assert lo == pytest.approx(0.0, abs=1e-14) and hi == pytest.approx(4.25)


# ---------------------------------------------------------------- gradient flow


def test_gradient_flow_from_the_theory_start():
    t, path = toy2d.gradient_flow_path(*START, t_max=20.0, n_points=401)
    assert t.shape == (401,) and path.shape == (401, 2)
    np.testing.assert_array_equal(path[0], START)
    limit = toy2d.flow_limit(*START)
    np.testing.assert_allclose(path[-1], limit, atol=1e-8)
    end_sharpness = toy2d.sharpness(*path[-1])
    assert round(float(end_sharpness), 2) == FLOW_FINAL_SHARPNESS
    assert limit[0] ** 2 + limit[1] ** 2 == pytest.approx(math.sqrt((9 - 0.0025) ** 2 + 4), rel=1e-14)
    # The loss never rises along the flow.
    assert np.all(np.diff(toy2d.loss(path[:, 0], path[:, 1])) <= 1e-15)


@settings(max_examples=25, deadline=None)
@given(x0=st.floats(-3.0, 3.0), y0=st.floats(-3.0, 3.0))
def test_gradient_flow_conserves_x2_minus_y2_and_ends_at_flow_limit(x0, y0):
    t, path = toy2d.gradient_flow_path(x0, y0, t_max=10.0, n_points=50)
    c = path[:, 0] ** 2 - path[:, 1] ** 2
    np.testing.assert_allclose(c, x0**2 - y0**2, atol=1e-8 * max(1.0, abs(x0**2 - y0**2)))
    if abs(x0 + y0) > 0.3:  # far from the saddle's stable line x + y = 0 the flow has converged by t = 10
        np.testing.assert_allclose(path[-1], toy2d.flow_limit(x0, y0), atol=1e-6)


def test_flow_limit_closed_form():
    x, y = toy2d.flow_limit(3.0, 0.05)
    assert x * y == pytest.approx(1.0, rel=1e-15)
    assert x**2 - y**2 == pytest.approx(9 - 0.0025, rel=1e-14)
    # The negative branch, a start with y > x, and the saddle's stable line.
    x, y = toy2d.flow_limit(-0.1, -2.0)
    assert x < 0 and y < 0 and x * y == pytest.approx(1.0) and x**2 - y**2 == pytest.approx(0.01 - 4.0)
    x, y = toy2d.flow_limit(-0.5, 3.0)  # x + y > 0: lands on the positive branch
    assert x > 0 and y > 0 and x**2 - y**2 == pytest.approx(0.25 - 9.0)
    assert toy2d.flow_limit(1.5, -1.5) == (0.0, 0.0)
    # Large |c|: no cancellation in c + √(c² + 4).
    x, y = toy2d.flow_limit(0.0, 1e4)
    assert x * y == pytest.approx(1.0, rel=1e-14) and x**2 - y**2 == pytest.approx(-1e8, rel=1e-14)


# ---------------------------------------------------------------- gradient descent


@pytest.mark.parametrize("lr, expected", sorted(GD_FINAL_SHARPNESS.items()))
def test_gd_final_sharpness_reproduces_theory(lr, expected):
    path, diverged_at = toy2d.gd_path(*START, lr=lr, steps=5000)
    assert np.all(np.isfinite(path))
    if expected is None:
        assert diverged_at is not None and len(path) == diverged_at
        assert np.all(np.abs(path) <= toy2d.DIVERGENCE_BOUND)
        return
    assert diverged_at is None and path.shape == (5001, 2)
    x, y = path[-1]
    assert x * y == pytest.approx(1.0, abs=1e-12)  # converged onto the minima
    assert round(x * x + y * y, 2) == expected
    assert round(float(toy2d.sharpness(x, y)), 2) == expected
    # GD can only settle where the sharpness is at most 2/η.
    assert x * x + y * y <= 2 / lr


def test_gd_path_is_the_gd_recursion():
    path, diverged_at = toy2d.gd_path(1.3, -0.4, lr=0.1, steps=30)
    assert diverged_at is None
    for t in range(30):
        step = path[t] - 0.1 * toy2d.grad(*path[t])
        np.testing.assert_allclose(path[t + 1], step, rtol=1e-15, atol=1e-15)


def test_gd_divergence_is_flagged_and_finite():
    path, diverged_at = toy2d.gd_path(3.0, 0.05, lr=5.0, steps=100_000)
    assert diverged_at is not None and diverged_at < 20
    assert path.shape == (diverged_at, 2) and np.all(np.isfinite(path))
    assert np.all(np.abs(path) <= toy2d.DIVERGENCE_BOUND)
    # Steps 0 and 1 are plain GD.
    np.testing.assert_allclose(path[1], np.array([3.0, 0.05]) - 5.0 * toy2d.grad(3.0, 0.05))


def test_gd_zero_steps_and_validation():
    path, diverged_at = toy2d.gd_path(1.0, 2.0, lr=0.1, steps=0)
    assert path.shape == (1, 2) and diverged_at is None
    with pytest.raises(ValueError, match="learning rate"):
        toy2d.gd_path(1.0, 2.0, lr=-0.1, steps=10)
    with pytest.raises(ValueError, match="steps"):
        toy2d.gd_path(1.0, 2.0, lr=0.1, steps=100_001)
    with pytest.raises(ValueError, match="t_max"):
        toy2d.gradient_flow_path(1.0, 2.0, t_max=-1.0)


# ---------------------------------------------------------------- curves for drawing


def test_minima_curve():
    points, sharp, branch = toy2d.minima_curve((-4.0, 4.0), n=300)
    assert points.shape == (600, 2) and sharp.shape == (600,) and branch.shape == (600,)
    np.testing.assert_allclose(points[:, 0] * points[:, 1], 1.0, rtol=1e-14)
    np.testing.assert_allclose(sharp, points[:, 0] ** 2 + points[:, 1] ** 2)
    np.testing.assert_allclose(sharp, toy2d.sharpness(points[:, 0], points[:, 1]), rtol=1e-13)
    assert np.all(np.abs(points) <= 4.0 + 1e-12)
    assert set(branch.tolist()) == {-1, 1}
    np.testing.assert_array_equal(branch, np.sign(points[:, 0]))
    # The whole branch inside the box: from (1/4, 4) to (4, 1/4), through (1, 1).
    positive = points[branch == 1]
    np.testing.assert_allclose(positive[[0, -1]], [[0.25, 4.0], [4.0, 0.25]], rtol=1e-14)
    assert sharp.min() == pytest.approx(2.0, abs=1e-3)
    # A box that only holds part of one branch; and one that misses the curve.
    points, _, branch = toy2d.minima_curve((0.5, 3.0), n=50, y_range=(0.0, 1.0))
    assert len(points) == 50 and np.all(branch == 1)
    assert np.all((points[:, 0] >= 1.0 - 1e-12) & (points[:, 0] <= 3.0) & (points[:, 1] <= 1.0 + 1e-12))
    assert len(toy2d.minima_curve((-1.0, 1.0), y_range=(-0.5, 0.5))[0]) == 0
    assert len(toy2d.minima_curve((-4, 4), n=10**6)[0]) <= toy2d.MAX_CURVE_POINTS


def test_level_sets_lie_on_their_level():
    levels = [0.0, 0.02, 0.5, 2.0]
    points, level, curve = toy2d.level_sets(levels, (-3.0, 3.0), n=100)
    assert len(points) <= toy2d.MAX_CURVE_POINTS and len(points) == len(level) == len(curve)
    np.testing.assert_allclose(toy2d.loss(points[:, 0], points[:, 1]), level, rtol=1e-12, atol=1e-14)
    assert np.all(np.abs(points) <= 3.0 + 1e-12)
    assert set(level.tolist()) == set(levels)
    # c = 0: the minima only (2 branches); c = 0.5: xy = 2 and xy = 0 (two axes); c = 2: xy = 3 and xy = −1.
    assert len(np.unique(curve[level == 0.0])) == 2
    assert len(np.unique(curve[level == 0.5])) == 4
    assert len(np.unique(curve[level == 2.0])) == 4
    big = toy2d.level_sets(np.linspace(0, 5, 100), (-3.0, 3.0), n=10_000)[0]
    assert len(big) <= toy2d.MAX_CURVE_POINTS
    with pytest.raises(ValueError):
        toy2d.level_sets([-1.0])
