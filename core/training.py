"""Full-batch training runs that record sharpness: gradient descent, heavy ball, Nesterov, gradient flow.

    gd:          θ_{t+1} = θ_t − η∇L(θ_t)                                threshold 2/η
    heavy_ball:  θ_{t+1} = θ_t − η∇L(θ_t) + β(θ_t − θ_{t−1})             threshold (2 + 2β)/η
    nesterov:    θ_{t+1} = y_t − η∇L(y_t),  y_t = θ_t + β(θ_t − θ_{t−1})  threshold (2 + 2β)/((1 + 2β)η)
    flow:        dθ/dt = −∇L(θ),  compared with step k at t = η·k (gd) or η·k/(1 − β) (both momenta)

All start at rest (θ_{−1} = θ_0) from network.init_params(widths, seed). Sharpness
S(θ) = λ_max(∇²L(θ)) with L = (1/2n) Σ ‖f − y‖² for mse (the ½ convention: without it every
sharpness doubles). Edge of Stability: S rises to the threshold, then hovers there.
"""

from __future__ import annotations

import math
import time

import numpy as np
from scipy.integrate import solve_ivp

from core import datasets, network
from core.sharpness import MAX_K, top_eigenvalues

METHODS = ("gd", "heavy_ball", "nesterov")
MAX_STEPS = 20_000
MAX_LR = 1e6
DIVERGED_LOSS = 1e12  # a run stops when L(θ_t) is above this or not finite
CALLBACK_SECONDS = 0.25
FLOW_DENSE_MAX_PARAMS = 1_500  # above this, gradient flow uses RK45: a dense Jacobian would cost too much


def threshold(lr: float, method: str = "gd", beta: float = 0.0) -> float:
    """The stability threshold on sharpness: 2/η (gd), (2 + 2β)/η (heavy ball), (2 + 2β)/((1 + 2β)η) (Nesterov)."""
    if method == "gd":
        return 2.0 / lr
    if method == "heavy_ball":
        return (2.0 + 2.0 * beta) / lr
    if method == "nesterov":
        return (2.0 + 2.0 * beta) / ((1.0 + 2.0 * beta) * lr)
    raise ValueError(f"Unknown method {method!r}: choose one of {', '.join(METHODS)}.")


def flow_time(lr: float, method: str = "gd", beta: float = 0.0) -> float:
    """Gradient-flow time that one step covers: η for GD, η/(1 − β) for heavy ball and Nesterov.

    The slow root of both momentum recursions is 1 − ηλ/(1 − β) + O((ηλ)²) (theory.md §4), so
    at small ηλ both follow the flow dθ/dt = −∇L with the effective step η/(1 − β).
    """
    threshold(lr, method, beta)  # the same method check
    return lr if method == "gd" else lr / (1.0 - beta)


def _check_int(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f"{name} = {value!r}: give a whole number from {low:,} to {high:,}.")
    return int(value)


def _check_lr(lr) -> float:
    try:
        lr = float(lr)
    except (TypeError, ValueError):
        raise ValueError(f"lr = {lr!r}: the learning rate η must be a number.") from None
    if not (math.isfinite(lr) and 0.0 < lr <= MAX_LR):
        raise ValueError(f"lr = {lr!r}: the learning rate η must satisfy 0 < η ≤ {MAX_LR:g}.")
    return lr


def _problem(widths, activation, loss, dataset, n_samples, seed, data):
    """Validated (widths, X, y): the user's data=(X, y) overrides the named dataset."""
    widths = network._check_widths(widths)
    network._check_names(activation, loss)
    if data is not None:
        try:
            X, y = data
            X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError("data must be a pair (X, y) of numeric arrays.") from None
        if y.ndim == 1:
            y = y[:, None]
        if X.ndim != 2 or y.ndim != 2 or len(X) != len(y) or not 1 <= len(X) <= datasets.MAX_SAMPLES:
            raise ValueError(
                f"data has X of shape {X.shape} and y of shape {y.shape}: give X (n, d) and y (n, k) with the "
                f"same 1 ≤ n ≤ {datasets.MAX_SAMPLES:,}."
            )
        if not (np.isfinite(X).all() and np.isfinite(y).all()):
            raise ValueError("data contains NaN or inf: every value must be a finite number.")
        source = "the data"
    else:
        X, y = datasets.make(dataset, n_samples, seed)
        source = f"dataset {dataset!r}"
    if widths[0] != X.shape[1] or widths[-1] != y.shape[1]:
        raise ValueError(
            f"{source} has {X.shape[1]} inputs and {y.shape[1]} outputs: widths must start with {X.shape[1]} and "
            f"end with {y.shape[1]}, got {widths}."
        )
    network._check_data(X, y, widths, loss)
    return widths, X, y


def _sampled_steps(steps: int, every: int) -> np.ndarray:
    """The steps where sharpness and θ are recorded: 0, every, 2·every, … and the last step."""
    return np.unique(np.append(np.arange(0, steps + 1, every), steps))


def train(
    lr,
    steps,
    widths=(8, 16, 16, 1),
    activation="swish",
    loss="mse",
    dataset="gaussian",
    n_samples=128,
    seed=0,
    method="gd",
    beta=0.0,
    sharpness_every=10,
    top_k=1,
    data=None,
    callback=None,
) -> dict:
    """Run full-batch `method` for `steps` steps from init_params(widths, seed), recording sharpness.

    Per step t = 0 … steps (arrays of length steps + 1), all at the iterate θ_t:
      loss L(θ_t), grad_norm ‖∇L(θ_t)‖, accuracy (ce only, else NaN),
      update_norm ‖θ_{t+1} − θ_t‖ and top_projection v₁ᵀ(θ_{t+1} − θ_t) (NaN at the last step),
      with v₁ the latest top eigenvector, its sign kept consistent from one measurement to the next,
      sharpness λ₁, top_k (steps + 1, top_k) and residual max_i ‖Hv_i − λ_i v_i‖ at the sampled steps,
      NaN elsewhere. Sampled: t = 0, every sharpness_every steps, and the last step.
    Also: threshold (scalar), diverged_at, params (θ where the run stopped), param_steps and
    param_history (θ at the sampled steps, for distance_to_flow), hvp_count.

    Divergence: the run stops at the first t with L(θ_t) not finite or > 1e12; diverged_at = t (else
    −1). The arrays keep length steps + 1, padded with NaN from t on (the loss at t is kept if finite).
    beta is ignored for "gd". callback(partial, t) gets the arrays so far, at least every 0.25 s and
    once at the end.
    """
    lr = _check_lr(lr)
    steps = _check_int("steps", steps, 0, MAX_STEPS)
    every = _check_int("sharpness_every", sharpness_every, 1, MAX_STEPS)
    top_k = _check_int("top_k", top_k, 1, MAX_K)
    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r}: choose one of {', '.join(METHODS)}.")
    try:
        beta = 0.0 if method == "gd" else float(beta)
    except (TypeError, ValueError):
        raise ValueError(f"beta = {beta!r}: the momentum β must be a number with 0 ≤ β < 1.") from None
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"beta = {beta!r}: the momentum β must satisfy 0 ≤ β < 1.")
    widths, X, y = _problem(widths, activation, loss, dataset, n_samples, seed, data)
    layout = network._layout(widths)
    Xa, yT = network._augment(X), np.ascontiguousarray(y.T)
    labels = y.argmax(axis=1)
    P = layout[-1][1]
    top_k = min(top_k, P)

    n_rows = steps + 1
    out = {
        "step": np.arange(n_rows),
        "loss": np.full(n_rows, np.nan),
        "sharpness": np.full(n_rows, np.nan),
        "top_k": np.full((n_rows, top_k), np.nan),
        "residual": np.full(n_rows, np.nan),
        "grad_norm": np.full(n_rows, np.nan),
        "update_norm": np.full(n_rows, np.nan),
        "top_projection": np.full(n_rows, np.nan),
        "accuracy": np.full(n_rows, np.nan),
        "threshold": threshold(lr, method, beta),
        "diverged_at": -1,
        "hvp_count": 0,
    }
    sampled = _sampled_steps(steps, every)
    history = np.full((len(sampled), P), np.nan)
    is_sampled = np.zeros(n_rows, dtype=bool)
    is_sampled[sampled] = True

    # θ lives in a workspace and is updated in place: no allocation or re-slicing per step.
    work = network._Workspace(layout, len(X))
    theta = work.theta
    theta[:] = network.init_params(widths, seed)
    ahead = network._Workspace(layout, len(X)) if method == "nesterov" else None
    step, last_step = np.zeros(P), np.zeros(P)  # θ_{t+1} − θ_t and θ_t − θ_{t−1} (at rest: 0)
    losses, grad_norms = out["loss"], out["grad_norm"]
    update_norms, projections = out["update_norm"], out["top_projection"]
    v_top = None
    hvp_count = 0
    last_report = time.perf_counter()

    def partial(t):
        part = {key: (val[: t + 1] if isinstance(val, np.ndarray) else val) for key, val in out.items()}
        part["hvp_count"] = hvp_count
        return part

    with np.errstate(all="ignore"):  # a diverging run overflows on purpose; NaN/inf are handled below
        t = 0
        for t in range(n_rows):
            measure = is_sampled[t]
            state = network._Pass(theta, Xa, yT, layout, activation, loss, 2 if measure else 1, work)
            value = state.value
            if not (math.isfinite(value) and value <= DIVERGED_LOSS):
                out["diverged_at"] = t
                if math.isfinite(value):
                    losses[t] = value
                break
            grad = state.grad
            losses[t] = value
            grad_norms[t] = math.sqrt(np.dot(grad, grad))
            if loss == "ce":
                out["accuracy"][t] = np.mean(state.f.argmax(axis=0) == labels)
            if measure:
                history[np.searchsorted(sampled, t)] = theta
                counter = _Counter(state.hvp)
                lam, vecs, res = top_eigenvalues(counter, P, k=top_k, v0=v_top)
                hvp_count += counter.count
                if np.isfinite(lam).all():
                    v_new = vecs[:, 0]
                    if v_top is not None and np.dot(v_new, v_top) < 0:
                        v_new = -v_new  # eigenvectors have no sign; keep it so projections are comparable
                    v_top = v_new
                out["top_k"][t] = lam
                out["sharpness"][t] = lam[0]
                out["residual"][t] = res.max()
            if t == steps:
                break
            if method == "gd":
                np.multiply(grad, -lr, out=step)  # Δθ = −η∇L(θ_t)
            elif method == "heavy_ball":
                np.multiply(grad, -lr, out=step)  # Δθ = −η∇L(θ_t) + β(θ_t − θ_{t−1})
                step += beta * last_step
            else:
                np.multiply(last_step, beta, out=ahead.theta)  # y_t = θ_t + β(θ_t − θ_{t−1})
                ahead.theta += theta
                lookahead = network._Pass(ahead.theta, Xa, yT, layout, activation, loss, 1, ahead).grad
                np.multiply(lookahead, -lr, out=step)  # Δθ = y_t − η∇L(y_t) − θ_t
                step += beta * last_step
            update_norms[t] = math.sqrt(np.dot(step, step))
            if v_top is not None:
                projections[t] = np.dot(v_top, step)
            theta += step
            step, last_step = last_step, step
            if callback is not None and time.perf_counter() - last_report >= CALLBACK_SECONDS:
                callback(partial(t), t)
                last_report = time.perf_counter()

    out["hvp_count"] = hvp_count
    out["params"] = theta.copy()
    out["param_steps"] = sampled
    out["param_history"] = history
    if callback is not None:
        callback(out, t)
    return out


class _Counter:
    """An HVP that counts its calls (for the benchmark's HVPs/s and the run's record)."""

    __slots__ = ("hvp", "count")

    def __init__(self, hvp):
        self.hvp = hvp
        self.count = 0

    def __call__(self, v):
        self.count += 1
        return self.hvp(v)


def gradient_flow(
    lr,
    steps,
    widths=(8, 16, 16, 1),
    activation="swish",
    loss="mse",
    dataset="gaussian",
    n_samples=128,
    seed=0,
    sharpness_every=10,
    data=None,
    with_sharpness=True,
    method="gd",
    beta=0.0,
    rtol=1e-6,
    atol=1e-9,
    max_seconds=10.0,
) -> dict:
    """Gradient flow dθ/dt = −∇L(θ) from init_params(widths, seed), at t = flow_time(lr, method, beta)·step
    for train's sampled steps (η·step for GD, η·step/(1 − β) for momentum).

    solve_ivp with BDF and the exact Jacobian −∇²L (batched HVPs): without GD's step-size limit
    the flow's sharpness keeps rising (to ≈ 68 at the defaults), which makes it stiff. Measured at
    the defaults (t up to 200, rtol 1e-6): BDF 1.8 s (757 gradients, 19 Hessians), RK45 3.6 s
    (12,848 gradients), LSODA 5.5 s, Radau 6.5 s; all agree to 4e-7. Models with more than
    FLOW_DENSE_MAX_PARAMS parameters use RK45 (no P × P matrices), within the same time budget.

    Returns step (= train's param_steps), time, params (m, P), loss, sharpness (NaN if not
    with_sharpness), success, message, nfev, njev, seconds. The whole call, sharpness included, stops
    after about max_seconds of wall time; rows not reached are NaN and success is False.
    """
    lr = _check_lr(lr)
    steps = _check_int("steps", steps, 0, MAX_STEPS)
    every = _check_int("sharpness_every", sharpness_every, 1, MAX_STEPS)
    widths, X, y = _problem(widths, activation, loss, dataset, n_samples, seed, data)
    layout = network._layout(widths)
    Xa, yT = network._augment(X), np.ascontiguousarray(y.T)
    P = layout[-1][1]
    sampled = _sampled_steps(steps, every)
    times = flow_time(lr, method, beta) * sampled
    theta0 = network.init_params(widths, seed)

    def velocity(_t, theta):
        return -network._Pass(theta, Xa, yT, layout, activation, loss).grad

    def jacobian(_t, theta):
        # ∂(−∇L)/∂θ = −H, from batched exact HVPs (one R-pass over all P basis vectors).
        counts["njev"] += 1
        return -network._Pass(theta, Xa, yT, layout, activation, loss, order=2).hvp(np.eye(P))

    counts = {"njev": 0}

    start = time.perf_counter()
    deadline = start + max_seconds
    clock = {"last_t": 0.0, "stop_at": None}

    def out_of_time(t, _theta):
        # A terminal event for the wall-clock budget. solve_ivp root-finds events in t, so once the
        # budget is spent the event becomes the smooth function stop_at − t, stop_at inside the last step.
        if clock["stop_at"] is None:
            if t == 0.0 or time.perf_counter() < deadline:
                clock["last_t"] = t
                return 1.0
            clock["stop_at"] = 0.5 * (clock["last_t"] + t)
        return clock["stop_at"] - t

    out_of_time.terminal = True
    result = {"step": sampled, "time": times, "params": np.full((len(sampled), P), np.nan)}
    with np.errstate(all="ignore"):
        if steps == 0:
            sol_y, success, message, nfev = theta0[:, None], True, "no steps", 0
        else:
            # BDF needs the dense P × P Jacobian and its LU: affordable for small models only.
            stiff = {"method": "BDF", "jac": jacobian} if P <= FLOW_DENSE_MAX_PARAMS else {"method": "RK45"}
            sol = solve_ivp(
                velocity, (0.0, times[-1]), theta0, t_eval=times, rtol=rtol, atol=atol, events=out_of_time, **stiff
            )
            sol_y, success, nfev = sol.y, sol.status == 0, sol.nfev
            message = "stopped: out of time" if sol.status == 1 else sol.message
        reached = sol_y.shape[1]
        result["params"][:reached] = sol_y.T
        result["loss"] = np.full(len(sampled), np.nan)
        result["sharpness"] = np.full(len(sampled), np.nan)
        v_top = None
        for i in range(reached):
            state = network._Pass(result["params"][i], Xa, yT, layout, activation, loss, order=2)
            result["loss"][i] = state.value
            if with_sharpness and time.perf_counter() < deadline:
                lam, vecs, _ = top_eigenvalues(state.hvp, P, k=1, v0=v_top)
                result["sharpness"][i] = lam[0]
                v_top = vecs[:, 0] if np.isfinite(lam[0]) else None
        if with_sharpness and reached and np.isnan(result["sharpness"][reached - 1]):
            success, message = False, "stopped: out of time (sharpness not measured at every time)"
    result.update(
        success=bool(success),
        message=str(message),
        nfev=int(nfev),
        njev=counts["njev"],
        seconds=time.perf_counter() - start,
    )
    return result


def distance_to_flow(run: dict, flow: dict) -> dict:
    """‖θ_GD(step) − θ_GF(time of step)‖ at the steps both recorded; also relative to ‖θ_GF‖.

    run is train(...)'s result, flow is gradient_flow(...)'s with the same model arguments.
    """
    steps, i_run, i_flow = np.intersect1d(run["param_steps"], flow["step"], return_indices=True)
    diff = run["param_history"][i_run] - flow["params"][i_flow]
    distance = np.linalg.norm(diff, axis=1)
    return {
        "step": steps,
        "time": flow["time"][i_flow],
        "distance": distance,
        "relative": distance / np.linalg.norm(flow["params"][i_flow], axis=1),
    }


def departure_step(distance: dict, crossing: int | None, factor: float = 10.0) -> int | None:
    """The first step after `crossing` at which the distance from the flow exceeds `factor` × its
    level at the crossing: where GD actually leaves the flow (the unstable mode needs time to grow)."""
    if crossing is None:
        return None
    steps, d = distance["step"], distance["relative"]
    before = np.flatnonzero((steps <= crossing) & np.isfinite(d))
    if before.size == 0:
        return None
    level = d[before[-1]]
    after = np.flatnonzero((steps > crossing) & np.isfinite(d) & (d > factor * level))
    return int(steps[after[0]]) if after.size else None
