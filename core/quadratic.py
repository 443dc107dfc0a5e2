"""Gradient descent on the quadratic L(θ) = ½ θᵀAθ, solved in closed form in A's eigenbasis.

With A = QΛQᵀ and θ̃ = Qᵀθ, one GD step is θ̃_{t+1,i} = (1 − ηλ_i) θ̃_{t,i}, so

    θ̃_{t,i} = (1 − ηλ_i)^t θ̃_{0,i}        (O(1) per (t, i), no simulation)

Powers overflow float64 quickly (|r|^t with |r| = 3 passes 1e308 near t = 646), so every
magnitude is computed as log10|θ̃_{t,i}| = t·log10|r_i| + log10|θ̃_{0,i}| with the sign kept
apart. Values that leave float64 become ±inf, never NaN.
"""

from __future__ import annotations

import math

import numpy as np

# What "diverged" means on the page: a direction grew a million-fold from where it started.
BLOWUP_FACTOR = 1e6
MAX_STEPS = 100_000


def _as_vector(x) -> np.ndarray:
    return np.atleast_1d(np.asarray(x, dtype=np.float64))


def max_stable_lr(eigenvalues) -> float:
    """η_max = 2 / λ_max: GD converges in every direction iff 0 < η < η_max. inf if λ_max ≤ 0."""
    lam_max = float(np.max(_as_vector(eigenvalues)))
    return 2.0 / lam_max if lam_max > 0 else math.inf


def optimal_lr(eigenvalues) -> float:
    """η* = 2 / (λ_min + λ_max) over the λ > 0: it minimises max_i |1 − ηλ_i|. inf if no λ > 0."""
    lam = _as_vector(eigenvalues)
    positive = lam[lam > 0]
    if positive.size == 0:
        return math.inf
    return 2.0 / (float(positive.min()) + float(positive.max()))


def condition_number(eigenvalues) -> float:
    """κ = λ_max / λ_min over the λ > 0 (inf if there are none)."""
    lam = _as_vector(eigenvalues)
    positive = lam[lam > 0]
    if positive.size == 0:
        return math.inf
    return float(positive.max() / positive.min())


def factors(eigenvalues, lr) -> np.ndarray:
    """r_i = 1 − ηλ_i, the factor direction i is multiplied by at every step."""
    return 1.0 - lr * _as_vector(eigenvalues)


def regimes(eigenvalues, lr) -> np.ndarray:
    """The behaviour of each direction, from theory.md §2's table of r_i = 1 − ηλ_i."""
    lam = _as_vector(eigenvalues)
    r = factors(lam, lr)
    out = np.full(lam.shape, "", dtype=object)
    out[(r > 0) & (r < 1)] = "monotone decay"
    out[r == 0] = "solved in one step"
    out[(r > -1) & (r < 0)] = "zig-zag decay"
    out[r == -1] = "oscillates forever"
    out[r < -1] = "oscillating blow-up"
    out[lam == 0] = "flat (never moves)"
    out[lam < 0] = "saddle: grows"
    # η = 0: nothing moves whatever λ is.
    out[(r == 1) & (lam != 0)] = "frozen (η = 0)"
    return out.astype(str)


def rate(eigenvalues, lr) -> float:
    """max_i |1 − ηλ_i| over the directions with λ_i ≠ 0 (flat directions never move or matter)."""
    lam = _as_vector(eigenvalues)
    moving = lam[lam != 0]
    if moving.size == 0:
        return 1.0
    return float(np.max(np.abs(1.0 - lr * moving)))


def steps_to_tolerance(eigenvalues, lr, eps: float) -> float:
    """⌈log ε / log ρ⌉ with ρ = max_i |1 − ηλ_i|: steps until every direction shrank by ε.

    1 when ρ = 0 (one step solves every direction); inf when ρ ≥ 1 (never).
    """
    if not (0 < eps < 1):
        raise ValueError(f"ε must lie strictly between 0 and 1; got {eps!r}.")
    rho = rate(eigenvalues, lr)
    if rho >= 1:
        return math.inf
    if rho == 0:
        return 1
    return math.ceil(math.log(eps) / math.log(rho))


def _check_steps(steps) -> int:
    steps = int(steps)
    if not 0 <= steps <= MAX_STEPS:
        raise ValueError(f"steps T must be between 0 and {MAX_STEPS:,}; got {steps:,}.")
    return steps


def log_magnitudes(eigenvalues, lr, theta0, t) -> tuple[np.ndarray, np.ndarray]:
    """(log10|θ̃_{t,i}|, sign θ̃_{t,i}) for the steps t (any int array), shape (len(t), n).

    log10|θ̃_{t,i}| = t·log10|1 − ηλ_i| + log10|θ̃_{0,i}|;  sign = sign(θ̃_{0,i})·sign(1 − ηλ_i)^t.
    A component that is exactly zero has log10 = −inf and sign 0. Never NaN.
    """
    lam = _as_vector(eigenvalues)
    theta0 = np.broadcast_to(_as_vector(theta0), lam.shape)
    t = np.asarray(t, dtype=np.int64).reshape(-1, 1)
    r = factors(lam, lr)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_r = np.log10(np.abs(r))
        log0 = np.log10(np.abs(theta0))
        # t = 0 must give θ̃_0 even where r = 0 (0·(−inf) is NaN, and np.where discards it).
        log_growth = np.where(t == 0, 0.0, t * log_r)
    log_mag = log_growth + log0
    odd = (t % 2) == 1
    sign = np.sign(theta0) * np.where(odd & (r < 0), -1.0, 1.0)
    sign = np.where(np.isneginf(log_mag), 0.0, sign)
    return log_mag, sign


def _from_log(log_mag: np.ndarray, sign: np.ndarray) -> np.ndarray:
    """sign·10^log_mag with overflow to ±inf (sign is 0 only where log_mag = −inf, so no 0·inf)."""
    with np.errstate(over="ignore"):
        magnitude = np.power(10.0, log_mag)
    return np.where(sign == 0, 0.0, sign * magnitude)


def iterates_at(eigenvalues, lr, theta0, t) -> np.ndarray:
    """θ̃_{t,i} = (1 − ηλ_i)^t θ̃_{0,i} at the given steps t, shape (len(t), n); ±inf on overflow."""
    return _from_log(*log_magnitudes(eigenvalues, lr, theta0, t))


def iterates(eigenvalues, lr, theta0, steps) -> np.ndarray:
    """θ̃_t in the eigenbasis for t = 0..steps, shape (steps+1, n), exact; ±inf on overflow, never NaN."""
    return iterates_at(eigenvalues, lr, theta0, np.arange(_check_steps(steps) + 1))


def log_loss(eigenvalues, lr, theta0, t) -> tuple[np.ndarray, np.ndarray]:
    """(log10|L(θ_t)|, sign L(θ_t)) with L(θ_t) = ½ Σ_i λ_i θ̃_{t,i}², shape (len(t),).

    Positive and negative λ are summed apart with log-sum-exp, so a saddle (λ < 0) growing
    next to a steep direction (λ > 0) never makes inf − inf.
    """
    lam = _as_vector(eigenvalues)
    log_mag, _ = log_magnitudes(lam, lr, theta0, t)
    with np.errstate(divide="ignore"):
        log_terms = np.log10(0.5 * np.abs(lam)) + 2.0 * log_mag  # log10 of ½|λ_i|θ̃²

    def log_sum(mask: np.ndarray) -> np.ndarray:
        if not mask.any():
            return np.full(log_terms.shape[0], -np.inf)
        part = log_terms[:, mask]
        top = part.max(axis=1, keepdims=True)
        safe_top = np.where(np.isfinite(top), top, 0.0)
        with np.errstate(divide="ignore"):
            total = safe_top[:, 0] + np.log10(np.sum(10.0 ** (part - safe_top), axis=1))
        return np.where(np.isfinite(top[:, 0]), total, top[:, 0])

    pos, neg = log_sum(lam > 0), log_sum(lam < 0)
    # |L| = 10^pos − 10^neg: written as the larger times (1 − 10^(smaller − larger)).
    big = np.maximum(pos, neg)
    small = np.minimum(pos, neg)
    sign = np.where(pos >= neg, 1.0, -1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = np.where(np.isfinite(big), small - big, -np.inf)
        log_abs = big + np.log10(-np.expm1(diff * np.log(10.0)))
    log_abs = np.where(np.isneginf(big), -np.inf, log_abs)
    log_abs = np.where(np.isnan(log_abs), -np.inf, log_abs)  # pos == neg exactly: L = 0
    sign = np.where(np.isneginf(log_abs), 0.0, sign)
    return log_abs, sign


def loss_curve(eigenvalues, lr, theta0, steps) -> np.ndarray:
    """L(θ_t) = ½ Σ_i λ_i θ̃_{t,i}² for t = 0..steps, shape (steps+1,); ±inf on overflow, never NaN."""
    return _from_log(*log_loss(eigenvalues, lr, theta0, np.arange(_check_steps(steps) + 1)))


def blowup_step(eigenvalues, lr, theta0) -> tuple[int, float]:
    """(index i, step t) of the first direction to grow past BLOWUP_FACTOR × |θ̃_{0,i}|.

    t = ⌈log10(BLOWUP_FACTOR) / log10|r_i|⌉ for |r_i| > 1. Returns (-1, inf) if none grows.
    """
    lam = _as_vector(eigenvalues)
    theta0 = np.broadcast_to(_as_vector(theta0), lam.shape)
    growth = np.abs(factors(lam, lr))
    growing = (growth > 1) & (theta0 != 0)
    if not growing.any():
        return -1, math.inf
    with np.errstate(divide="ignore"):
        steps = np.where(growing, np.ceil(math.log10(BLOWUP_FACTOR) / np.log10(growth)), np.inf)
    i = int(np.argmin(steps))
    return i, float(steps[i])


def status(eigenvalues, lr, theta0) -> dict:
    """What GD does overall: "converges", "oscillates forever", "diverges" or "does not move"
    (1 − ηλᵢ = 1 in every excited direction: η = 0, λ = 0, or ηλ below double precision), with
    the culprit.

    Looks only at the directions θ̃₀ actually excites (θ̃_{0,i} ≠ 0).
    """
    lam = _as_vector(eigenvalues)
    theta0 = np.broadcast_to(_as_vector(theta0), lam.shape)
    excited = theta0 != 0
    r = factors(lam, lr)
    i, t = blowup_step(lam, lr, theta0)
    if i >= 0:
        return {"status": "diverges", "direction": i, "eigenvalue": float(lam[i]), "step": t}
    stuck = excited & (r == -1)
    if stuck.any():
        j = int(np.flatnonzero(stuck)[0])
        return {"status": "oscillates forever", "direction": j, "eigenvalue": float(lam[j]), "step": math.inf}
    if not (excited & (r != 1)).any():
        return {"status": "does not move", "direction": -1, "eigenvalue": math.nan, "step": math.inf}
    return {"status": "converges", "direction": -1, "eigenvalue": math.nan, "step": math.inf}


def sample_steps(steps: int, max_points: int = 150, dense_head: int = 40) -> np.ndarray:
    """A bounded set of steps for charts: every step up to dense_head, then log-spaced up to T.

    Always contains 0 and T; at most max_points values; sorted and unique.
    """
    steps = _check_steps(steps)
    if steps + 1 <= max_points:
        return np.arange(steps + 1)
    n_head = min(dense_head, max_points // 3)
    tail = np.geomspace(max(n_head, 1), steps, max_points - n_head - 1)
    t = np.unique(np.concatenate([np.arange(n_head + 1), np.round(tail).astype(np.int64)]))
    return np.append(t[t < steps][: max_points - 1], steps)


def representative_directions(eigenvalues, max_lines: int = 20) -> np.ndarray:
    """Indices of a bounded set of directions to draw: all if n ≤ max_lines, else quantiles.

    The quantiles of the sorted spectrum always include λ_min and λ_max (the extremes decide
    stability and speed), so the picture keeps its meaning for any n.
    """
    lam = _as_vector(eigenvalues)
    if lam.size <= max_lines:
        return np.arange(lam.size)
    order = np.argsort(lam, kind="stable")
    picks = np.unique(np.round(np.linspace(0, lam.size - 1, max_lines)).astype(int))
    return order[picks]
