"""The quadratic in two dimensions: A = R(φ) diag(λ₁, λ₂) R(φ)ᵀ, its level sets and GD paths.

    R(φ) = [[cos φ, −sin φ], [sin φ, cos φ]]   (columns: the eigenvectors q₁, q₂)
    L(θ) = ½ θᵀAθ = ½ (λ₁ θ̃₁² + λ₂ θ̃₂²),  θ̃ = R(φ)ᵀ θ

A level set L = c (λ₁, λ₂ > 0) is the ellipse θ = R(φ) (√(2c/λ₁) cos s, √(2c/λ₂) sin s): exact,
no grid needed. Paths come from core.momentum in the eigenbasis, rotated back.
"""

from __future__ import annotations

import numpy as np

from core import momentum


def rotation(angle: float) -> np.ndarray:
    """R(φ), angle in radians; its columns are A's unit eigenvectors q₁, q₂."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


def matrix(l1: float, l2: float, angle: float) -> np.ndarray:
    """A = R(φ) diag(λ₁, λ₂) R(φ)ᵀ."""
    r = rotation(angle)
    return r @ np.diag([l1, l2]) @ r.T


def to_eigen(theta, angle: float) -> np.ndarray:
    """θ̃ = R(φ)ᵀ θ for points θ of shape (..., 2)."""
    return np.asarray(theta, dtype=np.float64) @ rotation(angle)


def to_plane(theta_eig, angle: float) -> np.ndarray:
    """θ = R(φ) θ̃ for points θ̃ of shape (..., 2)."""
    return np.asarray(theta_eig, dtype=np.float64) @ rotation(angle).T


def loss(theta, l1: float, l2: float, angle: float) -> np.ndarray:
    """L(θ) = ½ (λ₁ θ̃₁² + λ₂ θ̃₂²) for points of shape (..., 2)."""
    u = to_eigen(theta, angle)
    with np.errstate(over="ignore", invalid="ignore"):
        return 0.5 * (l1 * u[..., 0] ** 2 + l2 * u[..., 1] ** 2)


def level_set(l1: float, l2: float, angle: float, level: float, n_points: int = 120) -> np.ndarray:
    """The closed curve L(θ) = level as (n_points, 2) points (an ellipse; needs λ₁, λ₂ > 0)."""
    if not (l1 > 0 and l2 > 0):
        raise ValueError(f"Level sets are ellipses only for λ₁, λ₂ > 0; got λ₁ = {l1:g}, λ₂ = {l2:g}.")
    s = np.linspace(0.0, 2 * np.pi, n_points)
    u = np.stack([np.sqrt(2 * level / l1) * np.cos(s), np.sqrt(2 * level / l2) * np.sin(s)], axis=1)
    return to_plane(u, angle)


def path(l1: float, l2: float, angle: float, theta0, lr: float, beta: float, t, method: str = "gd") -> np.ndarray:
    """θ_t at the steps t (sorted ints) for GD / heavy ball / Nesterov from θ₀ at rest, shape (len(t), 2).

    Exact per eigendirection (core.momentum.iterates_at), then rotated: ±inf on overflow, never NaN
    in the eigen-coordinates (a rotated ±inf pair can give inf − inf: callers cut the path first
    where it leaves the view, see `escape_step`).
    """
    u0 = to_eigen(theta0, angle)
    u = momentum.iterates_at([l1, l2], lr, beta, u0, np.asarray(t), method)
    with np.errstate(invalid="ignore", over="ignore"):
        return to_plane(u, angle)


def escape_step(l1: float, l2: float, angle: float, theta0, lr: float, beta: float, t, method: str, radius: float):
    """The first of the steps t at which ‖θ_t‖ > radius (computed in the eigenbasis, where it is
    never NaN), or None if the path stays inside."""
    u0 = to_eigen(theta0, angle)
    u = momentum.iterates_at([l1, l2], lr, beta, u0, np.asarray(t), method)
    with np.errstate(over="ignore"):
        norms = np.hypot(u[:, 0], u[:, 1])
    outside = np.flatnonzero(norms > radius)
    return int(np.asarray(t)[outside[0]]) if outside.size else None
