"""Quadratic explorer: what GD does in every eigendirection of A, for the spectrum and η chosen."""

import functools
import math

import numpy as np
import pandas as pd
import streamlit as st

from core import quadratic as q
from ui import cached, charts, controls, frames, live, sidebar, turns
from ui.frames import format_number
from ui.routing import ensure_app_router
from ui.style import presenting

ensure_app_router()


def _sync_from_live(key: str, unit: float) -> None:
    """The live η was released: it becomes the sidebar's η (and so the URL's `lr` and the metrics)."""
    value = live.eta_value(st.session_state[key].selection)
    if value is not None:
        sidebar.set_lr(min(value, sidebar.LR_MAX), unit)


st.title("Quadratic explorer")
st.caption("L(θ) = ½ θᵀAθ. Gradient descent multiplies eigen-coordinate i by 1 − ηλᵢ at every step.")

eigenvalues = sidebar.spectrum_controls()
lr_box = st.sidebar.container()  # the η controls' place; the fragment below draws them
theta0 = sidebar.start_controls(eigenvalues)
steps = sidebar.steps_control()
eps = controls.number("tolerance ε (for steps to ε)", "eps", 1e-6, 1e-300, 0.999999, format="%g", container=st.sidebar)
controls.show_notices()

eta_max = q.max_stable_lr(eigenvalues)
eta_opt = q.optimal_lr(eigenvalues)
kappa = q.condition_number(eigenvalues)
symlog = steps > frames.SYMLOG_STEPS  # a log-like time axis keeps the first steps visible when T is large
n = eigenvalues.size


# Everything that depends on η, with the η controls themselves: a change of η (sidebar, mark button or
# a live release) reruns only this, not the page (the spectrum, start and caches are left alone).
@st.fragment(key="quadratic_eta")
@turns.in_turn
def eta_view() -> None:
    lr = sidebar.lr_controls(eigenvalues, box=lr_box, live=live.ETA_LABEL)
    controls.show_url_notices()  # a bad `lr` in the URL (checked as the η box is drawn)
    # The metrics and the verdict sit above the live chart but are written after it: the chart's delta
    # then leaves first, and the browser draws it while the rest of the run streams in.
    summary = st.container()
    live_view(lr)
    with summary:
        summary_view(lr)
    controls.share_link()


def live_view(lr: float) -> None:
    views = live.visible_views()
    if not views:
        return
    st.subheader("Drag η: every picture and the read-out follow in your browser")
    # η is not in the spec: the sidebar's η travels in the dataset "now" (ui.live.live_params), so a
    # sidebar change updates the chart in place, live slider included.
    top = frames.live_top(eta_max, lr)
    live_band = frames.uniform_start(theta0)
    live_loss = n <= frames.LIVE_ALL
    complete = n <= frames.LIVE_DIRS
    live_band = live_band and complete
    datasets = {**cached.quadratic_live_frames(eigenvalues, theta0, steps, eps, top), live.NOW: live.now_frame(eta=lr)}
    if not complete:
        server_verdict = frames.verdict_frame(eigenvalues, lr, theta0)
        datasets["verdict"] = pd.DataFrame({"veta": server_verdict["eta"], "vtext": server_verdict["text"], "one": 1})
    if not live_band:
        datasets["band"] = frames.band_frame(eigenvalues, lr, theta0, steps)
    if not live_loss:
        datasets["loss"] = charts.table(frames.server_loss_columns(eigenvalues, lr, theta0, steps))
    structure = live.spec(
        presenting(),
        symlog,
        live_band,
        live_loss,
        live_loss and bool((eigenvalues < 0).any()),
        views,
        live.visible_readout(),
        complete,
        controls.visible("lr") and controls.visible("live"),
    )
    spec = live.with_ranges(structure, {live.LR: top})
    key = "live"
    unit = eta_max if math.isfinite(eta_max) else 1.0
    drawn = "all" if n <= frames.LIVE_ALL else f"{min(n, frames.LIVE_ALL)} of {n:,}"
    live.show(
        spec,
        datasets,
        key=key,
        # Alt texts name no η: a chart whose element changes is re-embedded instead of updated in place.
        alt_text=(
            f"Live η: a read-out of the rate and verdict, log-scale magnitudes of {drawn} eigen-coordinates "
            f"against the step, the V |1 − ηλ| against λ with the {n:,} eigenvalues, the shrink factors against "
            "η and the loss, all recomputed in the browser as the η slider moves."
        ),
        on_select=functools.partial(_sync_from_live, key, unit),
    )
    notes = [
        f"All {n} directions drawn."
        if n <= frames.LIVE_ALL
        else f"{drawn} directions drawn (λ_min, λ_max and evenly spaced quantiles); the grey band spans all of them.",
        "Dashed: directions with |1 − ηλᵢ| > 1.",
        charts.LOG_CLIP_NOTE + " A red triangle marks where a direction passes the clip (labelled “< 1e-30”).",
        "Drag the η slider under the charts: every picture and the read-out are recomputed in your browser; when "
        "you let go, the sidebar's η, the metrics above and the link follow. The sidebar's η moves the slider.",
    ]
    if not live_band:
        notes.append(
            "The band over all directions is computed on the server here (a start with unequal |θ̃₀,ᵢ|, or "
            f"n > {frames.LIVE_DIRS:,}): drawn once η is released."
        )
    if not complete:
        notes.append(f"With n > {frames.LIVE_DIRS:,} the verdict in the read-out is the server's, after release.")
    if not live_loss:
        notes.append(f"With n = {n:,} > {frames.LIVE_ALL} the loss is summed on the server: drawn once η is released.")
    st.caption(" ".join(notes))


def summary_view(lr: float) -> None:
    rho = q.rate(eigenvalues, lr)
    n_steps = q.steps_to_tolerance(eigenvalues, lr, eps)
    verdict = q.status(eigenvalues, lr, theta0)
    # Two rows of four in the same four columns, each column's second under its first: a grid that costs 5
    # blocks on every rerun, not 10.
    row1 = row2 = st.columns(4)
    controls.metric(row1[0], "lmax_m", "sharpness λ_max", format_number(float(eigenvalues.max())))
    controls.metric(row1[1], "etamax_m", "η_max = 2/λ_max", format_number(eta_max))
    controls.metric(
        row1[2], "etaopt_m", "η* (fastest)", format_number(eta_opt), help="2/(λ_min + λ_max) over the λ > 0"
    )
    controls.metric(row1[3], "kappa_m", "κ = λ_max/λ_min", format_number(kappa))
    controls.metric(row2[0], "lr_m", "η (current)", format_number(lr))
    controls.metric(row2[1], "ratio_m", "η / η_max", format_number(lr / eta_max) if math.isfinite(eta_max) else "—")
    controls.metric(
        row2[2], "rate_m", "rate max|1 − ηλᵢ|", format_number(rho), help="slowest direction's factor (λ ≠ 0)"
    )
    controls.metric(row2[3], "steps_m", f"steps to ε = {eps:g}", "never" if math.isinf(n_steps) else f"{n_steps:,}")

    i = verdict["direction"]
    if not controls.visible("status"):
        pass
    elif verdict["status"] == "diverges":
        st.error(
            f"**Diverges.** Direction {i + 1} (λ = {verdict['eigenvalue']:.6g}, ηλ = {lr * verdict['eigenvalue']:.4g}) "
            f"goes first: it passes 10⁶ × its start at step {int(verdict['step']):,}.",
            icon=":material/error:",
        )
    elif verdict["status"] == "oscillates forever":
        st.warning(
            f"**Oscillates forever.** Direction {i + 1} has ηλ = 2 exactly (λ = {verdict['eigenvalue']:.6g}): "
            "it flips sign every step at constant size. Any larger η diverges.",
            icon=":material/waves:",
        )
    elif verdict["status"] == "does not move":
        if lr == 0:
            why = "η = 0"
        elif not np.any(eigenvalues[theta0 != 0]):
            why = "every excited direction is flat, λ = 0"
        else:
            why = "ηλᵢ is below double precision"
        st.info(
            f"**Does not move.** 1 − ηλᵢ = 1 in every excited direction ({why}): θ stays where it started.",
            icon=":material/pause_circle:",
        )
    else:
        st.success(
            f"**Converges.** Every excited direction has |1 − ηλᵢ| < 1; the slowest shrinks by {rho:.6g} per step.",
            icon=":material/check_circle:",
        )


eta_view()
