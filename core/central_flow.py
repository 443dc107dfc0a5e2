"""The central flow of gradient descent (Cohen, Damian, Talwalkar, Kolter, Lee, ICLR 2025; theory.md §9).

At the Edge of Stability GD oscillates along the top Hessian eigenvectors; its time average follows

    dw/dt = −η [∇L(w) + ½ ∇⟨H(w), Σ(t)⟩]        (t in GD steps)

with Σ ⪰ 0 supported on the eigenvectors whose eigenvalues reach 2/η and just large enough that no
eigenvalue of H(w) exceeds 2/η. One eigenvalue λ at the edge, with unit eigenvector u:
Σ = σ² uuᵀ, ½∇⟨H, Σ⟩ = ½σ²∇λ, ∇λ = D³L[u, u, ·], and dλ/dt = 0 gives σ² = 2⟨−∇L, ∇λ⟩/‖∇λ‖².
Predictions: GD's time-averaged loss ≈ L(w) + tr Σ/η (the oscillation's mean ½⟨H, Σ⟩ at H = 2/η on
span Σ); the eigenvalues of Σ ≈ the variance of GD's displacement from w along their eigenvectors.

Discretisation (the reference code's, locuslab/central_flows `step_central`, written here for numpy):
- Before any eigenvalue passes CRITICAL/η the central flow *is* gradient flow dw/dt = −η∇L; it is
  integrated by scipy's DOP853 (non-stiff there: ηλ < 2 per unit time) with the sharpness measured at
  every step, so this part matches core.training.gradient_flow to its tolerance. (relu: Euler substeps
  as below, since its kinks stall any adaptive integrator.)
- From the first step with λ₁ > CRITICAL/η on: explicit Euler, SUBSTEPS substeps of dt = 1/SUBSTEPS per
  step. Each substep takes the top eigenpairs (Lanczos, core.sharpness, warm-started), the k ≤ MAX_CRITICAL
  critical ones (λᵢ > CRITICAL/η), sᵢⱼ = D³L[uᵢ, uⱼ, ·] (exact, core.network.third_derivative), and
  solves the k × k semidefinite complementarity problem (SDCP)

      X ⪰ 0,   α + 𝔅[X] ⪰ 0,   ⟨X, α + 𝔅[X]⟩ = 0,
      αᵢⱼ = (2/η − λᵢ)δᵢⱼ + dt·η⟨sᵢⱼ, ∇L⟩,   𝔅[X]ᵢⱼ = (dt·η/2) Σₖₗ ⟨sᵢⱼ, sₖₗ⟩ Xₖₗ,

  i.e. "after this substep, UᵀH U ⪯ 2/η, with Σ only where the constraint binds"; then
  w ← w + dt(−η∇L − (η/2) Σᵢⱼ Xᵢⱼ sᵢⱼ), Σ = U X Uᵀ. k = 1 is closed form: X = max(0, −α/𝔅).

Momentum is not covered (the paper's code has no momentum flow); every run here is plain GD.
"""

from __future__ import annotations

import math
import time

import numpy as np
from scipy.integrate import DOP853
from scipy.optimize import brentq

from core import network, training
from core.sharpness import CountedHVP, top_eigenvalues

SUBSTEPS = 4
CRITICAL = 1.95  # eigenvalues above CRITICAL/η enter the SDCP (those below it get X = 0 anyway)
MAX_CRITICAL = 3  # the SDCP is at most 3 × 3; a 4th eigenvalue at the edge is reported, not constrained
STABLE_RTOL = 1e-10  # DOP853 tolerances of the gradient-flow part (relative; absolute below)
STABLE_ATOL = 1e-12
SDCP_TOL = 1e-10  # relative KKT residual at which the iterative SDCP solver stops
SDCP_MAX_ITER = 5_000


# ---------------------------------------------------------------- the SDCP


def _svec_basis(k: int):
    """Index pairs (i, j), i ≤ j, and the weights 1 (i = j) or √2 (i < j) of the isometry svec: Sym(k) → R^m."""
    pairs = [(i, j) for i in range(k) for j in range(i, k)]
    weights = np.array([1.0 if i == j else math.sqrt(2.0) for i, j in pairs])
    return pairs, weights


def svec(X: np.ndarray) -> np.ndarray:
    """(X₁₁, √2X₁₂, …, X₂₂, …): ⟨X, Y⟩ = svec(X)·svec(Y) for symmetric X, Y."""
    pairs, weights = _svec_basis(X.shape[0])
    return np.array([X[i, j] for i, j in pairs]) * weights


def smat(x: np.ndarray, k: int) -> np.ndarray:
    """The inverse of svec."""
    pairs, weights = _svec_basis(k)
    X = np.empty((k, k))
    for (i, j), value in zip(pairs, x / weights, strict=True):
        X[i, j] = X[j, i] = value
    return X


def _project_psd(X: np.ndarray) -> np.ndarray:
    lam, V = np.linalg.eigh(0.5 * (X + X.T))
    return (V * np.maximum(lam, 0.0)) @ V.T


def solve_sdcp(alpha, gram, x0=None, tol: float = SDCP_TOL, max_iter: int = SDCP_MAX_ITER) -> np.ndarray:
    """X ⪰ 0 with Y = α + 𝔅[X] ⪰ 0 and ⟨X, Y⟩ = 0, for a symmetric k × k α and 𝔅 given in svec form.

    gram is the m × m PSD matrix G (m = k(k+1)/2) with svec(𝔅[X]) = G svec(X). These are the KKT
    conditions of the convex problem min_{X ⪰ 0} ½⟨X, 𝔅X⟩ + ⟨α, X⟩, solved by: X = 0 if α ⪰ 0; the
    interior solution −𝔅⁻¹α if it is PSD; otherwise accelerated projected gradient (FISTA with
    restarts) on the PSD cone from x0, until the fixed-point residual ‖X − Π(X − ∇/L)‖·L is below
    tol·(‖α‖ + ‖G‖‖X‖). k ≤ 3 here, so every operation is a tiny dense one.
    """
    alpha = np.asarray(alpha, dtype=np.float64)
    gram = np.asarray(gram, dtype=np.float64)
    k = alpha.shape[0]
    if k == 0:
        return np.zeros((0, 0))
    if np.linalg.eigvalsh(alpha)[0] >= 0.0:
        return np.zeros((k, k))
    a = svec(alpha)
    gram = 0.5 * (gram + gram.T)
    g_eigs = np.linalg.eigvalsh(gram)
    lipschitz = g_eigs[-1]
    if lipschitz <= 0.0:
        raise ArithmeticError("the SDCP has 𝔅 = 0 and α is not PSD: no X can satisfy it")
    if g_eigs[0] > 1e-12 * lipschitz:  # 𝔅 invertible: try the interior solution 𝔅X = −α
        x = np.linalg.solve(gram, -a)
        X = smat(x, k)
        if np.linalg.eigvalsh(X)[0] >= -1e-12 * max(1.0, np.abs(X).max()):
            return _project_psd(X)
    if k == 2:  # neither 0 nor full rank: the solution has rank 1, found exactly on the circle of directions
        X = _rank_one_2x2(alpha, gram)
        if X is not None:
            return X
    return projected_gradient(alpha, gram, x0, tol, max_iter)


def _rank_one_2x2(alpha: np.ndarray, gram: np.ndarray) -> np.ndarray | None:
    """The best rank-one X = σ² qqᵀ, q = (cos θ, sin θ), checked against the KKT conditions (None if they fail).

    For fixed q the objective ½σ⁴ b(θ) + σ² a(θ) (a = qᵀαq, b = ⟨qqᵀ, 𝔅[qqᵀ]⟩) is least at σ² = −a/b
    when a < 0, with value −a²/(2b); its θ-derivative vanishes where 2a'b − ab' = 0, a root found to
    rounding by brentq next to the best of 256 angles. Projected gradient converges slowly exactly
    here when the second eigenvalue is about to join (strict complementarity nearly fails).
    """
    root2 = math.sqrt(2.0)

    def parts(theta):
        c, s = np.cos(theta), np.sin(theta)
        a = alpha[0, 0] * c * c + 2 * alpha[0, 1] * c * s + alpha[1, 1] * s * s
        da = 2 * ((alpha[1, 1] - alpha[0, 0]) * c * s + alpha[0, 1] * (c * c - s * s))
        v = np.stack([c * c, root2 * c * s, s * s])
        dv = np.stack([-2 * c * s, root2 * (c * c - s * s), 2 * c * s])
        gv = np.tensordot(gram, v, axes=1)
        return a, da, np.sum(v * gv, axis=0), 2 * np.sum(dv * gv, axis=0)

    grid = np.linspace(0.0, math.pi, 256, endpoint=False)
    a, _, b, _ = parts(grid)
    value = np.where(a < 0, -(a * a) / (2 * b), 0.0)
    best = int(np.argmin(value))
    if value[best] >= 0.0:
        return None

    def slope(theta):
        a, da, b, db = parts(np.array(theta))
        return float(2 * da * b - a * db)

    h = math.pi / 256
    lo, hi = grid[best] - h, grid[best] + h
    theta = grid[best]
    if slope(lo) * slope(hi) < 0:
        theta = brentq(slope, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps)
    a, _, b, _ = parts(np.array(theta))
    q = np.array([math.cos(theta), math.sin(theta)])
    X = (-float(a) / float(b)) * np.outer(q, q)
    Y = alpha + smat(gram @ svec(X), 2)
    scale = np.abs(alpha).max() + np.abs(gram).max() * np.abs(X).max()
    if np.linalg.eigvalsh(Y)[0] < -1e-9 * scale or abs(np.sum(X * Y)) > 1e-9 * scale * np.abs(X).max():
        return None
    return X


def projected_gradient(alpha, gram, x0=None, tol: float = SDCP_TOL, max_iter: int = SDCP_MAX_ITER) -> np.ndarray:
    """The SDCP by accelerated projected gradient on the PSD cone alone (solve_sdcp's general route)."""
    alpha = np.asarray(alpha, dtype=np.float64)
    gram = 0.5 * (np.asarray(gram, dtype=np.float64) + np.asarray(gram, dtype=np.float64).T)
    k = alpha.shape[0]
    a = svec(alpha)
    lipschitz = np.linalg.eigvalsh(gram)[-1]
    if lipschitz <= 0.0:
        raise ArithmeticError("the SDCP has 𝔅 = 0: no X moves α + 𝔅[X]")
    x = np.zeros_like(a) if x0 is None else svec(_project_psd(np.asarray(x0, dtype=np.float64)))
    y, momentum = x.copy(), 1.0
    step = 1.0 / lipschitz
    for _ in range(max_iter):
        grad = gram @ y + a
        x_new = svec(_project_psd(smat(y - step * grad, k)))
        # Restart the momentum when the objective would rise (O'Donoghue & Candès' gradient test).
        if np.dot(grad, x_new - x) > 0.0:
            momentum, y = 1.0, x.copy()
            continue
        momentum_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * momentum * momentum))
        y = x_new + ((momentum - 1.0) / momentum_new) * (x_new - x)
        x, momentum = x_new, momentum_new
        residual = np.linalg.norm(x - svec(_project_psd(smat(x - step * (gram @ x + a), k)))) * lipschitz
        if residual <= tol * (np.linalg.norm(a) + lipschitz * np.linalg.norm(x)):
            break
    return smat(x, k)


def sigma2_closed_form(alpha: float, b: float) -> float:
    """The k = 1 SDCP: σ² = max(0, −α/b) (b = 𝔅 > 0)."""
    return max(0.0, -alpha / b)


# ---------------------------------------------------------------- the flow


def _check_float(name: str, value, low: float, high: float) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} = {value!r}: give a number from {low:g} to {high:g}.") from None
    if not low <= value <= high:  # also rejects NaN
        raise ValueError(f"{name} = {value!r}: give a number from {low:g} to {high:g}.")
    return value


def run(
    lr,
    steps,
    widths=(8, 16, 16, 1),
    activation="swish",
    loss="mse",
    dataset="gaussian",
    n_samples=128,
    seed=0,
    data=None,
    callback=None,
    *,
    substeps: int = SUBSTEPS,
    critical: float = CRITICAL,
    record_every: int = 10,
    max_seconds: float | None = None,
) -> dict:
    """The central flow of full-batch GD with step η = lr, from init_params(widths, seed), for `steps` steps.

    Same problem arguments as core.training.train (same data, same θ₀), so the two are comparable step
    by step. Per step t = 0 … steps (arrays of length steps + 1), at w(t):
      loss L(w), predicted_loss L(w) + tr Σ/η (GD's time-averaged loss), sharpness λ₁(H(w)),
      eigenvalues (steps + 1, MAX_CRITICAL + 1) the tracked top eigenvalues (NaN where not tracked),
      sigma2 (steps + 1, MAX_CRITICAL) the eigenvalues of Σ, descending, 0-padded, and
      n_critical the number of eigenvalues above CRITICAL/η (0 on the gradient-flow part).
    Σ of step t is the mean over its substeps (the reference's convention); at t = steps, its start.
    Also: threshold 2/η, edge_step (the first step with λ₁ > CRITICAL/η, or −1), params (w at the end),
    param_steps (t = 0, record_every, …, steps, like train's sampled steps), param_history (w there) and
    direction_history (there, the top eigenvector of Σ, or u₁ where Σ = 0; sign kept consistent),
    hvp_count, d3_count (third-derivative passes), grad_count, seconds, success, message, stopped_at
    (the step where a run out of time or blowing up stopped, else −1; rows from there on are NaN).
    callback(partial, t) gets the arrays so far, at least every 0.25 s, and once at the end.
    """
    lr = training._check_lr(lr)
    steps = training._check_int("steps", steps, 0, training.MAX_STEPS)
    substeps = training._check_int("substeps", substeps, 1, 64)
    critical = _check_float("critical", critical, 1.0, 2.0)
    record_every = training._check_int("record_every", record_every, 1, training.MAX_STEPS)
    if max_seconds is not None:
        max_seconds = _check_float("max_seconds", max_seconds, 0.0, 1e6)
    widths, X, y = training._problem(widths, activation, loss, dataset, n_samples, seed, data)
    layout = network._layout(widths)
    Xa, yT = network._augment(X), np.ascontiguousarray(y.T)
    problem = (Xa, yT, layout, activation, loss)
    P = layout[-1][1]
    edge = 2.0 / lr
    cut = critical / lr
    dt = 1.0 / substeps
    max_track = min(MAX_CRITICAL + 1, P)

    n_rows = steps + 1
    out = {
        "step": np.arange(n_rows),
        "loss": np.full(n_rows, np.nan),
        "predicted_loss": np.full(n_rows, np.nan),
        "sharpness": np.full(n_rows, np.nan),
        "eigenvalues": np.full((n_rows, MAX_CRITICAL + 1), np.nan),
        "sigma2": np.full((n_rows, MAX_CRITICAL), np.nan),
        "n_critical": np.zeros(n_rows, dtype=np.int64),
        "threshold": edge,
        "lr": lr,
        "edge_step": -1,
        "stopped_at": -1,
    }
    sampled = training._sampled_steps(steps, record_every)
    history = np.full((len(sampled), P), np.nan)
    directions = np.full((len(sampled), P), np.nan)
    sample_index = {int(t): i for i, t in enumerate(sampled)}
    counts = {"hvp": 0, "d3": 0, "grad": 0}
    start = time.perf_counter()
    deadline = math.inf if max_seconds is None else start + max_seconds
    last_report = start

    def pass_at(w, order):
        counts["grad"] += 1
        return network._Pass(w, Xa, yT, layout, activation, loss, order)

    def eigenpairs(state, k, previous):
        """Top-k eigenpairs at this w, warm-started from (and signs aligned with) the previous ones."""
        v0 = None if previous is None else previous[:, :k].sum(axis=1)
        counted = CountedHVP(state.hvp)
        lam, U, _ = top_eigenvalues(counted, P, k=k, v0=v0)
        counts["hvp"] += counted.count
        if previous is not None and np.isfinite(lam).all():
            for i in range(min(k, previous.shape[1])):
                if np.dot(U[:, i], previous[:, i]) < 0.0:
                    U[:, i] = -U[:, i]
        return lam, U

    def record_sample(t, w, direction):
        i = sample_index.get(t)
        if i is not None:
            history[i] = w
            directions[i] = direction

    def partial(t):
        part = {key: (val[: t + 1] if isinstance(val, np.ndarray) else val) for key, val in out.items()}
        part.update(hvp_count=counts["hvp"], d3_count=counts["d3"], grad_count=counts["grad"])
        return part

    def report(t):
        nonlocal last_report
        if callback is not None and time.perf_counter() - last_report >= training.CALLBACK_SECONDS:
            callback(partial(t), t)
            last_report = time.perf_counter()

    def blew_up(value):
        return not (math.isfinite(value) and value <= training.DIVERGED_LOSS)

    message = "ok"
    t = 0
    w = network.init_params(widths, seed)
    u_prev = None  # (P, k) the tracked eigenvectors, for warm starts and sign alignment
    with np.errstate(all="ignore"):
        # --- Part 1: gradient flow until λ₁ passes CRITICAL/η (measured at every integer step).
        def velocity(_time, theta):
            counts["grad"] += 1
            return -lr * network._Pass(theta, Xa, yT, layout, activation, loss).grad

        # relu's kinks (every sample crossing zero in every unit) make an adaptive integrator crawl
        # (DOP853 took 3e5 gradients for 0.4 steps): there this part is Euler with the same substeps.
        smooth = activation != "relu"
        solver = DOP853(velocity, 0.0, w.copy(), float(max(steps, 1)), rtol=STABLE_RTOL, atol=STABLE_ATOL)
        dense = None
        on_edge = False
        while True:
            if t > 0 and not smooth:
                for _ in range(substeps):
                    w = w + (dt * velocity(None, w))
            elif t > 0:
                if solver.t < t:  # only the last step's interpolant is needed: earlier steps ended before t
                    while solver.t < t and solver.status == "running" and time.perf_counter() <= deadline:
                        solver.step()
                    if solver.status == "failed":
                        message, out["stopped_at"] = "the gradient-flow integrator failed", t
                        break
                    if solver.t < t:
                        message, out["stopped_at"] = "stopped: out of time", t
                        break
                    dense = solver.dense_output()
                w = solver.y.copy() if solver.t == t else dense(t)
            state = pass_at(w, 2)
            if blew_up(state.value):
                message, out["stopped_at"] = "the loss blew up", t
                break
            lam, U = eigenpairs(state, 1, u_prev)
            u_prev = U
            out["loss"][t] = out["predicted_loss"][t] = state.value
            out["sharpness"][t] = lam[0]
            out["eigenvalues"][t, 0] = lam[0]
            out["sigma2"][t] = 0.0
            if lam[0] > cut:
                on_edge = True
                out["edge_step"] = t
                break
            record_sample(t, w, U[:, 0])
            if t == steps:
                break
            if time.perf_counter() > deadline:
                message, out["stopped_at"] = "stopped: out of time", t + 1
                break
            report(t)
            t += 1

        # --- Part 2: the central flow, explicit Euler with the SDCP at every substep.
        if on_edge:
            n_crit, X_prev, U_prev, watch = 1, None, None, None
            while True:
                n_sub = 1 if t == steps else substeps
                sigma_sum, trace_sum, ok = np.zeros(MAX_CRITICAL), 0.0, True
                for sub in range(n_sub):
                    if sub > 0:
                        state = pass_at(w, 2)
                    if blew_up(state.value):
                        ok = False
                        break
                    # The first substep of a step also tracks the eigenvalue below the critical ones, so a
                    # newcomer rising to CRITICAL/η is caught within one step; the others track the critical ones.
                    k_track = min(max_track, n_crit + 1) if sub == 0 else max(n_crit, 1)
                    start_vectors = u_prev
                    if k_track > u_prev.shape[1] and watch is not None:  # Lanczos needs the newcomer in v0
                        start_vectors = np.column_stack([u_prev, watch])
                    lam, U = eigenpairs(state, k_track, start_vectors)
                    if k_track > n_crit:
                        watch = U[:, -1]
                    if not np.isfinite(lam).all():
                        ok = False
                        break
                    u_prev = U
                    index = np.flatnonzero(lam > cut)[:MAX_CRITICAL]
                    n_crit = len(index)
                    velocity_w = -lr * state.grad
                    X = np.zeros((0, 0))
                    if n_crit:
                        warm = _rotated(X_prev, U_prev, U[:, index])
                        X, pushed = _sdcp_substep(w, U[:, index], lam[index], state.grad, lr, dt, warm, problem)
                        counts["d3"] += n_crit * (n_crit + 1) // 2
                        velocity_w -= 0.5 * lr * pushed
                    X_prev, U_prev = X, (U[:, index] if n_crit else None)
                    sig = np.maximum(np.linalg.eigvalsh(X)[::-1], 0.0) if n_crit else np.zeros(0)
                    sigma_sum[:n_crit] += sig
                    trace_sum += float(np.trace(X)) if n_crit else 0.0
                    if sub == 0:
                        out["loss"][t] = state.value
                        out["sharpness"][t] = lam[0]
                        out["eigenvalues"][t, : len(lam)] = lam
                        out["n_critical"][t] = n_crit
                        direction = U[:, 0]
                        if n_crit and sig[0] > 0.0:
                            direction = U[:, index] @ np.linalg.eigh(X)[1][:, -1]
                            direction *= 1.0 if np.dot(direction, U[:, 0]) >= 0.0 else -1.0
                        record_sample(t, w, direction)
                    if t < steps:
                        w = w + dt * velocity_w
                if not ok:
                    message, out["stopped_at"] = "the loss blew up or the eigenvalues are not finite", t
                    break
                out["sigma2"][t] = sigma_sum / n_sub
                out["predicted_loss"][t] = out["loss"][t] + trace_sum / n_sub / lr
                if t == steps:
                    break
                if time.perf_counter() > deadline:
                    message, out["stopped_at"] = "stopped: out of time", t + 1
                    break
                report(t)
                t += 1
                state = pass_at(w, 2)
    if message == "ok" and out["sharpness"][0] > edge:
        # The flow assumes a start below 2/η; above it, Σ jumps at once to pull λ₁ down (GD would catapult).
        message = "ok, but started above 2/η: the first steps are a jump, not a prediction"
    stopped = out["stopped_at"]
    if stopped >= 0:  # rows from the stop on are not the flow's
        for key in ("loss", "predicted_loss", "sharpness", "eigenvalues", "sigma2"):
            out[key][stopped:] = np.nan
        out["n_critical"][stopped:] = 0
        history[sampled >= stopped] = np.nan
        directions[sampled >= stopped] = np.nan
    out.update(
        params=w,
        param_steps=sampled,
        param_history=history,
        direction_history=directions,
        hvp_count=counts["hvp"],
        d3_count=counts["d3"],
        grad_count=counts["grad"],
        seconds=time.perf_counter() - start,
        success=stopped < 0,
        message=message,
    )
    if callback is not None:
        callback(out, t)
    return out


def _rotated(X_prev, U_prev, U):
    """The last substep's X written in the new critical eigenvectors' basis (a warm start), or None."""
    if X_prev is None or U_prev is None or X_prev.shape != (U.shape[1], U.shape[1]):
        return None
    R = U.T @ U_prev  # near-degenerate eigenvalues at 2/η let Lanczos return any rotation of the pair
    return R @ X_prev @ R.T


def _sdcp_substep(w, U, lam, grad, lr, dt, X_prev, problem):
    """One substep's X (k × k) and Σᵢⱼ Xᵢⱼ sᵢⱼ, with sᵢⱼ = D³L[uᵢ, uⱼ, ·] for the k critical eigenpairs.

    In svec coordinates (weights 1 on the diagonal, √2 off it) Σᵢⱼ Xᵢⱼ sᵢⱼ = T svec(X) with the columns
    tₚ = weightₚ·sᵢⱼ, and svec(𝔅[X]) = (dt·η/2) TᵀT svec(X).
    """
    Xa, yT, layout, activation, loss = problem
    k = U.shape[1]
    pairs, weights = _svec_basis(k)
    T = np.empty((len(w), len(pairs)))
    for p, (i, j) in enumerate(pairs):
        T[:, p] = weights[p] * network._third_pass(w, Xa, yT, layout, activation, loss, U[:, i], U[:, j])[2]
    drift = dt * lr * (T.T @ grad) / weights  # dt·η⟨sᵢⱼ, ∇L⟩ for i ≤ j
    alpha = np.diag(2.0 / lr - lam)
    for p, (i, j) in enumerate(pairs):
        alpha[i, j] += drift[p]
        if i != j:
            alpha[j, i] += drift[p]
    gram = (0.5 * dt * lr) * (T.T @ T)
    if k == 1:
        X = np.array([[sigma2_closed_form(alpha[0, 0], gram[0, 0])]])
    else:
        X = solve_sdcp(alpha, gram, x0=X_prev)
    return X, T @ svec(X)


# ---------------------------------------------------------------- comparing with GD


def running_mean(values, window: int) -> np.ndarray:
    """The centred mean of `values` over `window` consecutive entries (shifted inward at the ends), NaN ignored.

    GD's loss at the edge zig-zags with a period of about 2 steps plus slower spikes; its mean over a
    window of many periods is what the central flow predicts.
    """
    values = np.asarray(values, dtype=np.float64)
    window = min(training._check_int("window", window, 1, 10**9), max(1, len(values)))  # at most the whole series
    finite = np.isfinite(values)
    sums = np.concatenate([[0.0], np.cumsum(np.where(finite, values, 0.0))])
    counts = np.concatenate([[0], np.cumsum(finite)])
    index = np.arange(len(values))
    lo = np.clip(index - window // 2, 0, len(values))
    hi = np.clip(lo + window, 0, len(values))
    lo = np.maximum(0, hi - window)
    n = counts[hi] - counts[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (sums[hi] - sums[lo]) / np.maximum(n, 1), np.nan)


def displacement(run: dict, flow: dict) -> dict:
    """GD's displacement from the central flow along Σ's top eigenvector, at the steps both recorded.

    x_t = ⟨d_t, θ_GD(t) − w_CF(t)⟩ with d_t flow["direction_history"]; at the edge GD oscillates
    about the flow, so mean(x²) over a window ≈ σ₁² (theory.md §9). run is train(...)'s result (gd),
    flow is run(...)'s with the same problem and record_every = train's sharpness_every.
    """
    steps, i_run, i_flow = np.intersect1d(run["param_steps"], flow["param_steps"], return_indices=True)
    diff = run["param_history"][i_run] - flow["param_history"][i_flow]
    x = np.einsum("ij,ij->i", diff, flow["direction_history"][i_flow])
    return {"step": steps, "displacement": x, "sigma2": flow["sigma2"][steps, 0]}
