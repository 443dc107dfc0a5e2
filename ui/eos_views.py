"""Frames and chart builders for the Edge of Stability page (runs of core.training.train).

A run is labelled by its η ("η = 0.2"); every frame is bounded (≤ MAX_POINTS rows per run and
series) whatever the number of steps.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa

from core import training as tr
from ui.charts import DANGER, OKABE_ITO, STABLE_FILL, _named, arrow, finish, rate_map_chart, spec
from ui.frames import LOG_CLIP, format_number, spectrum_on_map_frame

MAX_POINTS = 500  # per run and series: 4 runs × 500 rows per chart at most

# The sharpness each method's threshold bounds, written as the page names it (theory.md §4–5).
THRESHOLD_FORMULA = {
    "gd": "2/η",
    "heavy_ball": "(2 + 2β)/η",
    "nesterov": "(2 + 2β)/((1 + 2β)η)",
    "adam": "(2 + 2β₁)/((1 − β₁)η)",
    "rmsprop": "2/η",
}
# What hovers at the threshold (core.training.hovering_quantity), as the chart's axis and legend name it.
QUANTITY_NAMES = {
    "sharpness": "sharpness S = λ_max(∇²L)",
    "preconditioned_sharpness": "λ_max(P⁻¹H) (log)",
    "batch_sharpness": "batch sharpness",
}
QUANTITY_TITLES = {
    "sharpness": "Sharpness",
    "preconditioned_sharpness": "Preconditioned sharpness λ_max(P⁻¹H)",
    "batch_sharpness": "Batch sharpness",
}
# The dimmed series drawn beside it: the raw sharpness for Adam/RMSProp, the full-batch λ_max for SGD.
BESIDE_NAMES = {"preconditioned_sharpness": "raw sharpness λ_max(H)", "batch_sharpness": "full-batch λ_max(H)"}
# Gradient-flow time one step covers (core.training.flow_time).
FLOW_TIME_FORMULA = {"gd": "η·t", "heavy_ball": "η·t/(1 − β)", "nesterov": "η·t/(1 − β)"}
LOSS_FORMULA = {"mse": "(1/2n)Σ‖f − y‖²", "ce": "mean cross-entropy"}
# Where S first reaches the threshold, and where the distance to the flow is 10× its level there.
FLOW_MARKS = ("S reaches the threshold", "GD departs (10×)")


def run_label(lr, run: dict | None = None) -> str:
    """ "η = 0.2", or the label a run carries (runs loaded from a saved file say so)."""
    if run is not None and "label" in run:
        return run["label"]
    return f"η = {lr:g}"


def _thin(index: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """At most max_points of the given sorted step indices, evenly spread, the last one kept."""
    if index.size <= max_points:
        return index
    picks = np.unique(np.round(np.linspace(0, index.size - 1, max_points)).astype(int))
    return index[picks]


def quantity(run: dict) -> str:
    """The key of what hovers at the run's threshold (saved runs and GD: "sharpness")."""
    return tr.hovering_quantity(run)


def thresholds(run: dict) -> np.ndarray:
    """The threshold at every step (it follows an η schedule); one value for runs without a schedule."""
    per_step = run.get("thresholds")
    return np.full(len(run["step"]), run["threshold"]) if per_step is None else np.asarray(per_step, dtype=float)


def hovering_key(config) -> str:
    """What hovers for a RunConfig's method: the key of core.training.hovering_quantity."""
    if config.method in tr.ADAPTIVE:
        return "preconditioned_sharpness"
    if config.batch_size is not None and config.batch_size < config.n_samples:
        return "batch_sharpness"
    return "sharpness"


def hovering_label(config) -> str:
    """The axis title of the sharpness chart for a RunConfig (what hovers for its method)."""
    return QUANTITY_NAMES[hovering_key(config)]


def crossing_step(run: dict) -> int | None:
    """The first measured step at which what hovers (quantity(run)) reached the run's threshold (None if never)."""
    s = run[quantity(run)]
    hit = np.flatnonzero(np.isfinite(s) & (s >= thresholds(run)))
    return int(run["step"][hit[0]]) if hit.size else None


def first_at_edge(runs: dict[float, dict]) -> float:
    """The η whose run reached the edge first (of those that did not diverge), else the first η: it has
    spent longest at the edge, so its oscillation and its departure from gradient flow are the clearest."""
    crossings = {lr: crossing_step(run) for lr, run in runs.items() if run["diverged_at"] < 0}
    reached = {lr: c for lr, c in crossings.items() if c is not None}
    return min(reached, key=reached.get) if reached else next(iter(runs))


def summary(run: dict, lr: float) -> dict:
    """The numbers the page prints for a run: crossing, hover level, final loss, divergence (S is what
    hovers for the method: λ_max(P⁻¹H) for Adam and RMSProp, the batch sharpness for SGD)."""
    s, steps = run[quantity(run)], run["step"]
    ratio = s / thresholds(run)
    measured = np.flatnonzero(np.isfinite(s))
    tail = measured[measured >= int(0.7 * steps[-1])]
    losses = run["loss"][np.isfinite(run["loss"])]
    return {
        "run": run_label(lr, run),
        "threshold": run["threshold"],
        "first S": float(s[measured[0]]) if measured.size else np.nan,
        "crossed threshold at": crossing_step(run),
        "median S / threshold, last 30%": float(np.median(ratio[tail])) if tail.size else np.nan,
        "final loss": float(losses[-1]) if losses.size else np.nan,
        "diverged at": None if run["diverged_at"] < 0 else int(run["diverged_at"]),
        "HVPs": int(run["hvp_count"]),
    }


def summary_frame(rows: list[dict]) -> pd.DataFrame:
    """The summaries as a table with readable cells ("—" for never, six significant digits)."""

    def cell(v):
        if v is None or (isinstance(v, float) and not np.isfinite(v)):
            return "—"
        return format_number(v) if isinstance(v, float) else v

    return pd.DataFrame([{k: cell(v) for k, v in row.items()} for row in rows]).astype(str)


def summary_table(rows: list[dict]) -> pa.Table:
    """summary_frame as the Arrow table st.dataframe shows."""
    return pa.Table.from_pandas(summary_frame(rows), preserve_index=False)


def rate_map_method(config) -> str | None:
    """The momentum page's rate map that a configuration's runs are drawn on: heavy ball's for GD (GD is its
    row β = 0), none for Adam and RMSProp (their steps are not on it)."""
    method = config.method if config.method != "gd" else "heavy_ball"
    return None if method in tr.ADAPTIVE else method


def shown_tables(config, runs: dict[float, dict]) -> dict:
    """Everything the page draws from a configuration's trained runs, as Arrow tables where it is chart data:
    run_tables, the summaries ("rows") and their table ("summary"), the run first at the edge ("first_lr")
    with its last steps along the top eigenvector ("projection"), and the runs on the rate map ("spectrum",
    None without one). ui.eos_runs.page_tables keeps it per configuration."""
    rows = [summary(run, lr) for lr, run in runs.items()]
    first = first_at_edge(runs)
    method = rate_map_method(config)
    return {
        **run_tables(runs),
        "rows": rows,
        "summary": summary_table(rows),
        "first_lr": first,
        "projection": arrow(projection_frame(runs[first], first)),
        "spectrum": None if method is None else arrow(rate_map_path_frame(runs, config.beta, method)),
    }


def run_tables(runs: dict[float, dict]) -> dict:
    """What the page draws from a set of runs as Arrow tables (ui.charts.arrow): "hover" (sharpness_chart's
    datasets), "loss", "topk" and "normalised" (for saved runs overlaid; a configuration's own: shown_tables)."""
    return {
        "hover": {name: arrow(frame) for name, frame in hover_frames(runs).items()},
        "loss": arrow(loss_frame(runs)),
        "topk": arrow(top_k_frame(runs)),
        "normalised": arrow(normalised_frame(runs)),
    }


def loss_frame(runs: dict[float, dict]) -> pd.DataFrame:
    parts = []
    for lr, run in runs.items():
        ok = np.flatnonzero(np.isfinite(run["loss"]) & (run["loss"] > 0))
        idx = _thin(ok)
        parts.append(
            pd.DataFrame(
                {
                    "step": run["step"][idx],
                    "loss": np.clip(run["loss"][idx], 10**-LOG_CLIP, 10**LOG_CLIP),
                    "run": run_label(lr, run),
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["step", "loss", "run"])


def sharpness_frames(runs: dict[float, dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(what hovers at measured steps — S, the sharpness for GD — with 2·S/threshold, one threshold row per run
    whose η is constant). For Adam/RMSProp S is λ_max(P⁻¹H) (residual "—"); for SGD the batch sharpness
    (its "residual" column carries ± the standard error of its Monte Carlo mean)."""
    parts, rules = [], []
    for lr, run in runs.items():
        key = quantity(run)
        idx = _thin(np.flatnonzero(np.isfinite(run[key])))
        s = run[key][idx]
        if key == "sharpness":
            residual = [format_number(float(r)) for r in run["residual"][idx]]
        elif key == "batch_sharpness":
            residual = [f"± {format_number(float(e))} (std. error)" for e in run["batch_sharpness_stderr"][idx]]
        else:
            residual = ["—"] * len(idx)
        parts.append(
            pd.DataFrame(
                {
                    "step": run["step"][idx],
                    "S": s,
                    # Normalised so that the edge is at 2 for every method: 2·S/threshold (= ηS for GD).
                    "ηS": 2 * s / thresholds(run)[idx],
                    "residual": residual,
                    "run": run_label(lr, run),
                }
            )
        )
        if np.ptp(thresholds(run)) == 0:  # a schedule's threshold is a path instead (hover_frames)
            rules.append(
                {"threshold": run["threshold"], "run": run_label(lr, run), "value": format_number(run["threshold"])}
            )
    columns = ["step", "S", "ηS", "residual", "run"]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    return frame, pd.DataFrame(rules, columns=["threshold", "run", "value"])


def hover_frames(runs: dict[float, dict]) -> dict[str, pd.DataFrame]:
    """Every dataset of sharpness_chart: sharpness and thresholds (sharpness_frames), beside (the raw
    sharpness dimmed for Adam/RMSProp, the full-batch λ_max for SGD) and threshold_path (the threshold
    step by step for runs with an η schedule, its corners only)."""
    frame, rules = sharpness_frames(runs)
    beside, paths = [], []
    for lr, run in runs.items():
        key, label = quantity(run), run_label(lr, run)
        if key != "sharpness":
            idx = _thin(np.flatnonzero(np.isfinite(run["sharpness"]) & (run["sharpness"] > 0)))  # log axis for Adam
            what = BESIDE_NAMES[key]
            beside.append(
                pd.DataFrame({"step": run["step"][idx], "S": run["sharpness"][idx], "run": label, "what": what})
            )
        levels = thresholds(run)
        if np.ptp(levels) > 0:
            change = np.flatnonzero(np.diff(levels)) + 1  # the first step at each new η
            corners = np.unique(np.concatenate([[0], change - 1, change, [len(levels) - 1]]))
            paths.append(
                pd.DataFrame(
                    {
                        "step": run["step"][corners],
                        "threshold": levels[corners],
                        "run": label,
                        "value": [format_number(float(v)) for v in levels[corners]],
                    }
                )
            )
    empty_beside = pd.DataFrame(columns=["step", "S", "run", "what"])
    empty_path = pd.DataFrame(columns=["step", "threshold", "run", "value"])
    return {
        "sharpness": frame,
        "thresholds": rules,
        "beside": pd.concat(beside, ignore_index=True) if beside else empty_beside,
        "threshold_path": pd.concat(paths, ignore_index=True) if paths else empty_path,
    }


def normalised_frame(runs: dict[float, dict]) -> pd.DataFrame:
    """The η·λ chart's rows: the top-k Hessian eigenvalues as 2λ/threshold (GD, momentum); for SGD also the
    batch sharpness; for Adam/RMSProp only λ_max(P⁻¹H) — the threshold bounds P⁻¹H, not H."""
    parts = []
    for lr, run in runs.items():
        key = quantity(run)
        frame = top_k_frame({lr: run})
        if key != "sharpness":
            idx = _thin(np.flatnonzero(np.isfinite(run[key])), MAX_POINTS // 2)
            extra = pd.DataFrame(
                {
                    "step": run["step"][idx],
                    "λ": run[key][idx],
                    "ηλ": 2 * run[key][idx] / thresholds(run)[idx],
                    "eigenvalue": "λ_max(P⁻¹H)" if key == "preconditioned_sharpness" else "batch sharpness",
                    "run": run_label(lr, run),
                }
            )
            frame = extra if key == "preconditioned_sharpness" else pd.concat([frame, extra], ignore_index=True)
        parts.append(frame)
    frame = pd.concat(parts, ignore_index=True) if parts else top_k_frame({})
    return frame[np.isfinite(frame["λ"].astype(float))]


def top_k_frame(runs: dict[float, dict]) -> pd.DataFrame:
    parts = []
    for lr, run in runs.items():
        idx = _thin(np.flatnonzero(np.isfinite(run["sharpness"])), MAX_POINTS // 2)
        k = run["top_k"].shape[1]
        vals = run["top_k"][idx]
        parts.append(
            pd.DataFrame(
                {
                    "step": np.repeat(run["step"][idx], k),
                    "λ": vals.ravel(),
                    "ηλ": (2 * vals / thresholds(run)[idx][:, None]).ravel(),
                    "eigenvalue": np.tile([f"λ{i + 1}" for i in range(k)], idx.size),
                    "run": run_label(lr, run),
                }
            )
        )
    frame = (
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["step", "λ", "ηλ", "eigenvalue", "run"])
    )
    return frame[np.isfinite(frame["λ"].astype(float))]


def projection_frame(run: dict, lr: float, last: int = 80) -> pd.DataFrame:
    """The update's component along the top eigenvector, v₁ᵀ(θ_{t+1} − θ_t), for the last steps."""
    ok = np.flatnonzero(np.isfinite(run["top_projection"]))[-last:]
    return pd.DataFrame({"step": run["step"][ok], "projection": run["top_projection"][ok], "run": run_label(lr)})


def flow_distance_frames(distance: dict, run: dict, lr: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """‖θ_GD − θ_GF‖ (relative) against step, and two marks: the step where S first reached the
    threshold and the step where GD departs (the distance 10× its level at that crossing).

    Step 0's distance is exactly 0 (both start at θ₀): it is left out, so the log axis starts at the
    first real discrepancy instead of a clip value far below it."""
    ok = np.isfinite(distance["relative"]) & (distance["relative"] > 0)
    idx = _thin(np.flatnonzero(ok))
    frame = pd.DataFrame({"step": distance["step"][idx], "distance": distance["relative"][idx], "run": run_label(lr)})
    cross = crossing_step(run)
    depart = tr.departure_step(distance, cross)
    rows = [
        {"step": step, "label": label}
        for step, label in zip((cross, depart), FLOW_MARKS, strict=True)
        if step is not None
    ]
    return frame, pd.DataFrame(rows, columns=["step", "label"])


def rate_map_path_frame(runs: dict[float, dict], beta: float, method: str) -> pd.DataFrame:
    """Each run's measured sharpness as points (η·S_t, β) on the momentum page's rate map, with
    the rate and regime a quadratic direction of that curvature would have."""
    parts = []
    for lr, run in runs.items():
        idx = _thin(np.flatnonzero(np.isfinite(run["sharpness"])), 150)
        rates = run.get("lr")
        if rates is not None and np.ptp(rates) > 0:  # a schedule: each point at its own η_t (the λ column is η_t·S)
            frame = spectrum_on_map_frame(rates[idx] * run["sharpness"][idx], 1.0, beta, method)
        else:
            frame = spectrum_on_map_frame(run["sharpness"][idx], lr, beta, method)
        parts.append(frame.assign(run=run_label(lr, run)))
    return pd.concat(parts, ignore_index=True)


# ---- chart builders ----------------------------------------------------------------------

RUN_COLORS = alt.Scale(range=OKABE_ITO)


def _step_x(title: str = "step") -> alt.X:
    return alt.X("step:Q", title=title)


def loss_chart(big: bool = False, loss: str = "mse"):
    """Training loss (log) against step, one colour per run; the axis names the loss."""
    return finish(
        _named("loss")
        .mark_line(strokeWidth=3.5 if big else 1.8)
        .encode(
            x=_step_x(),
            y=alt.Y(
                "loss:Q",
                scale=alt.Scale(type="log"),
                axis=alt.Axis(format=".0e", title=f"loss {LOSS_FORMULA[loss]} (log)"),
            ),
            color=alt.Color("run:N", scale=RUN_COLORS, title="run"),
            tooltip=["run:N", "step:Q", alt.Tooltip("loss:Q", format=".6g")],
        ),
        big,
        legend_bottom=True,
    )


def sharpness_chart(big: bool = False, quantity: str = QUANTITY_NAMES["sharpness"]):
    """What hovers (quantity: the sharpness S for GD) against step, each run's threshold 2/η (or its method's
    version) dashed in its colour — a stepped path when η follows a schedule — and, dimmed beside it, the raw
    sharpness (Adam/RMSProp) or the full-batch λ_max (SGD)."""
    color = alt.Color("run:N", scale=RUN_COLORS, title="run")
    accuracy = "‖Hv − λv‖" if quantity == QUANTITY_NAMES["sharpness"] else "accuracy"
    line = (
        _named("sharpness")
        .mark_line(strokeWidth=3.5 if big else 2, point=alt.OverlayMarkDef(size=40 if big else 12))
        .encode(
            x=_step_x(),
            # Adam's threshold is ≈ 100 × the raw sharpness drawn beside it: a log axis shows both.
            y=alt.Y("S:Q", title=quantity, scale=alt.Scale(type="log") if "(log)" in quantity else alt.Undefined),
            color=color,
            tooltip=["run:N", "step:Q", alt.Tooltip("S:Q", format=".6g"), alt.Tooltip("residual:N", title=accuracy)],
        )
    )
    beside = (
        _named("beside")
        .mark_line(strokeWidth=2.5 if big else 1.4, opacity=0.4, strokeDash=[2, 2])
        .encode(
            x=_step_x(),
            y="S:Q",
            color=color,
            tooltip=["run:N", "what:N", "step:Q", alt.Tooltip("S:Q", format=".6g", title="value")],
        )
    )
    rule = (
        _named("thresholds")
        .mark_rule(strokeDash=[7, 4], strokeWidth=3 if big else 2)
        .encode(y="threshold:Q", color=color, tooltip=["run:N", alt.Tooltip("value:N", title="threshold")])
    )
    path = (
        _named("threshold_path")
        .mark_line(strokeDash=[7, 4], strokeWidth=3 if big else 2)
        .encode(
            x=_step_x(),
            y="threshold:Q",
            color=color,
            tooltip=["run:N", "step:Q", alt.Tooltip("value:N", title="threshold")],
        )
    )
    return finish(alt.layer(rule, path, beside, line), big, legend_bottom=True)


def normalised_chart(big: bool = False):
    """η·S (and η·λ_k) against step on the quadratic explorer's axis: the band 0 < ηλ < 2 where a
    quadratic direction shrinks, the line at 2 where it stops."""
    y = alt.Y("ηλ:Q", title="2λ/threshold (η·λ for GD)", scale=alt.Scale(domainMin=0))
    band = (
        alt.Chart(pd.DataFrame({"y0": [0.0], "y1": [2.0]}))
        .mark_rect(color=STABLE_FILL, opacity=0.1)
        .encode(y=alt.Y("y0:Q"), y2="y1:Q")
    )
    two = alt.Chart(pd.DataFrame({"y": [2.0]})).mark_rule(color=DANGER, strokeWidth=3 if big else 2).encode(y="y:Q")
    label = (
        alt.Chart(pd.DataFrame({"y": [2.0], "text": ["the edge: a quadratic diverges above"]}))
        .mark_text(align="left", dy=-8, x=6, color=DANGER, fontWeight="bold")
        .encode(y="y:Q", text="text:N")
    )
    lines = (
        _named("topk")
        .mark_line(strokeWidth=3.5 if big else 1.8)
        .encode(
            x=_step_x(),
            y=y,
            color=alt.Color("run:N", scale=RUN_COLORS, title="run"),
            strokeDash=alt.StrokeDash("eigenvalue:N", title="eigenvalue"),
            detail="eigenvalue:N",
            tooltip=[
                "run:N",
                "eigenvalue:N",
                "step:Q",
                alt.Tooltip("ηλ:Q", format=".4f", title="2λ/threshold"),
                alt.Tooltip("λ:Q", format=".5g"),
            ],
        )
    )
    return finish(alt.layer(band, two, label, lines), big, legend_bottom=True)


def top_k_chart(big: bool = False):
    """The top-k Hessian eigenvalues λ₁ ≥ λ₂ ≥ … against step."""
    return finish(
        _named("topk")
        .mark_line(strokeWidth=3 if big else 1.6)
        .encode(
            x=_step_x(),
            y=alt.Y("λ:Q", title="top Hessian eigenvalues λₖ"),
            color=alt.Color("eigenvalue:N", scale=alt.Scale(scheme="viridis"), title="eigenvalue"),
            strokeDash=alt.StrokeDash("run:N", title="run"),
            detail="run:N",
            tooltip=["run:N", "eigenvalue:N", "step:Q", alt.Tooltip("λ:Q", format=".6g")],
        ),
        big,
        legend_bottom=True,
    )


def projection_chart(big: bool = False):
    """v₁ᵀ(θ_{t+1} − θ_t) over the last steps: at the edge its sign flips every step."""
    return finish(
        _named("projection")
        .mark_bar(width=3 if not big else 5)
        .encode(
            x=_step_x(),
            y=alt.Y("projection:Q", title="step along top eigenvector v₁"),
            color=alt.condition("datum.projection > 0", alt.value(OKABE_ITO[0]), alt.value(DANGER)),
            tooltip=["step:Q", alt.Tooltip("projection:Q", format=".3e")],
        ),
        big,
        height=220,
    )


def flow_distance_chart(big: bool = False):
    """‖θ_GD − θ_GF‖/‖θ_GF‖ against step (log), where S first reached the threshold and where GD departs."""
    line = (
        _named("distance")
        .mark_line(strokeWidth=3.5 if big else 2, color=OKABE_ITO[0])
        .encode(
            x=_step_x(),
            y=alt.Y(
                "distance:Q",
                scale=alt.Scale(type="log"),
                axis=alt.Axis(format=".0e", title="‖θ_GD − θ_flow‖ / ‖θ_flow‖"),
            ),
            tooltip=["step:Q", alt.Tooltip("distance:Q", format=".3e")],
        )
    )
    mark_color = alt.Color(
        "label:N", scale=alt.Scale(domain=list(FLOW_MARKS), range=[DANGER, OKABE_ITO[4]]), legend=None
    )
    rule = (
        _named("crossing")
        .mark_rule(strokeDash=[6, 4], strokeWidth=3 if big else 2)
        .encode(x="step:Q", color=mark_color)
    )
    # The crossing's label left of its rule, the departure's right of its own: they never overlap.
    text = [
        _named("crossing")
        .transform_filter(alt.datum.label == label)
        .mark_text(align=align, dx=dx, y=y, fontWeight="bold")
        .encode(x="step:Q", text="label:N", color=mark_color)
        # The departure's label low, under the jump of the distance it marks.
        for label, align, dx, y in ((FLOW_MARKS[0], "right", -6, 14), (FLOW_MARKS[1], "left", 6, 230))
    ]
    return finish(alt.layer(line, rule, *text), big, height=260)


# ---- what the sharpness chart shows, per method ------------------------------------------


def quantity_sentence(config) -> str:
    """One sentence under the sharpness chart: which quantity it draws against which threshold, and why."""
    if config.method == "adam":
        return (
            "Drawn: the preconditioned sharpness λ_max(P⁻¹H), the curvature Adam's step −ηP⁻¹m actually meets; "
            "with P frozen, the momentum recursion is stable only while it stays below (2 + 2β₁)/((1 − β₁)η) "
            "(38/η at β₁ = 0.9), so that is what hovers. The raw sharpness λ_max(H), dimmed, tracks no η-threshold."
        )
    if config.method == "rmsprop":
        return (
            "Drawn: the preconditioned sharpness λ_max(P⁻¹H), the curvature RMSProp's step −ηP⁻¹g actually meets; "
            "its step is stable only while that stays below 2/η (no momentum), so that is what hovers. The raw "
            "sharpness λ_max(H), dimmed, tracks no η-threshold."
        )
    if config.batch_size is not None and config.batch_size < config.n_samples:
        return (
            f"Drawn: the batch sharpness E_B[g_BᵀH_Bg_B/‖g_B‖²] over fresh batches of b = {config.batch_size}, the "
            "curvature of a batch's own loss along its own step: where it passes the threshold that step stops "
            "decreasing the batch loss, so it is what hovers under SGD. The full-batch λ_max is dimmed beside it "
            "(at the edge it stays below the threshold). "
            "Each point is a Monte Carlo mean (≥ 10 batches, until its standard error is 1 %, at most 100)."
        )
    return (
        "Drawn: the sharpness S = λ_max(∇²L), the curvature along the top eigenvector: full-batch GD (or momentum) "
        "is stable on a quadratic only while it is below the threshold, so that is what hovers."
    )


def interpolation_notes(runs: dict[float, dict]) -> list[str]:
    """For each run that memorised its data before its hovering quantity reached the threshold, what happened."""
    notes = []
    for lr, run in runs.items():
        report = tr.edge_report(run)
        if report["interpolated_first"]:
            what = QUANTITY_TITLES[report["quantity"]].lower().replace("λ_max(p⁻¹h)", "λ_max(P⁻¹H)")
            notes.append(
                f"**{run_label(lr, run)} interpolated first, it is not at the edge:** the training loss fell below "
                f"{tr.INTERPOLATION_LOSS:.0%} of its start at step {report['interpolated_at']:,} while the {what} had "
                f"reached at most {report['peak']:.2f} × the threshold. The network memorised its "
                f"{run['n_samples']:,} samples before the edge: this needs more data or a harder target."
            )
    return notes


FLOW_STEPS_ASIDE = (
    "Gradient flow is left out for this run: it is the small-step limit of full-batch GD and momentum at one "
    "constant η. Adam and RMSProp follow a preconditioned flow, SGD a noisy one, and a schedule changes the clock."
)
RATE_MAP_STEPS_ASIDE = (
    "The momentum rate map is left out for Adam and RMSProp: it is drawn for a fixed quadratic under GD and "
    "momentum, and their edge is about λ_max(P⁻¹H) with P changing every step. The η·λ chart above shows "
    "2λ_max(P⁻¹H)/threshold, the same edge at 2."
)


def normalised_note(config) -> str:
    """What the η·λ chart draws for the method, when that is not just H's top eigenvalues."""
    if config.method in tr.ADAPTIVE:
        return (
            " For Adam and RMSProp the threshold bounds λ_max(P⁻¹H), not H's eigenvalues: the chart draws "
            "2·λ_max(P⁻¹H)/threshold in their place."
        )
    if config.batch_size is not None and config.batch_size < config.n_samples:
        return (
            " For SGD the chart adds the batch sharpness, which is what reaches the line at 2; the full-batch "
            "eigenvalues stay under it."
        )
    if config.schedule:
        return " With an η schedule, each point is divided by the threshold in force at its step."
    return ""


def rate_map_note(config) -> str:
    """A sentence for runs the map shows only in part: SGD (full-batch sharpness) and schedules (η_t·S_t)."""
    if config.batch_size is not None and config.batch_size < config.n_samples:
        return (
            " Under SGD the points are the full-batch sharpness, which stays left of the edge: the batch sharpness "
            "is what reaches it."
        )
    if config.schedule:
        return " With an η schedule each point uses the η in force at its step."
    return ""


def warm_specs() -> None:
    """Build the page's chart structures for every method's hovering quantity and both losses before a visitor
    asks: each first build holds its replica's GIL for 15–200 ms, and under a class's load they fell on the
    visitors who first opened a configuration (py-spy: a third of the EoS page's GIL time in one load run)."""
    for quantity in QUANTITY_NAMES.values():
        spec(sharpness_chart, big=False, quantity=quantity)
    for loss in LOSS_FORMULA:
        spec(loss_chart, big=False, loss=loss)
    for builder in (normalised_chart, top_k_chart, projection_chart, flow_distance_chart, rate_map_chart):
        spec(builder, big=False)
