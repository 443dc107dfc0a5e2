"""Momentum on the quadratic L(θ) = ½ θᵀAθ: heavy ball and Nesterov, a 2 × 2 system per direction.

    heavy ball:  θ_{t+1} = θ_t − η∇L(θ_t) + β(θ_t − θ_{t−1})
    Nesterov:    θ_{t+1} = y_t − η∇L(y_t),   y_t = θ_t + β(θ_t − θ_{t−1})

both started at rest, θ_{−1} = θ_0. With A = QΛQᵀ each eigen-coordinate x = θ̃_i moves alone:

    x_{t+1} = a x_t − b x_{t−1},   h = ηλ_i
    gd:          a = 1 − h,            b = 0          (β ignored)
    heavy_ball:  a = 1 + β − h,        b = β
    nesterov:    a = (1 + β)(1 − h),   b = β(1 − h)

i.e. (x_{t+1}, x_t) = M (x_t, x_{t−1}) with M = [[a, −b], [1, 0]]. The direction's rate is the
spectral radius of M, the largest |z| with z² − a z + b = 0 (theory.md §4; Goh, Distill 2017).

Iterates are computed with a power-of-two scale carried apart from the mantissa, so values that
leave float64 become ±inf (or 0), never NaN. β = 0 uses the closed form (1 − h)^t x_0 of plain GD.
"""

from __future__ import annotations

import math

import numpy as np

METHODS = ("gd", "heavy_ball", "nesterov")
REGIMES = ("flat", "monotone", "oscillating", "rippling", "marginal", "diverging")
MAX_STEPS = 100_000
# Largest |ηλ| accepted: beyond it the coefficients a, b themselves overflow float64.
MAX_H = 1e300


# ---------------------------------------------------------------- validation


def _check_method(method) -> str:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}.")
    return method


def _check_beta(beta, method):
    """β as float or array; must lie in [0, 1). "gd" ignores β: zeros of β's shape, unchecked."""
    b = np.asarray(beta, dtype=np.float64)
    if method == "gd":
        b = np.zeros_like(b)
    if not np.all((b >= 0) & (b < 1)):
        raise ValueError(f"momentum β must lie in [0, 1); got {beta!r}.")
    return float(b) if b.ndim == 0 else b


def _check_lr(lr) -> float:
    lr = float(lr)
    if not (math.isfinite(lr) and lr >= 0):
        raise ValueError(f"learning rate η must be finite and ≥ 0; got {lr!r}.")
    return lr


def _check_steps(steps) -> int:
    steps = int(steps)
    if not 0 <= steps <= MAX_STEPS:
        raise ValueError(f"steps T must be between 0 and {MAX_STEPS:,}; got {steps:,}.")
    return steps


def _as_vector(x) -> np.ndarray:
    return np.atleast_1d(np.asarray(x, dtype=np.float64))


def _prepare(eigenvalues, lr, beta, theta0, method):
    """Validated (h = ηλ, a, b, θ̃_0, β) for one run."""
    method = _check_method(method)
    beta = _check_beta(beta, method)
    if np.ndim(beta) != 0:
        raise ValueError("β must be a single number for a run.")
    lr = _check_lr(lr)
    lam = _as_vector(eigenvalues)
    if lam.ndim != 1:
        raise ValueError(f"eigenvalues must be a 1-D array; got shape {lam.shape}.")
    theta0 = _as_vector(theta0)
    if theta0.size not in (1, lam.size):
        raise ValueError(f"θ₀ must have one entry per eigenvalue ({lam.size}); got {theta0.size}.")
    theta0 = np.broadcast_to(theta0.ravel(), lam.shape).astype(np.float64)
    if not (np.all(np.isfinite(lam)) and np.all(np.isfinite(theta0))):
        raise ValueError("eigenvalues and θ₀ must be finite.")
    h = lr * lam
    if not np.all(np.abs(h) <= MAX_H):
        raise ValueError(f"|η·λ| must stay below {MAX_H:g}; got {np.max(np.abs(h)):g}.")
    a, b = coefficients(h, beta, method)
    return h, a, b, theta0, beta


# ---------------------------------------------------------------- the 2 × 2 system


def coefficients(h, beta, method) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) of x_{t+1} = a x_t − b x_{t−1} for h = ηλ (see the module docstring), broadcast."""
    method = _check_method(method)
    beta = _check_beta(beta, method)
    h = np.asarray(h, dtype=np.float64)
    if method == "gd":
        a = 1.0 - h + beta  # β is 0 here; keeps β's shape for broadcasting
        return a, np.zeros_like(a)
    if method == "heavy_ball":
        a = 1.0 + beta - h
        return np.broadcast_arrays(a, beta * np.ones_like(a))
    a = (1.0 + beta) * (1.0 - h)
    return np.broadcast_arrays(a, beta * (1.0 - h))


def iteration_matrix(h, beta, method) -> np.ndarray:
    """M = [[a, −b], [1, 0]] acting on (x_t, x_{t−1}); shape (..., 2, 2) for broadcast h, β."""
    a, b = coefficients(h, beta, method)
    a, b = np.broadcast_arrays(a, b)
    m = np.zeros(a.shape + (2, 2))
    m[..., 0, 0] = a
    m[..., 0, 1] = -b
    m[..., 1, 0] = 1.0
    return m


def spectral_radius(h, beta, method) -> np.ndarray:
    """ρ = max|z| over z² − a z + b = 0:  (|a| + √(a² − 4b))/2 if a² ≥ 4b, else √b (complex pair).

    Vectorised over broadcast h, β; never NaN for finite h (a² may overflow to inf → ρ = inf).
    """
    a, b = coefficients(h, beta, method)
    with np.errstate(over="ignore"):
        disc = a * a - 4.0 * b
        real = 0.5 * (np.abs(a) + np.sqrt(np.maximum(disc, 0.0)))
    # Complex roots are conjugate, |z|² = z·z̄ = b (b > 0 whenever disc < 0).
    return np.where(disc >= 0, real, np.sqrt(np.maximum(b, 0.0)))


def boundary(beta, method):
    """h = ηλ where stability ends: 2 (gd), 2 + 2β (heavy_ball), (2 + 2β)/(1 + 2β) (nesterov)."""
    method = _check_method(method)
    beta = _check_beta(beta, method)
    if method == "gd":
        return 2.0 + beta  # β is 0 here; keeps β's shape
    if method == "heavy_ball":
        return 2.0 + 2.0 * beta
    return (2.0 + 2.0 * beta) / (1.0 + 2.0 * beta)


def regime(h, beta, method) -> np.ndarray:
    """The behaviour of a direction, h = ηλ, from the roots of z² − a z + b = 0 (array of strings).

    "flat"         h = 0: ρ = 1, and a direction started at rest never moves.
    "monotone"     ρ < 1, real roots, dominant root ≥ 0 (a ≥ 0): decays without changing sign.
    "oscillating"  ρ < 1, real roots, dominant root < 0 (a < 0): decays with sign flips.
    "rippling"     ρ < 1, complex roots: decays in a spiral at rate √b (√β for heavy ball).
    "marginal"     h = boundary(β) (to 8 ulps): ρ = 1 exactly, a root at z = −1; the direction
                   oscillates forever at constant size (GD's r = −1).
    "diverging"    ρ > 1: h > boundary(β), or h < 0 (a saddle, which grows for every η > 0).

    ρ = 1 happens only at h = 0 and h = boundary(β) (z = ±1 solves z² − az + b = 0 there and
    |z|² = b < 1 for complex roots), so stability is decided on h against that exact boundary:
    the same as ρ < 1, without the rounding of ρ near repeated roots (√ of a tiny discriminant).
    """
    h = np.asarray(h, dtype=np.float64)
    a, b = coefficients(h, beta, method)
    edge = np.asarray(boundary(beta, method), dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        disc = a * a - 4.0 * b
    h, a, edge = np.broadcast_arrays(h, a, edge)
    labels = np.select(
        [h == 0, np.abs(h - edge) <= 8 * np.spacing(edge), (h < 0) | (h > edge), disc < 0, a >= 0],
        ["flat", "marginal", "diverging", "rippling", "monotone"],
        "oscillating",
    )
    return labels.astype(str)


def rate_map(h_grid, beta_grid, method) -> np.ndarray:
    """ρ(h, β) on the grid: shape (len(beta_grid), len(h_grid)), row = β, column = h = ηλ."""
    h, beta = _as_vector(h_grid), _as_vector(beta_grid)
    return np.broadcast_to(spectral_radius(h[None, :], beta[:, None], method), (beta.size, h.size)).copy()


# ---------------------------------------------------------------- learning rates and rates


def max_stable_lr(eigenvalues, beta, method) -> float:
    """η_max = boundary(β)/λ_max: 2/λ_max (gd), (2+2β)/λ_max (heavy_ball), (2+2β)/((1+2β)λ_max).

    inf if λ_max ≤ 0.
    """
    lam_max = float(np.max(_as_vector(eigenvalues)))
    h_max = float(boundary(beta, method))
    return h_max / lam_max if lam_max > 0 else math.inf


def rate(eigenvalues, lr, beta, method) -> float:
    """max_i ρ(ηλ_i, β) over the directions with λ_i ≠ 0 (1.0 if there are none)."""
    lam = _as_vector(eigenvalues)
    moving = lam[lam != 0]
    if moving.size == 0:
        return 1.0
    return float(np.max(spectral_radius(_check_lr(lr) * moving, beta, method)))


def optimal(eigenvalues) -> dict:
    """Polyak's optimal heavy ball over the λ > 0, with GD's best for comparison.

    lr = 4/(√λ_max + √λ_min)²,  beta = ((√κ − 1)/(√κ + 1))²,  rate = (√κ − 1)/(√κ + 1);
    gd_lr = 2/(λ_min + λ_max),  gd_rate = (κ − 1)/(κ + 1),  κ = λ_max/λ_min.
    With no λ > 0 nothing can converge: lr = gd_lr = inf, beta = 0, rate = gd_rate = 1, kappa = inf.
    """
    lam = _as_vector(eigenvalues)
    positive = lam[lam > 0]
    if positive.size == 0:
        return {"lr": math.inf, "beta": 0.0, "rate": 1.0, "kappa": math.inf, "gd_lr": math.inf, "gd_rate": 1.0}
    lo, hi = float(positive.min()), float(positive.max())
    kappa = hi / lo
    sk = math.sqrt(kappa)
    # Below 1 as it is exactly: for κ > 3e32 the formula rounds to 1.0 in float64, and β = 1 is no momentum
    # method (every function here refuses it); the largest float below 1 is the float nearest β* then.
    below_one = math.nextafter(1.0, 0.0)
    heavy_rate = (sk - 1.0) / (sk + 1.0)
    return {
        "lr": 4.0 / (math.sqrt(hi) + math.sqrt(lo)) ** 2,
        "beta": min(heavy_rate**2, below_one),
        "rate": min(heavy_rate, below_one),
        "kappa": kappa,
        "gd_lr": 2.0 / (lo + hi),
        "gd_rate": (kappa - 1.0) / (kappa + 1.0),
    }


# ---------------------------------------------------------------- iterates


def _exponent(x) -> np.ndarray:
    """⌊log2|x|⌋ for finite x, read from the float64 bits (several times faster than frexp).

    0 and subnormals give −1023; the result is capped at 1022 so that 2^−e stays a normal float.
    """
    biased = (np.asarray(x, dtype=np.float64).view(np.int64) >> 52) & 0x7FF
    return np.minimum(biased - 1023, 1022)


def _pow2(k) -> np.ndarray:
    """2^k exactly, for integer k in [−1022, 1023], built from the float64 bits."""
    return ((np.asarray(k, dtype=np.int64) + 1023) << 52).view(np.float64)


def _normalise(u, v):
    """(u, v) = 2^e (û, v̂) with max(|û|, |v̂|) in [1, 2) (or both 0): returns (û, v̂, e).

    Scaling by a power of two is exact, so this changes no digit.
    """
    e = _exponent(np.maximum(np.abs(u), np.abs(v)))
    scale = _pow2(-e)
    return u * scale, v * scale, e


def _scaled(mantissa, exponent):
    """mantissa·2^exponent; overflow → ±inf, underflow → ±0 (the exponent is clipped, not wrapped)."""
    with np.errstate(over="ignore", under="ignore"):
        return np.ldexp(mantissa, np.clip(exponent, -3000, 3000).astype(np.int32))


def _gd_at(h, theta0, t) -> np.ndarray:
    """θ̃_{t,i} = (1 − h_i)^t θ̃_{0,i}, shape (len(t), n); ±inf on overflow, never NaN."""
    r = 1.0 - h
    t = t[:, None]
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        power = np.power(r, t)
        out = np.where(theta0 == 0, 0.0, power * theta0)  # 0·inf would be NaN
    # Where r^t left the normal floats (inf, or subnormal with digits lost) but θ̃_0 brings the
    # product back into range, redo it from log2|θ̃_t| = t·log2|r| + log2|θ̃_0|, with the sign apart.
    log2_r = np.log2(np.abs(np.where(r == 0, 1.0, r)))
    log2_x0 = np.log2(np.abs(np.where(theta0 == 0, 1.0, theta0)))
    log2_mag = t * log2_r + log2_x0
    abs_power = np.abs(power)
    outside = ~((abs_power >= np.finfo(np.float64).tiny) & np.isfinite(abs_power))
    redo = outside & (log2_mag > -1080.0) & (log2_mag < 1030.0) & (r != 0) & (theta0 != 0)
    if np.any(redo):
        tt, rr, x0 = (np.broadcast_to(v, out.shape)[redo] for v in (t, r, theta0))
        sign = np.sign(x0) * np.where((rr < 0) & (tt % 2 == 1), -1.0, 1.0)
        with np.errstate(over="ignore", under="ignore"):
            out[redo] = sign * np.exp2(log2_mag[redo])
    return out


# A state pair is rescaled (by a power of two, exactly) only when its size leaves [2^-400, 2^400]:
# in ordinary runs the exponent stays 0 and the recurrence runs on the plain values.
_BIG, _SMALL = 2.0**400, 2.0**-400


def _rescale(prev, cur, e):
    """Move a power of two from (prev, cur) into e where max(|prev|, |cur|) left [2^-400, 2^400]."""
    size = np.maximum(np.abs(prev), np.abs(cur))
    # Below 2^-400 only matters once e ≠ 0: with e = 0 float64 underflows exactly as the true value.
    need = (size > _BIG) | ((e != 0) & (size < _SMALL) & (size > 0))
    if np.any(need):
        prev, cur, e = prev.copy(), cur.copy(), e.copy()
        prev[need], cur[need], de = _normalise(prev[need], cur[need])
        e[need] += de
    return prev, cur, e


def _momentum_path(a, b, theta0, steps) -> np.ndarray:
    """x_t for t = 0..steps by x_{t+1} = a x_t − b x_{t−1}, x_{−1} = x_0; shape (steps+1, n).

    x_t = 2^e_i·(mantissa); chunks are short enough that a mantissa ≤ 2^400 cannot pass 2^1000
    within one: growth per step is at most ‖M‖∞ = |a| + |b|.
    """
    n = a.size
    out = np.empty((steps + 1, n))
    out[0] = theta0
    growth = float(np.max(np.abs(a) + np.abs(b), initial=1.0))
    chunk = 256 if growth <= 2.0 ** (600 / 256) else max(1, int(600.0 / math.log2(growth)))
    prev, cur, e = _rescale(theta0, theta0, np.zeros(n, dtype=np.int64))
    tmp = np.empty(n)
    t = 0
    while t < steps:
        rows = out[t + 1 : t + 1 + min(chunk, steps - t)]
        p, c = prev, cur
        for row in rows:
            np.multiply(a, c, out=row)
            np.multiply(b, p, out=tmp)
            np.subtract(row, tmp, out=row)
            p, c = c, row
        prev, cur = p.copy(), c.copy()  # mantissas, before the rows get their scale
        scaled = np.nonzero(e)[0]
        if scaled.size:
            rows[:, scaled] = _scaled(rows[:, scaled], e[scaled])
        prev, cur, e = _rescale(prev, cur, e)
        t += len(rows)
    return out


def _momentum_at(a, b, theta0, t) -> np.ndarray:
    """x_t = e₁ᵀ M^t (x_0, x_0) at the steps t, shape (len(t), n), by baby and giant steps.

    t = L·g + s with L = ⌈√(max t + 1)⌉:  x_t = (e₁ᵀ M^s)·(M^{L g} (x_0, x_0)), so about 2√(max t)
    2 × 2 products per direction plus one dot product per (t, i), instead of max t steps.
    Matrix powers are polynomials in (a, b): accurate also at (near-)repeated roots, where a closed
    form through the roots is not. Every factor carries its own power-of-two exponent.
    """
    m, n = t.size, a.size
    if m == 0:
        return np.empty((0, n))
    top = int(t.max())
    big = math.isqrt(top) + 1  # L
    giant_idx, baby_idx = np.divmod(t, big)
    # Baby rows ρ_s = e₁ᵀ M^s for s = 0..L: ρ_{s+1} = ρ_s M = (a ρ0 + ρ1, −b ρ0).
    baby = np.empty((big + 1, 2, n))
    baby_e = np.empty((big + 1, n), dtype=np.int64)
    u, v, e = np.ones(n), np.zeros(n), np.zeros(n, dtype=np.int64)
    for s in range(big + 1):
        baby[s, 0], baby[s, 1], baby_e[s] = u, v, e
        u, v, de = _normalise(a * u + v, -b * u)
        e = e + de
    # N = M^L = [[ρ_L], [ρ_{L−1}]] (row 1 of M is e₁ᵀ, so e₂ᵀ M^L = ρ_{L−1}), on a common exponent.
    e_n = np.maximum(baby_e[big], baby_e[big - 1])
    with np.errstate(under="ignore"):
        n00, n01 = (np.ldexp(baby[big, j], baby_e[big] - e_n) for j in (0, 1))
        n10, n11 = (np.ldexp(baby[big - 1, j], baby_e[big - 1] - e_n) for j in (0, 1))
    # Giant columns w_g = N^g (1, 1) for g = 0..max g.
    n_giant = int(giant_idx.max()) + 1
    giant = np.empty((n_giant, 2, n))
    giant_e = np.empty((n_giant, n), dtype=np.int64)
    u, v, e = np.ones(n), np.ones(n), np.zeros(n, dtype=np.int64)
    for g in range(n_giant):
        giant[g, 0], giant[g, 1], giant_e[g] = u, v, e
        u, v, de = _normalise(n00 * u + n01 * v, n10 * u + n11 * v)
        e = e + de + e_n
    rho, w = baby[baby_idx], giant[giant_idx]
    dot = rho[:, 0] * w[:, 0] + rho[:, 1] * w[:, 1]
    m0, e0 = np.frexp(theta0)  # x_0 = m0·2^e0, applied last so that nothing overflows early
    return _scaled(dot * m0, baby_e[baby_idx] + giant_e[giant_idx] + e0.astype(np.int64))


def iterates(eigenvalues, lr, beta, theta0, steps, method) -> np.ndarray:
    """θ̃_t in the eigenbasis for t = 0..steps, shape (steps+1, n), float64, θ_{−1} = θ_0.

    θ̃_{t+1,i} = a_i θ̃_{t,i} − b_i θ̃_{t−1,i} (see the module docstring); β = 0 (or "gd") is
    exactly plain GD, θ̃_{t,i} = (1 − ηλ_i)^t θ̃_{0,i}. ±inf where float64 overflows, never NaN.
    Costs O(steps·n) time and memory: to show a long run, sample it with `iterates_at`.
    """
    h, a, b, theta0, beta = _prepare(eigenvalues, lr, beta, theta0, method)
    steps = _check_steps(steps)
    if method == "gd" or beta == 0:
        return _gd_at(h, theta0, np.arange(steps + 1))
    return _momentum_path(a, b, theta0, steps)


def iterates_at(eigenvalues, lr, beta, theta0, t, method) -> np.ndarray:
    """θ̃_t at the steps t (ints in 0..MAX_STEPS, any order), shape (len(t), n); = iterates(...)[t].

    x_t = e₁ᵀ M^t (x_0, x_0) by baby and giant steps: O((√max t + len(t))·n) work, not
    O(max t · n). β = 0 (or "gd") is the closed form (1 − ηλ_i)^t θ̃_{0,i}. ±inf on overflow, never NaN.
    """
    h, a, b, theta0, beta = _prepare(eigenvalues, lr, beta, theta0, method)
    t = np.asarray(t)
    if t.ndim != 1 or (t.size and not np.issubdtype(t.dtype, np.integer)):
        raise ValueError("t must be a 1-D array of integer steps.")
    t = t.astype(np.int64)
    if t.size and not (t.min() >= 0 and t.max() <= MAX_STEPS):
        raise ValueError(f"steps t must be between 0 and {MAX_STEPS:,}.")
    if method == "gd" or beta == 0:
        return _gd_at(h, theta0, t)
    return _momentum_at(a, b, theta0, t)
