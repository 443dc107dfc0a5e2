"""Edge of Stability runs saved to JSON and loaded back to overlay later runs.

Plain JSON (no pickle, no code): a format tag, the configuration for the record, and per run its η,
threshold, divergence step and the step / loss / sharpness / top-k series (NaN as null). Loading
checks every field's type, size and finiteness and raises ValueError saying what is wrong.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np

FORMAT = "eos-explorer-runs/1"
MAX_BYTES = 5 * 2**20
MAX_RUNS = 4
MAX_ROWS = 20_001
SERIES = ("step", "loss", "sharpness", "residual")


def _series(values) -> list:
    return [None if not math.isfinite(v) else float(v) for v in np.asarray(values, dtype=np.float64).ravel()]


def runs_to_json(config, runs: dict) -> str:
    """The runs of one configuration as JSON text."""
    return json.dumps(
        {
            "format": FORMAT,
            "config": {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()},
            "runs": [
                {
                    "lr": float(lr),
                    "threshold": float(run["threshold"]),
                    "diverged_at": int(run["diverged_at"]),
                    **{name: _series(run[name]) for name in SERIES},
                    "top_k": [_series(row) for row in np.asarray(run["top_k"])],
                    # Per step when η follows a schedule, so a reloaded run's threshold steps with it.
                    **({"thresholds": _series(run["thresholds"])} if run.get("thresholds") is not None else {}),
                }
                for lr, run in runs.items()
            ],
        }
    )


def _floats(value, name: str, rows: int | None = None) -> np.ndarray:
    if not isinstance(value, list) or len(value) > MAX_ROWS or (rows is not None and len(value) != rows):
        raise ValueError(f"'{name}' must be a list of at most {MAX_ROWS:,} numbers, as long as 'step'.")
    if not all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in value):
        raise ValueError(f"'{name}' may hold only numbers and null.")
    out = np.array([np.nan if v is None else float(v) for v in value], dtype=np.float64)
    if np.isinf(out).any():
        raise ValueError(f"'{name}' holds an infinite number.")
    return out


def runs_from_json(data: bytes) -> dict[str, dict]:
    """Runs from a saved file, keyed by their label ("η = 0.2 (saved)"), ready to overlay."""
    if len(data) > MAX_BYTES:
        raise ValueError(f"The file is {len(data):,} bytes: at most {MAX_BYTES:,} are allowed.")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"Not a JSON file saved by this page ({type(exc).__name__}).") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"Not a file saved by this page: its 'format' must be '{FORMAT}'.")
    runs = doc.get("runs")
    if not isinstance(runs, list) or not 1 <= len(runs) <= MAX_RUNS:
        raise ValueError(f"'runs' must list 1 to {MAX_RUNS} runs.")
    out = {}
    for k, run in enumerate(runs, start=1):
        if not isinstance(run, dict):
            raise ValueError(f"Run #{k} is not an object.")
        lr, threshold = run.get("lr"), run.get("threshold")
        if not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0
            for v in (lr, threshold)
        ):
            raise ValueError(f"Run #{k}: 'lr' and 'threshold' must be positive numbers.")
        step = _floats(run.get("step"), "step")
        if np.isnan(step).any():
            raise ValueError(f"Run #{k}: 'step' may not hold null.")
        loaded = {name: _floats(run.get(name), name, len(step)) for name in ("loss", "sharpness")}
        # The Lanczos residuals are optional (older or hand-made files): unknown then.
        res = run.get("residual")
        loaded["residual"] = np.full(len(step), np.nan) if res is None else _floats(res, "residual", len(step))
        top_k = run.get("top_k")
        if not isinstance(top_k, list) or len(top_k) != len(step):
            raise ValueError(f"Run #{k}: 'top_k' must have one row per step.")
        rows = [_floats(row, "top_k") for row in top_k]
        if len({len(r) for r in rows}) > 1 or (rows and not 1 <= len(rows[0]) <= 5):
            raise ValueError(f"Run #{k}: every 'top_k' row must hold the same 1 to 5 numbers.")
        per_step = run.get("thresholds")
        if per_step is not None:
            per_step = _floats(per_step, "thresholds", len(step))
            if not (per_step > 0).all():  # NaN fails this too
                raise ValueError(f"Run #{k}: 'thresholds' must be positive numbers, one per step.")
            loaded["thresholds"] = per_step
        diverged = run.get("diverged_at", -1)
        label = f"η = {lr:g} (saved)"
        out[label] = {
            "label": label,
            "step": step.astype(np.int64),
            "threshold": float(threshold),
            "diverged_at": int(diverged) if isinstance(diverged, int) else -1,
            "top_k": np.array(rows).reshape(len(step), -1),
            **loaded,
        }
    return out
