"""Quadratic explorer: what GD does in every eigendirection of A, for the spectrum and η chosen."""

import math

import numpy as np
import streamlit as st

from core import quadratic as q
from ui import charts, controls, frames, sidebar
from ui.frames import format_number
from ui.routing import ensure_app_router

ensure_app_router()

st.title("Quadratic explorer")
st.caption("L(θ) = ½ θᵀAθ. Gradient descent multiplies eigen-coordinate i by 1 − ηλᵢ at every step.")

eigenvalues = sidebar.spectrum_controls()
lr = sidebar.lr_controls(eigenvalues)
theta0 = sidebar.start_controls(eigenvalues)
steps = sidebar.steps_control()
eps = controls.number("tolerance ε (for steps to ε)", "eps", 1e-6, 1e-300, 0.999999, format="%g", container=st.sidebar)
controls.show_notices()

eta_max = q.max_stable_lr(eigenvalues)
eta_opt = q.optimal_lr(eigenvalues)
kappa = q.condition_number(eigenvalues)
rho = q.rate(eigenvalues, lr)
n_steps = q.steps_to_tolerance(eigenvalues, lr, eps)
verdict = q.status(eigenvalues, lr, theta0)

row1, row2 = st.columns(4), st.columns(4)
controls.metric(row1[0], "lmax_m", "sharpness λ_max", format_number(float(eigenvalues.max())))
controls.metric(row1[1], "etamax_m", "η_max = 2/λ_max", format_number(eta_max))
controls.metric(row1[2], "etaopt_m", "η* (fastest)", format_number(eta_opt), help="2/(λ_min + λ_max) over the λ > 0")
controls.metric(row1[3], "kappa_m", "κ = λ_max/λ_min", format_number(kappa))
controls.metric(row2[0], "lr_m", "η (current)", format_number(lr))
controls.metric(row2[1], "ratio_m", "η / η_max", format_number(lr / eta_max) if math.isfinite(eta_max) else "—")
controls.metric(row2[2], "rate_m", "rate max|1 − ηλᵢ|", format_number(rho), help="slowest direction's factor (λ ≠ 0)")
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

symlog = steps > 200  # a log-like time axis keeps the first steps visible when T is large
n = eigenvalues.size
st.subheader("Every eigendirection: |θ̃ₜ,ᵢ| against t")
lines, envelope = frames.decay_frames(eigenvalues, lr, theta0, steps)
drawn = "all" if n <= 20 else f"{lines['direction'].nunique()} of {n:,}"
charts.show(
    charts.decay_chart,
    {"lines": lines, "envelope": envelope},
    key="decay",
    # Alt texts name no η: a chart whose element changes is re-embedded instead of updated in place.
    alt_text=f"Log-scale magnitude of {drawn} eigen-coordinates of gradient descent against the step.",
    symlog=symlog,
)
st.caption(
    (
        f"All {n} directions drawn."
        if n <= 20
        else f"{drawn} directions drawn (λ_min, λ_max and evenly spaced quantiles); the grey band spans all of them."
    )
    + " Dashed: directions with |1 − ηλᵢ| > 1. "
    + charts.LOG_CLIP_NOTE
)

left, right = st.columns(2, gap="large")
with left:
    st.subheader("Stability boundary: |1 − ηλ| against λ")
    curve, points = frames.stability_v_frames(eigenvalues, lr)
    charts.show(
        charts.stability_v_chart,
        {"curve": curve, "points": points},
        params={"eta": frames.scrubber_range(eigenvalues, lr)},
        key="stability_v",
        alt_text=f"The V |1 − ηλ| against λ with the {n:,} eigenvalues on it and the edge λ = 2/η.",
    )
    st.caption(
        "Directions inside the green band (|1 − ηλ| < 1) shrink; right of the dashed line λ = 2/η they blow up. "
        "The slider under the chart scrubs η in your browser, instantly; the sidebar's η sets where it starts."
    )
with right:
    st.subheader("Shrink factors |1 − ηλᵢ| against η")
    f_lines, f_rules = frames.factor_vs_lr_frames(eigenvalues, lr)
    charts.show(
        charts.factor_vs_lr_chart,
        {"lines": f_lines, "rules": f_rules},
        key="factors",
        alt_text="|1 − ηλᵢ| against η for representative eigenvalues, with marks at η_max, η* and the sidebar's η.",
    )
    st.caption("Each V is one eigenvalue. η_max is where the steepest V leaves the band; η* balances the extremes.")

st.subheader("Loss L(θₜ)")
charts.show(
    charts.loss_chart,
    {"loss": frames.loss_frame(eigenvalues, lr, theta0, steps)},
    key="loss",
    alt_text="Loss of gradient descent on a log scale against the step.",
    symlog=symlog,
)

controls.share_link()
