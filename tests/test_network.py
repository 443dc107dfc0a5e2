"""core.network against an independent reference forward pass, finite differences and closed forms."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import log_softmax

from core import network

ACTIVATIONS = network.ACTIVATIONS
LOSSES = network.LOSSES
SMALL = (3, 5, 4, 2)  # two hidden layers, 2 outputs: 62 parameters


def reference_forward(params, X, widths, activation):
    """The documented layout, written the slow obvious way: W (fan_in, fan_out) row-major, then b."""
    phi = {
        "tanh": np.tanh,
        "relu": lambda z: np.maximum(z, 0),
        "swish": lambda z: z / (1 + np.exp(-z)),
        "softplus": lambda z: np.log1p(np.exp(z)),
        "linear": lambda z: z,
    }[activation]
    h, i = X, 0
    for layer, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        W = params[i : i + fan_in * fan_out].reshape(fan_in, fan_out)
        i += fan_in * fan_out
        b = params[i : i + fan_out]
        i += fan_out
        h = h @ W + b
        if layer < len(widths) - 2:
            h = phi(h)
    assert i == len(params)
    return h


def problem(widths, loss, seed, n=7, scale=0.3):
    """Random θ (non-zero biases, so their derivatives are exercised), X, and y fitting the loss."""
    rng = np.random.default_rng(seed)
    params = network.init_params(widths, seed) + scale * rng.standard_normal(network.n_params(widths))
    X = rng.standard_normal((n, widths[0]))
    if loss == "ce":
        y = np.eye(widths[-1])[rng.integers(0, widths[-1], n)]
    else:
        y = rng.standard_normal((n, widths[-1]))
    return params, X, y


def hidden_preactivations(params, X, widths):
    """All z_l of the hidden layers, to keep relu's finite differences away from its kink."""
    zs, h, i = [], X, 0
    for fan_in, fan_out in zip(widths[:-2], widths[1:-1], strict=True):
        W = params[i : i + fan_in * fan_out].reshape(fan_in, fan_out)
        i += fan_in * fan_out
        z = h @ W + params[i : i + fan_out]
        i += fan_out
        zs.append(z)
        h = np.maximum(z, 0)
    return np.concatenate([z.ravel() for z in zs])


def smooth_problem(activation, loss, seed):
    """A problem where every relu pre-activation is at least 1e-3 from 0 (FD steps are 1e-6)."""
    for s in range(seed, seed + 50):
        params, X, y = problem(SMALL, loss, s)
        if activation != "relu" or np.abs(hidden_preactivations(params, X, SMALL)).min() > 1e-3:
            return params, X, y
    raise AssertionError("no kink-free problem found")


def fd_gradient(params, X, y, widths, activation, loss, eps=1e-6):
    g = np.empty_like(params)
    for i in range(len(params)):
        e = np.zeros_like(params)
        e[i] = eps
        up = network.loss(params + e, X, y, widths, activation, loss)
        down = network.loss(params - e, X, y, widths, activation, loss)
        g[i] = (up - down) / (2 * eps)
    return g


def fd_hessian(params, X, y, widths, activation, loss, eps=1e-5):
    """Column i = (∇L(θ + εe_i) − ∇L(θ − εe_i)) / 2ε: independent of the R-operator."""
    P = len(params)
    H = np.empty((P, P))
    for i in range(P):
        e = np.zeros(P)
        e[i] = eps
        up = network.loss_and_grad(params + e, X, y, widths, activation, loss)[1]
        down = network.loss_and_grad(params - e, X, y, widths, activation, loss)[1]
        H[:, i] = (up - down) / (2 * eps)
    return H


def test_n_params_counts_weights_and_biases():
    assert network.n_params((8, 16, 16, 1)) == 8 * 16 + 16 + 16 * 16 + 16 + 16 + 1 == 433
    assert network.n_params((3, 1)) == 4
    assert len(network.init_params((8, 16, 16, 1), 0)) == 433


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_forward_matches_the_documented_layout(activation):
    params, X, _ = problem(SMALL, "mse", 1)
    f = network.forward(params, X, SMALL, activation)
    np.testing.assert_allclose(f, reference_forward(params, X, SMALL, activation), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_activation_derivatives_match_finite_differences(activation):
    z = np.linspace(-4, 4, 41) + 0.013  # avoids relu's kink at 0
    phi, d1, d2 = network.activation_derivatives(z, activation)
    eps = 1e-6
    up, down = network.activation_derivatives(z + eps, activation), network.activation_derivatives(z - eps, activation)
    np.testing.assert_allclose(d1, (up[0] - down[0]) / (2 * eps), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(d2, (up[1] - down[1]) / (2 * eps), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(
        phi, reference_forward(np.array([1.0, 0.0, 1.0, 0.0]), z[:, None], (1, 1, 1), activation).ravel(), rtol=1e-12
    )


def test_mse_value_has_the_half():
    params, X, y = problem(SMALL, "mse", 2)
    f = reference_forward(params, X, SMALL, "swish")
    expected = np.sum((f - y) ** 2) / (2 * len(X))
    assert network.loss(params, X, y, SMALL, "swish", "mse") == pytest.approx(expected, rel=1e-13)


def test_cross_entropy_value_and_stability():
    params, X, y = problem(SMALL, "ce", 3)
    f = reference_forward(params, X, SMALL, "tanh")
    expected = -np.mean(np.sum(y * log_softmax(f, axis=1), axis=1))
    assert network.loss(params, X, y, SMALL, "tanh", "ce") == pytest.approx(expected, rel=1e-13)
    # logits near 1e4 overflow a naive exp; log-sum-exp keeps L and ∇L finite
    big = params * 300
    value, grad = network.loss_and_grad(big, X * 10, y, SMALL, "linear", "ce")
    assert np.isfinite(value) and np.isfinite(grad).all()


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradient_matches_central_differences(activation, loss):
    params, X, y = smooth_problem(activation, loss, 10)
    value, grad = network.loss_and_grad(params, X, y, SMALL, activation, loss)
    assert value == pytest.approx(network.loss(params, X, y, SMALL, activation, loss), rel=1e-14)
    fd = fd_gradient(params, X, y, SMALL, activation, loss)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-6 * np.abs(fd).max())


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_hvp_matches_finite_difference_hessian(activation, loss):
    params, X, y = smooth_problem(activation, loss, 20)
    H_fd = fd_hessian(params, X, y, SMALL, activation, loss)
    H = network.hessian(params, X, y, SMALL, activation, loss)
    scale = np.abs(H_fd).max()
    np.testing.assert_allclose(H, H_fd, rtol=0, atol=1e-6 * scale)
    # single-vector hvp gives the same columns as the batched one
    rng = np.random.default_rng(0)
    v = rng.standard_normal(len(params))
    np.testing.assert_allclose(
        network.hvp(params, X, y, v, SMALL, activation, loss), H @ v, rtol=1e-10, atol=1e-12 * scale * np.abs(v).sum()
    )


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_hvp_is_symmetric_and_linear(activation, loss):
    params, X, y = problem((4, 6, 6, 3), loss, 5, n=11)
    rng = np.random.default_rng(1)
    u, v = rng.standard_normal((2, len(params)))
    apply = network.hvp_operator(params, X, y, (4, 6, 6, 3), activation, loss)
    Hu, Hv = apply(u), apply(v)
    assert u @ Hv == pytest.approx(v @ Hu, rel=1e-12, abs=1e-14)
    np.testing.assert_allclose(apply(2 * u - 3 * v), 2 * Hu - 3 * Hv, rtol=1e-11, atol=1e-12 * np.abs(Hu).max())
    np.testing.assert_allclose(apply(np.stack([u, v])), np.stack([Hu, Hv]), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("d", [1, 3, 6])
def test_linear_model_hessian_is_the_closed_form(d):
    """widths (d, 1) with mse is least squares: H = [X 1]ᵀ[X 1]/n exactly, whatever θ and y."""
    rng = np.random.default_rng(d)
    X = rng.standard_normal((20, d)) + 0.5
    y = rng.standard_normal((20, 1))
    params = rng.standard_normal(d + 1)
    X1 = np.column_stack([X, np.ones(len(X))])
    A = X1.T @ X1 / len(X)
    for activation in ("swish", "relu"):  # no hidden layer: the activation never applies
        np.testing.assert_allclose(network.hessian(params, X, y, (d, 1), activation), A, rtol=1e-13, atol=1e-14)
    # and the gradient is the least-squares one, A θ − [X 1]ᵀy/n
    grad = network.loss_and_grad(params, X, y, (d, 1))[1]
    np.testing.assert_allclose(grad, A @ params - X1.T @ y[:, 0] / len(X), rtol=1e-12, atol=1e-14)


def test_init_params_deterministic_and_scaled():
    widths = (64, 128, 1)
    a, b = network.init_params(widths, 7), network.init_params(widths, 7)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, network.init_params(widths, 8))
    W1 = a[: 64 * 128]
    assert np.all(a[64 * 128 : 64 * 128 + 128] == 0)  # biases start at 0
    assert W1.var() == pytest.approx(1 / 64, rel=0.05)  # N(0, 1/fan_in)


def test_accuracy_counts_argmax_matches():
    params, X, y = problem(SMALL, "ce", 4, n=50)
    f = reference_forward(params, X, SMALL, "swish")
    assert network.accuracy(params, X, y, SMALL, "swish") == np.mean(f.argmax(1) == y.argmax(1))
    assert network.accuracy(params, X, np.eye(2)[f.argmax(1)], SMALL, "swish") == 1.0


@pytest.mark.parametrize(
    "widths, message",
    [
        ((8,), "2 to"),
        ((8, 0, 1), "widths\\[1\\]"),
        ((8, 257, 1), "1 to 256"),
        ((8, 2.5, 1), "whole number"),
        ((256, 200, 1), "at most 50,000"),
        (8, "list of layer sizes"),
    ],
)
def test_bad_widths_are_rejected_with_a_reason(widths, message):
    with pytest.raises(ValueError, match=message):
        network.init_params(widths, 0)


def test_bad_arguments_are_rejected_with_a_reason():
    params, X, y = problem(SMALL, "mse", 0)
    with pytest.raises(ValueError, match="activation"):
        network.loss(params, X, y, SMALL, "gelu")
    with pytest.raises(ValueError, match="loss"):
        network.loss(params, X, y, SMALL, "tanh", "hinge")
    with pytest.raises(ValueError, match="params has shape"):
        network.loss(params[:-1], X, y, SMALL)
    with pytest.raises(ValueError, match="X has shape"):
        network.loss(params, X[:, :2], y, SMALL)
    with pytest.raises(ValueError, match="y has shape"):
        network.loss(params, X, y[:-1], SMALL)
    with pytest.raises(ValueError, match="at least 2 outputs"):
        network.loss(network.init_params((3, 1), 0), X, y[:, :1], (3, 1), "tanh", "ce")
    with pytest.raises(ValueError, match="v has shape"):
        network.hvp(params, X, y, params[:-1], SMALL)
    big = (8, 100, 41, 1)  # 5,083 parameters: a dense Hessian would be needlessly large
    with pytest.raises(ValueError, match="at most 5,000"):
        network.hessian(network.init_params(big, 0), X[:, :1].repeat(8, 1), y[:, :1], big)


@settings(max_examples=30, deadline=None)
@given(
    widths=st.lists(st.integers(1, 6), min_size=2, max_size=4),
    activation=st.sampled_from(ACTIVATIONS),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_architecture_hvp_matches_gradient_differences(widths, activation, seed):
    """Property: H v ≈ (∇L(θ + εv) − ∇L(θ − εv)) / 2ε for every small architecture."""
    widths = tuple(widths)
    params, X, y = problem(widths, "mse", seed % 1000, n=5)
    v = np.random.default_rng(seed).standard_normal(len(params))
    v /= np.linalg.norm(v)
    Hv = network.hvp(params, X, y, v, widths, activation)
    eps = 1e-5
    fd = (
        network.loss_and_grad(params + eps * v, X, y, widths, activation)[1]
        - network.loss_and_grad(params - eps * v, X, y, widths, activation)[1]
    ) / (2 * eps)
    if activation == "relu":  # a kink within ε of some z would make the difference meaningless
        zs = hidden_preactivations(params, X, widths) if len(widths) > 2 else np.ones(1)
        if np.abs(zs).min() < 1e-3:
            return
    np.testing.assert_allclose(Hv, fd, rtol=0, atol=1e-6 * max(1.0, np.abs(fd).max()))
