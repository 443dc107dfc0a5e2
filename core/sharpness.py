"""Sharpness: the top eigenvalues λ_1 ≥ … ≥ λ_k of the loss Hessian H = ∇²L(θ), from HVPs only.

Lanczos (ARPACK through `scipy.sparse.linalg.eigsh`, which="LA", on a `LinearOperator` whose
matvec is an exact Hessian-vector product), warm-started from the previous top eigenvector: along
a training run θ moves little between measurements, so the old eigenvector is nearly converged
and a few Lanczos steps suffice. Every estimate carries its residual ‖Hv − λv‖, the accuracy
read-out: for symmetric H some true eigenvalue lies within that distance of λ.

Numerical hiccups never reach the caller: ARPACK non-convergence falls back to its partial
results, then to a dense eigendecomposition of small Hessians; non-finite HVPs give NaN.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, LinearOperator, eigsh

from core import network

MAX_K = 5
TOL = 1e-6  # ARPACK's stopping rule: Ritz estimate ≤ tol·|λ|, so λ is far more accurate than that
DENSE_FALLBACK_MAX_N = 2_000  # up to here a failed Lanczos is replaced by n HVPs and eigh (≈ 1 s)
_ARPACK_SEED = np.random.SeedSequence(12345)  # fixed: results never depend on OS entropy
NCV = 6  # Lanczos basis size: with a warm start, 6 needed the fewest HVPs at the default setup (measured)
MAX_RESTARTS = 200  # ARPACK's maxiter: a stuck run stops after about 200·NCV HVPs, then the fallbacks


class _NonFinite(ArithmeticError):
    """An HVP returned NaN or inf: the eigenvalues are undefined at this θ."""


class _NoResult(ArithmeticError):
    """Lanczos failed twice and the operator is too large for the dense route."""


def _checked(hvp_fn):
    def matvec(v):
        out = np.asarray(hvp_fn(v), dtype=np.float64).reshape(-1)
        # One dot product flags NaN/inf (and sums past 1e308, where the slow check decides).
        if not math.isfinite(np.dot(out, out)) and not np.isfinite(out).all():
            raise _NonFinite
        return out

    return matvec


class _Operator(LinearOperator):
    """v ↦ H v for eigsh, without LinearOperator's per-call shape checks (eigsh calls it with (n,))."""

    def __init__(self, matvec, n: int):
        super().__init__(np.dtype(np.float64), (n, n))
        self._fn = matvec

    def _matvec(self, v):
        return self._fn(v)

    def matvec(self, v):
        return self._fn(v)


def dense_hessian(hvp_fn, n: int) -> np.ndarray:
    """H = [H e_1, …, H e_n], built column by column from HVPs and symmetrised."""
    matvec = _checked(hvp_fn)
    H = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = 1.0
        H[:, i] = matvec(e)
    return 0.5 * (H + H.T)


def _dense_top(hvp_fn, n: int, k: int):
    lam, vecs = np.linalg.eigh(dense_hessian(hvp_fn, n))
    return lam[::-1][:k], vecs[:, ::-1][:, :k]


def _start_vector(v0, n: int) -> np.ndarray:
    """v0 if usable (finite, non-zero, right size), else a fixed random vector: results stay deterministic."""
    if v0 is not None:
        v = np.asarray(v0, dtype=np.float64).ravel()
        if v.size == n and np.isfinite(v).all() and np.any(v):
            return v
    return np.random.default_rng(12345).standard_normal(n)


def _lanczos(matvec, n: int, k: int, v0: np.ndarray, tol: float, ncv: int | None):
    """eigsh, which="LA"; on non-convergence its converged part, or None if that has fewer than k."""
    op = _Operator(matvec, n)
    ncv = min(n, max(2 * k + 4, NCV) if ncv is None else ncv)
    try:
        rng = np.random.Generator(np.random.PCG64(_ARPACK_SEED))  # for ARPACK's rare random restarts
        return eigsh(op, k=k, which="LA", v0=v0, tol=tol, ncv=ncv, maxiter=MAX_RESTARTS, rng=rng)
    except ArpackNoConvergence as err:
        if len(err.eigenvalues) >= k:
            return err.eigenvalues, err.eigenvectors
        return None


class CountedHVP:
    """v ↦ Hv that counts its calls (runs record their HVPs; the benchmarks print HVPs/s)."""

    __slots__ = ("hvp", "count")

    def __init__(self, hvp):
        self.hvp = hvp
        self.count = 0

    def __call__(self, v):
        self.count += 1
        return self.hvp(v)


def top_eigenvalues(hvp_fn, n: int, k: int = 1, v0=None, tol: float = TOL, ncv: int | None = None):
    """The k largest eigenvalues λ_1 ≥ … ≥ λ_k of the symmetric operator v ↦ H v.

    Returns (eigenvalues (k,) descending, eigenvectors (n, k) unit columns, residuals (k,)) with
    residual_i = ‖H v_i − λ_i v_i‖. NaN everywhere if an HVP is not finite.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n = {n!r}: the operator's size must be a whole number ≥ 1.")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= min(n, MAX_K):
        raise ValueError(f"k = {k}: ask for 1 to {min(n, MAX_K)} eigenvalues (at most {MAX_K}, at most n = {n}).")
    matvec = _checked(hvp_fn)
    try:
        result = None
        if n > k + 1:
            result = _lanczos(matvec, n, k, _start_vector(v0, n), tol, ncv)
            if result is None:  # a cold start with a larger basis, then the dense route
                result = _lanczos(matvec, n, k, _start_vector(None, n), tol, min(n, max(4 * k + 4, 20)))
        if result is None:
            if n > DENSE_FALLBACK_MAX_N:
                raise _NoResult
            result = _dense_top(hvp_fn, n, k)
        lam, vecs = result
        order = np.argsort(lam)[::-1]
        lam, vecs = lam[order], vecs[:, order]
        vecs = vecs / np.linalg.norm(vecs, axis=0)
        residuals = np.array([np.linalg.norm(matvec(vecs[:, i]) - lam[i] * vecs[:, i]) for i in range(k)])
    except (_NonFinite, _NoResult, ArpackError, np.linalg.LinAlgError, FloatingPointError):
        return np.full(k, np.nan), np.full((n, k), np.nan), np.full(k, np.nan)
    return lam, vecs, residuals


def sharpness(params, X, y, widths, activation: str = "swish", loss: str = "mse", k: int = 1, v0=None):
    """The top-k eigenpairs of ∇²L(θ) of the network: (eigenvalues, eigenvectors, residuals).

    Sharpness S(θ) = eigenvalues[0] = λ_max(∇²L(θ)) with L = (1/2n) Σ ‖f − y‖² for mse.
    """
    apply = network.hvp_operator(params, X, y, widths, activation, loss)
    return top_eigenvalues(apply, network.n_params(widths), k=k, v0=v0)
