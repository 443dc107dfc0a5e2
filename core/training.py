"""Full-batch training runs that record sharpness: gradient descent, heavy ball, Nesterov, gradient flow.

    gd:          θ_{t+1} = θ_t − η∇L(θ_t)                                threshold 2/η
    heavy_ball:  θ_{t+1} = θ_t − η∇L(θ_t) + β(θ_t − θ_{t−1})             threshold (2 + 2β)/η
    nesterov:    θ_{t+1} = y_t − η∇L(y_t),  y_t = θ_t + β(θ_t − θ_{t−1})  threshold (2 + 2β)/((1 + 2β)η)
    flow:        dθ/dt = −∇L(θ),  compared with step k at t = η·k (gd) or η·k/(1 − β) (both momenta)

All start at rest (θ_{−1} = θ_0) from network.init_params(widths, seed). Sharpness
S(θ) = λ_max(∇²L(θ)) with L = (1/2n) Σ ‖f − y‖² for mse (the ½ convention: without it every
sharpness doubles). Edge of Stability: S rises to the threshold, then hovers there.

Beyond full-batch GD (theory.md §7–§8):

    adam:     m_t = β₁m_{t−1} + (1 − β₁)g_t,  v_t = β₂v_{t−1} + (1 − β₂)g_t²,  θ_{t+1} = θ_t − η P_t⁻¹ m_t,
              P_t = (1 − β₁ᵗ) diag(√(v_t/(1 − β₂ᵗ)) + ε)  (PyTorch's Adam)    threshold (2 + 2β₁)/((1 − β₁)η)
    rmsprop:  v_t as above,  θ_{t+1} = θ_t − η P_t⁻¹ g_t,  P_t = diag(√v_t + ε)  (PyTorch's RMSprop)  threshold 2/η
    sgd:      gd or heavy_ball with g_t the gradient of a mini-batch (batch_size < n)

For adam and rmsprop what hovers at the threshold is the preconditioned sharpness λ_max(P_t⁻¹H_t);
for SGD it is the batch sharpness E_B[g_Bᵀ H_B g_B / ‖g_B‖²]. η may follow a piecewise-constant
schedule ("0.2 until 500, then 0.1"); the threshold then moves with η_t.
"""

from __future__ import annotations

import math
import re
import time

import numpy as np
from scipy.integrate import BDF, RK45

from core import datasets, network
from core.sharpness import MAX_K, CountedHVP, top_eigenvalues

METHODS = ("gd", "heavy_ball", "nesterov", "adam", "rmsprop")
ADAPTIVE = ("adam", "rmsprop")  # methods with a diagonal preconditioner P_t
MINI_BATCH_METHODS = ("gd", "heavy_ball")  # the methods that take batch_size < n (SGD, SGD with heavy ball)
MAX_STEPS = 20_000
MAX_LR = 1e6
MAX_EPS = 1.0  # Adam's ε: beyond 1 the preconditioner is ε and Adam is momentum SGD with step η/ε
DIVERGED_LOSS = 1e12  # a run stops when L(θ_t) is above this or not finite
CALLBACK_SECONDS = 0.25
FLOW_DENSE_MAX_PARAMS = 1_500  # above this, gradient flow uses RK45 only: a dense Jacobian would cost too much
FLOW_STIFF_FEVALS = 6_000  # gradient flow leaves RK45 for BDF after this many gradients (≈ 0.4 s at the defaults)
MAX_SCHEDULE_PIECES = 8
# Batch sharpness is a Monte Carlo mean over fresh batches: at least MIN_BATCHES, then stop when its standard
# error is below BATCH_REL_SE of the mean, or at MAX_BATCHES (≈ 2 HVP-equivalents of one batch each).
MIN_BATCHES = 10
MAX_BATCHES = 100
BATCH_REL_SE = 0.01
INTERPOLATION_LOSS = 0.01  # "interpolated": the training loss fell below 1 % of its value at step 0


def threshold(lr: float, method: str = "gd", beta: float = 0.0, beta1: float = 0.9) -> float:
    """The stability threshold: 2/η (gd, rmsprop), (2 + 2β)/η (heavy ball), (2 + 2β)/((1 + 2β)η) (Nesterov),
    (2 + 2β₁)/((1 − β₁)η) (adam; 38/η at β₁ = 0.9). For adam and rmsprop it bounds λ_max(P⁻¹H), not λ_max(H)."""
    if method in ("gd", "rmsprop"):
        return 2.0 / lr
    if method == "heavy_ball":
        return (2.0 + 2.0 * beta) / lr
    if method == "nesterov":
        return (2.0 + 2.0 * beta) / ((1.0 + 2.0 * beta) * lr)
    if method == "adam":
        return (2.0 + 2.0 * beta1) / ((1.0 - beta1) * lr)
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


def _check_decay(name: str, value, what: str) -> float:
    """A decay rate β with 0 ≤ β < 1 (β = 1 would never forget; β > 1 would blow up)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} = {value!r}: {what} must be a number with 0 ≤ {name} < 1.") from None
    if not 0.0 <= value < 1.0:  # also rejects NaN
        raise ValueError(f"{name} = {value!r}: {what} must satisfy 0 ≤ {name} < 1.")
    return value


def _check_eps(eps) -> float:
    try:
        eps = float(eps)
    except (TypeError, ValueError):
        raise ValueError(f"eps = {eps!r}: Adam's ε must be a number with 0 < ε ≤ {MAX_EPS:g}.") from None
    if not 0.0 < eps <= MAX_EPS:
        raise ValueError(f"eps = {eps!r}: Adam's ε must satisfy 0 < ε ≤ {MAX_EPS:g} (it keeps P⁻¹ finite).")
    return eps


_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_PIECE = re.compile(rf"^\s*(?:then\s+)?(?P<lr>{_NUMBER})\s*(?:until\s+(?:step\s+)?(?P<until>\d+))?\s*$", re.IGNORECASE)
SCHEDULE_EXAMPLE = "0.2 until 500, then 0.1"


def parse_schedule(text: str) -> tuple[tuple[float, int | None], ...]:
    """Pieces (η, until) of a piecewise-constant learning rate from text like "0.2 until 500, then 0.1".

    Pieces are separated by commas or semicolons; every piece but the last ends with "until <step>"
    (η holds for the steps t < step), the last holds to the end (until None). A plain number is a
    constant η. Steps increase strictly; at most MAX_SCHEDULE_PIECES pieces; each η as in train.
    """
    if not isinstance(text, str):
        raise ValueError(f"The schedule must be text like {SCHEDULE_EXAMPLE!r}, got {type(text).__name__}.")
    if len(text) > 400:
        raise ValueError(f"The schedule has {len(text):,} characters: at most 400 are allowed.")
    parts = [part for part in re.split(r"[,;]", text) if part.strip()]
    if not parts:
        raise ValueError(f"The schedule is empty: give a learning rate, or pieces like {SCHEDULE_EXAMPLE!r}.")
    if len(parts) > MAX_SCHEDULE_PIECES:
        raise ValueError(f"The schedule has {len(parts)} pieces: at most {MAX_SCHEDULE_PIECES} are allowed.")
    pieces, previous = [], 0
    for i, part in enumerate(parts):
        match = _PIECE.match(part)
        shown = repr(part.strip()[:40])
        if match is None:
            raise ValueError(
                f"Schedule piece {i + 1} ({shown}) is not understood: give each piece as a learning rate, "
                f"then 'until <step>' for all but the last, e.g. {SCHEDULE_EXAMPLE!r}."
            )
        lr = float(match["lr"])
        if not 0.0 < lr <= MAX_LR:
            raise ValueError(f"Schedule piece {i + 1} ({shown}): the learning rate must satisfy 0 < η ≤ {MAX_LR:g}.")
        until = None if match["until"] is None else int(match["until"])
        last = i == len(parts) - 1
        if until is None and not last:
            raise ValueError(
                f"Schedule piece {i + 1} ({shown}) must end with 'until <step>': only the last piece runs to the "
                f"end, e.g. {SCHEDULE_EXAMPLE!r}."
            )
        if until is not None and last:
            raise ValueError(
                f"Schedule piece {i + 1} ({shown}) is the last one and must run to the end: drop "
                f"'until {until}', or give the learning rate that follows, e.g. {SCHEDULE_EXAMPLE!r}."
            )
        if until is not None and not previous < until <= MAX_STEPS:
            raise ValueError(
                f"Schedule piece {i + 1} ({shown}): its step must be larger than {previous:,} (the one before) "
                f"and at most {MAX_STEPS:,}."
            )
        pieces.append((lr, until))
        previous = until if until is not None else previous
    return tuple(pieces)


def format_schedule(pieces) -> str:
    """The text that parse_schedule reads back into `pieces`."""
    return ", then ".join(f"{float(lr)!r}" + ("" if until is None else f" until {int(until)}") for lr, until in pieces)


def learning_rates(lr, steps: int) -> np.ndarray:
    """η_t for t = 0 … steps (η_t moves θ_t to θ_{t+1}; the last entry is the η in force at the end).

    lr is a number (constant η), schedule text for parse_schedule, or its pieces [(η, until), …, (η, None)].
    """
    steps = _check_int("steps", steps, 0, MAX_STEPS)
    if isinstance(lr, str):
        pieces = parse_schedule(lr)
    elif isinstance(lr, (list, tuple)):
        try:
            text = format_schedule(lr)
        except (TypeError, ValueError):
            raise ValueError(
                f"lr = {lr!r}: give a number, schedule text, or pieces [(η, until), …, (η, None)]."
            ) from None
        pieces = parse_schedule(text)
    else:
        return np.full(steps + 1, _check_lr(lr))
    rates = np.empty(steps + 1)
    start = 0
    for value, until in pieces:
        stop = steps + 1 if until is None else min(until, steps + 1)
        rates[start:stop] = value
        start = max(start, stop)
    return rates


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
    beta1=0.9,
    beta2=0.999,
    eps=1e-8,
    batch_size=None,
) -> dict:
    """Run `method` for `steps` steps from init_params(widths, seed), recording sharpness.

    Per step t = 0 … steps (arrays of length steps + 1), all at the iterate θ_t:
      loss L(θ_t), grad_norm ‖∇L(θ_t)‖, accuracy (ce only, else NaN) — always on the whole training set,
      update_norm ‖θ_{t+1} − θ_t‖ and top_projection v₁ᵀ(θ_{t+1} − θ_t) (NaN at the last step),
      with v₁ the latest top eigenvector, its sign kept consistent from one measurement to the next,
      sharpness λ₁, top_k (steps + 1, top_k) and residual max_i ‖Hv_i − λ_i v_i‖ at the sampled steps,
      NaN elsewhere. Sampled: t = 0, every sharpness_every steps, and the last step.
      lr: η_t (the step from θ_t), thresholds: the method's threshold at η_t.
      adam, rmsprop: preconditioned_sharpness λ_max(P_t⁻¹H_t) at the sampled steps, P_t the preconditioner
      of the step from θ_t (g_t folded in), by Lanczos on v ↦ P^{-1/2} H P^{-1/2} v (warm-started).
      batch_size given: batch_sharpness (mean over fresh batches B of g_BᵀH_Bg_B/‖g_B‖², see
      batch_sharpness()), batch_sharpness_stderr and batch_count at the sampled steps.
    Also: threshold (scalar, at η_0), method, batch_size (n if full batch), n_samples, diverged_at,
    params (θ where the run stopped), param_steps and param_history (θ at the sampled steps, for
    distance_to_flow), hvp_count (every HVP: Lanczos, preconditioned Lanczos, one per batch of batch
    sharpness), preconditioner (diag P of the last row, adam and rmsprop; else None).

    lr: a number, or a piecewise-constant schedule (text like "0.2 until 500, then 0.1", or its pieces;
    see parse_schedule). beta is the heavy-ball/Nesterov momentum (ignored by gd, adam, rmsprop); beta1,
    beta2, eps are Adam's (rmsprop uses beta2 and eps), checked for every method. batch_size None is
    full-batch training; batch_size < n (gd and heavy_ball only) is SGD: each epoch a permutation of the
    samples from np.random.default_rng([seed, 7]) is cut into n // batch_size batches (the remainder
    dropped), and g_t is the batch's gradient. batch_size = n is full-batch training, identical bit for bit
    to batch_size None, with batch_sharpness recorded.

    Divergence: the run stops at the first t with L(θ_t) not finite or > 1e12; diverged_at = t (else
    −1). The arrays keep length steps + 1, padded with NaN from t on (the loss at t is kept if finite).
    callback(partial, t) gets the arrays so far, at least every 0.25 s and once at the end.
    """
    steps = _check_int("steps", steps, 0, MAX_STEPS)
    lrs = learning_rates(lr, steps)
    every = _check_int("sharpness_every", sharpness_every, 1, MAX_STEPS)
    top_k = _check_int("top_k", top_k, 1, MAX_K)
    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r}: choose one of {', '.join(METHODS)}.")
    beta = 0.0 if method in ("gd", *ADAPTIVE) else _check_decay("beta", beta, "the momentum β")
    beta1 = _check_decay("beta1", beta1, "Adam's β₁ (momentum of the gradient average)")
    beta2 = _check_decay("beta2", beta2, "β₂ (decay of the squared-gradient average)")
    eps = _check_eps(eps)
    widths, X, y = _problem(widths, activation, loss, dataset, n_samples, seed, data)
    n = len(X)
    if batch_size is None:
        b = n
    else:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or not 1 <= batch_size <= n:
            raise ValueError(
                f"batch_size = {batch_size!r}: give a whole number from 1 to {n:,}, the number of training samples."
            )
        b = int(batch_size)
    mini = b < n
    if mini and method not in MINI_BATCH_METHODS:
        raise ValueError(
            f"batch_size = {b} < n = {n} is mini-batch SGD, which runs with method 'gd' or 'heavy_ball', "
            f"not {method!r}: use batch_size = n (or None) for {method}."
        )
    adaptive = method in ADAPTIVE
    track_batch = batch_size is not None
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
        "lr": lrs,
        "thresholds": threshold(lrs, method, beta, beta1),
        "preconditioned_sharpness": np.full(n_rows, np.nan),
        "batch_sharpness": np.full(n_rows, np.nan),
        "batch_sharpness_stderr": np.full(n_rows, np.nan),
        "batch_count": np.zeros(n_rows, dtype=np.int64),
        "threshold": threshold(float(lrs[0]), method, beta, beta1),
        "method": method,
        "batch_size": b,
        "n_samples": n,
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
    if adaptive:  # Adam's moments m, v (zero at the start, like PyTorch), ε-shifted root of v̂, g ⊙ g
        m, v, denom, square = np.zeros(P), np.zeros(P), np.zeros(P), np.zeros(P)
        correction1 = 1.0
    batches = np.random.default_rng([int(seed), 7]) if mini else None  # training batches
    fresh = np.random.default_rng([int(seed), 8]) if track_batch else None  # batch sharpness's own batches
    order, cursor = None, n
    v_top, v_pre = None, None
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
            if adaptive:
                # Fold g_t into the moments first: P_t is the preconditioner of the step from θ_t.
                np.multiply(grad, grad, out=square)
                v *= beta2
                v += (1.0 - beta2) * square
                np.sqrt(v, out=denom)
                if method == "adam":
                    m *= beta1
                    m += (1.0 - beta1) * grad
                    correction1 = 1.0 - beta1 ** (t + 1)
                    denom /= math.sqrt(1.0 - beta2 ** (t + 1))
                denom += eps
            if measure:
                history[np.searchsorted(sampled, t)] = theta
                counter = CountedHVP(state.hvp)
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
                if adaptive:
                    # λ_max(P⁻¹H) = λ_max(P^{-1/2} H P^{-1/2}): the symmetric form Lanczos needs.
                    scale = 1.0 / np.sqrt(correction1 * denom)
                    counter = CountedHVP(lambda u, s=scale, h=state.hvp: s * h(s * u))
                    lam_pre, vecs_pre, _ = top_eigenvalues(counter, P, k=1, v0=v_pre)
                    hvp_count += counter.count
                    if np.isfinite(lam_pre[0]):
                        v_pre = vecs_pre[:, 0]
                    out["preconditioned_sharpness"][t] = lam_pre[0]
                if track_batch:
                    mean, stderr, count, hvps = _batch_sharpness(
                        theta, Xa, yT, layout, activation, loss, b, fresh, state if not mini else None
                    )
                    hvp_count += hvps
                    out["batch_sharpness"][t] = mean
                    out["batch_sharpness_stderr"][t] = stderr
                    out["batch_count"][t] = count
            if t == steps:
                break
            lr_t = lrs[t]
            if mini:
                if cursor + b > n:  # a new epoch: a fresh permutation, cut into n // b batches
                    order, cursor = batches.permutation(n), 0
                index = order[cursor : cursor + b]
                cursor += b
                grad = network._Pass(theta, Xa[:, index], yT[:, index], layout, activation, loss).grad
            if method == "gd":
                np.multiply(grad, -lr_t, out=step)  # Δθ = −η∇L(θ_t)
            elif method == "heavy_ball":
                np.multiply(grad, -lr_t, out=step)  # Δθ = −η∇L(θ_t) + β(θ_t − θ_{t−1})
                step += beta * last_step
            elif method == "nesterov":
                np.multiply(last_step, beta, out=ahead.theta)  # y_t = θ_t + β(θ_t − θ_{t−1})
                ahead.theta += theta
                lookahead = network._Pass(ahead.theta, Xa, yT, layout, activation, loss, 1, ahead).grad
                np.multiply(lookahead, -lr_t, out=step)  # Δθ = y_t − η∇L(y_t) − θ_t
                step += beta * last_step
            elif method == "adam":
                np.divide(m, denom, out=step)  # Δθ = −(η/(1 − β₁ᵗ)) m_t/(√v̂_t + ε) = −η P_t⁻¹ m_t
                step *= -(lr_t / correction1)
            else:
                np.divide(grad, denom, out=step)  # Δθ = −η g_t/(√v_t + ε) = −η P_t⁻¹ g_t
                step *= -lr_t
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
    out["preconditioner"] = correction1 * denom if adaptive else None
    if callback is not None:
        callback(out, t)
    return out


def _batch_sharpness(theta, Xa, yT, layout, activation, loss, b, rng, full_state=None):
    """(mean, standard error, batches, HVPs) of g_BᵀH_Bg_B/‖g_B‖² over batches B of size b from rng.

    Each batch is rng.choice(n, b, replace=False). At least MIN_BATCHES, then until the standard error is
    below BATCH_REL_SE × |mean|, at most MAX_BATCHES. b = n has a single batch, all the data (full_state,
    the pass at θ already made, is reused). Batches with g_B = 0 have no quotient and are skipped.
    """
    n = Xa.shape[1]
    quotients = []
    hvps = 0
    for _ in range(1 if b == n else MAX_BATCHES):
        if b == n:
            state = full_state or network._Pass(theta, Xa, yT, layout, activation, loss, 2)
        else:
            index = rng.choice(n, size=b, replace=False)
            state = network._Pass(theta, Xa[:, index], yT[:, index], layout, activation, loss, 2)
        g = state.grad
        gg = float(np.dot(g, g))
        hvps += 1
        q = float(np.dot(g, state.hvp(g))) / gg if gg > 0 else math.nan
        if math.isfinite(q):
            quotients.append(q)
        k = len(quotients)
        if k >= MIN_BATCHES:
            mean = math.fsum(quotients) / k
            if np.std(quotients, ddof=1) / math.sqrt(k) <= BATCH_REL_SE * abs(mean):
                break
    k = len(quotients)
    if k == 0:
        return math.nan, math.nan, 0, hvps
    mean = math.fsum(quotients) / k
    stderr = float(np.std(quotients, ddof=1) / math.sqrt(k)) if k > 1 else 0.0
    return mean, stderr, k, hvps


def batch_sharpness(params, X, y, widths, batch_size, activation="swish", loss="mse", seed=0) -> dict:
    """Batch sharpness E_B[g_Bᵀ H_B g_B / ‖g_B‖²] at θ (Andreyev & Beneventano; theory.md §8).

    g_B, H_B: the gradient and Hessian of the batch loss L_B = (1/2b) Σ_{i∈B} ‖f(x_i) − y_i‖² (mse).
    B = rng.choice(n, batch_size, replace=False) with rng = np.random.default_rng(seed), fresh each time;
    a Monte Carlo mean stopped as in train (≥ 10 batches, standard error ≤ 1 % of the mean, ≤ 100 batches).
    A Rayleigh quotient of H_B, so with batch_size = n it is ≤ λ_max(H). Returns mean, stderr, count.
    """
    params, Xa, yT, layout = network._prepare(params, X, y, widths, activation, loss)
    n = Xa.shape[1]
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or not 1 <= batch_size <= n:
        raise ValueError(f"batch_size = {batch_size!r}: give a whole number from 1 to {n:,}, the number of samples.")
    rng = np.random.default_rng(seed)
    mean, stderr, count, _ = _batch_sharpness(params, Xa, yT, layout, activation, loss, int(batch_size), rng)
    return {"mean": mean, "stderr": stderr, "count": count}


def _integrate(velocity, jacobian, theta0, times, rtol, atol, deadline):
    """θ(t) of dθ/dt = velocity(t, θ) from θ(0) = theta0 at times (ascending, from 0): (rows (reached, P),
    success, message, nfev). RK45 first; after FLOW_STIFF_FEVALS gradients, BDF with jacobian from where RK45
    got to (if jacobian is None, RK45 to the end). Stops past deadline (perf_counter) with the rows reached."""
    out = [theta0] * int(np.searchsorted(times, 0.0, side="right"))
    solver, spent = RK45(velocity, 0.0, theta0, times[-1], rtol=rtol, atol=atol), 0
    while solver.status == "running" and len(out) < len(times):
        if time.perf_counter() > deadline:
            return np.array(out), False, "stopped: out of time", spent + solver.nfev
        if jacobian is not None and isinstance(solver, RK45) and solver.nfev > FLOW_STIFF_FEVALS:
            spent += solver.nfev
            solver = BDF(velocity, solver.t, solver.y, times[-1], rtol=rtol, atol=atol, jac=jacobian)
        message = solver.step()
        if solver.status == "failed":
            return np.array(out), False, str(message), spent + solver.nfev
        reached = int(np.searchsorted(times, solver.t, side="right"))
        if reached > len(out):
            out.extend(solver.dense_output()(times[len(out) : reached]).T)
    return np.array(out), True, "reached the last time", spent + solver.nfev


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

    Integrated by _integrate: RK45 (cheap steps) while the flow is not stiff, then BDF with the exact
    Jacobian −∇²L (batched HVPs): without GD's step-size limit the flow's sharpness keeps rising, which
    throttles an explicit method's steps. Measured at the defaults (rtol 1e-6; the EoS page's horizon,
    1.5 × the step where the run's sharpness crossed 2/η): GD, t to 86, 1,850 gradients and no Hessian in
    0.14–0.24 s where BDF alone took 0.87 s; heavy ball β = 0.9, t to 400 (stiff: 5 Hessians after the switch)
    0.9 s where BDF alone took 1.5 s. Each agrees with a 1e-10 integration to 2e-6. Models with more than
    FLOW_DENSE_MAX_PARAMS parameters stay with RK45 (no P × P matrices), within the same time budget.

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
    result = {"step": sampled, "time": times, "params": np.full((len(sampled), P), np.nan)}
    with np.errstate(all="ignore"):
        sol_y, success, message, nfev = _integrate(
            velocity, jacobian if P <= FLOW_DENSE_MAX_PARAMS else None, theta0, times, rtol, atol, start + max_seconds
        )
        reached = len(sol_y)
        result["params"][:reached] = sol_y
        result["loss"] = np.full(len(sampled), np.nan)
        result["sharpness"] = np.full(len(sampled), np.nan)
        v_top = None
        for i in range(reached):
            state = network._Pass(result["params"][i], Xa, yT, layout, activation, loss, order=2)
            result["loss"][i] = state.value
            if with_sharpness and time.perf_counter() < start + max_seconds:
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


def hovering_quantity(run: dict) -> str:
    """The key of what hovers at the run's threshold: preconditioned_sharpness (adam, rmsprop),
    batch_sharpness (mini-batch SGD), else sharpness (full-batch GD and momentum)."""
    if run.get("method") in ADAPTIVE:
        return "preconditioned_sharpness"
    if run.get("batch_size", 0) < run.get("n_samples", 0):
        return "batch_sharpness"
    return "sharpness"


def running_median3(values: np.ndarray) -> np.ndarray:
    """The median of each value with the (up to) two before it: the first is itself, the second the mean of
    two. Vectorised (the EoS page asks this of every run on every rerun: a loop of np.median took ≈ 2.5 ms)."""
    values = np.asarray(values, dtype=np.float64)
    smooth = values.copy()
    if values.size >= 2:
        smooth[1] = np.median(values[:2])
    if values.size >= 3:
        smooth[2:] = np.median(np.lib.stride_tricks.sliding_window_view(values, 3), axis=1)
    return smooth


def edge_report(run: dict, reach: float = 0.9, tail: float = 0.3) -> dict:
    """How the run's hovering quantity compares with its threshold η_t by η_t (train's result).

    quantity (hovering_quantity), peak and tail_median of quantity/threshold (the median over the last
    `tail` of the steps), reached_at (first sampled step where the median of the last 3 measurements of
    quantity/threshold is ≥ reach, else None),
    interpolated_at (first step with L(θ_t) ≤ INTERPOLATION_LOSS × L(θ_0), else None) and
    interpolated_first: the loss was nearly zero before the quantity reached the threshold, so the run
    memorised its data instead of reaching the edge (small problems under SGD do; theory.md §8).
    """
    quantity = hovering_quantity(run)
    values = np.asarray(run[quantity], dtype=np.float64)
    ratio = values / np.asarray(run["thresholds"], dtype=np.float64)
    steps = np.asarray(run["step"])
    finite = np.isfinite(ratio)
    start = int((1.0 - tail) * (len(ratio) - 1))
    tail_values = ratio[start:][finite[start:]]
    # Reached: a running median of 3 consecutive measurements ≥ reach, so one noisy Monte Carlo value is not enough.
    measured = np.flatnonzero(finite)
    smooth = running_median3(ratio[measured])
    above = measured[smooth >= reach] if measured.size else measured
    losses = np.asarray(run["loss"], dtype=np.float64)
    low = np.flatnonzero(np.isfinite(losses) & (losses <= INTERPOLATION_LOSS * losses[0]))
    reached_at = int(steps[above[0]]) if above.size else None
    interpolated_at = int(steps[low[0]]) if low.size and np.isfinite(losses[0]) else None
    return {
        "quantity": quantity,
        "peak": float(np.max(ratio[finite])) if finite.any() else math.nan,
        "tail_median": float(np.median(tail_values)) if tail_values.size else math.nan,
        "reached_at": reached_at,
        "interpolated_at": interpolated_at,
        "interpolated_first": interpolated_at is not None and (reached_at is None or interpolated_at < reached_at),
    }
