"""The central flow on the Edge of Stability page (core.central_flow, theory.md §9).

Computed after the run, for one run of the configuration (the first to reach the edge), once per
configuration: it goes into the page's run store under its own key and per-key lock, so a class
opening the same link waits for the first visitor's computation instead of repeating it. Capped:
steps × samples × parameters ≤ MAX_COST (≈ 20 s of work, 4.5× the default run's), stopped after
MAX_SECONDS whatever happens (the flow up to there is kept and said so).

Frames and chart builders: the loss chart with GD's running mean, the predicted loss and L(w_CF);
the sharpness chart with the flow's λ₁; σ² against GD's measured oscillation.
"""

from __future__ import annotations

import time

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from core import central_flow, network
from ui import charts, controls, eos_runs, eos_views, train_process
from ui.charts import NEUTRAL, OKABE_ITO, _named, finish

MAX_COST = 2.5e8  # steps × samples × parameters; the default run (5.5e7) takes ≈ 4.5 s of one core
MAX_SECONDS = 30.0
RETRY_SECONDS = 300.0  # a flow cut short by MAX_SECONDS is kept; only an error is retried, after this
MAX_HISTORY_BYTES = eos_runs.MAX_HISTORY_BYTES  # θ and d at the recorded steps, for the displacement
COMPARE_WINDOW = 100  # steps per window of the predicted-vs-GD summary (the acceptance test's)

SERIES = ("GD: running mean", "predicted GD mean: L(w_CF) + tr Σ/η", "central flow alone: L(w_CF)")
FLOW_SHARPNESS = "central flow: λ₁(w_CF)"
SIGMA_SERIES = ("σ₁² of the central flow", "GD: ⟨d, θ_GD − w_CF⟩² (running mean)", "GD: ⟨d, θ_GD − w_CF⟩² per record")

TOGGLE_HELP = (
    "The smooth path GD follows on average at the edge (Cohen et al., ICLR 2025): computed after the run for one "
    f"run, once per configuration, up to {MAX_COST:.1e} steps × samples × parameters (≈ 20 s); plain GD only."
)
MOMENTUM_ASIDE = (
    "The central flow is drawn for plain full-batch gradient descent at a constant η only. The paper's code has "
    "no flow for momentum, Adam, mini-batches or η schedules, and this app does not derive one (it could: heavy "
    "ball's time runs 1/(1 − β) times faster and its edge is (2 + 2β)/η, but that is untested here). "
    "Choose method GD, full batch, one constant η to compare."
)

RELU_ASIDE = (
    "The central flow's correction is a third derivative of the loss, and relu's kinks leave it undefined wherever "
    "a unit switches: GD's oscillation crosses them all the time. Its prediction is not drawn for relu (on the "
    "default problem it overshoots GD's loss by up to 79 %); choose swish, tanh or softplus to compare."
)


def window(steps: int) -> int:
    """GD's running-mean window: ≥ 10 periods of the 2-step oscillation, ≈ 2 % of the run, ≤ 100 steps."""
    return int(min(100, max(20, steps // 50)))


def reason_not_applicable(config) -> str | None:
    """Why the central flow is not computed for this configuration (None: it is)."""
    if config.method != "gd" or config.batch_size is not None or config.schedule is not None:
        return MOMENTUM_ASIDE
    if config.activation == "relu":
        return RELU_ASIDE
    cost = cost_units(config)
    if cost > MAX_COST:
        seconds = cost / 5.5e7 * 4.5
        return (
            f"The central flow of this run would take about {seconds:,.0f} s ({config.steps:,} steps × "
            f"{config.n_samples:,} samples × {network.n_params(config.widths):,} parameters): it is computed up to "
            f"{MAX_COST:.1e} of those units (≈ 20 s). Use fewer steps, samples or smaller layers to compare."
        )
    return None


def cost_units(config) -> float:
    return config.steps * config.n_samples * network.n_params(config.widths)


def chosen_lr(runs: dict[float, dict]) -> float:
    """The run that reached the edge first (it spends longest there); else the first η."""
    crossings = {lr: eos_views.crossing_step(run) for lr, run in runs.items() if run["diverged_at"] < 0}
    reached = {lr: c for lr, c in crossings.items() if c is not None}
    return min(reached, key=reached.get) if reached else next(iter(runs))


def _record_every(config) -> int:
    """A multiple of the run's sampling so θ and d at the recorded steps stay within MAX_HISTORY_BYTES."""
    P = network.n_params(config.widths)
    factor = 1
    while 2 * 8 * P * (config.steps // (config.every * factor) + 2) > MAX_HISTORY_BYTES:
        factor += 1
    return config.every * factor


def compute(config, lr: float, container) -> dict | None:
    """The central flow for run lr of config, from the store or computed here with a progress bar."""
    key = eos_runs._key(config, lr, "cflow")
    store = eos_runs.store()
    with store.claim(key):
        found = store.get(key)
        if found is not None and ("failed_at" not in found or time.time() - found["failed_at"] < RETRY_SECONDS):
            return None if "failed_at" in found else found
        run = eos_runs.cached_run(config, lr)
        if run is None:
            return None
        progress = container.progress(0.0, text=f"Central flow of {eos_views.run_label(lr)}: starting")

        def report(partial: dict, t: int) -> None:
            progress.progress(
                min(t / max(config.steps, 1), 1.0),
                text=f"Central flow of {eos_views.run_label(lr)}: step {t:,} of {config.steps:,}",
            )

        try:
            flow = train_process.central_flow_run(
                dict(config.train_kwargs(), lr=lr, record_every=_record_every(config), max_seconds=MAX_SECONDS),
                report,
                MAX_SECONDS + 10.0,  # its own budget stops it first; this one only if the child hangs
            )
        except train_process.TrainingFailed as exc:  # core's errors (ValueError, …) and a hung child
            store.put(key, {"failed_at": time.time()})
            progress.empty()
            container.error(
                f"The central flow could not be computed: {controls.escape_markdown(exc)}", icon=":material/warning:"
            )
            return None
        progress.empty()
        result = _compact(flow, run, lr)
        store.put(key, result)
        return result


def _compact(flow: dict, run: dict, lr: float) -> dict:
    """What the charts need; θ and d at the recorded steps are reduced to GD's displacement along d."""
    keep = ("step", "loss", "predicted_loss", "sharpness", "sigma2", "n_critical")
    result = {name: flow[name] for name in keep}
    result.update(
        lr=lr,
        threshold=flow["threshold"],
        edge_step=flow["edge_step"],
        stopped_at=flow["stopped_at"],
        message=flow["message"],
        hvp_count=flow["hvp_count"],
        d3_count=flow["d3_count"],
        seconds=flow["seconds"],
        gd_loss=run["loss"],
    )
    if run.get("param_history") is not None:
        d = central_flow.displacement(run, flow)
        ok = np.all(np.isfinite(flow["param_history"][np.searchsorted(flow["param_steps"], d["step"])]), axis=1)
        result.update(displacement_step=d["step"][ok], displacement=d["displacement"][ok])
    return result


def for_page(config, runs: dict[float, dict], container=st) -> dict | None:
    """The page's hook: an aside if the flow does not apply, else the (cached) flow of the chosen run."""
    reason = reason_not_applicable(config)
    if reason is not None:
        container.info(reason, icon=":material/info:")
        return None
    return compute(config, chosen_lr(runs), container)


# ---- frames ------------------------------------------------------------------------------


def loss_datasets(flow: dict | None) -> dict[str, pd.DataFrame]:
    """GD's running mean, the predicted loss and L(w_CF) for the loss chart ({} without a flow)."""
    if flow is None:
        return {}
    label = eos_views.run_label(flow["lr"])
    w = window(len(flow["step"]) - 1)
    series = {
        f"{SERIES[0]} over {w} steps": central_flow.running_mean(flow["gd_loss"], w),
        SERIES[1]: flow["predicted_loss"],
        SERIES[2]: flow["loss"],
    }
    parts = []
    for name, values in series.items():
        idx = eos_views._thin(np.flatnonzero(np.isfinite(values) & (values > 0)))
        parts.append(pd.DataFrame({"step": flow["step"][idx], "loss": values[idx], "run": label, "series": name}))
    return {"cflow_loss": pd.concat(parts, ignore_index=True)}


def sharpness_datasets(flow: dict | None) -> dict[str, pd.DataFrame]:
    """The flow's top eigenvalue for the sharpness chart ({} without a flow)."""
    if flow is None:
        return {}
    idx = eos_views._thin(np.flatnonzero(np.isfinite(flow["sharpness"])))
    frame = pd.DataFrame(
        {
            "step": flow["step"][idx],
            "S": flow["sharpness"][idx],
            "ratio": flow["sharpness"][idx] / flow["threshold"],
            "run": eos_views.run_label(flow["lr"]),
            "what": FLOW_SHARPNESS,
        }
    )
    return {"cflow_sharpness": frame}


def sigma_datasets(flow: dict) -> dict[str, pd.DataFrame]:
    """σ₁² of the flow per step, and GD's squared displacement from the flow along d at the recorded steps,
    from the flow's edge step on (before it σ² = 0 and GD is on the flow); positive values for the log axis."""
    start = max(flow["edge_step"], 0)
    sigma = flow["sigma2"][:, 0]
    idx = eos_views._thin(np.flatnonzero(np.isfinite(sigma) & (sigma > 0) & (flow["step"] >= start)))
    parts = [pd.DataFrame({"step": flow["step"][idx], "value": sigma[idx], "series": SIGMA_SERIES[0]})]
    points = pd.DataFrame(columns=["step", "value", "series"])
    if "displacement" in flow and len(flow["displacement"]) and flow["edge_step"] >= 0:
        x2 = flow["displacement"] ** 2
        steps = flow["displacement_step"]
        # The same window as GD's loss, in recorded points (every `spacing` steps).
        spacing = max(1, int(np.median(np.diff(steps)))) if len(steps) > 1 else 1
        mean = central_flow.running_mean(x2, max(1, window(len(flow["step"]) - 1) // spacing))
        keep = eos_views._thin(np.flatnonzero((steps >= start) & (x2 > 0)))
        parts.append(pd.DataFrame({"step": steps[keep], "value": mean[keep], "series": SIGMA_SERIES[1]}))
        points = pd.DataFrame({"step": steps[keep], "value": x2[keep], "series": SIGMA_SERIES[2]})
    return {"sigma": pd.concat(parts, ignore_index=True), "sigma_points": points}


def window_ratios(flow: dict, width: int = COMPARE_WINDOW) -> np.ndarray:
    """Mean predicted over mean GD loss in consecutive windows of `width` steps that end after the edge."""
    edge, out = flow["edge_step"], []
    n = len(flow["step"]) - 1
    for start in range(0, n, width):
        stop = min(start + width, n)
        if edge >= 0 and stop > edge:
            gd, predicted = flow["gd_loss"][start:stop], flow["predicted_loss"][start:stop]
            if np.isfinite(gd).all() and np.isfinite(predicted).all():
                out.append(predicted.mean() / gd.mean())
    return np.array(out)


def summary_sentence(flow: dict) -> str:
    """What the flow did and how well it predicted, in numbers, for the caption."""
    lr, label = flow["lr"], eos_views.run_label(flow["lr"])
    head = (
        f"{label}: central flow in {flow['seconds']:.1f} s ({flow['hvp_count']:,} Hessian-vector products, "
        f"{flow['d3_count']:,} third-derivative passes)."
    )
    if flow["stopped_at"] >= 0:
        head += f" Stopped at step {flow['stopped_at']:,} ({flow['message']}); the charts show it up to there."
    elif flow["message"] != "ok":
        head += f" Note: {flow['message'].removeprefix('ok, but ')}."
    if flow["edge_step"] < 0:
        return head + f" Its sharpness never passed 1.95/η = {1.95 / lr:.4g}: here it is gradient flow throughout."
    ratios = window_ratios(flow)
    text = head + (
        f" It follows gradient flow until step {flow['edge_step']:,}, then holds λ₁ at 2/η = {2 / lr:.4g} "
        f"(at most {np.nanmax(flow['sharpness']) * lr / 2:.4f} × 2/η)."
    )
    if len(ratios):
        worst = ratios[np.argmax(np.abs(ratios - 1))]
        text += (
            f" Predicted over GD's mean loss in {COMPARE_WINDOW}-step windows after the edge: median "
            f"{np.median(ratios):.3f}, furthest {worst:.3f}."
        )
    return text


# ---- chart builders ----------------------------------------------------------------------

RUN_COLORS = eos_views.RUN_COLORS


def loss_chart(big: bool = False, loss: str = "mse"):
    """GD's loss per run (faint, in the run's colour) with, for the compared run, GD's running mean, the
    central flow's predicted loss L + tr Σ/η and the flow's own L(w_CF), each in its own colour and dash."""
    y = alt.Y(
        "loss:Q", scale=alt.Scale(type="log"), axis=alt.Axis(format=".0e", title=f"loss {eos_views.LOSS_FORMULA[loss]}")
    )
    raw = (
        _named("loss")
        .mark_line(strokeWidth=2 if big else 1, opacity=0.35)
        .encode(
            x=eos_views._step_x(),
            y=y,
            color=alt.Color("run:N", scale=RUN_COLORS, title="GD, every step"),
            tooltip=["run:N", "step:Q", alt.Tooltip("loss:Q", format=".6g")],
        )
    )
    legend = alt.Legend(orient="bottom", direction="vertical", labelLimit=400, symbolType="stroke", symbolStrokeWidth=3)
    series = alt.Color(
        "series:N", title=None, sort=None, scale=alt.Scale(range=["#000000", OKABE_ITO[3], OKABE_ITO[2]]), legend=legend
    )
    flow = (
        _named("cflow_loss")
        .mark_line(strokeWidth=3.5 if big else 2.2)
        .encode(
            x=eos_views._step_x(),
            y=y,
            color=series,
            strokeDash=alt.StrokeDash(
                "series:N", sort=None, scale=alt.Scale(range=[[1, 0], [8, 4], [2, 3]]), legend=None
            ),
            tooltip=["run:N", "series:N", "step:Q", alt.Tooltip("loss:Q", format=".6g")],
        )
    )
    return finish(alt.layer(raw, flow).resolve_scale(color="independent"), big, height=400, legend_bottom=True)


def sharpness_chart(big: bool = False, quantity: str = eos_views.QUANTITY_NAMES["sharpness"]):
    """eos_views.sharpness_chart with the central flow's λ₁(w_CF) drawn over it in black."""
    chart = eos_views.sharpness_chart(big=big, quantity=quantity)
    flow = (
        _named("cflow_sharpness")
        .mark_line(strokeWidth=3.5 if big else 2.2, color="#000000")
        .encode(
            x=eos_views._step_x(),
            y="S:Q",
            strokeDash=alt.StrokeDash("what:N", title=None, scale=alt.Scale(domain=[FLOW_SHARPNESS], range=[[1, 0]])),
            tooltip=[
                "run:N",
                "what:N",
                "step:Q",
                alt.Tooltip("S:Q", format=".6g"),
                alt.Tooltip("ratio:Q", format=".5f", title="λ₁ / (2/η)"),
            ],
        )
    )
    chart.layer = [*chart.layer, flow]
    return chart


def sigma_chart(big: bool = False):
    """σ₁² of the central flow against GD's squared displacement from the flow along Σ's top eigenvector (log)."""
    scale = alt.Scale(domain=list(SIGMA_SERIES), range=[OKABE_ITO[3], OKABE_ITO[0], NEUTRAL])
    color = alt.Color("series:N", scale=scale, title=None, legend=alt.Legend(labelLimit=400))
    y = alt.Y("value:Q", scale=alt.Scale(type="log"), axis=alt.Axis(format=".0e", title="variance along d"))
    x = alt.X("step:Q", title="step", scale=alt.Scale(zero=False))  # σ² starts at the edge
    lines = (
        _named("sigma")
        .mark_line(strokeWidth=3.5 if big else 2.2)
        .encode(
            x=x,
            y=y,
            color=color,
            tooltip=["series:N", "step:Q", alt.Tooltip("value:Q", format=".4e")],
        )
    )
    points = (
        _named("sigma_points")
        .mark_circle(size=40 if big else 16, opacity=0.5)
        .encode(
            x=x,
            y=y,
            color=color,
            tooltip=["series:N", "step:Q", alt.Tooltip("value:Q", format=".4e")],
        )
    )
    return finish(alt.layer(points, lines), big, height=300)


def show_section(flow: dict | None) -> None:
    """The σ² chart and the flow's numbers, below the gradient-flow comparison."""
    if flow is None:
        return
    st.subheader("The central flow: GD's oscillation, predicted")
    if flow["edge_step"] < 0:
        st.caption(summary_sentence(flow))
        return
    charts.show(
        sigma_chart,
        sigma_datasets(flow),
        key="eos_cflow_sigma",
        alt_text="The central flow's sigma squared against step with GD's measured squared displacement from the "
        "flow along the same direction.",
    )
    st.caption(
        summary_sentence(flow)
        + " σ₁² is the top eigenvalue of Σ, the covariance of the oscillation the flow needs to hold λ₁ at 2/η; d is "
        "its eigenvector. GD's points are ⟨d, θ_GD − w_CF⟩² at the steps where θ was recorded (the same phase of the "
        f"2-step zig-zag each time), the line their running mean. The loss chart's dashed line is L(w_CF) + tr Σ/η, "
        "GD's predicted average loss (theory.md §9). Computed once per configuration for one run (the first to reach "
        f"the edge), up to {MAX_COST:.1e} steps × samples × parameters (≈ 20 s), stopped after {MAX_SECONDS:.0f} s."
    )
