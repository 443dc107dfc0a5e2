"""Small regression and classification datasets (X, y) for the network, and a safe CSV reader.

Every dataset is float64 with y two-dimensional (n, k) and is deterministic by seed. Every
rejection is a ValueError whose message says what was wrong, where, and what is allowed, so the
page can show it as it is. Parsing uses float() on each cell: no eval, no pickle.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import math
from pathlib import Path

import numpy as np
from numpy.polynomial import chebyshev

DATASETS = ("gaussian", "teacher", "chebyshev", "spirals", "digits")
MAX_SAMPLES = 2_000
DIGITS_IMAGES = 1_797
DIGITS_CLASSES = 10
MAX_FEATURES = 64  # columns of a CSV, targets included
MAX_CSV_CHARS = 4_000_000  # 2,000 rows × 64 cells × ~30 characters, with room to spare

_INPUT_DIM = {"gaussian": 8, "teacher": 8, "chebyshev": 1, "spirals": 2, "digits": 64}
_OUTPUT_DIM = {"gaussian": 1, "teacher": 1, "chebyshev": 1, "spirals": 2, "digits": DIGITS_CLASSES}
# digits: mse on one-hot targets, as Cohen et al. (2021) train their CIFAR-10 subsets
_LOSS = {"gaussian": "mse", "teacher": "mse", "chebyshev": "mse", "spirals": "ce", "digits": "mse"}
_STREAM = {"gaussian": 1, "teacher": 2, "chebyshev": 3, "spirals": 4, "digits": 5}  # network.init_params uses 0


def _check_name(name: str) -> None:
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}: choose one of {', '.join(DATASETS)}.")


def input_dim(name: str) -> int:
    """d, the number of input features of the named dataset."""
    _check_name(name)
    return _INPUT_DIM[name]


def output_dim(name: str, classes: int | None = None) -> int:
    """k, the number of target columns of the named dataset (classes for spirals and digits)."""
    _check_name(name)
    if name == "digits" and classes is not None:
        return _check_classes(classes)
    return _OUTPUT_DIM[name]


def default_loss(name: str) -> str:
    """The loss the dataset is meant for: "ce" for the classes of spirals, "mse" otherwise."""
    _check_name(name)
    return _LOSS[name]


def make(
    name: str = "gaussian", n_samples: int = 128, seed: int = 0, classes: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) with X of shape (n, input_dim(name)) and y of shape (n, output_dim(name, classes)).

    gaussian:  x ~ N(0, I_8),  y ~ N(0, 1) independent of x (pure memorisation)
    teacher:   x ~ N(0, I_8),  y = w₂ᵀ tanh(W₁ᵀx + b₁), a fixed random 8-16-1 tanh network (var y ≈ 1)
    chebyshev: x ~ U[−1, 1],   y = ½ (T₃(x) + T₅(x))
    spirals:   two interleaved spirals in R², y one-hot (n, 2); class 1 is class 0 turned by π
    digits:    n of the 1,797 8 × 8 handwritten digits (UCI, as bundled in scikit-learn) whose label is
               below `classes` (default 10), a seeded subset; pixels / 16 in [0, 1], then each pixel
               centred on its subset mean; y one-hot (n, classes)
    classes is for digits only.
    """
    _check_name(name)
    if name == "digits":
        return _digits(n_samples, seed, DIGITS_CLASSES if classes is None else classes)
    if classes is not None:
        raise ValueError(f"classes = {classes!r} is for the digits only: the {name} set has its own targets.")
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)):
        raise ValueError(f"n_samples = {n_samples!r}: give a whole number from 1 to {MAX_SAMPLES:,}.")
    if not 1 <= n_samples <= MAX_SAMPLES:
        raise ValueError(f"n_samples = {n_samples:,}: give a whole number from 1 to {MAX_SAMPLES:,}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed = {seed!r}: give a whole number ≥ 0.")
    n = int(n_samples)
    rng = np.random.default_rng([int(seed), _STREAM[name]])
    if name == "gaussian":
        return rng.standard_normal((n, 8)), rng.standard_normal((n, 1))
    if name == "teacher":
        X = rng.standard_normal((n, 8))
        # The teacher has its own stream: it depends on the seed only, so a larger n extends the same task.
        teacher = np.random.default_rng([int(seed), _STREAM[name], 1])
        W1 = teacher.standard_normal((8, 16)) / math.sqrt(8)
        b1 = 0.1 * teacher.standard_normal(16)
        # E[tanh(u)²] ≈ 0.394 for u ~ N(0, 1), so this w₂ gives var y ≈ 1 on average over teachers.
        w2 = teacher.standard_normal((16, 1)) / math.sqrt(16 * 0.394)
        return X, np.tanh(X @ W1 + b1) @ w2
    if name == "chebyshev":
        x = rng.uniform(-1.0, 1.0, (n, 1))
        return x, 0.5 * chebyshev.chebval(x, [0, 0, 0, 1, 0, 1])
    # spirals: radius grows with the angle; half the points per class, Gaussian jitter 0.05
    labels = np.arange(n) % 2
    t = np.sqrt(rng.uniform(0.0, 1.0, n))  # uniform density along the arm
    angle = 3.0 * math.pi * t + math.pi * labels
    X = np.column_stack([t * np.cos(angle), t * np.sin(angle)]) * 2.0 + 0.05 * rng.standard_normal((n, 2))
    return X, np.eye(2)[labels]


# ---------------------------------------------------------------- digits (real data, offline)


def _check_classes(classes) -> int:
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or not 2 <= classes <= DIGITS_CLASSES:
        raise ValueError(f"classes = {classes!r}: give a whole number of digit classes from 2 to {DIGITS_CLASSES}.")
    return int(classes)


def _digits_file() -> Path:
    """scikit-learn's bundled copy of the UCI digits, found without importing scikit-learn (≈ 2 s)."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError("The digits need the scikit-learn package (pip install -r requirements.txt).")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "digits.csv.gz"
    if not path.is_file():
        raise ValueError(f"The digits file is missing from the scikit-learn package: {path.name} not found.")
    return path


@functools.lru_cache(maxsize=1)
def digits_raw() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 images as (pixels (1797, 64) with values 0 … 16, labels (1797,) 0 … 9), read once and cached.

    The file ships inside scikit-learn's wheel (the same one load_digits reads): no network, ever.
    The returned arrays are read-only, so the cached copy cannot be edited by a caller.
    """
    with gzip.open(_digits_file(), "rt") as handle:
        table = np.loadtxt(handle, delimiter=",", dtype=np.float64)
    if table.shape != (DIGITS_IMAGES, 65):
        raise ValueError(f"The digits file has shape {table.shape}: expected ({DIGITS_IMAGES}, 65).")
    pixels, labels = table[:, :-1].copy(), table[:, -1].astype(np.int64)
    pixels.flags.writeable = False
    labels.flags.writeable = False
    return pixels, labels


def _digits(n_samples, seed, classes) -> tuple[np.ndarray, np.ndarray]:
    classes = _check_classes(classes)
    pixels, labels = digits_raw()
    pool = np.flatnonzero(labels < classes)
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or not 1 <= n_samples <= len(pool):
        raise ValueError(
            f"n_samples = {n_samples!r}: the digits 0–{classes - 1} have {len(pool):,} images; give a whole number "
            f"from 1 to {len(pool):,} (or more classes)."
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed = {seed!r}: give a whole number ≥ 0.")
    rng = np.random.default_rng([int(seed), _STREAM["digits"]])
    chosen = np.sort(rng.choice(pool, size=int(n_samples), replace=False))
    X = pixels[chosen] / 16.0
    X -= X.mean(axis=0)  # centred: each pixel's mean over the subset is 0
    return X, np.eye(classes)[labels[chosen]]


# ---------------------------------------------------------------- CSV


def _show(token: str, width: int = 30) -> str:
    """A token quoted for an error message, shortened so a huge paste cannot flood the page."""
    return repr(token if len(token) <= width else token[:width] + "…")


def _number(token: str) -> float | None:
    """float(token) for a finite number, else None. float() parses; it never evaluates."""
    token = token.strip().strip('"').strip()
    try:
        value = float(token)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def from_csv(text_or_bytes, n_targets: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) from CSV text: every column numeric, the last n_targets columns are the targets y.

    Separator: comma, semicolon or tab (whichever the first line uses). An optional header row is
    recognised when none of its cells is a number. Blank lines are skipped. At most
    MAX_SAMPLES data rows and MAX_FEATURES columns.
    """
    if isinstance(n_targets, bool) or not isinstance(n_targets, (int, np.integer)) or n_targets < 1:
        raise ValueError(f"n_targets = {n_targets!r}: give a whole number ≥ 1 of target columns (the last ones).")
    if isinstance(text_or_bytes, (bytes, bytearray, memoryview)):
        raw = bytes(text_or_bytes)
        if len(raw) > MAX_CSV_CHARS:
            raise ValueError(f"The file has {len(raw):,} bytes: at most {MAX_CSV_CHARS:,} are allowed.")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise ValueError(
                f"The file is not UTF-8 text: byte {raw[err.start]:#04x} at offset {err.start:,} cannot be "
                "decoded. Save it as CSV (UTF-8) with numbers only."
            ) from None
    elif isinstance(text_or_bytes, str):
        text = text_or_bytes.removeprefix("\ufeff")
    else:
        raise ValueError(f"Expected CSV text or bytes, got {type(text_or_bytes).__name__}.")
    if len(text) > MAX_CSV_CHARS:
        raise ValueError(f"The text has {len(text):,} characters: at most {MAX_CSV_CHARS:,} are allowed.")

    lines = [(i + 1, line) for i, line in enumerate(text.splitlines()) if line.strip()]
    if not lines:
        raise ValueError("The CSV is empty: give one row per sample, numbers separated by commas.")
    first = lines[0][1]
    sep = next((s for s in (",", ";", "\t") if s in first), ",")
    first_cells = first.split(sep)
    has_header = all(_number(cell) is None for cell in first_cells)
    rows = lines[1:] if has_header else lines
    if not rows:
        raise ValueError("The CSV has a header row but no data rows: add at least one row of numbers.")
    if len(rows) > MAX_SAMPLES:
        raise ValueError(f"The CSV has {len(rows):,} data rows: at most {MAX_SAMPLES:,} samples are allowed.")
    n_cols = len(first_cells)
    if n_cols > MAX_FEATURES:
        raise ValueError(
            f"Line {lines[0][0]} has {n_cols} columns: at most {MAX_FEATURES} columns (features and targets) "
            "are allowed."
        )
    if n_targets >= n_cols:
        raise ValueError(
            f"The CSV has {n_cols} column{'s' if n_cols != 1 else ''} and n_targets = {n_targets}: at least one "
            "feature column must remain, so give more columns or fewer targets."
        )
    data = np.empty((len(rows), n_cols))
    for r, (line_no, line) in enumerate(rows):
        cells = line.split(sep)
        if len(cells) != n_cols:
            raise ValueError(
                f"Line {line_no} has {len(cells)} columns, expected {n_cols} like line {lines[0][0]} "
                f"(separator {sep!r}): every row needs the same number of cells."
            )
        for c, cell in enumerate(cells):
            value = _number(cell)
            if value is None:
                what = "is empty" if not cell.strip() else f"is {_show(cell.strip())}"
                hint = (
                    " A header row counts only when none of its cells is a number." if r == 0 and not has_header else ""
                )
                raise ValueError(
                    f"Line {line_no}, column {c + 1} {what}: every cell must be a finite number like 1.5 or "
                    f"-2e3 (no text, NaN or inf).{hint}"
                )
            data[r, c] = value
    return data[:, :-n_targets].copy(), data[:, -n_targets:].copy()
