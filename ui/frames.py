"""Tidy DataFrames for the charts, built from core's arrays.

Charts draw on log axes, which cannot show 0 or ±inf, so magnitudes are clipped to
[10^-LOG_CLIP, 10^LOG_CLIP] for drawing while an exact, formatted value rides along for the
tooltip. Every frame is bounded in rows whatever n and T are.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from core import quadratic as q

LOG_CLIP = 30.0  # draw |x| within [1e-30, 1e30]; exact values are in the tooltips
FACTOR_CLIP = 3.0  # |1 − ηλ| axes stop at 3: beyond, the point sits at the edge as a triangle
MAX_SPECTRUM_POINTS = 1_000


def format_log(log10_value: float, sign: float = 1.0) -> str:
    """A number given as (log10|x|, sign) written out exactly, even far beyond float64 (1.5e+4021)."""
    if sign == 0 or log10_value == -math.inf:
        return "0"
    if log10_value == math.inf:
        return "∞" if sign > 0 else "−∞"
    exponent = math.floor(log10_value)
    mantissa = 10 ** (log10_value - exponent)
    if mantissa >= 9.999995:  # rounding would print 10.00000e+k
        mantissa, exponent = 1.0, exponent + 1
    text = f"{mantissa:.6g}e{exponent:+d}" if abs(exponent) >= 5 else f"{mantissa * 10.0**exponent:.6g}"
    return ("−" if sign < 0 else "") + text


def format_number(x: float) -> str:
    """Six significant digits, ∞ for infinity."""
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if math.isnan(x):
        return "—"
    return f"{x:.6g}"


def _clip_log(log_mag: np.ndarray) -> np.ndarray:
    return np.clip(log_mag, -LOG_CLIP, LOG_CLIP)


def spectrum_sample(eigenvalues, max_points: int = MAX_SPECTRUM_POINTS) -> np.ndarray:
    """Indices of at most max_points eigenvalues, evenly over the sorted spectrum (extremes kept)."""
    return q.representative_directions(eigenvalues, max_points)


def decay_frames(eigenvalues, lr, theta0, steps) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(lines, envelope): |θ̃_{t,i}| at sampled t for representative directions, and the min/max
    over all directions (the envelope), each bounded: ≤ 20 lines × 150 steps, 150 envelope rows."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    t = q.sample_steps(steps)
    reps = q.representative_directions(lam)
    log_mag, sign = q.log_magnitudes(lam[reps], lr, np.asarray(theta0)[reps], t)
    regime = q.regimes(lam[reps], lr)
    n_t, n_r = log_mag.shape
    lines = pd.DataFrame(
        {
            "t": np.repeat(t, n_r),
            "direction": np.tile(reps + 1, n_t),
            "λ": np.tile(lam[reps], n_t),
            "|θ̃|": 10.0 ** _clip_log(log_mag).ravel(),
            "θ̃ exact": [format_log(v, s) for v, s in zip(log_mag.ravel(), sign.ravel(), strict=True)],
            "regime": np.tile(regime, n_t),
            "trend": np.tile(np.where(np.abs(1 - lr * lam[reps]) > 1, "grows", "shrinks"), n_t),
        }
    )
    # The envelope over all n directions, a chunk at a time to keep memory O(n) per step.
    lo = np.full(t.size, np.inf)
    hi = np.full(t.size, -np.inf)
    theta0 = np.asarray(theta0, dtype=np.float64)
    for start in range(0, lam.size, 2_000):
        chunk = slice(start, start + 2_000)
        lm, _ = q.log_magnitudes(lam[chunk], lr, theta0[chunk], t)
        finite_lo = np.where(np.isneginf(lm), np.inf, lm)
        lo = np.minimum(lo, finite_lo.min(axis=1))
        hi = np.maximum(hi, lm.max(axis=1))
    lo = np.where(np.isinf(lo), -LOG_CLIP, lo)
    envelope = pd.DataFrame({"t": t, "lowest": 10.0 ** _clip_log(lo), "highest": 10.0 ** _clip_log(hi), "n": lam.size})
    return lines, envelope


def loss_frame(eigenvalues, lr, theta0, steps) -> pd.DataFrame:
    """|L(θ_t)| at sampled t (clipped for the log axis) with the exact signed value."""
    t = q.sample_steps(steps)
    log_l, sign = q.log_loss(eigenvalues, lr, theta0, t)
    return pd.DataFrame(
        {
            "t": t,
            "|L|": 10.0 ** _clip_log(log_l),
            "L exact": [format_log(v, s) for v, s in zip(log_l, sign, strict=True)],
            "sign": np.where(sign < 0, "L < 0 (saddle)", "L ≥ 0"),
        }
    )


def stability_v_frames(eigenvalues, lr) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(curve, points, rules) for |1 − ηλ| against λ.

    curve: the V sampled over a λ range that shows every eigenvalue and 2/η; points: the
    eigenvalues (≤ 1,000 of them); rules: λ = 2/η (and 1/η, where the V touches 0).
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    lam_top = float(lam.max())
    edge = 2.0 / lr if lr > 0 else math.inf
    hi = max(lam_top, edge if math.isfinite(edge) else lam_top, 1e-300) * 1.15
    lo = min(float(lam.min()), 0.0)
    lo = lo * 1.15 if lo < 0 else 0.0
    grid = np.linspace(lo, hi, 240)
    if lr > 0 and lo < 1 / lr < hi:
        grid = np.sort(np.append(grid, 1.0 / lr))  # the V's tip exactly
    factor = np.abs(1 - lr * grid)
    curve = pd.DataFrame({"λ": grid, "|1 − ηλ|": np.minimum(factor, FACTOR_CLIP)})
    idx = spectrum_sample(lam)
    f = np.abs(1 - lr * lam[idx])
    points = pd.DataFrame(
        {
            "λ": lam[idx],
            "|1 − ηλ|": np.minimum(f, FACTOR_CLIP),
            "factor exact": [format_number(x) for x in f],
            "ηλ": lr * lam[idx],
            "regime": q.regimes(lam[idx], lr),
            "stable": np.where(f < 1, "shrinks (|1 − ηλ| < 1)", "does not shrink"),
        }
    )
    rules = pd.DataFrame(
        {"λ": [edge] if math.isfinite(edge) else [], "label": ["λ = 2/η"] if math.isfinite(edge) else []}
    )
    return curve, points, rules


def factor_vs_lr_frames(eigenvalues, lr) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(lines, rules): |1 − ηλ_i| against η ∈ [0, 2.5 η_max] for representative λ_i; rules at
    η_max, η* and the current η."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    eta_max = q.max_stable_lr(lam)
    eta_opt = q.optimal_lr(lam)
    top = 2.5 * eta_max if math.isfinite(eta_max) else max(2.5 * lr, 1.0)
    top = max(top, lr * 1.1)
    grid = np.linspace(0.0, top, 121)
    reps = q.representative_directions(lam, 12)
    f = np.abs(1 - np.outer(grid, lam[reps]))
    lines = pd.DataFrame(
        {
            "η": np.repeat(grid, reps.size),
            "λ": np.tile(lam[reps], grid.size),
            "|1 − ηλ|": np.minimum(f, FACTOR_CLIP).ravel(),
        }
    )
    rule_rows = [("η_max = 2/λ_max", eta_max), ("η* = 2/(λ_min+λ_max)", eta_opt), ("current η", lr)]
    rules = pd.DataFrame(
        [{"η": v, "label": name, "value": format_number(v)} for name, v in rule_rows if math.isfinite(v)]
    )
    return lines, rules


def one_direction_frame(lr: float, lam: float = 1.0, steps: int = 20) -> pd.DataFrame:
    """θ_t = (1 − ηλ)^t for one direction, t = 0..steps, clipped to ±1e6 for drawing."""
    t = np.arange(steps + 1)
    log_mag, sign = q.log_magnitudes([lam], lr, [1.0], t)
    theta = q.iterates_at([lam], lr, [1.0], t)[:, 0]
    return pd.DataFrame(
        {
            "t": t,
            "θ": np.clip(theta, -1e6, 1e6),
            "θ exact": [format_log(v, s) for v, s in zip(log_mag[:, 0], sign[:, 0], strict=True)],
        }
    )
