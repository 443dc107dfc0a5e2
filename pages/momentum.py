"""Momentum: the heavy-ball / Nesterov rate map over (ηλ, β), the spectrum on it, and error curves."""

import math

import streamlit as st

from core import momentum
from core import quadratic as q
from ui import charts, controls, frames, sidebar
from ui.routing import ensure_app_router

ensure_app_router()

st.title("Momentum: heavy ball and Nesterov")
st.caption(
    "Each eigendirection of A is a 2 × 2 linear system; its rate is the spectral radius ρ of that matrix "
    "(theory §4; Goh, “Why Momentum Really Works”, Distill 2017). Darker cells converge faster; the pale "
    "region diverges."
)

eigenvalues = sidebar.spectrum_controls()
method, beta = sidebar.method_controls()
if method == "gd":
    st.sidebar.info(
        "Pick heavy ball or Nesterov to use momentum; the map then shows that method.", icon=":material/info:"
    )
edge = momentum.max_stable_lr(eigenvalues, beta, method)
lr = sidebar.lr_controls(
    eigenvalues,
    marks=[("η = η_max", edge, "this method's largest stable η at this β"), *sidebar.gd_marks(eigenvalues)[1:]],
)
theta0 = sidebar.start_controls(eigenvalues)
steps = sidebar.steps_control()
controls.show_notices()

best = momentum.optimal(eigenvalues)


def jump_to_optimum() -> None:
    st.session_state["method"] = sidebar.METHOD_NAMES["heavy_ball"]
    st.session_state["beta"] = best["beta"]
    if st.session_state.get("rel"):
        st.session_state["lrr"] = best["lr"] / q.max_stable_lr(eigenvalues)
    else:
        st.session_state["lr"] = best["lr"]


row = st.columns(4)
controls.metric(
    row[0], "gdmax_m", "η_max, gradient descent", frames.format_number(momentum.max_stable_lr(eigenvalues, 0.0, "gd"))
)
controls.metric(
    row[1],
    "hbmax_m",
    f"η_max, heavy ball (β = {beta:.6g})",
    frames.format_number(momentum.max_stable_lr(eigenvalues, beta, "heavy_ball")),
)
controls.metric(
    row[2],
    "nagmax_m",
    f"η_max, Nesterov (β = {beta:.6g})",
    frames.format_number(momentum.max_stable_lr(eigenvalues, beta, "nesterov")),
)
controls.metric(row[3], "rate_m", "rate now", frames.format_number(momentum.rate(eigenvalues, lr, beta, method)))
row = st.columns([1, 1, 1, 1])
controls.metric(row[0], "opt_lr_m", "optimal heavy ball η*", frames.format_number(best["lr"]))
controls.metric(row[1], "opt_beta_m", "optimal β*", frames.format_number(best["beta"]))
controls.metric(
    row[2],
    "opt_rate_m",
    "rate at (η*, β*)",
    frames.format_number(best["rate"]),
    delta=f"GD's best: {best['gd_rate']:.4g}",
    delta_color="off",
    help="(√κ − 1)/(√κ + 1) against plain GD's (κ − 1)/(κ + 1) at η = 2/(λ_min + λ_max)",
)
row[3].button(
    "Jump to (η*, β*)",
    on_click=jump_to_optimum,
    key="jump",
    disabled=not math.isfinite(best["lr"]),
    help="Sets heavy ball with exactly η* and β*",
    width="stretch",
)


map_method = method if method != "gd" else "heavy_ball"
st.subheader(f"Rate map: ρ over (ηλ, β) for {sidebar.METHOD_NAMES[map_method]}")
charts.show(
    charts.rate_map_chart,
    {
        "cells": frames.rate_map_frame(map_method),
        "boundary": frames.boundary_frame(),
        "spectrum": frames.spectrum_on_map_frame(eigenvalues, lr, beta, map_method),
    },
    key="rate_map",
    alt_text=f"Heatmap of the convergence rate over step size × eigenvalue and momentum for {map_method}, with "
    "the stability edges of GD, heavy ball and Nesterov and the current spectrum as points.",
)
st.caption(
    "Black: GD's edge ηλ = 2. Orange dashed: heavy ball's ηλ = 2 + 2β. Pink dotted: Nesterov's ηλ = (2 + 2β)/(1 + 2β). "
    "Hover a cell for its regime: monotone (real positive roots), oscillating (real negative), rippling (complex: "
    "rate √β for heavy ball), diverging (ρ ≥ 1). Triangles sit at the map's edge for ηλ > 4."
)

st.subheader("Error per direction: momentum (solid) against plain GD at the same η (dashed)")
charts.show(
    charts.momentum_error_chart,
    {"errors": frames.momentum_error_frame(eigenvalues, lr, beta, theta0, steps, method)},
    key="momentum_errors",
    alt_text="Per-direction error of the chosen optimizer against plain gradient descent on a log scale.",
    symlog=steps > 200,
)

controls.share_link()
