"""Momentum: the heavy-ball / Nesterov rate map over (ηλ, β), the spectrum on it, and error curves."""


import math

import streamlit as st

from core import momentum
from ui import charts, controls, equations, frames, sidebar
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
lr = sidebar.lr_controls(eigenvalues, method, beta)
theta0 = sidebar.start_controls(eigenvalues)
steps = sidebar.steps_control()
controls.show_notices()

best = momentum.optimal(eigenvalues)
# With plain GD chosen, momentum's η_max at β = 0 equals GD's and says nothing: show what Polyak's β* gives.
shown_beta = best["beta"] if method == "gd" else beta
beta_note = f"β* = {shown_beta:.4g}" if method == "gd" else f"β = {beta:.6g}"

with st.expander(f"The update rule of {sidebar.METHOD_NAMES[method]}, as computed here", icon=":material/function:"):
    equations.update_rule(method)

row = st.columns(4)
controls.metric(
    row[0], "gdmax_m", "η_max, gradient descent", frames.format_number(momentum.max_stable_lr(eigenvalues, 0.0, "gd"))
)
controls.metric(
    row[1],
    "hbmax_m",
    f"η_max, heavy ball ({beta_note})",
    frames.format_number(momentum.max_stable_lr(eigenvalues, shown_beta, "heavy_ball")),
)
controls.metric(
    row[2],
    "nagmax_m",
    f"η_max, Nesterov ({beta_note})",
    frames.format_number(momentum.max_stable_lr(eigenvalues, shown_beta, "nesterov")),
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
sidebar.mark_button(row[3], sidebar.polyak_mark(eigenvalues), key="jump")


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

if method == "gd" and math.isfinite(best["lr"]):
    st.subheader("What momentum would do: Polyak's heavy ball at (η*, β*) (solid) against your GD at η (dashed)")
    errors = frames.momentum_error_frame(eigenvalues, best["lr"], best["beta"], theta0, steps, "heavy_ball", gd_lr=lr)
else:  # with GD and no λ > 0 there is no optimum to show: heavy ball at β = 0 is GD itself
    st.subheader(f"Error per direction: {sidebar.METHOD_NAMES[method]} (solid) against plain GD at the same η (dashed)")
    errors = frames.momentum_error_frame(eigenvalues, lr, beta, theta0, steps, method)
charts.show(
    charts.momentum_error_chart,
    {"errors": errors},
    key="momentum_errors",
    alt_text="Per-direction error of the chosen optimizer against plain gradient descent on a log scale.",
    symlog=steps > 200,
    method=frames.METHOD_LABELS["heavy_ball" if method == "gd" else method],
)

controls.share_link()
