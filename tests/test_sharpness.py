"""core.sharpness against numpy.linalg.eigvalsh of dense Hessians and closed forms."""

import numpy as np
import pytest
from scipy.sparse.linalg import ArpackNoConvergence

from core import network, sharpness
from core.sharpness import top_eigenvalues

TINY = (3, 4, 2)  # 26 parameters


def tiny_problem(loss, seed=0, n=9):
    rng = np.random.default_rng(seed)
    params = network.init_params(TINY, seed) + 0.3 * rng.standard_normal(network.n_params(TINY))
    X = rng.standard_normal((n, 3))
    y = np.eye(2)[rng.integers(0, 2, n)] if loss == "ce" else rng.standard_normal((n, 2))
    return params, X, y


def fd_hessian(params, X, y, widths, activation, loss, eps=1e-5):
    P = len(params)
    H = np.empty((P, P))
    for i in range(P):
        e = np.zeros(P)
        e[i] = eps
        up = network.loss_and_grad(params + e, X, y, widths, activation, loss)[1]
        down = network.loss_and_grad(params - e, X, y, widths, activation, loss)[1]
        H[:, i] = (up - down) / (2 * eps)
    return 0.5 * (H + H.T)


def matrix_hvp(A):
    return lambda v: A @ v


@pytest.mark.parametrize("loss", network.LOSSES)
@pytest.mark.parametrize("activation", network.ACTIVATIONS)
def test_sharpness_matches_eigvalsh_of_the_dense_hessian(activation, loss):
    params, X, y = tiny_problem(loss)
    exact = np.linalg.eigvalsh(network.hessian(params, X, y, TINY, activation, loss))[::-1]
    lam, vecs, res = sharpness.sharpness(params, X, y, TINY, activation, loss, k=3)
    np.testing.assert_allclose(lam, exact[:3], rtol=1e-6, atol=1e-9)
    # the dense Hessian itself is checked against finite differences of gradients (no R-operator)
    if activation != "relu":
        fd = np.linalg.eigvalsh(fd_hessian(params, X, y, TINY, activation, loss))[::-1]
        np.testing.assert_allclose(lam, fd[:3], rtol=1e-6, atol=1e-7)
    assert np.all(res <= 1e-5 * np.abs(lam).max())


def test_dense_hessian_from_hvps_equals_network_hessian():
    params, X, y = tiny_problem("mse", 1)
    apply = network.hvp_operator(params, X, y, TINY, "tanh")
    np.testing.assert_allclose(
        sharpness.dense_hessian(apply, 26), network.hessian(params, X, y, TINY, "tanh"), rtol=1e-12, atol=1e-14
    )


@pytest.mark.parametrize("k", [1, 2, 4])
def test_linear_model_sharpness_is_top_eigenvalue_of_closed_form(k):
    """widths (d, 1), mse: H = [X 1]ᵀ[X 1]/n, so the sharpness is its top eigenvalue."""
    rng = np.random.default_rng(k)
    X = rng.standard_normal((40, 6)) * np.arange(1, 7)  # spread the spectrum
    y = rng.standard_normal(40)
    X1 = np.column_stack([X, np.ones(40)])
    exact = np.linalg.eigvalsh(X1.T @ X1 / 40)[::-1]
    params = rng.standard_normal(7)
    lam, vecs, res = sharpness.sharpness(params, X, y, (6, 1), "relu", "mse", k=k)
    np.testing.assert_allclose(lam, exact[:k], rtol=1e-10)
    # the same through top_eigenvalues on the closed-form matrix
    lam2, _, _ = top_eigenvalues(matrix_hvp(X1.T @ X1 / 40), 7, k=k)
    np.testing.assert_allclose(lam2, exact[:k], rtol=1e-10)


def test_residuals_are_the_true_residuals_and_small():
    rng = np.random.default_rng(3)
    Q = np.linalg.qr(rng.standard_normal((200, 200)))[0]
    lam_true = np.concatenate([[10.0, 7.0, 6.5], rng.uniform(-1, 5, 197)])
    A = Q @ np.diag(lam_true) @ Q.T
    lam, vecs, res = top_eigenvalues(matrix_hvp(A), 200, k=3)
    np.testing.assert_allclose(lam, [10.0, 7.0, 6.5], rtol=1e-9)
    recomputed = np.linalg.norm(A @ vecs - vecs * lam, axis=0)
    np.testing.assert_allclose(res, recomputed, rtol=1e-6, atol=1e-12)
    assert np.all(res <= 1e-5 * 10.0)
    # eigenvectors: unit length, mutually orthogonal
    np.testing.assert_allclose(vecs.T @ vecs, np.eye(3), atol=1e-8)


def test_warm_start_gives_the_cold_start_eigenvalue():
    params, X, y = tiny_problem("mse", 4)
    widths = (3, 8, 8, 2)
    params = network.init_params(widths, 4)
    cold = sharpness.sharpness(params, X, y, widths, "swish", "mse", k=2)
    nearby = params + 1e-3 * np.random.default_rng(0).standard_normal(len(params))
    warm_start = sharpness.sharpness(nearby, X, y, widths, "swish", "mse", k=1)[1][:, 0]
    warm = sharpness.sharpness(params, X, y, widths, "swish", "mse", k=2, v0=warm_start)
    np.testing.assert_allclose(warm[0], cold[0], rtol=1e-9)
    assert abs(warm[1][:, 0] @ cold[1][:, 0]) == pytest.approx(1.0, abs=1e-8)


def test_top_k_is_descending_and_includes_negative_curvature():
    A = np.diag([-3.0, -1.0, 0.5, 2.0, 2.0 + 1e-3, 9.0, 1.0, -2.0])
    lam, vecs, res = top_eigenvalues(matrix_hvp(A), 8, k=5)
    np.testing.assert_allclose(lam, [9.0, 2.001, 2.0, 1.0, 0.5], rtol=1e-9)
    assert np.all(np.diff(lam) <= 0)
    # "LA": the largest algebraic eigenvalue, not the largest in magnitude
    lam1, _, _ = top_eigenvalues(matrix_hvp(np.diag([-50.0, 1.0, 2.0, 3.0])), 4)
    assert lam1[0] == pytest.approx(3.0, rel=1e-12)


@pytest.mark.parametrize("n, k", [(1, 1), (2, 1), (3, 2), (6, 5)])
def test_small_n_uses_the_dense_route(n, k):
    rng = np.random.default_rng(n)
    B = rng.standard_normal((n, n))
    A = B + B.T
    lam, vecs, res = top_eigenvalues(matrix_hvp(A), n, k=k)
    np.testing.assert_allclose(lam, np.linalg.eigvalsh(A)[::-1][:k], rtol=1e-12, atol=1e-12)
    assert vecs.shape == (n, k) and np.all(res < 1e-10)


def test_no_convergence_falls_back_without_raising(monkeypatch):
    def stubborn(*args, **kwargs):
        raise ArpackNoConvergence("no", np.zeros(0), np.zeros((kwargs.get("ncv", 1), 0)))

    monkeypatch.setattr(sharpness, "eigsh", stubborn)
    A = np.diag(np.arange(30.0))
    lam, vecs, res = top_eigenvalues(matrix_hvp(A), 30, k=2)
    np.testing.assert_allclose(lam, [29.0, 28.0])
    assert np.all(res < 1e-12)


def test_partial_results_of_no_convergence_are_used(monkeypatch):
    calls = []

    def partial(*args, **kwargs):
        calls.append(1)
        v = np.zeros((30, 1))
        v[29] = 1.0
        raise ArpackNoConvergence("partial", np.array([29.0]), v)

    monkeypatch.setattr(sharpness, "eigsh", partial)
    lam, vecs, res = top_eigenvalues(matrix_hvp(np.diag(np.arange(30.0))), 30, k=1)
    assert lam[0] == 29.0 and res[0] == 0.0 and len(calls) == 1


def test_non_finite_hvp_gives_nan_not_an_exception():
    lam, vecs, res = top_eigenvalues(lambda v: v * np.nan, 50, k=2)
    assert lam.shape == (2,) and np.isnan(lam).all() and np.isnan(vecs).all() and np.isnan(res).all()
    lam, _, _ = top_eigenvalues(lambda v: np.full_like(v, np.inf), 3, k=1)  # dense route too
    assert np.isnan(lam).all()


def test_bad_v0_is_replaced_by_a_fixed_start():
    A = np.diag(np.arange(20.0))
    for v0 in (np.zeros(20), np.full(20, np.nan), np.ones(3)):
        lam, _, _ = top_eigenvalues(matrix_hvp(A), 20, v0=v0)
        assert lam[0] == pytest.approx(19.0, rel=1e-12)


def test_k_out_of_range_is_a_value_error():
    A = np.eye(10)
    with pytest.raises(ValueError, match="1 to 5"):
        top_eigenvalues(matrix_hvp(A), 10, k=6)
    with pytest.raises(ValueError, match="k = 0"):
        top_eigenvalues(matrix_hvp(A), 10, k=0)
    with pytest.raises(ValueError, match="1 to 2"):
        top_eigenvalues(matrix_hvp(np.eye(2)), 2, k=3)
