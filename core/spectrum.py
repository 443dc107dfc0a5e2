"""Eigenvalue spectra λ_1 … λ_n for the quadratic L(θ) = ½ θᵀAθ.

Three sources: typed text, named presets (deterministic given their parameters and seed) and
an uploaded symmetric matrix. Every rejection is a ValueError whose message says what was
wrong, where, and what is allowed, so the page can show it as it is.
"""

from __future__ import annotations

import io
import re

import numpy as np

MAX_EIGENVALUES = 10_000
MAX_MATRIX_SIZE = 1_000  # eigvalsh of 1,000 × 1,000 takes ≈ 0.2 s; larger would break the 1 s rerun budget
MAX_TEXT_CHARS = 400_000
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_ABS_EIGENVALUE = 1e100  # beyond this ηλ and 2/λ leave a useful float64 range
SYMMETRY_RTOL = 1e-8

_SEPARATORS = re.compile(r"[\s,;]+")


def _show(token: str, width: int = 30) -> str:
    """A token quoted for an error message, shortened so a huge paste cannot flood the page."""
    return repr(token if len(token) <= width else token[:width] + "…")


def validate(eigenvalues) -> np.ndarray:
    """Return the eigenvalues as a float64 vector, or raise ValueError saying what is wrong."""
    lam = np.asarray(eigenvalues, dtype=np.float64).ravel()
    if lam.size == 0:
        raise ValueError("No eigenvalues: give at least one number.")
    if lam.size > MAX_EIGENVALUES:
        raise ValueError(f"{lam.size:,} eigenvalues is too many: at most {MAX_EIGENVALUES:,} are allowed.")
    bad = np.flatnonzero(~np.isfinite(lam))
    if bad.size:
        raise ValueError(f"Eigenvalue #{bad[0] + 1} is {lam[bad[0]]}: only finite numbers are allowed (no NaN or inf).")
    big = np.flatnonzero(np.abs(lam) > MAX_ABS_EIGENVALUE)
    if big.size:
        raise ValueError(
            f"Eigenvalue #{big[0] + 1} is {lam[big[0]]:.3g}: magnitudes up to {MAX_ABS_EIGENVALUE:.0e} are allowed."
        )
    return lam


def parse(text: str) -> np.ndarray:
    """Eigenvalues from text: numbers separated by commas, semicolons, spaces or newlines.

    Scientific notation (2.5e-3) is allowed. Parsed with float(), never eval.
    """
    if not isinstance(text, str):
        raise ValueError("The eigenvalue list must be text.")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(
            f"The list is {len(text):,} characters long: at most {MAX_TEXT_CHARS:,} are allowed "
            f"(and at most {MAX_EIGENVALUES:,} numbers)."
        )
    tokens = [tok for tok in _SEPARATORS.split(text.strip()) if tok]
    if not tokens:
        raise ValueError("The list is empty: type numbers separated by commas or spaces, e.g. 1, 2.5, 1e-3.")
    if len(tokens) > MAX_EIGENVALUES:
        raise ValueError(f"The list has {len(tokens):,} numbers: at most {MAX_EIGENVALUES:,} are allowed.")
    values = np.empty(len(tokens))
    for k, tok in enumerate(tokens):
        try:
            values[k] = float(tok)
        except ValueError:
            raise ValueError(
                f"Item #{k + 1}, {_show(tok)}, is not a number: use decimals or scientific "
                "notation (e.g. 0.5, 2, 1e-3), separated by commas or spaces."
            ) from None
        if not np.isfinite(values[k]):
            raise ValueError(f"Item #{k + 1}, {_show(tok)}, is not finite: NaN and inf are not allowed.")
    return validate(values)


def format_list(eigenvalues, max_items: int = 200) -> str:
    """Eigenvalues as a comma-separated list that parse() reads back exactly (repr round-trips)."""
    lam = np.asarray(eigenvalues, dtype=np.float64).ravel()
    return ", ".join(repr(float(x)) for x in lam[:max_items])


# ---- presets -------------------------------------------------------------------------------


def _check_n(n) -> int:
    n = int(n)
    if not 1 <= n <= MAX_EIGENVALUES:
        raise ValueError(f"n = {n:,} is out of range: the number of eigenvalues must be 1 … {MAX_EIGENVALUES:,}.")
    return n


def _check_range(lam_min: float, lam_max: float, positive: bool = False) -> None:
    if not (np.isfinite(lam_min) and np.isfinite(lam_max)):
        raise ValueError("λ_min and λ_max must be finite numbers.")
    if lam_min > lam_max:
        raise ValueError(f"λ_min = {lam_min:g} is larger than λ_max = {lam_max:g}: λ_min ≤ λ_max is required.")
    if positive and lam_min <= 0:
        raise ValueError(f"λ_min = {lam_min:g}: a log-spaced spectrum needs 0 < λ_min ≤ λ_max.")


def evenly_spaced(n: int = 10, lam_min: float = 0.1, lam_max: float = 1.0, seed: int = 0) -> np.ndarray:
    """λ_i evenly spaced in [λ_min, λ_max] (seed unused: kept so every preset takes one)."""
    _check_range(lam_min, lam_max)
    return validate(np.linspace(lam_min, lam_max, _check_n(n)))


def log_spaced(n: int = 10, lam_min: float = 0.01, lam_max: float = 1.0, seed: int = 0) -> np.ndarray:
    """λ_i log-spaced in [λ_min, λ_max], 0 < λ_min."""
    _check_range(lam_min, lam_max, positive=True)
    return validate(np.geomspace(lam_min, lam_max, _check_n(n)))


def power_law(n: int = 10, lam_max: float = 1.0, alpha: float = 1.0, seed: int = 0) -> np.ndarray:
    """λ_i = λ_max · i^(−α), i = 1 … n (the slowly decaying spectra of real Hessians)."""
    if not (np.isfinite(alpha) and 0 <= alpha <= 10):
        raise ValueError(f"α = {alpha!r} is out of range: 0 ≤ α ≤ 10.")
    i = np.arange(1, _check_n(n) + 1, dtype=np.float64)
    return validate(lam_max * i ** (-alpha))


def two_clusters(
    n: int = 10,
    lam_low: float = 0.1,
    lam_high: float = 1.0,
    fraction_high: float = 0.2,
    spread: float = 0.05,
    seed: int = 0,
) -> np.ndarray:
    """Two groups: ⌈f·n⌉ eigenvalues near λ_high, the rest near λ_low, each jittered by ±spread·λ."""
    n = _check_n(n)
    if not 0 <= fraction_high <= 1:
        raise ValueError(f"The fraction in the high cluster is {fraction_high!r}: it must lie in [0, 1].")
    if not 0 <= spread < 1:
        raise ValueError(f"spread = {spread!r}: it must lie in [0, 1).")
    rng = np.random.default_rng(seed)
    n_high = int(np.ceil(fraction_high * n))
    centres = np.concatenate([np.full(n - n_high, lam_low), np.full(n_high, lam_high)])
    jitter = 1 + spread * rng.uniform(-1, 1, n)
    return validate(np.sort(centres * jitter))


def marchenko_pastur_quantiles(n: int, ratio: float, scale: float) -> np.ndarray:
    """n quantiles of the Marchenko–Pastur law with aspect ratio q ∈ (0, 1] and variance scale σ².

    Density ∝ √((b − x)(x − a)) / (q x) on [a, b] = σ²[(1 − √q)², (1 + √q)²]: the spectrum of
    XXᵀ/m for a random n × m X, the "bulk" of a trained network's Hessian.
    """
    a, b = scale * (1 - np.sqrt(ratio)) ** 2, scale * (1 + np.sqrt(ratio)) ** 2
    x = np.linspace(a, b, 4001)
    with np.errstate(divide="ignore", invalid="ignore"):
        density = np.where(x > 0, np.sqrt(np.clip((b - x) * (x - a), 0, None)) / x, 0.0)
    cdf = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2 * np.diff(x))])
    cdf /= cdf[-1]
    return np.interp((np.arange(n) + 0.5) / n, cdf, x)


def neural_net_like(
    n: int = 100,
    n_outliers: int = 3,
    lam_max: float = 10.0,
    bulk_scale: float = 0.1,
    seed: int = 0,
) -> np.ndarray:
    """A Marchenko–Pastur bulk near zero (ratio ½, scale bulk_scale) plus a few large outliers.

    The outliers are log-spaced in [λ_max/10, λ_max] with a small seeded jitter, λ_max kept exact:
    the shape of a trained network's Hessian (Sagun et al. 2017; Papyan 2019).
    """
    n = _check_n(n)
    n_outliers = int(n_outliers)
    if not 0 <= n_outliers <= min(n, 50):
        raise ValueError(f"{n_outliers} outliers: between 0 and min(n, 50) are allowed.")
    if not (np.isfinite(bulk_scale) and bulk_scale > 0):
        raise ValueError(f"The bulk scale is {bulk_scale!r}: it must be a positive number.")
    rng = np.random.default_rng(seed)
    bulk = marchenko_pastur_quantiles(n - n_outliers, ratio=0.5, scale=bulk_scale)
    outliers = np.geomspace(lam_max / 10, lam_max, n_outliers) if n_outliers else np.empty(0)
    if n_outliers > 1:
        outliers[:-1] *= 1 + 0.1 * rng.uniform(-1, 1, n_outliers - 1)
    return validate(np.sort(np.concatenate([bulk, outliers])))


PRESETS = {
    "evenly spaced": evenly_spaced,
    "log-spaced": log_spaced,
    "power law": power_law,
    "two clusters": two_clusters,
    "neural-net-like": neural_net_like,
}


def preset(name: str, **params) -> np.ndarray:
    """The preset `name` with its parameters (see PRESETS); deterministic given params and seed."""
    if name not in PRESETS:
        raise ValueError(f"Unknown preset {_show(str(name))}: choose one of {', '.join(PRESETS)}.")
    return PRESETS[name](**params)


# ---- uploaded matrices ---------------------------------------------------------------------


def _read_csv_matrix(text: str) -> np.ndarray:
    rows = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        cells = [c for c in re.split(r"[,;\s]+", line) if c]
        row = []
        for col, cell in enumerate(cells, start=1):
            try:
                row.append(float(cell))
            except ValueError:
                raise ValueError(
                    f"Line {line_no}, column {col}: {_show(cell)} is not a number. "
                    "The file must hold only numbers (no header row)."
                ) from None
        if rows and len(row) != len(rows[0]):
            raise ValueError(
                f"Line {line_no} has {len(row)} numbers but the first row has {len(rows[0])}: "
                "every row must have the same length."
            )
        rows.append(row)
        if len(rows) > MAX_EIGENVALUES:
            break
    if not rows:
        raise ValueError("The file holds no numbers.")
    return np.array(rows, dtype=np.float64)


def from_file(filename: str, data: bytes) -> np.ndarray:
    """Eigenvalues from an uploaded .csv or .npy: a symmetric matrix → eigvalsh; a single row or
    column → taken as the eigenvalues themselves. .npy is read with allow_pickle=False."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValueError(f"The file is {len(data):,} bytes: at most {MAX_UPLOAD_BYTES:,} are allowed.")
    name = filename.lower()
    if name.endswith(".npy"):
        try:
            array = np.load(io.BytesIO(data), allow_pickle=False)
        except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same clear message
            raise ValueError(f"{_show(filename)} is not a readable .npy array ({type(exc).__name__}).") from None
        if array.dtype.kind not in "biuf":
            raise ValueError(f"The .npy array has dtype {array.dtype}: a real numeric array is required.")
        array = array.astype(np.float64)
    elif name.endswith(".csv") or name.endswith(".txt"):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{_show(filename)} is not UTF-8 text.") from None
        array = _read_csv_matrix(text)
    else:
        raise ValueError(f"{_show(filename)}: only .csv, .txt and .npy files are accepted.")
    return eigenvalues_of(array)


def eigenvalues_of(array) -> np.ndarray:
    """A symmetric matrix's eigenvalues (numpy.linalg.eigvalsh), or a 1-D array taken as they are."""
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 2 and 1 in array.shape:
        array = array.ravel()
    if array.ndim == 1:
        return validate(array)
    if array.ndim != 2 or array.shape[0] != array.shape[1]:
        raise ValueError(
            f"The array has shape {array.shape}: a square n × n matrix or a single list of eigenvalues is required."
        )
    n = array.shape[0]
    if n > MAX_MATRIX_SIZE:
        raise ValueError(
            f"The matrix is {n:,} × {n:,}: at most {MAX_MATRIX_SIZE:,} × {MAX_MATRIX_SIZE:,} is allowed "
            f"(or upload up to {MAX_EIGENVALUES:,} eigenvalues as one column)."
        )
    if not np.all(np.isfinite(array)):
        i, j = np.argwhere(~np.isfinite(array))[0]
        raise ValueError(f"Entry ({i + 1}, {j + 1}) is {array[i, j]}: only finite numbers are allowed.")
    asym = np.abs(array - array.T)
    worst = float(asym.max())
    if worst > SYMMETRY_RTOL * max(float(np.abs(array).max()), 1e-300):
        i, j = np.unravel_index(int(np.argmax(asym)), asym.shape)
        raise ValueError(
            f"The matrix is not symmetric: A[{i + 1},{j + 1}] = {array[i, j]:.6g} but "
            f"A[{j + 1},{i + 1}] = {array[j, i]:.6g}. A Hessian is symmetric; upload A with A = Aᵀ."
        )
    return validate(np.linalg.eigvalsh((array + array.T) / 2))
