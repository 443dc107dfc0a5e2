"""Trajectory: the path of GD / heavy ball / Nesterov on a 2-D quadratic, over its level sets."""

import functools
import math

import numpy as np
import streamlit as st

from core import momentum
from ui import cached, charts, controls, equations, frames, live, live_momentum, sidebar, turns
from ui.routing import ensure_app_router
from ui.style import presenting

ensure_app_router()

LIVE_STATE = "_live_traj"  # see live_momentum.live_top
SYNCED = "_live_traj_synced"  # a release set the sidebar from inside the fragment: rerun the whole page


st.title("Trajectory in two dimensions")

box = st.sidebar
box.subheader("The quadratic")
# Either may be the larger: the page names the steep and flat directions from the values.
l1 = controls.number("λ₁ (along q₁)", "l1", 0.2, 1e-3, 1e3, format="%g", container=box)
l2 = controls.number("λ₂ (along q₂)", "l2", 1.0, 1e-3, 1e3, format="%g", container=box)
phi_box = box.container()  # φ's place; the fragment below draws it (φ only turns the picture)
x0 = controls.number("start θ₁", "x0", -2.0, -1e3, 1e3, format="%g", container=box)
y0 = controls.number("start θ₂", "y0", 1.5, -1e3, 1e3, format="%g", container=box)
eigenvalues = np.array([l1, l2])
steep, flat = ("q₂", "q₁") if l2 >= l1 else ("q₁", "q₂")
method, beta = sidebar.method_controls(live=live.BETA_LABEL)
edge = momentum.max_stable_lr(eigenvalues, beta, method)
lr = sidebar.lr_controls(eigenvalues, method, beta, slider_reach=1.6 * edge, live=live.ETA_LABEL)
steps = int(controls.number("steps T", "T", 100, 1, momentum.MAX_STEPS, step=10, container=box))
controls.show_notices()

if method == "gd":
    how = (
        f"GD multiplies each eigen-coordinate by its own factor 1 − ηλ. When 1 < ηλ_max < 2 the coordinate along the "
        f"steep eigenvector {steep} flips sign every step, so the path bounces to and fro along {steep}, crossing the "
        f"flat axis {flat}, while it creeps along {flat}."
    )
else:
    how = (
        f"{sidebar.METHOD_NAMES[method]} carries a velocity: each eigen-coordinate follows a two-term recursion "
        "(below), so the path overshoots and spirals in (complex roots, rate √β for heavy ball) instead of "
        f"zig-zagging; it diverges only past its own edge η_max = {sidebar.EDGE_FORMULA[method]}."
    )
st.caption(
    "L(θ) = ½ θᵀAθ with A = R(φ)·diag(λ₁, λ₂)·R(φ)ᵀ. The ellipses are level sets of L; the dashed lines are A's "
    f"eigenvectors q₁, q₂. {how}"
)
with st.expander(f"The update rule of {sidebar.METHOD_NAMES[method]}, as computed here", icon=":material/function:"):
    equations.update_rule(method)

cols = controls.row()
controls.metric(cols, "edge_m", "η_max for this method", frames.format_number(edge))
controls.metric(cols, "h2_m", f"η·λ_max (steep, {steep})", frames.format_number(lr * max(l1, l2)))
controls.metric(cols, "rate_m", "rate", frames.format_number(momentum.rate(eigenvalues, lr, beta, method)))
controls.metric(cols, "kappa_m", "κ = λ_max/λ_min", frames.format_number(max(l1, l2) / min(l1, l2)))
status_box = st.container()  # the verdict's place: it depends on φ, drawn by the fragment
playing = controls.toggle("▶ play (animate the step)", "play", value=False)
controls.show_url_notices()  # this toggle and the step slider come after the sidebar's notices

# η and β are not in the live chart's spec: they travel in the dataset "now" (ui.live.live_params), so a
# sidebar change updates the chart in place, sliders included.
now = (lr, beta if method != "gd" else None)
eta_top = live_momentum.live_top(LIVE_STATE, (l1, l2, method), edge, lr, now)
views = tuple(v for v in live_momentum.TRAJECTORY_VIEWS if controls.visible(v))


def status(data: dict) -> None:
    """The verdict above the chart: it depends on the path, so on φ."""
    if not controls.visible("status"):
        return
    if data["diverges"]:
        where = (
            f"**Diverged at step {data['escaped']:,}**: the path left the view (3 × the start's level set) there "
            "and the chart stops at that step"
            if data["escaped"] is not None
            else "**Diverges**: it has not left the view within T steps yet"
        )
        st.error(f"{where}; some direction has rate ρ > 1.", icon=":material/error:")
    elif lr == 0:
        st.info("**Does not move**: with η = 0 every step leaves θ at the start.", icon=":material/pause_circle:")
    # Decided on ηλ against the exact edge (core.momentum.regime), not on ρ: ρ rounds near 1 when β → 1.
    elif np.isin(momentum.regime(lr * eigenvalues, beta, method), ["marginal", "diverging"]).any():
        st.warning(
            "**Does not converge**: some direction has rate ≥ 1 (it oscillates or will grow).", icon=":material/waves:"
        )
    elif data["outside"]:
        st.success(
            f"**Converges**, after a transient: ‖θ‖ grows by {data['growth']:.3g}× before it shrinks (rate ρ < 1; "
            "momentum from rest can overshoot far before it settles). The path is clipped at 3 × the view.",
            icon=":material/check_circle:",
        )
    else:
        st.success("**Converges** to the minimum at the origin.", icon=":material/check_circle:")


@st.fragment(run_every=0.3 if playing else None)
@turns.in_turn
def path_view() -> None:
    """The angle φ, the verdict, the step scrubber and the live chart: only this part reruns while φ or the step
    moves or plays (φ only turns the picture; the metrics do not depend on it)."""
    if st.session_state.pop(SYNCED, False):
        st.rerun()  # a live slider was released: the sidebar, metrics and status follow
    phi = controls.slider("angle φ of the eigenvectors (degrees)", "phi", -90, 90, 30, container=phi_box)
    angle = math.radians(phi)
    data = cached.trajectory_path(l1, l2, angle, x0, y0, lr, beta, method, steps)
    path = data["path"]
    last = int(path["t"].iloc[-1])
    with status_box:
        status(data)
    if playing:
        shown = path["t"].to_numpy()
        now_t = int(st.session_state.get("ts", last))
        later = shown[shown > now_t]
        st.session_state["ts"] = int(later[0]) if later.size else 0
    elif st.session_state.get("ts", 0) > last:
        st.session_state["ts"] = last
    t_now = int(controls.slider("step t shown", "ts", 0, max(last, 1), last))
    controls.show_url_notices()
    if not views:
        return
    live_frames = cached.trajectory_live_frames(l1, l2, angle, x0, y0, steps)
    structure = live_momentum.trajectory_spec(
        method,
        presenting(),
        steps > 200,
        now[1] is not None,
        controls.visible("lr") and controls.visible("live"),
        controls.visible("beta") and controls.visible("live"),
        views,
        controls.visible("status"),
    )
    spec = live_momentum.with_ranges(structure, eta_top, now[1])
    key = "traj"
    live.show(
        spec,
        {**live_frames, live.NOW: live.now_frame(ts=t_now, eta=lr, beta=now[1])},
        key=key,
        alt_text=(
            f"Path of {sidebar.METHOD_NAMES[method]} on a 2-D quadratic over its level sets, and the two "
            "eigen-coordinates against the step, recomputed in the browser as the η and β sliders move."
        ),
        on_select=functools.partial(live_momentum.sync_from_live, key, LIVE_STATE, (l1, l2), method, SYNCED),
        modes=("eta", "beta") if method != "gd" else ("eta",),
        name="trajectory",
        export=lambda: charts.chart_csv({"path": path.assign(shown=path["t"] <= t_now), "coords": data["coords"]}),
    )
    st.caption(
        f"Path drawn at {len(live_frames['coords']) // 2:,} steps (every step up to {frames.PATH_POINTS // 2}, then "
        "log-spaced up to T). Drag η (and β) under the charts: the path and the eigen-coordinates are recomputed in "
        "your browser from the closed form of each direction's recursion; when you let go, the sidebar, the "
        "metrics, the verdict and the link follow."
    )


path_view()

controls.share_link()
