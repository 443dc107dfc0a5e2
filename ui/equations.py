"""The update rules as implemented in core.momentum, shown on the pages that use them (theory.md §2, §4)."""

from __future__ import annotations

import streamlit as st

# Each method: its update (started at rest, θ₋₁ = θ₀), the recursion of one eigen-coordinate
# x = θ̃ᵢ with h = ηλᵢ, and where a root of that recursion reaches −1 (the edge).
RULES = {
    "gd": (
        r"\theta_{t+1} = \theta_t - \eta\,\nabla L(\theta_t)",
        r"x_{t+1} = (1 - h)\,x_t",
        r"\text{root } 1 - h = -1 \iff h = \eta\lambda = 2",
    ),
    "heavy_ball": (
        r"\theta_{t+1} = \theta_t - \eta\,\nabla L(\theta_t) + \beta\,(\theta_t - \theta_{t-1}),"
        r"\quad \theta_{-1} = \theta_0",
        r"x_{t+1} = (1 + \beta - h)\,x_t - \beta\,x_{t-1}",
        r"r = -1:\; 1 + (1 + \beta - h) + \beta = 0 \iff h = 2 + 2\beta",
    ),
    "nesterov": (
        r"y_t = \theta_t + \beta\,(\theta_t - \theta_{t-1}),\quad \theta_{t+1} = y_t - \eta\,\nabla L(y_t),"
        r"\quad \theta_{-1} = \theta_0",
        r"x_{t+1} = (1 + \beta)(1 - h)\,x_t - \beta\,(1 - h)\,x_{t-1}",
        r"r = -1:\; 1 + (1 + 2\beta)(1 - h) = 0 \iff h = \frac{2 + 2\beta}{1 + 2\beta}",
    ),
}


def update_rule(method: str) -> None:
    """The method's update, one eigen-coordinate's recursion (h = ηλᵢ) and its edge, in LaTeX."""
    update, recursion, edge = RULES[method]
    st.latex(update)
    st.latex(recursion + r"\qquad h = \eta\lambda_i")
    st.caption("The edge, where a root r of this recursion reaches −1:")
    st.latex(edge)
