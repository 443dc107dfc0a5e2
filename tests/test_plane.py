"""core.plane: the 2-D quadratic against explicit iteration in the original coordinates."""

import numpy as np
import pytest

from core import plane


@pytest.mark.parametrize("method,beta", [("gd", 0.0), ("heavy_ball", 0.6), ("nesterov", 0.9)])
def test_path_matches_explicit_iteration(method, beta):
    l1, l2, angle = 0.3, 2.0, 0.7
    a = plane.matrix(l1, l2, angle)
    theta0 = np.array([1.5, -0.4])
    lr, steps = 0.8, 150
    prev, cur, out = theta0.copy(), theta0.copy(), [theta0.copy()]
    for _ in range(steps):
        if method == "gd":
            nxt = cur - lr * a @ cur
        elif method == "heavy_ball":
            nxt = cur - lr * a @ cur + beta * (cur - prev)
        else:
            y = cur + beta * (cur - prev)
            nxt = y - lr * a @ y
        prev, cur = cur, nxt
        out.append(cur.copy())
    brute = np.array(out)
    exact = plane.path(l1, l2, angle, theta0, lr, beta, np.arange(steps + 1), method)
    err = np.linalg.norm(exact - brute, axis=1) / np.maximum(np.linalg.norm(brute, axis=1), 1e-300)
    assert err.max() <= 1e-10


def test_level_set_is_exact():
    l1, l2, angle, level = 0.5, 3.0, 1.1, 0.7
    pts = plane.level_set(l1, l2, angle, level, 64)
    np.testing.assert_allclose(plane.loss(pts, l1, l2, angle), level, rtol=1e-13)
    # The ellipse's long axis lies along the flat eigenvector q₁ (first column of R(φ)).
    q1 = plane.rotation(angle)[:, 0]
    assert np.max(np.abs(pts @ q1)) == pytest.approx(np.sqrt(2 * level / l1), rel=1e-3)
    with pytest.raises(ValueError, match="λ₁, λ₂ > 0"):
        plane.level_set(-1.0, 1.0, 0.0, 1.0)


def test_matrix_eigen_decomposition():
    a = plane.matrix(0.2, 5.0, 0.3)
    np.testing.assert_allclose(np.linalg.eigvalsh(a), [0.2, 5.0], rtol=1e-13)
    np.testing.assert_allclose(a, a.T)


def test_escape_step_on_divergence():
    t = np.arange(200)
    k = plane.escape_step(1.0, 3.0, 0.4, [1.0, 1.0], 0.9, 0.0, t, "gd", radius=1e3)
    # direction 2: |1 − 0.9·3| = 1.7 per step; its start coordinate is the 2nd eigen-coordinate.
    u0 = plane.to_eigen([1.0, 1.0], 0.4)
    growth = np.hypot(0.1**t * u0[0], 1.7**t * u0[1])
    assert k == int(np.flatnonzero(growth > 1e3)[0])
    assert plane.escape_step(1.0, 3.0, 0.4, [1.0, 1.0], 0.5, 0.0, t, "gd", radius=1e3) is None
