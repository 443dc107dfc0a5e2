"""Home: the argument of theory.md §1–3, the Edge of Stability in two paragraphs, a live example."""

import functools
from pathlib import Path

import pandas as pd
import streamlit as st

from core import quadratic as q
from ui import controls, live
from ui.routing import ensure_app_router
from ui.style import presenting

ensure_app_router()


def _sync_from_live(key: str) -> None:
    """The live ηλ was released: it becomes the slider's value (and the URL's `hx`)."""
    selection = st.session_state[key].selection
    try:
        value = float(selection["hx"][0]["hx"])
    except (KeyError, IndexError, TypeError, ValueError):
        return
    if 0.0 <= value <= 2.5:
        st.session_state["hx"] = round(value, 10)


st.title("Why gradient descent needs η < 2/λ_max")
st.caption("Loss convention everywhere in this app: L(θ) = ½ θᵀAθ (with the ½, so ∇²L = A).")

left, right = st.columns([3, 2], gap="large")
with left:
    st.markdown("**1. A quadratic loss.** Take a symmetric positive semi-definite matrix A (think: a Hessian) and")
    st.latex(r"L(\theta) = \tfrac12\,\theta^\top A\,\theta = \tfrac12 \sum_{i}\sum_{j} \theta_i A_{ij}\theta_j .")
    st.markdown("Differentiating, and using A = Aᵀ,")
    st.latex(
        r"\frac{\partial L}{\partial \theta_k} = \tfrac12\sum_j A_{kj}\theta_j + \tfrac12\sum_i \theta_i A_{ik}"
        r" = \sum_j A_{kj}\theta_j,\qquad \nabla L(\theta) = A\theta,\qquad \nabla^2 L(\theta) = A."
    )
    st.markdown("**2. Gradient descent in the eigenbasis.** One step with learning rate η is")
    st.latex(r"\theta_{t+1} = \theta_t - \eta\,\nabla L(\theta_t) = (I - \eta A)\,\theta_t .")
    st.markdown(
        "Write A = QΛQᵀ with Q orthogonal and Λ = diag(λ₁ … λₙ). Then I − ηA = Q(I − ηΛ)Qᵀ, and in the "
        "coordinates θ̃ = Qᵀθ every direction moves on its own:"
    )
    st.latex(
        r"\tilde\theta_{t,i} = (1-\eta\lambda_i)^t\,\tilde\theta_{0,i},\qquad"
        r"\|\theta_t\|^2 = \sum_i (1-\eta\lambda_i)^{2t}\,\tilde\theta_{0,i}^2 ."
    )
    st.markdown(
        "The Q's cancel by orthogonality. Each direction is multiplied by the factor rᵢ = 1 − ηλᵢ at every step: "
        "it shrinks when |rᵢ| < 1, flips sign each step when rᵢ < 0, and blows up when |rᵢ| > 1."
    )
    st.markdown(
        "**3. The largest stable learning rate.** Convergence in every direction needs |1 − ηλᵢ| < 1. For every "
        "λᵢ > 0 that means 0 < η < 2/λᵢ (A is only positive *semi*-definite: a direction with λᵢ = 0 has "
        "1 − ηλᵢ = 1 and never moves, whatever η). So, over the λᵢ > 0,"
    )
    st.latex(
        r"0 < \eta < \frac{2}{\lambda_i}\ \ \text{for every } \lambda_i > 0"
        r"\quad\Longleftrightarrow\quad \eta < \eta_{\max} = \frac{2}{\lambda_{\max}} ."
    )
    st.markdown(
        "λ_max, the top eigenvalue of the Hessian, is the **sharpness** of the loss: the maximal stable learning "
        "rate is inversely proportional to it. The fastest rate over all directions is reached at "
        "η* = 2/(λ_min + λ_max), where the error shrinks by (κ − 1)/(κ + 1) per step, κ = λ_max/λ_min."
    )
    st.markdown("**4. The Edge of Stability.**")
    st.markdown(
        "That argument assumes the Hessian is constant. On a neural network it is not: under full-batch gradient "
        "descent the sharpness first *rises* during training (progressive sharpening) until it reaches 2/η. "
        "The quadratic picture says training should then blow up. It does not: the sharpness stops there and "
        "hovers at or just above 2/η, while the loss keeps falling over the long run, non-monotonically "
        "(Cohen et al., ICLR 2021)."
    )
    st.markdown(
        "At the edge, the iterate oscillates along the top eigenvector, exactly the sign-flipping blow-up of "
        "a direction with ηλ > 2 in the quadratic model, and that oscillation itself pushes the sharpness back "
        "down (Damian et al., 2022: self-stabilization). The network regulates its own curvature to sit at the "
        "largest value gradient descent can tolerate. This app shows both stories on the same axes: ηλᵢ "
        "against the line at 2."
    )

with right:
    st.subheader("Try it: one direction, λ = 1")
    eta = controls.slider("η·λ (= η here)", "hx", 0.0, 2.5, 0.5, step=0.05)
    controls.show_notices()
    # The example is live: its own slider recomputes it in the browser; on release the value comes
    # back here (the sidebar-free twin of the quadratic page's live η). The slider above moves it
    # through the dataset "now": the spec stays the same and the chart updates in place.
    key = "home_example"
    if controls.visible("home_example"):
        full = dict(live.home_spec(presenting(), controls.visible("hx")))
        full["datasets"] = {"theta": pd.DataFrame({"t": range(21)}), live.NOW: live.now_frame(hx=eta)}
        full["usermeta"] = {"embedOptions": {"renderer": "svg"}}
        st.vega_lite_chart(
            full,
            key=key,
            width="stretch",
            alt="θ_t for 20 steps of one direction with λ = 1, recomputed in the browser as its ηλ slider moves.",
            on_select=functools.partial(_sync_from_live, key),
            selection_mode=["hx"],
        )
        st.caption(
            "Drag the slider under the chart: the line and its regime follow in your browser; the slider above "
            "follows when you let go (and the link, `hx`)."
        )
    st.markdown(f"**{q.regimes([1.0], eta)[0]}**: r = 1 − ηλ = {1 - eta:.3g}.")
    st.markdown(
        "| ηλ | what happens |\n|---|---|\n| 0 … 1 | smooth decay |\n| 1 | solved in one step |\n"
        "| 1 … 2 | decay with sign flips (zig-zag) |\n| 2 | oscillates forever |\n| > 2 | oscillating blow-up |"
    )
    st.subheader("Explore")
    st.page_link(
        "pages/quadratic.py",
        label="Quadratic explorer: every eigendirection at once",
        icon=":material/stacked_line_chart:",
    )

st.divider()
# The derivations ship with the app (docs/theory.md, the file the code cites): readable on a hosted copy too.
with st.expander("Every formula on these pages, derived (docs/theory.md)", icon=":material/menu_book:"):
    st.markdown((Path(__file__).resolve().parent.parent / "docs" / "theory.md").read_text(encoding="utf-8"))
st.subheader("Credits and further reading")
st.markdown(
    "- J. Cohen, S. Kaur, Y. Li, J. Z. Kolter, A. Talwalkar, *Gradient Descent on Neural Networks Typically Occurs "
    "at the Edge of Stability*, ICLR 2021 — the phenomenon, the 2/η line, momentum thresholds.\n"
    "- G. Goh, *Why Momentum Really Works*, Distill 2017 — the eigenbasis picture and the (ηλ, β) rate map.\n"
    "- J. Cohen et al., *Adaptive Gradient Methods at the Edge of Stability*, 2022; A. Damian, E. Nichani, "
    "J. D. Lee, *Self-Stabilization: The Implicit Bias of Gradient Descent at the Edge of Stability*, 2022; "
    "J. Cohen, A. Damian et al., *Understanding Optimization in Deep Learning with Central Flows*, 2024.\n"
    "- Sharpness by Lanczos on Hessian-vector products, as in the paper's code (locuslab/edge-of-stability); "
    "B. Pearlmutter, *Fast Exact Multiplication by the Hessian*, 1994 (the R-operator)."
)
controls.share_link()
