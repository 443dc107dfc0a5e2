"""The pages' cached computations, decorated once per process.

A decorator written in a page script runs again on every run of that page, and Streamlit keys a cached
function by its source: each run read and tokenized it again, 0.34 ms for a cache_resource and 0.41 ms for a
cache_data function (the toy page has three), on every whole-page run. Here they are made once, at import.
"""

import numpy as np
import streamlit as st

from core import toy2d
from ui import charts, frames, live, live_momentum, toy_views


@st.cache_resource(max_entries=32, show_spinner=False)
def quadratic_live_frames(eigenvalues, theta0, steps, eps, top):
    return live.tables(frames.live_frames(eigenvalues, theta0, steps, eps, top))


@st.cache_resource(max_entries=32, show_spinner=False)
def momentum_live_frames(eigenvalues, theta0, steps):
    return live.tables(live_momentum.momentum_frames(eigenvalues, theta0, steps))


@st.cache_resource(max_entries=32, show_spinner=False)
def trajectory_live_frames(l1, l2, angle, x0, y0, steps):
    return live_momentum.trajectory_frames(l1, l2, angle, np.array([x0, y0]), steps)


@st.cache_resource(max_entries=32, show_spinner=False)
def trajectory_path(l1, l2, angle, x0, y0, lr, beta, method, steps):
    """The path at this η and β (read only here): the scrubber and play rerun the fragment without computing it."""
    return frames.trajectory_frames(l1, l2, angle, np.array([x0, y0]), lr, beta, method, steps)


@st.cache_data(max_entries=32, show_spinner=False)
def toy_flow(x_start: float, y_start: float) -> tuple[np.ndarray, np.ndarray]:
    """Gradient flow from the start: it does not depend on η, so one solve serves every η."""
    return toy2d.gradient_flow_path(x_start, y_start, toy_views.FLOW_T_MAX, toy_views.FLOW_SOLVE_POINTS)


@st.cache_data(max_entries=8, show_spinner=False)
def toy_gd(x_start: float, y_start: float, eta: float, n_steps: int) -> tuple[np.ndarray, int | None]:
    return toy2d.gd_path(x_start, y_start, eta, n_steps)


@st.cache_resource(max_entries=16, show_spinner=False)
def toy_levels(radius: float):
    """The level sets depend on the view only, not on η: built and converted once (immutable, shared)."""
    return charts.arrow(toy_views.level_frame(radius))
