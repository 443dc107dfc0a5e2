"""A multilayer perceptron on a flat float64 parameter vector: loss, gradient, Hessian-vector product.

Parameter layout, layer by layer: the weight matrix W_l of shape (fan_in, fan_out) flattened
row-major, then the bias b_l (fan_out). Forward pass, no activation after the last layer:

    a_0 = X,   z_l = a_{l−1} W_l + b_l,   a_l = φ(z_l) (l < L),   f = z_L

Losses (n samples):

    mse:  L = (1/2n) Σ_i ‖f(x_i) − y_i‖²          (the ½ matches ½θᵀAθ, so sharpness = λ_max(∇²L))
    ce:   L = (1/n) Σ_i [s_i lse(f_i) − y_i·f_i],  s_i = Σ_k y_ik = 1 for one-hot y
          (mean softmax cross-entropy, lse(f) = log Σ_k exp f_k computed stably)

The gradient is ordinary backpropagation. The Hessian-vector product Hv is exact: Pearlmutter's
R-operator R{g} = d/dr g(θ + r v)|_{r=0} pushed through the forward pass and then through the
backward pass (forward-over-reverse, written out by hand; it needs φ'', which is 0 almost
everywhere for relu). We chose it over the central difference (∇L(θ+εv) − ∇L(θ−εv))/(2ε)
because it has no ε to tune and is exact to rounding, which the accuracy read-out of every
eigen-estimate relies on; it costs about two gradients.

Speed (numpy's per-call overhead dominates at 433 parameters): W_l followed by b_l is the
(fan_in + 1) × fan_out matrix Θ_l = [W_l; b_l] stored contiguously, so z_l = [a_{l−1}, 1] Θ_l is
one matmul and ∂L/∂Θ_l = [a_{l−1}, 1]ᵀ δ_l is written straight into the gradient vector.
Activations are stored transposed (features × samples), so each [a, 1]ᵀ is one contiguous block.
`hvp_operator` runs the forward/backward pass once and returns v ↦ Hv reusing it: a Lanczos run
at fixed θ pays only for the R-passes. For one vector the R-passes multiply stacked blocks
([V_lᵀ | W_lᵀ] times [[a, 1]ᵀ; R a]) whose fixed half is filled once per θ, so each pair of
products is one matmul; a batch of vectors (m, P) goes through the same formulas by broadcasting.
The operator reuses those blocks between calls, so one operator must not be called from two
threads at once (make one per thread: it is cheap).

Measured on one core (2-core EPYC VM), widths (8, 16, 16, 1), n = 128, swish, mse: a gradient
≈ 170 µs, an HVP ≈ 150 µs, the dense 433 × 433 Hessian ≈ 55 ms.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.special import expit

ACTIVATIONS = ("tanh", "relu", "swish", "softplus", "linear")
LOSSES = ("mse", "ce")
MAX_WIDTH = 256
MAX_LAYERS = 16
MAX_PARAMS = 50_000
MAX_DENSE_PARAMS = 5_000  # a 5,000 × 5,000 Hessian is 200 MB


# ---------------------------------------------------------------- layout and validation


def _check_widths(widths) -> tuple[int, ...]:
    try:
        widths = tuple(widths)
    except TypeError:
        raise ValueError(f"widths must be a list of layer sizes like (8, 16, 16, 1), got {widths!r}.") from None
    if not 2 <= len(widths) <= MAX_LAYERS + 1:
        raise ValueError(
            f"widths has {len(widths)} entries: give 2 to {MAX_LAYERS + 1} layer sizes, input and output "
            "included, e.g. (8, 16, 16, 1)."
        )
    out = []
    for i, w in enumerate(widths):
        if isinstance(w, bool) or not isinstance(w, (int, np.integer)) or not 1 <= w <= MAX_WIDTH:
            raise ValueError(f"widths[{i}] = {w!r}: every layer size must be a whole number from 1 to {MAX_WIDTH}.")
        out.append(int(w))
    total = sum(a * b + b for a, b in zip(out[:-1], out[1:], strict=True))
    if total > MAX_PARAMS:
        raise ValueError(f"widths {tuple(out)} give {total:,} parameters: at most {MAX_PARAMS:,} are allowed.")
    return tuple(out)


@functools.lru_cache(maxsize=64)
def _layout(widths: tuple[int, ...]) -> tuple[tuple[int, int, int, int], ...]:
    """(start, stop, fan_in, fan_out) of each Θ_l = [W_l; b_l] in the flat vector, once per architecture."""
    layers = []
    start = 0
    for fan_in, fan_out in zip(widths[:-1], widths[1:], strict=True):
        stop = start + (fan_in + 1) * fan_out
        layers.append((start, stop, fan_in, fan_out))
        start = stop
    return tuple(layers)


def _thetas(params: np.ndarray, layout) -> list[np.ndarray]:
    """Views Θ_l = [W_l; b_l] of shape (..., fan_in + 1, fan_out) into params of shape (..., P)."""
    if params.ndim == 1:
        return [params[s:e].reshape(fi + 1, fo) for s, e, fi, fo in layout]
    lead = params.shape[:-1]
    return [params[..., s:e].reshape(*lead, fi + 1, fo) for s, e, fi, fo in layout]


def n_params(widths) -> int:
    """P = Σ_l (fan_in_l + 1) · fan_out_l."""
    return _layout(_check_widths(widths))[-1][1]


def _check_params(params, widths) -> np.ndarray:
    p = np.asarray(params, dtype=np.float64)
    expected = _layout(widths)[-1][1]
    if p.ndim != 1 or p.size != expected:
        raise ValueError(f"params has shape {p.shape}: widths {widths} need a flat vector of {expected} numbers.")
    return p


def _check_data(X, y, widths, loss_name: str | None) -> tuple[np.ndarray, np.ndarray | None]:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != widths[0] or X.shape[0] < 1:
        raise ValueError(f"X has shape {X.shape}: widths {widths} need shape (n, {widths[0]}) with n ≥ 1.")
    if y is None:
        return X, None
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 1 and widths[-1] == 1:
        y = y[:, None]
    if y.shape != (X.shape[0], widths[-1]):
        raise ValueError(
            f"y has shape {y.shape}: with {X.shape[0]} samples and widths {widths} it must be "
            f"({X.shape[0]}, {widths[-1]})."
        )
    if loss_name == "ce" and widths[-1] < 2:
        raise ValueError("Cross-entropy needs at least 2 outputs (one per class); use loss='mse' for 1 output.")
    return X, y


def _check_names(activation: str, loss_name: str) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(f"Unknown activation {activation!r}: choose one of {', '.join(ACTIVATIONS)}.")
    if loss_name not in LOSSES:
        raise ValueError(f"Unknown loss {loss_name!r}: choose 'mse' (½ mean squared error) or 'ce' (cross-entropy).")


def _augment(X: np.ndarray) -> np.ndarray:
    """[X, 1]ᵀ, shape (d + 1, n): the transposed input with the row of ones that multiplies b_1."""
    Xa = np.empty((X.shape[1] + 1, X.shape[0]))
    Xa[:-1] = X.T
    Xa[-1] = 1.0
    return Xa


def _prepare(params, X, y, widths, activation, loss_name):
    """Validate the public arguments; return what the inner functions take."""
    widths = _check_widths(widths)
    _check_names(activation, loss_name)
    params = _check_params(params, widths)
    X, y = _check_data(X, y, widths, loss_name)
    return params, _augment(X), (None if y is None else np.ascontiguousarray(y.T)), _layout(widths)


# ---------------------------------------------------------------- activations


def _act(z: np.ndarray, activation: str, order: int, out: np.ndarray):
    """Write φ(z) into out; return (φ'(z), φ''(z)) up to `order` (None where identically 1 or 0)."""
    if activation == "swish":
        # φ = zσ,  φ' = σ(1 + z(1 − σ)),  φ'' = σ(1 − σ)(2 + z(1 − 2σ)),  σ = σ(z)
        s = expit(z)
        np.multiply(z, s, out=out)
        if order == 0:
            return None, None
        if order == 1:
            d1 = out * s  # φ' = σ + φ − φσ: one operation fewer than σ(1 + z(1 − σ))
            np.subtract(out, d1, out=d1)
            d1 += s
            return d1, None
        one_minus = 1.0 - s
        d1 = one_minus * z
        d1 += 1.0
        d1 *= s
        d2 = s * one_minus
        r = one_minus - s
        r *= z
        r += 2.0
        d2 *= r
        return d1, d2
    if activation == "tanh":
        # φ' = 1 − φ²,  φ'' = −2φφ'
        t = np.tanh(z, out=out)
        if order == 0:
            return None, None
        d1 = t * t
        np.subtract(1.0, d1, out=d1)
        return d1, (None if order == 1 else -2.0 * t * d1)
    if activation == "relu":
        np.maximum(z, 0.0, out=out)
        return (None, None) if order == 0 else ((z > 0).astype(np.float64), None)  # φ'' = 0 a.e.
    if activation == "softplus":
        # φ = log(1 + eᶻ),  φ' = σ(z),  φ'' = σ(1 − σ)
        np.logaddexp(0.0, z, out=out)
        if order == 0:
            return None, None
        s = expit(z)
        return s, (None if order == 1 else s * (1.0 - s))
    out[...] = z  # linear: φ' = 1, φ'' = 0
    return None, None


def activation_derivatives(z, activation: str = "swish") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(φ(z), φ'(z), φ''(z)) as arrays of z's shape."""
    _check_names(activation, "mse")
    z = np.asarray(z, dtype=np.float64)
    phi = np.empty_like(z)
    d1, d2 = _act(z, activation, 2, phi)
    if d1 is None:
        d1 = np.ones_like(z)
    return phi, d1, (np.zeros_like(z) if d2 is None else d2)


# ---------------------------------------------------------------- loss heads (transposed: f is k × n)


def _loss_head(f: np.ndarray, y: np.ndarray, loss_name: str):
    """L, δ = ∂L/∂f (k × n) and what R{δ} needs: nothing for mse, (p, s) for ce."""
    n = f.shape[1]
    if loss_name == "mse":
        r = f - y
        value = float(np.vdot(r, r)) / (2.0 * n)
        r *= 1.0 / n
        return value, r, None
    m = f.max(axis=0)
    e = np.exp(f - m)
    sum_e = e.sum(axis=0)
    lse = m + np.log(sum_e)  # log Σ_k exp f_k, stable: the largest term is exp(0) = 1
    s = y.sum(axis=0)
    value = float(np.vdot(s, lse) - np.vdot(y, f)) / n
    p = e / sum_e
    return value, (s * p - y) / n, (p, s)


def _head_rop(rf: np.ndarray, n: int, loss_name: str, head) -> np.ndarray:
    """R{δ} = (∂²L/∂f²) R{f}: R{f}/n for mse, s (p ⊙ Rf − p (pᵀRf))/n for ce."""
    if loss_name == "mse":
        return rf * (1.0 / n)
    p, s = head
    prf = p * rf
    prf -= p * prf.sum(axis=-2, keepdims=True)
    prf *= s / n
    return prf


# ---------------------------------------------------------------- forward, loss, gradient


def _times(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """A @ B; as a broadcast product when the inner dimension is 1 (BLAS is slow at outer products)."""
    return A * B if A.shape[-1] == 1 else A @ B


def _input_buffers(layout, n: int) -> list[np.ndarray]:
    """Arrays for the hidden layers' [a_l, 1]ᵀ, (fan_out + 1) × n, their last row already 1."""
    buffers = [np.empty((fo + 1, n)) for _, _, _, fo in layout[:-1]]
    for b in buffers:
        b[-1] = 1.0
    return buffers


class _Workspace:
    """θ, ∇L and the layers' inputs preallocated, with their views, for a loop of passes (training).

    A pass on `theta` writes `grad` and the input buffers: the loop must be done with one pass
    before it starts the next, and updates theta in place.
    """

    def __init__(self, layout, n: int):
        P = layout[-1][1]
        self.theta = np.zeros(P)
        self.thetas = _thetas(self.theta, layout)
        self.grad = np.empty(P)
        self.grad_thetas = _thetas(self.grad, layout)
        self.inputs = _input_buffers(layout, n)


def _forward(params, Xa, layout, activation, order, work=None):
    """f (k × n); the layers' inputs [a_{l−1}, 1]ᵀ; φ'(z_l) and φ''(z_l) up to `order`.

    With a _Workspace, params must be work.theta: its views and input buffers are reused.
    """
    if work is None:
        thetas, buffers = _thetas(params, layout), _input_buffers(layout, Xa.shape[1])
    else:
        thetas, buffers = work.thetas, work.inputs
    inputs, d1s, d2s = [Xa], [], []
    for theta, a in zip(thetas[:-1], buffers, strict=True):
        z = theta.T @ inputs[-1]
        d1, d2 = _act(z, activation, order, a[:-1])
        inputs.append(a)
        d1s.append(d1)
        d2s.append(d2)
    return thetas[-1].T @ inputs[-1], thetas, inputs, d1s, d2s


def _backward(thetas, inputs, d1s, d2s, delta, grad_thetas):
    """∂L/∂Θ_l = [a_{l−1}, 1]ᵀ δ_l into grad_thetas; δ_{l−1} = W_l δ_l ⊙ φ'(z_{l−1}).

    Returns the δ_l and, where φ'' ≠ 0, the curvatures (W_l δ_l) ⊙ φ''(z_{l−1}) that every HVP reuses.
    """
    deltas = [None] * len(thetas)
    curvatures = [None] * len(thetas)
    for i in range(len(thetas) - 1, -1, -1):
        deltas[i] = delta
        np.matmul(inputs[i], delta.T, out=grad_thetas[i])
        if i > 0:
            delta = _times(thetas[i][:-1], delta)
            if d2s and d2s[i - 1] is not None:
                curvatures[i - 1] = delta * d2s[i - 1]
            if d1s[i - 1] is not None:
                delta *= d1s[i - 1]
    return deltas, curvatures


class _Pass:
    """One forward/backward pass at θ: L, ∇L, the output f, and what the R-passes reuse (order=2)."""

    __slots__ = (
        "value",
        "grad",
        "f",
        "thetas",
        "inputs",
        "d1s",
        "deltas",
        "curvatures",
        "head",
        "layout",
        "loss",
        "_stacks",
    )

    def __init__(self, params, Xa, y, layout, activation, loss_name, order=1, work=None):
        self.f, self.thetas, self.inputs, self.d1s, d2s = _forward(params, Xa, layout, activation, order, work)
        self.value, delta, self.head = _loss_head(self.f, y, loss_name)
        if work is None:
            self.grad = np.empty_like(params)
            grad_thetas = _thetas(self.grad, layout)
        else:
            self.grad, grad_thetas = work.grad, work.grad_thetas
        self.deltas, self.curvatures = _backward(self.thetas, self.inputs, self.d1s, d2s, delta, grad_thetas)
        self.layout = layout
        self.loss = loss_name
        self._stacks = None

    def hvp(self, v: np.ndarray) -> np.ndarray:
        """H v for v of shape (P,) or (m, P): the R-operator through the forward, then the backward pass.

        Forward:  R z_l = V_lᵀ[a_{l−1}, 1]ᵀ + W_lᵀ R a_{l−1},   R a_l = φ'(z_l) ⊙ R z_l,   R a_0 = 0
        Backward: R δ_L = (∂²L/∂f²) R f,
                  R ∂L/∂Θ_l = [a_{l−1}, 1]ᵀ R δ_l + [R a_{l−1}, 0]ᵀ δ_l,
                  R δ_{l−1} = (W_l R δ_l + V_l δ_l) ⊙ φ' + (W_l δ_l) ⊙ φ'' ⊙ R z_{l−1}
        """
        v = np.asarray(v, dtype=np.float64)
        return self._hvp_vector(v) if v.ndim == 1 else self._hvp_batch(v)

    def _build_stacks(self):
        """Per hidden-input layer l: [V_lᵀ | W_lᵀ], [[a_{l−1}, 1]ᵀ; R a_{l−1}], [W_l | V_l], [R δ_l; δ_l].

        Each pair of products in the R-passes becomes one matmul of stacked blocks, the fixed half
        (W_l, a_{l−1}, δ_l) filled here once per θ; numpy's per-call cost, not arithmetic, is the bottleneck.
        """
        stacks = [None]
        n = self.inputs[0].shape[1]
        for i in range(1, len(self.thetas)):
            fan_in, fan_out = self.layout[i][2], self.layout[i][3]
            W = self.thetas[i][:-1]
            fwd_left = np.empty((fan_out, 2 * fan_in + 1))
            fwd_left[:, fan_in + 1 :] = W.T
            fwd_right = np.empty((2 * fan_in + 1, n))
            fwd_right[: fan_in + 1] = self.inputs[i]
            bwd_left = np.empty((fan_in, 2 * fan_out))
            bwd_left[:, :fan_out] = W
            bwd_right = np.empty((2 * fan_out, n))
            bwd_right[fan_out:] = self.deltas[i]
            stacks.append((fwd_left, fwd_right, bwd_left, bwd_right))
        self._stacks = stacks

    def _hvp_vector(self, v: np.ndarray) -> np.ndarray:
        """The R-passes for one vector, on the stacked blocks (same formulas as _hvp_batch)."""
        if self._stacks is None:
            self._build_stacks()
        stacks, d1s, curvatures, layout = self._stacks, self.d1s, self.curvatures, self.layout
        n_layers = len(stacks)
        n = self.inputs[0].shape[1]
        v_thetas = _thetas(v, layout)
        # Forward: R z_0 = V_0ᵀ[X, 1]ᵀ; then R z_l = [V_lᵀ | W_lᵀ] [[a_{l−1}, 1]ᵀ; R a_{l−1}].
        r_z = [v_thetas[0].T @ self.inputs[0]]
        for i in range(1, n_layers):
            fan_in = layout[i][2]
            fwd_left, fwd_right, _, _ = stacks[i]
            if d1s[i - 1] is None:
                fwd_right[fan_in + 1 :] = r_z[i - 1]
            else:
                np.multiply(d1s[i - 1], r_z[i - 1], out=fwd_right[fan_in + 1 :])
            fwd_left[:, : fan_in + 1] = v_thetas[i].T
            r_z.append(fwd_left @ fwd_right)
        # Backward: R δ_{l−1} = ([W_l | V_l] [R δ_l; δ_l]) ⊙ φ' + curvature ⊙ R z_{l−1}.
        out = np.empty_like(v)
        out_thetas = _thetas(out, layout)
        last = n_layers - 1
        r_delta = stacks[last][3][: layout[last][3]] if last > 0 else np.empty_like(r_z[last])
        if self.loss == "mse":
            np.multiply(r_z[last], 1.0 / n, out=r_delta)
        else:
            r_delta[...] = _head_rop(r_z[last], n, self.loss, self.head)
        for i in range(last, 0, -1):
            fan_in, fan_out = layout[i][2], layout[i][3]
            _, fwd_right, bwd_left, bwd_right = stacks[i]
            np.matmul(self.inputs[i], r_delta.T, out=out_thetas[i])
            out_thetas[i][:-1] += fwd_right[fan_in + 1 :] @ self.deltas[i].T
            bwd_left[:, fan_out:] = v_thetas[i][:-1]
            r_delta = stacks[i - 1][3][:fan_in] if i > 1 else np.empty((fan_in, n))
            np.matmul(bwd_left, bwd_right, out=r_delta)
            if d1s[i - 1] is not None:
                r_delta *= d1s[i - 1]
            if curvatures[i - 1] is not None:
                r_delta += curvatures[i - 1] * r_z[i - 1]
        np.matmul(self.inputs[0], r_delta.T, out=out_thetas[0])
        return out

    def _hvp_batch(self, v: np.ndarray) -> np.ndarray:
        """The R-passes for a batch of vectors (m, P), broadcasting over the leading axis."""
        thetas, inputs, d1s, deltas, curvatures = self.thetas, self.inputs, self.d1s, self.deltas, self.curvatures
        n_layers = len(thetas)
        v_thetas = _thetas(v, self.layout)
        r_a = [None]
        r_z = []
        ra = None
        for i in range(n_layers):
            rz = v_thetas[i].swapaxes(-1, -2) @ inputs[i]
            if ra is not None:
                rz += thetas[i][:-1].T @ ra
            r_z.append(rz)
            if i < n_layers - 1:
                ra = rz if d1s[i] is None else d1s[i] * rz
                r_a.append(ra)
        out = np.empty_like(v)
        out_thetas = _thetas(out, self.layout)
        r_delta = _head_rop(r_z[-1], inputs[0].shape[1], self.loss, self.head)
        for i in range(n_layers - 1, -1, -1):
            np.matmul(inputs[i], r_delta.swapaxes(-1, -2), out=out_thetas[i])
            if i == 0:
                break
            out_thetas[i][..., :-1, :] += r_a[i] @ deltas[i].T
            r_delta = _times(thetas[i][:-1], r_delta)
            r_delta += _times(v_thetas[i][..., :-1, :], deltas[i])
            if d1s[i - 1] is not None:
                r_delta *= d1s[i - 1]
            if curvatures[i - 1] is not None:
                r_delta += curvatures[i - 1] * r_z[i - 1]
        return out


def forward(params, X, widths, activation: str = "swish") -> np.ndarray:
    """f(X): the network output, shape (n, widths[-1])."""
    params, Xa, _, layout = _prepare(params, X, None, widths, activation, "mse")
    return np.ascontiguousarray(_forward(params, Xa, layout, activation, 0)[0].T)


def loss(params, X, y, widths, activation: str = "swish", loss: str = "mse") -> float:
    """L(θ): (1/2n) Σ_i ‖f(x_i) − y_i‖² for mse, mean softmax cross-entropy for ce."""
    params, Xa, yT, layout = _prepare(params, X, y, widths, activation, loss)
    return _loss_head(_forward(params, Xa, layout, activation, 0)[0], yT, loss)[0]


def loss_and_grad(params, X, y, widths, activation: str = "swish", loss: str = "mse") -> tuple[float, np.ndarray]:
    """(L(θ), ∇L(θ)), the gradient by backpropagation."""
    params, Xa, yT, layout = _prepare(params, X, y, widths, activation, loss)
    state = _Pass(params, Xa, yT, layout, activation, loss)
    return state.value, state.grad


def accuracy(params, X, y, widths, activation: str = "swish") -> float:
    """(1/n) Σ_i [argmax_k f_k(x_i) = argmax_k y_ik]: classification accuracy with one-hot y."""
    f = forward(params, X, widths, activation)
    y = np.asarray(y, dtype=np.float64).reshape(f.shape)
    return float(np.mean(f.argmax(axis=1) == y.argmax(axis=1)))


# ---------------------------------------------------------------- Hessian-vector products


def hvp_operator(params, X, y, widths, activation: str = "swish", loss: str = "mse"):
    """v ↦ H v with H = ∇²L(θ) exact, reusing one forward/backward pass; v of shape (P,) or (m, P)."""
    params, Xa, yT, layout = _prepare(params, X, y, widths, activation, loss)
    return _Pass(params, Xa, yT, layout, activation, loss, order=2).hvp


def hvp(params, X, y, v, widths, activation: str = "swish", loss: str = "mse") -> np.ndarray:
    """H v with H = ∇²L(θ), exact to rounding (Pearlmutter's R-operator, forward-over-reverse)."""
    apply = hvp_operator(params, X, y, widths, activation, loss)
    v = np.asarray(v, dtype=np.float64)
    P = _layout(_check_widths(widths))[-1][1]
    if v.ndim not in (1, 2) or v.shape[-1] != P:
        raise ValueError(f"v has shape {v.shape}: it must be ({P},) like params, or (m, {P}) for a batch.")
    return apply(np.ascontiguousarray(v))


def hessian(params, X, y, widths, activation: str = "swish", loss: str = "mse") -> np.ndarray:
    """The dense P × P Hessian [H e_1, …, H e_P] from batched exact HVPs, symmetrised (small models)."""
    P = n_params(widths)
    if P > MAX_DENSE_PARAMS:
        raise ValueError(
            f"widths {tuple(widths)} give {P:,} parameters: a dense Hessian is built for at most "
            f"{MAX_DENSE_PARAMS:,} (use hvp or core.sharpness for larger models)."
        )
    apply = hvp_operator(params, X, y, widths, activation, loss)
    # A batch of m vectors holds about m · n · max(width) numbers per layer: keep that near 2 million.
    block = max(1, min(P, 2_000_000 // (len(X) * (max(widths) + 1))))
    H = np.empty((P, P))
    for start in range(0, P, block):
        stop = min(P, start + block)
        H[start:stop] = apply(np.eye(stop - start, P, start))
    return 0.5 * (H + H.T)


# ---------------------------------------------------------------- third derivative (central flows)


def _act3(z: np.ndarray, activation: str):
    """(φ(z), φ'(z), φ''(z), φ'''(z)) as arrays: the hyper-dual pass needs one order more than the HVP."""
    phi = np.empty_like(z)
    d1, d2 = _act(z, activation, 2, phi)
    d1 = np.ones_like(z) if d1 is None else d1
    if activation == "swish":  # φ''' = q(3(1 − 2σ) + z(1 − 6q)),  q = σ(1 − σ)
        s = expit(z)
        q = s * (1.0 - s)
        d3 = q * (3.0 * (1.0 - 2.0 * s) + z * (1.0 - 6.0 * q))
    elif activation == "tanh":  # φ''' = φ'(6φ² − 2)
        d3 = d1 * (6.0 * phi * phi - 2.0)
    elif activation == "softplus":  # φ''' = q(1 − 2σ)
        s = expit(z)
        d3 = s * (1.0 - s) * (1.0 - 2.0 * s)
    else:  # relu and linear: φ'' = φ''' = 0 (almost everywhere)
        d3 = np.zeros_like(z)
    return phi, d1, (np.zeros_like(z) if d2 is None else d2), d3


def _third_pass(params, Xa, yT, layout, activation, loss_name, u, v):
    """(H u, H v, D³L[u, v, ·]) in one pass of hyper-dual numbers x + x_a ε_a + x_b ε_b + x_ab ε_a ε_b.

    θ(ε) = θ + ε_a u + ε_b v is pushed through the forward and the backward pass keeping the ε_a, ε_b
    and ε_a ε_b parts of every quantity (products: (xy)_ab = x_ab y + x_a y_b + x_b y_a + x y_ab; the
    parameters are linear in ε, so Θ_ab = 0). The gradient's ε_a part is H u, its ε_a ε_b part is
    ∂²/∂ε_a∂ε_b ∇L = D³L[u, v, ·], exact to rounding like the R-operator (which is the ε_a part alone).
    """
    n = Xa.shape[1]
    thetas, us, vs = _thetas(params, layout), _thetas(u, layout), _thetas(v, layout)
    n_layers = len(thetas)
    x = [(Xa, None, None, None)]  # [a_{l−1}, 1]ᵀ and its parts (the row of ones has none)
    zs, ds = [], []
    for i in range(n_layers):
        x0, xa, xb, xab = x[-1]
        W = thetas[i][:-1]
        z = thetas[i].T @ x0
        za = us[i].T @ x0
        zb = vs[i].T @ x0
        zab = np.zeros_like(z)
        if xa is not None:
            za += W.T @ xa
            zb += W.T @ xb
            zab += us[i][:-1].T @ xb + vs[i][:-1].T @ xa + W.T @ xab
        zs.append((za, zb, zab))
        if i == n_layers - 1:
            f = (z, za, zb, zab)
            break
        phi, d1, d2, d3 = _act3(z, activation)
        ds.append((d1, d2, d3))
        a0 = np.empty((phi.shape[0] + 1, n))
        a0[:-1], a0[-1] = phi, 1.0
        x.append((a0, d1 * za, d1 * zb, d2 * za * zb + d1 * zab))
    # The loss head: δ = ∂L/∂f and its parts.
    if loss_name == "mse":
        delta = ((f[0] - yT) / n, f[1] / n, f[2] / n, f[3] / n)
    else:
        fz, fa, fb, fab = f
        p = np.exp(fz - fz.max(axis=0))
        p /= p.sum(axis=0)
        s = yT.sum(axis=0) / n
        ca = fa - (p * fa).sum(axis=0)
        cb = fb - (p * fb).sum(axis=0)
        pa, pb = p * ca, p * cb
        pab = pb * ca + p * (fab - (pb * fa).sum(axis=0) - (p * fab).sum(axis=0))
        delta = (s * p - yT / n, s * pa, s * pb, s * pab)
    outs = [np.empty_like(params) for _ in range(3)]
    out_thetas = [_thetas(o, layout) for o in outs]
    for i in range(n_layers - 1, -1, -1):
        x0, xa, xb, xab = x[i]
        d, da, db, dab = delta
        # ∂L/∂Θ_i = [a, 1]ᵀ δᵀ: its ε_a, ε_b and ε_a ε_b parts (the bias row has no a-parts).
        np.matmul(x0, da.T, out=out_thetas[0][i])
        np.matmul(x0, db.T, out=out_thetas[1][i])
        np.matmul(x0, dab.T, out=out_thetas[2][i])
        if xa is not None:
            out_thetas[0][i][:-1] += xa @ d.T
            out_thetas[1][i][:-1] += xb @ d.T
            out_thetas[2][i][:-1] += xa @ db.T + xb @ da.T + xab @ d.T
        if i == 0:
            break
        # δ_{i−1} = (W_i δ_i) ⊙ φ'(z_{i−1}).
        W, Wa, Wb = thetas[i][:-1], us[i][:-1], vs[i][:-1]
        g, ga, gb = W @ d, Wa @ d + W @ da, Wb @ d + W @ db
        gab = Wa @ db + Wb @ da + W @ dab
        d1, d2, d3 = ds[i - 1]
        za, zb, zab = zs[i - 1]
        pa, pb = d2 * za, d2 * zb  # the parts of φ'(z)
        pab = d3 * za * zb + d2 * zab
        delta = (g * d1, ga * d1 + g * pa, gb * d1 + g * pb, gab * d1 + ga * pb + gb * pa + g * pab)
    return outs[0], outs[1], outs[2]


def third_derivative(params, X, y, u, v, widths, activation: str = "swish", loss: str = "mse") -> np.ndarray:
    """D³L(θ)[u, v, ·] = ∇_θ(uᵀ∇²L(θ)v), exact to rounding (hyper-dual forward-over-reverse).

    With v = u a unit eigenvector of H this is ∇λ, the gradient of that eigenvalue (theory.md §9).
    """
    params, Xa, yT, layout = _prepare(params, X, y, widths, activation, loss)
    P = layout[-1][1]
    u, v = np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64)
    if u.shape != (P,) or v.shape != (P,):
        raise ValueError(f"u and v have shapes {u.shape} and {v.shape}: both must be ({P},) like params.")
    return _third_pass(params, Xa, yT, layout, activation, loss, u, v)[2]


# ---------------------------------------------------------------- initialisation


def init_params(widths, seed: int = 0) -> np.ndarray:
    """θ_0: W_l ~ N(0, 1/fan_in) (LeCun normal), b_l = 0; deterministic by seed."""
    widths = _check_widths(widths)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed = {seed!r}: give a whole number ≥ 0.")
    rng = np.random.default_rng([int(seed), 0])  # stream 0; the datasets draw from other streams
    params = np.zeros(_layout(widths)[-1][1])
    for theta, (_, _, fan_in, _) in zip(_thetas(params, _layout(widths)), _layout(widths), strict=True):
        theta[:-1] = rng.standard_normal(theta[:-1].shape) / math.sqrt(fan_in)
    return params
