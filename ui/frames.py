"""Tidy DataFrames for the charts, built from core's arrays.

Charts draw on log axes, which cannot show 0 or ±inf, so magnitudes are clipped to
[10^-LOG_CLIP, 10^LOG_CLIP] for drawing while an exact, formatted value rides along for the
tooltip. Every frame is bounded in rows whatever n and T are.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd

from core import momentum, plane
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


ETA_CEILING = 1e308


def live_top(edge: float, lr: float) -> float:
    """The live η slider's range [0, top]: 2.5 × the method's edge η_max (or past the sidebar's η)."""
    top = 2.5 * edge if math.isfinite(edge) else 2.5 * max(lr, 1e-12)
    return float(min(max(top, 1.05 * lr), ETA_CEILING))


# ---- 2-D trajectories --------------------------------------------------------------------

PATH_POINTS = 300


def _start_level(l1, l2, angle, theta0) -> float:
    """The loss at the start, the view's scale (1 for a start at the minimum)."""
    loss0 = float(plane.loss(np.asarray(theta0, dtype=np.float64), l1, l2, angle))
    return loss0 if loss0 > 0 else 1.0


def trajectory_radius(l1, l2, angle, theta0) -> float:
    """Half-width of the trajectory's view: the start's level set fits with a margin."""
    return float(1.15 * np.sqrt(2 * _start_level(l1, l2, angle, theta0) / min(l1, l2)))


def trajectory_levels(l1, l2, angle, theta0) -> dict:
    """The trajectory chart's backdrop, which depends on neither η nor β, as columns: 7 level-set ellipses
    (≤ 7 × 120 points) down from the start's level, and the two eigenvector axes across the view."""
    radius = trajectory_radius(l1, l2, angle, theta0)
    values = _start_level(l1, l2, angle, theta0) * 4.0 ** -np.arange(7)
    curves = [plane.level_set(l1, l2, angle, level) for level in values]
    sizes = [len(pts) for pts in curves]
    pts = np.concatenate(curves)
    levels = {
        "x": pts[:, 0],
        "y": pts[:, 1],
        "level": np.repeat(np.arange(len(values)), sizes),
        "order": np.concatenate([np.arange(n) for n in sizes]),
        "L": np.repeat(values, sizes),
    }
    q_axes = plane.rotation(angle)
    ends = np.array([-radius, radius])
    axes = {
        "x": np.concatenate([ends * q_axes[0, 0], ends * q_axes[0, 1]]),
        "y": np.concatenate([ends * q_axes[1, 0], ends * q_axes[1, 1]]),
        "axis": ["q₁ (λ₁)", "q₁ (λ₁)", "q₂ (λ₂)", "q₂ (λ₂)"],
    }
    return {"levels": levels, "axes": axes, "radius": radius}


def trajectory_frames(l1, l2, angle, theta0, lr, beta, method, steps) -> dict:
    """The 2-D path at η, β, bounded: θₜ (and L) at ≤ 300 sampled steps and the two eigen-coordinates
    against t, as numbers (the page's download; the live chart computes its own in the browser).

    Divergence is decided by the regime (ρ ≥ 1 in some direction), never by the path's size:
    heavy ball from rest can grow ≈ 30× before it converges (β → 1). A diverging path is cut where
    it leaves 3× the view ("escaped"); a converging one is kept whole, clipped to 3× the view, and
    "growth" is its largest ‖θₜ‖/‖θ₀‖ over the sampled steps."""
    theta0 = np.asarray(theta0, dtype=np.float64)
    radius = trajectory_radius(l1, l2, angle, theta0)
    t = q.sample_steps(steps, max_points=PATH_POINTS, dense_head=PATH_POINTS // 2)
    diverges = bool(np.isin(momentum.regime(lr * np.array([l1, l2]), beta, method), ["diverging"]).any())
    escaped = plane.escape_step(l1, l2, angle, theta0, lr, beta, t, method, radius=3 * radius) if diverges else None
    kept = t if escaped is None else t[t <= escaped]
    pts = plane.path(l1, l2, angle, theta0, lr, beta, kept, method)
    path_frame = pd.DataFrame(
        {
            "t": kept,
            "x": np.clip(pts[:, 0], -3 * radius, 3 * radius),
            "y": np.clip(pts[:, 1], -3 * radius, 3 * radius),
            "θ₁": pts[:, 0],
            "θ₂": pts[:, 1],
            "L": plane.loss(pts, l1, l2, angle),
        }
    )
    u = momentum.iterates_at([l1, l2], lr, beta, plane.to_eigen(theta0, angle), t, method)
    with np.errstate(over="ignore", invalid="ignore"):
        rel = u / np.where(np.abs(u[0]) > 0, np.abs(u[0]), 1.0)
        norms = np.hypot(u[:, 0], u[:, 1])
    start = float(np.hypot(*theta0))
    coords = pd.DataFrame(
        {
            "t": np.repeat(t, 2),
            "coordinate": np.tile(["θ̃₁ (λ₁)", "θ̃₂ (λ₂)"], t.size),
            "value": np.clip(np.nan_to_num(rel, posinf=1e6, neginf=-1e6), -1e6, 1e6).ravel(),
            "exact": u.ravel(),
        }
    )
    return {
        "path": path_frame,
        "coords": coords,
        "radius": radius,
        "diverges": diverges,
        "escaped": escaped,
        "growth": float(np.max(norms) / start) if start > 0 and not diverges else 1.0,
        "outside": bool(np.any(norms > 3 * radius)),
    }


# ---- momentum ----------------------------------------------------------------------------

RATE_MAP_H = (0.0, 4.0, 100)  # ηλ from 0 to 4 in 100 columns
RATE_MAP_BETA = (0.0, 0.99, 40)  # β from 0 to 0.99 in 40 rows: 4,000 cells
RATE_CLIP = 1.2


RATE_MAP_DH = (RATE_MAP_H[1] - RATE_MAP_H[0]) / RATE_MAP_H[2]
RATE_MAP_DB = (RATE_MAP_BETA[1] - RATE_MAP_BETA[0]) / RATE_MAP_BETA[2]


@functools.lru_cache(maxsize=3)  # one per method: the map never changes
def rate_map_frame(method: str) -> pd.DataFrame:
    """The spectral radius ρ(ηλ, β) on a 100 × 40 grid: cell (i, j) spans ηλ ∈ [i, i+1]·Δh and
    β ∈ [j, j+1]·Δβ (the chart computes the edges). Compact: it travels with every rerun."""
    i = np.arange(RATE_MAP_H[2])
    j = np.arange(RATE_MAP_BETA[2])
    h_mid = RATE_MAP_H[0] + (i + 0.5) * RATE_MAP_DH
    b_mid = RATE_MAP_BETA[0] + (j + 0.5) * RATE_MAP_DB
    rho = momentum.rate_map(h_mid, b_mid, method)  # rows β, columns h
    regime = momentum.regime(h_mid[None, :], b_mid[:, None], method)
    ii, jj = np.meshgrid(i, j)
    return pd.DataFrame(
        {
            "i": ii.ravel().astype(np.int16),
            "j": jj.ravel().astype(np.int16),
            "ρ": np.minimum(rho.ravel(), RATE_CLIP).astype(np.float32),
            "regime": pd.Categorical(np.broadcast_to(regime, rho.shape).ravel()),
        }
    )


def boundary_frame() -> pd.DataFrame:
    """Where each method's stability ends, h = boundary(β), for β in [0, 0.99]."""
    beta = np.linspace(0, 0.99, 100)
    rows = []
    for method in ("gd", "heavy_ball", "nesterov"):
        h = np.broadcast_to(momentum.boundary(beta if method != "gd" else 0.0, method), beta.shape)
        rows.append(pd.DataFrame({"ηλ": np.minimum(h, RATE_MAP_H[1]), "β": beta, "method": method}))
    return pd.concat(rows, ignore_index=True)


def spectrum_on_map_frame(eigenvalues, lr, beta, method) -> pd.DataFrame:
    """The spectrum as points (ηλᵢ, β) with their rate and regime (≤ 200 representative λᵢ)."""
    lam = np.asarray(eigenvalues, dtype=np.float64)[q.representative_directions(eigenvalues, 200)]
    h = lr * lam
    rho = momentum.spectral_radius(h, beta, method)
    return pd.DataFrame(
        {
            "ηλ": np.clip(h, 0.0, RATE_MAP_H[1]),
            "β": beta,
            "λ": lam,
            "ηλ exact": [format_number(float(v)) for v in h],
            "rate": [format_number(float(v)) for v in rho],
            "regime": momentum.regime(h, beta, method),
            "off map": np.where((h > RATE_MAP_H[1]) | (h < 0), "beyond the map", "on the map"),
        }
    )


def momentum_error_frame(eigenvalues, lr, beta, theta0, steps, method, gd_lr=None) -> pd.DataFrame:
    """|θ̃ₜ,ᵢ| for ≤ 6 representative directions, under `method` at (η, β) and under plain GD at
    gd_lr (the same η by default)."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    reps = q.representative_directions(lam, 6)
    t = q.sample_steps(steps)
    theta0 = np.asarray(theta0, dtype=np.float64)[reps]
    frames = []
    gd_lr = lr if gd_lr is None else gd_lr
    for name, m, b, eta in ((METHOD_LABELS[method], method, beta, lr), (METHOD_LABELS["gd"], "gd", 0.0, gd_lr)):
        u = momentum.iterates_at(lam[reps], eta, b, theta0, t, m)
        with np.errstate(divide="ignore"):
            log_mag = np.log10(np.abs(u))
        # Below 10^−30 a line would run flat along the floor and look like stalling: each line
        # ends at its first clipped step instead, which the chart marks "< 1e-30".
        below = log_mag < -LOG_CLIP
        ended = np.cumsum(below, axis=0) > 1
        frame = pd.DataFrame(
            {
                "t": np.repeat(t, reps.size),
                "λ": np.tile(lam[reps], t.size),
                "direction": np.tile(reps + 1, t.size),
                "|θ̃|": 10.0 ** _clip_log(log_mag).ravel(),
                "exact": [format_number(float(v)) for v in u.ravel()],
                "method": name,
                "clipped": below.ravel(),
            }
        )
        frames.append(frame[~ended.ravel()])
    return pd.concat(frames, ignore_index=True)


METHOD_LABELS = {"gd": "gradient descent", "heavy_ball": "heavy ball", "nesterov": "Nesterov"}


# ---- the quadratic page's live charts (η recomputed in the browser) ------------------------

LIVE_ALL = 20  # up to this n every direction is a line, so the browser can sum the loss exactly
SYMLOG_STEPS = 200  # above this T the time axis is symlog (the first steps stay visible)
VERTICES = 6  # per direction: t = 0, T, and both sides of each clip edge (see live_frames)
LIVE_DIRS = 1_000  # up to this n the browser aggregates the verdict (and the band) over every direction
BLOWUP_LOG10 = math.log10(q.BLOWUP_FACTOR)


def live_frames(eigenvalues, theta0, steps, eps, eta_top) -> dict[str, pd.DataFrame]:
    """Everything the live quadratic chart needs that does not depend on η, bounded whatever n
    (≤ 4,500 rows in all, with the server's band and loss):

    lines: the sampled steps × the representative directions (≤ 20 × 150), with log10|θ̃₀,ᵢ| and
      its sign, from which the browser computes log10|θ̃ₜ,ᵢ| = t·log10|1 − ηλᵢ| + log10|θ̃₀,ᵢ|, and
      c = log10(½|λᵢ| θ̃₀,ᵢ²) (0 where that term is 0), from which it computes the loss's terms: for
      the loss (n ≤ LIVE_ALL) and for the decay on a symlog time axis (T > SYMLOG_STEPS);
    verts: the same directions' six vertices each, for the decay on a linear time axis;
    dirs: the directions (kind 0: i, λ, excited, log10|θ̃₀,ᵢ|), the sampled steps (kind 1) and one
      row of constants (kind 2: η_max, ε). For n ≤ LIVE_DIRS every direction: the verdict, the rate
      and the band aggregate over them exactly; above, only the extremes of λ ≠ 0 (the rate is
      attained there: |1 − ηλ| is convex in λ) and the verdict comes from the server;
    points: ≤ 1,000 eigenvalues for the V when dirs does not hold them all; vgrid: the V's λ range;
    flines: |1 − ηλᵢ| against η for ≤ 12 λᵢ at its vertices (η = 0, 1/λᵢ, the top: exact, it is
      piecewise linear); freps: those λᵢ; marks: η_max and η*.
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    theta0 = np.broadcast_to(np.asarray(theta0, dtype=np.float64), lam.shape)
    t = q.sample_steps(steps)
    reps = q.representative_directions(lam, LIVE_ALL)
    excited = theta0 != 0
    with np.errstate(divide="ignore"):
        log0 = np.where(excited, np.log10(np.abs(np.where(excited, theta0, 1.0))), 0.0)
    n_t, n_r = t.size, reps.size
    # log10(½|λᵢ| θ̃₀,ᵢ²): the loss term's part that does not depend on η or t (0 where the term is 0);
    # ½ apart, as ½λ underflows to 0 for the smallest subnormal λ.
    counted = excited[reps] & (lam[reps] != 0)
    with np.errstate(divide="ignore"):
        weight = np.where(
            counted, np.log10(0.5) + np.log10(np.abs(np.where(counted, lam[reps], 1.0))) + 2 * log0[reps], 0.0
        )
    # On a linear time axis each |θ̃ₜ,ᵢ| is a straight line on the log axis until it meets a clip edge:
    # six vertices per direction draw the polyline through every integer step exactly (t = 0, T, and
    # ⌊t*⌋, ⌊t*⌋ + 1 around each crossing t* of ±LOG_CLIP, found in the browser for the live η).
    verts = pd.DataFrame(
        {
            "k": np.tile(np.arange(VERTICES), n_r).astype(np.int8),
            "direction": np.repeat(reps + 1, VERTICES).astype(np.int32),
            "λ": np.repeat(lam[reps], VERTICES),
            "log0": np.repeat(log0[reps], VERTICES),
            "s0": np.repeat(np.sign(theta0[reps]), VERTICES).astype(np.int8),
            "z": np.repeat(~excited[reps], VERTICES).astype(np.int8),
            "T": np.full(n_r * VERTICES, int(t[-1]), dtype=np.int32),
        }
    )
    lines = pd.DataFrame(
        {
            "t": np.repeat(t, n_r).astype(np.int32),
            "direction": np.tile(reps + 1, n_t).astype(np.int32),
            "λ": np.tile(lam[reps], n_t),
            "log0": np.tile(log0[reps], n_t),
            "s0": np.tile(np.sign(theta0[reps]), n_t).astype(np.int8),
            "z": np.tile(~excited[reps], n_t).astype(np.int8),
            "c": np.tile(weight, n_t),
        }
    )
    eta_max = q.max_stable_lr(lam)
    eta_opt = q.optimal_lr(lam)
    if lam.size <= LIVE_DIRS:
        idx = np.arange(lam.size)
    else:
        moving = np.flatnonzero(lam != 0)
        idx = np.unique(moving[[np.argmin(lam[moving]), np.argmax(lam[moving])]]) if moving.size else moving[:0]
    k = idx.size
    dirs = pd.DataFrame(
        {
            "kind": np.concatenate([np.zeros(k), np.ones(n_t), [2]]).astype(np.int8),
            "i": np.concatenate([idx + 1, np.zeros(n_t), [0]]).astype(np.int32),
            "λ": np.concatenate([lam[idx], np.zeros(n_t), [0.0]]),
            "ex": np.concatenate([excited[idx], np.zeros(n_t), [0]]).astype(np.int8),
            "log0": np.concatenate([log0[idx], np.zeros(n_t), [0.0]]),
            "t": np.concatenate([np.zeros(k), t, [0]]).astype(np.int32),
            # η_max = ∞ (no λ > 0) travels as 0: chart data holds finite numbers only.
            "em": np.concatenate([np.zeros(k + n_t), [eta_max if math.isfinite(eta_max) else 0.0]]),
            "eps": np.concatenate([np.zeros(k + n_t), [float(eps)]]),
        }
    )
    lam_top = float(lam.max())
    lo = min(float(lam.min()), 0.0) * 1.15
    hi = max(lam_top * 1.6, 1e-300)
    freps = lam[q.representative_directions(lam, 12)]
    vertices = []
    for value in freps:
        # The kink of |1 − ηλ| at η = 1/λ, when it is inside the range (value·η_top > 1: no overflow for tiny λ).
        etas = [0.0, eta_top] + ([1.0 / value] if value > 0 and value * eta_top > 1.0 else [])
        vertices += [(eta, value, abs(1.0 - eta * value)) for eta in sorted(etas)]
    flines = pd.DataFrame(vertices, columns=["η", "λ", "|1 − ηλ|"])
    marks = pd.DataFrame(
        [
            {"η": v, "label": name, "value": format_number(v)}
            for name, v in (("η_max", eta_max), ("η*", eta_opt))
            if math.isfinite(v) and v <= eta_top
        ]
        or [{"η": 0.0, "label": "none", "value": ""}]
    )
    out = {
        # lines: the loss (summed in the browser for n ≤ LIVE_ALL) and, on a symlog axis, the decay.
        **({"lines": lines} if lam.size <= LIVE_ALL or steps > SYMLOG_STEPS else {}),
        **({"verts": verts} if steps <= SYMLOG_STEPS else {}),
        "dirs": dirs,
        "vgrid": pd.DataFrame({"k": [0, 1, 2], "lo": lo, "hi": hi}),
        "flines": flines,
        "freps": pd.DataFrame({"λ": freps}),
        "marks": marks,
    }
    if lam.size > LIVE_DIRS:
        out["points"] = pd.DataFrame({"λ": lam[spectrum_sample(lam)]})
    return out


def eigenvalues_drawn(datasets: dict[str, pd.DataFrame]) -> pd.Series:
    """The eigenvalues the live chart's V draws (every λ up to LIVE_DIRS, else ≤ 1,000 of them)."""
    if "points" in datasets:
        return datasets["points"]["λ"]
    dirs = datasets["dirs"]
    return dirs.loc[dirs["kind"] == 0, "λ"]


def verdict_frame(eigenvalues, lr, theta0) -> pd.DataFrame:
    """The verdict at one η as the live read-out words it (the server's, for n > LIVE_DIRS)."""
    v = q.status(eigenvalues, lr, theta0)
    rho = q.rate(eigenvalues, lr)
    if v["status"] == "diverges":
        text = (
            f"Diverges: direction {v['direction'] + 1} (λ = {v['eigenvalue']:.6g}, ηλ = {lr * v['eigenvalue']:.4g}) "
            f"passes 10⁶ × its start at step {int(v['step']):,}"
        )
    elif v["status"] == "oscillates forever":
        text = f"Oscillates forever: direction {v['direction'] + 1} has ηλ = 2 exactly (λ = {v['eigenvalue']:.6g})"
    elif v["status"] == "does not move":
        text = "Does not move: 1 − ηλᵢ = 1 in every excited direction"
    else:
        text = f"Converges: every excited direction shrinks, the slowest by {rho:.6g} per step"
    return pd.DataFrame({"eta": [float(lr)], "text": [text]})


def uniform_start(theta0) -> bool:
    """Every excited direction starts at the same |θ̃₀,ᵢ|: then the band over all n directions is
    max/min of t·log10|1 − ηλᵢ| plus one constant, which the browser aggregates exactly."""
    mags = np.abs(np.asarray(theta0, dtype=np.float64))
    mags = mags[mags != 0]
    return mags.size == 0 or bool(np.all(mags == mags[0]))


def band_frame(eigenvalues, lr, theta0, steps) -> pd.DataFrame:
    """The band over all n directions at one η (the server's, for a start the browser cannot
    aggregate exactly): t, lowest, highest, and the η it was computed for."""
    _, envelope = decay_frames(eigenvalues, lr, theta0, steps)
    return envelope.drop(columns="n").assign(eta=float(lr))


def server_loss_columns(eigenvalues, lr, theta0, steps) -> dict:
    """The loss at one η (n > LIVE_ALL: summed on the server) at sampled t: |L(θ_t)| clipped for the log axis, the
    exact signed value, and the η it was computed for, as columns: built straight into Arrow (charts.table), since a
    pandas frame and its conversion cost 1.3 of 1.5 ms every η release."""
    t = q.sample_steps(steps)
    log_l, sign = q.log_loss(eigenvalues, lr, theta0, t)
    return {
        "t": t,
        "|L|": 10.0 ** _clip_log(log_l),
        "L exact": [format_log(v, s) for v, s in zip(log_l, sign, strict=True)],
        "sign": np.where(sign < 0, "L < 0 (saddle)", "L ≥ 0"),
        "eta": float(lr),
    }
