"""Momentum: the heavy-ball / Nesterov rate map over (ηλ, β), the spectrum on it, and error curves."""

import functools
import math

import streamlit as st

from core import momentum
from ui import cached, charts, controls, equations, frames, live, live_momentum, sidebar, turns
from ui.routing import ensure_app_router
from ui.style import presenting

ensure_app_router()

LIVE_STATE = "_live_mom"  # see live_momentum.live_top


def _errors_at_sidebar(eigenvalues, lr, beta, theta0, steps, method, best):
    """The error curves at the sidebar's (η, β), computed by core (the CSV export)."""
    if method == "gd" and math.isfinite(best["lr"]):
        return frames.momentum_error_frame(eigenvalues, best["lr"], best["beta"], theta0, steps, "heavy_ball", gd_lr=lr)
    return frames.momentum_error_frame(eigenvalues, lr, beta, theta0, steps, method)


st.title("Momentum: heavy ball and Nesterov")
st.caption(
    "Each eigendirection of A is a 2 × 2 linear system; its rate is the spectral radius ρ of that matrix "
    "(theory §4; Goh, “Why Momentum Really Works”, Distill 2017). Darker cells converge faster; the pale "
    "region diverges."
)

eigenvalues = sidebar.spectrum_controls()
method = sidebar.method_control()
beta_box = st.sidebar.container()  # β's and η's controls: the fragment below draws them
if method == "gd":
    st.sidebar.info(
        "Pick heavy ball or Nesterov to use momentum; the map then shows that method.", icon=":material/info:"
    )
lr_box = st.sidebar.container()
theta0 = sidebar.start_controls(eigenvalues)
steps = sidebar.steps_control()
controls.show_notices()

best = momentum.optimal(eigenvalues)
map_method = method if method != "gd" else "heavy_ball"
fixed = (float(best["lr"]), float(best["beta"])) if method == "gd" and math.isfinite(best["lr"]) else None

with st.expander(f"The update rule of {sidebar.METHOD_NAMES[method]}, as computed here", icon=":material/function:"):
    equations.update_rule(method)


# Everything that depends on η and β, with their controls: moving either (sidebar, the jump button or a
# live release) reruns only this part of the page.
@st.fragment(key="momentum_eta_beta")
@turns.in_turn
def eta_beta_view() -> None:
    beta = sidebar.beta_control(method, beta_box, live=live.BETA_LABEL)
    lr = sidebar.lr_controls(eigenvalues, method, beta, box=lr_box, live=live.ETA_LABEL)
    controls.show_url_notices()  # a bad `beta` or `lr` in the URL (checked as their boxes are drawn)
    summary_view(lr, beta)
    live_view(lr, beta)
    controls.share_link()


def summary_view(lr: float, beta: float) -> None:
    # With plain GD chosen, momentum's η_max at β = 0 equals GD's and says nothing: show what Polyak's β* gives.
    shown_beta = best["beta"] if method == "gd" else beta
    beta_note = f"β* = {shown_beta:.4g}" if method == "gd" else f"β = {beta:.6g}"
    row = st.columns(4)
    controls.metric(
        row[0],
        "gdmax_m",
        "η_max, gradient descent",
        frames.format_number(momentum.max_stable_lr(eigenvalues, 0.0, "gd")),
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
    # (the second row goes into the same columns, under the first: a grid of fewer blocks)
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


def live_view(lr: float, beta: float) -> None:
    # η and β are not in the live chart's spec: they travel in the dataset "now" (ui.live.live_params), so a
    # sidebar change updates the chart in place, sliders included.
    now = (lr, beta if method != "gd" else None)
    edge = momentum.max_stable_lr(eigenvalues, beta, method)
    eta_top = live_momentum.live_top(LIVE_STATE, (float(eigenvalues.max()), method), edge, lr, now)
    views = tuple(v for v in live_momentum.MOMENTUM_VIEWS if controls.visible(v))
    if fixed is not None:
        st.subheader(
            f"Rate map of {sidebar.METHOD_NAMES[map_method]}; what momentum would do: Polyak's heavy ball at (η*, β*) "
            "(solid) against your GD at η (dashed)"
        )
    else:  # with GD and no λ > 0 there is no optimum to show: heavy ball at β = 0 is GD itself
        st.subheader(
            f"Rate map of {sidebar.METHOD_NAMES[map_method]}; error per direction: {sidebar.METHOD_NAMES[method]} "
            "(solid) against plain GD at the same η (dashed)"
        )
    # Polyak's (η*, β*) travel as data, like η and β (one chart structure for every spectrum)
    polyak_now = {} if fixed is None else {live_momentum.POLYAK_ETA: fixed[0], live_momentum.POLYAK_BETA: fixed[1]}
    if views:
        structure = live_momentum.momentum_spec(
            method,
            presenting(),
            steps > 200,
            fixed is not None,
            now[1] is not None,
            controls.visible("lr") and controls.visible("live"),
            controls.visible("beta") and controls.visible("live"),
            views,
        )
        spec = live_momentum.with_ranges(structure, eta_top, now[1])
        key = "mom"
        live.show(
            spec,
            {
                **cached.momentum_live_frames(eigenvalues, theta0, steps),
                live.NOW: live.now_frame(eta=lr, beta=now[1], **polyak_now),
            },
            key=key,
            alt_text=(
                f"Heatmap of the convergence rate over step size × eigenvalue and momentum for {map_method}, with the "
                "stability edges of GD, heavy ball and Nesterov and your spectrum as points; below, the error per "
                "direction of the chosen optimizer against plain gradient descent on a log scale; recomputed in the "
                "browser as the η and β sliders move."
            ),
            on_select=functools.partial(live_momentum.sync_from_live, key, LIVE_STATE, eigenvalues, method),
            modes=("eta", "beta") if method != "gd" else ("eta",),
            name="momentum",
            export=lambda: charts.chart_csv(
                {
                    "cells": frames.rate_map_frame(map_method),
                    "spectrum": frames.spectrum_on_map_frame(eigenvalues, lr, beta, map_method),
                    "errors": _errors_at_sidebar(eigenvalues, lr, beta, theta0, steps, method, best),
                }
            ),
        )
    st.caption(
        "Black: GD's edge ηλ = 2. Orange dashed: heavy ball's ηλ = 2 + 2β. Pink dotted: Nesterov's "
        "ηλ = (2 + 2β)/(1 + 2β). Hover a cell for its regime: monotone (real positive roots), oscillating "
        "(real negative), rippling (complex: rate √β for heavy ball), diverging (ρ ≥ 1). Triangles sit at the "
        "map's edge for ηλ > 4. Drag η (and β) under the charts: your spectrum's points and every error curve "
        "are recomputed in your browser from the closed form of each direction's recursion; when you let go, "
        "the sidebar, the metrics and the link follow."
    )


eta_beta_view()
