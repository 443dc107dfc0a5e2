"""Trajectory: the path of GD / heavy ball / Nesterov on a 2-D quadratic, over its level sets."""

import math

import numpy as np
import streamlit as st

from core import momentum
from ui import charts, controls, frames, sidebar
from ui.routing import ensure_app_router

ensure_app_router()

st.title("Trajectory in two dimensions")
st.caption(
    "L(θ) = ½ θᵀAθ with A = R(φ)·diag(λ₁, λ₂)·R(φ)ᵀ. The ellipses are level sets of L; the dashed lines are A's "
    "eigenvectors. GD moves each eigen-coordinate by its own factor, so the path zig-zags across the steep axis "
    "when 1 < ηλ₂ < 2."
)

box = st.sidebar
box.subheader("The quadratic")
l1 = controls.number("λ₁ (flat direction)", "l1", 0.2, 1e-3, 1e3, format="%g", container=box)
l2 = controls.number("λ₂ (steep direction)", "l2", 1.0, 1e-3, 1e3, format="%g", container=box)
phi = controls.slider("angle φ of the eigenvectors (degrees)", "phi", -90, 90, 30, container=box)
x0 = controls.number("start θ₁", "x0", -2.0, -1e3, 1e3, format="%g", container=box)
y0 = controls.number("start θ₂", "y0", 1.5, -1e3, 1e3, format="%g", container=box)
eigenvalues = np.array([l1, l2])
method, beta = sidebar.method_controls()
edge = momentum.max_stable_lr(eigenvalues, beta, method)
lr = sidebar.lr_controls(
    eigenvalues,
    marks=[
        ("η = η_max", edge, f"{sidebar.METHOD_NAMES[method]}'s largest stable η: the steep direction stops shrinking")
    ],
    slider_reach=1.6 * edge,
)
steps = int(controls.number("steps T", "T", 100, 1, momentum.MAX_STEPS, step=10, container=box))
controls.show_notices()

theta0 = np.array([x0, y0])
angle = math.radians(phi)
data = frames.trajectory_frames(l1, l2, angle, theta0, lr, beta, method, steps)
path = data["path"]
last = int(path["t"].iloc[-1])

cols = st.columns(4)
controls.metric(cols[0], "edge_m", "η_max for this method", frames.format_number(edge))
controls.metric(cols[1], "h2_m", "η·λ₂ (steep)", frames.format_number(lr * l2))
controls.metric(cols[2], "rate_m", "rate", frames.format_number(momentum.rate(eigenvalues, lr, beta, method)))
controls.metric(cols[3], "kappa_m", "κ = λ₂/λ₁", frames.format_number(max(l1, l2) / min(l1, l2)))
if not controls.visible("status"):
    pass
elif data["escaped"] is not None:
    st.error(
        f"**Diverged at step {data['escaped']:,}**: the path left the view (3 × the start's level set) there; "
        "the chart stops at that step.",
        icon=":material/error:",
    )
elif lr == 0:
    st.info("**Does not move**: with η = 0 every step leaves θ at the start.", icon=":material/pause_circle:")
# Decided on ηλ against the exact edge (core.momentum.regime), not on ρ: ρ rounds near 1 when β → 1.
elif np.isin(momentum.regime(lr * eigenvalues, beta, method), ["marginal", "diverging"]).any():
    st.warning(
        "**Does not converge**: some direction has rate ≥ 1 (it oscillates or will grow).", icon=":material/waves:"
    )
else:
    st.success("**Converges** to the minimum at the origin.", icon=":material/check_circle:")

playing = controls.toggle("▶ play (animate the step)", "play", value=False)
controls.show_url_notices()  # this toggle and the step slider come after the sidebar's notices


@st.fragment(run_every=0.3 if playing else None)
def path_view() -> None:
    """The scrubbed view: only this part reruns while the step moves or plays."""
    if playing:
        shown = path["t"].to_numpy()
        now = int(st.session_state.get("ts", last))
        later = shown[shown > now]
        st.session_state["ts"] = int(later[0]) if later.size else 0
    elif st.session_state.get("ts", 0) > last:
        st.session_state["ts"] = last
    t_now = int(controls.slider("step t shown", "ts", 0, max(last, 1), last))
    controls.show_url_notices()
    upto = path[path["t"] <= t_now]
    current = upto.iloc[[-1]]
    left, right = st.columns([5, 4], gap="large")
    with left:
        charts.show(
            charts.trajectory_chart,
            {
                "levels": data["levels"],
                "axes": data["axes"],
                "path": path.assign(shown=path["t"] <= t_now),
                "current": current,
            },
            key="trajectory",
            alt_text=f"Path of {sidebar.METHOD_NAMES[method]} on a 2-D quadratic, {len(upto)} of {len(path)} points.",
            radius=data["radius"],
        )
    with right:
        st.markdown(
            f"**At step {t_now:,}**: θ = {current['θ'].iloc[0]}, L = {current['L'].iloc[0]}.\n\n"
            f"Path drawn at {len(path):,} steps (every step up to {frames.PATH_POINTS // 2}, then log-spaced up to T)."
        )
        charts.show(
            charts.coords_chart,
            {"coords": data["coords"], "current": current[["t"]]},
            key="coords",
            alt_text="Each eigen-coordinate against t, signed, on a symlog axis.",
        )


path_view()

controls.share_link()
