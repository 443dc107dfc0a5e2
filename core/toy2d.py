"""The two-parameter "scalar network" L(x, y) = ½(xy − 1)²: Edge of Stability in one picture.

    ∇L = (xy − 1)(y, x),   ∇²L = [[y², 2xy − 1], [2xy − 1, x²]]
    on the minima xy = 1 the Hessian's eigenvalues are 0 and x² + y²: sharpness = x² + y² ≥ 2.

Gradient flow conserves x² − y², so it lands on a sharp minimum from an unbalanced start; GD with
step η can only settle where x² + y² ≤ 2/η (theory.md §6).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import solve_ivp

MAX_STEPS = 100_000
# |x| or |y| past this counts as diverged: the loss is then ≥ ~1e11 and growing without bound.
DIVERGENCE_BOUND = 1e6
MAX_CURVE_POINTS = 3_000
MAX_LEVELS = 100


def loss(x, y):
    """L(x, y) = ½(xy − 1)²."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return 0.5 * (x * y - 1.0) ** 2


def grad(x, y) -> np.ndarray:
    """∇L = (xy − 1)(y, x), shape (..., 2)."""
    x, y = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    residual = x * y - 1.0
    return np.stack([residual * y, residual * x], axis=-1)


def hessian(x, y) -> np.ndarray:
    """∇²L = [[y², 2xy − 1], [2xy − 1, x²]], shape (..., 2, 2)."""
    x, y = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    off = 2.0 * x * y - 1.0
    return np.stack([np.stack([y * y, off], axis=-1), np.stack([off, x * x], axis=-1)], axis=-2)


def sharpness(x, y):
    """λ_max(∇²L) = (x² + y²)/2 + √(((y² − x²)/2)² + (2xy − 1)²), the top eigenvalue of a 2 × 2."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    # hypot avoids overflow of the squares inside the square root.
    return 0.5 * (x * x + y * y) + np.hypot(0.5 * (y * y - x * x), 2.0 * x * y - 1.0)


def _check_lr_steps(lr, steps) -> tuple[float, int]:
    lr, steps = float(lr), int(steps)
    if not (math.isfinite(lr) and lr >= 0):
        raise ValueError(f"learning rate η must be finite and ≥ 0; got {lr!r}.")
    if not 0 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be between 0 and {MAX_STEPS:,}; got {steps:,}.")
    return lr, steps


def gd_path(x0, y0, lr, steps) -> tuple[np.ndarray, int | None]:
    """GD (x, y) ← (x, y) − η(xy − 1)(y, x) from (x0, y0): returns (path, diverged_at).

    path has shape (steps+1, 2) if the run stays bounded, and diverged_at is None. If |x| or |y|
    passes DIVERGENCE_BOUND at step t, the run stops there: path holds steps 0..t−1 (shape (t, 2),
    all finite) and diverged_at = t.
    """
    lr, steps = _check_lr_steps(lr, steps)
    x, y = float(x0), float(y0)
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError("the starting point must be finite.")
    out = np.empty((steps + 1, 2))
    out[0] = x, y
    # Plain Python floats: a 2-vector per step is far cheaper than numpy calls.
    for t in range(1, steps + 1):
        residual = x * y - 1.0
        x, y = x - lr * residual * y, y - lr * residual * x
        if not (abs(x) <= DIVERGENCE_BOUND and abs(y) <= DIVERGENCE_BOUND):  # also catches NaN
            return out[:t], t
        out[t] = x, y
    return out, None


def gradient_flow_path(x0, y0, t_max, n_points=200) -> tuple[np.ndarray, np.ndarray]:
    """dθ/dt = −∇L(θ) from (x0, y0), solved with solve_ivp (DOP853, rtol 1e-10, atol 1e-12).

    Returns (t, path): t = linspace(0, t_max, n_points), path of shape (n_points, 2).
    """
    t_max, n_points = float(t_max), int(n_points)
    if not (math.isfinite(t_max) and t_max >= 0):
        raise ValueError(f"t_max must be finite and ≥ 0; got {t_max!r}.")
    if not 2 <= n_points <= MAX_STEPS:
        raise ValueError(f"n_points must be between 2 and {MAX_STEPS:,}; got {n_points:,}.")
    t = np.linspace(0.0, t_max, n_points)
    if t_max == 0:
        return t, np.tile([float(x0), float(y0)], (n_points, 1))

    def minus_grad(_, z):
        residual = z[0] * z[1] - 1.0
        return [-residual * z[1], -residual * z[0]]

    sol = solve_ivp(minus_grad, (0.0, t_max), [float(x0), float(y0)], method="DOP853", t_eval=t, rtol=1e-10, atol=1e-12)
    if not sol.success:
        raise RuntimeError(f"gradient flow integration failed: {sol.message}")
    return t, sol.y.T


def flow_limit(x0, y0) -> tuple[float, float]:
    """Where gradient flow from (x0, y0) ends: the point of xy = 1 with x² − y² = c = x0² − y0².

    x² = (c + √(c² + 4))/2, y = 1/x, on the branch of sign(x0 + y0): the flow keeps the signs of
    x + y and x − y (d(x ± y)/dt = ∓(xy − 1)(x ± y)). From x0 + y0 = 0 it ends at the saddle (0, 0).
    Its sharpness is x² + y² = √(c² + 4).
    """
    x0, y0 = float(x0), float(y0)
    if x0 + y0 == 0:
        return 0.0, 0.0
    c = x0 * x0 - y0 * y0
    root = math.hypot(c, 2.0)
    # Of c ± √(c² + 4) compute the one without cancellation, get the other from their product −4.
    x_sq = 0.5 * (c + root) if c >= 0 else 2.0 / (root - c)
    x = math.copysign(math.sqrt(x_sq), x0 + y0)
    return x, 1.0 / x


def _hyperbola_branch(k, x_lo, x_hi, y_lo, y_hi, n) -> np.ndarray:
    """n points of xy = k (k > 0), x > 0, inside the box, evenly spaced in log x; shape (m, 2), m ≤ n."""
    # x ≥ k/y_hi keeps y ≤ y_hi; x ≤ k/y_lo keeps y ≥ y_lo (only a bound when y_lo > 0).
    if x_hi <= 0 or y_hi <= 0 or n < 1:
        return np.empty((0, 2))
    lo = max(x_lo, k / y_hi)
    hi = min(x_hi, k / y_lo) if y_lo > 0 else x_hi
    if not lo < hi:
        return np.empty((0, 2))
    x = np.geomspace(lo, hi, n)
    return np.stack([x, k / x], axis=1)


def _curve_xy_equals(k, box, n) -> list[np.ndarray]:
    """The branches of xy = k inside box = (x_lo, x_hi, y_lo, y_hi), each (m, 2), n points a branch.

    Every branch is a reflection of the branch of xy = |k| with x > 0: (x, y) ↦ (±x, ±y).
    """
    x_lo, x_hi, y_lo, y_hi = box
    if k == 0:  # xy = 0 is the two axes
        axes = []
        if y_lo <= 0 <= y_hi and x_lo < x_hi:
            axes.append(np.stack([np.linspace(x_lo, x_hi, n), np.zeros(n)], axis=1))
        if x_lo <= 0 <= x_hi and y_lo < y_hi:
            axes.append(np.stack([np.zeros(n), np.linspace(y_lo, y_hi, n)], axis=1))
        return axes
    branches = []
    for sx in (1.0, -1.0):
        sy = sx if k > 0 else -sx
        # Map the box into the x > 0, y > 0 quadrant, draw there, map back.
        xl, xh = (x_lo, x_hi) if sx > 0 else (-x_hi, -x_lo)
        yl, yh = (y_lo, y_hi) if sy > 0 else (-y_hi, -y_lo)
        points = _hyperbola_branch(abs(k), xl, xh, yl, yh, n) * np.array([sx, sy])
        if len(points):
            branches.append(points)
    return branches


def _box(x_range, y_range):
    x_lo, x_hi = (float(v) for v in x_range)
    y_lo, y_hi = (float(v) for v in (x_range if y_range is None else y_range))
    if not (x_lo < x_hi and y_lo < y_hi):
        raise ValueError(f"ranges must be increasing; got x {x_range!r}, y {y_range!r}.")
    return x_lo, x_hi, y_lo, y_hi


def minima_curve(x_range=(-4.0, 4.0), n=400, y_range=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The minima xy = 1 inside the box x_range × y_range (y_range defaults to x_range).

    Returns (points (m, 2), sharpness (m,) = x² + y², branch (m,) = +1 for x > 0, −1 for x < 0),
    n points per branch (m ≤ 2n ≤ MAX_CURVE_POINTS), evenly spaced in log|x|.
    """
    box = _box(x_range, y_range)
    n = int(np.clip(n, 2, MAX_CURVE_POINTS // 2))
    parts = _curve_xy_equals(1.0, box, n)
    if not parts:
        return np.empty((0, 2)), np.empty(0), np.empty(0, dtype=np.int8)
    points = np.concatenate(parts)
    branch = np.sign(points[:, 0]).astype(np.int8)
    return points, points[:, 0] ** 2 + points[:, 1] ** 2, branch


def level_sets(levels, x_range=(-4.0, 4.0), n=200, y_range=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contours L(x, y) = c drawn without a grid: ½(xy − 1)² = c ⇔ xy = 1 ± √(2c).

    Each level is up to four hyperbola branches (xy = 0 is the two axes). Returns
    (points (m, 2), level (m,) = c of each point, curve (m,) = an id per branch, for drawing lines);
    n points per branch, reduced so that m ≤ MAX_CURVE_POINTS.
    """
    box = _box(x_range, y_range)
    levels = np.atleast_1d(np.asarray(levels, dtype=np.float64))
    if np.any(levels < 0) or not np.all(np.isfinite(levels)):
        raise ValueError("loss levels must be finite and ≥ 0.")
    if levels.size > MAX_LEVELS:
        raise ValueError(f"at most {MAX_LEVELS} levels; got {levels.size}.")
    if levels.size == 0:
        return np.empty((0, 2)), np.empty(0), np.empty(0, dtype=np.int64)
    n = int(np.clip(n, 2, MAX_CURVE_POINTS // (4 * levels.size)))  # ≤ 4 branches a level
    points, level, curve = [], [], []
    for c in levels:
        root = math.sqrt(2.0 * c)
        for k in sorted({1.0 + root, 1.0 - root}):  # one curve when c = 0
            for branch in _curve_xy_equals(k, box, n):
                points.append(branch)
                level.append(np.full(len(branch), c))
                curve.append(np.full(len(branch), len(curve)))
    if not points:
        return np.empty((0, 2)), np.empty(0), np.empty(0, dtype=np.int64)
    return np.concatenate(points), np.concatenate(level), np.concatenate(curve)
