"""2-D toy: the scalar network L(x, y) = ½(xy − 1)², Edge of Stability in one picture (theory.md §6)."""

import math

import streamlit as st

from core import toy2d
from ui import cached, controls, toy_views, turns
from ui.charts import show
from ui.frames import format_number
from ui.routing import ensure_app_router

ensure_app_router()

st.title("Edge of Stability in two parameters")
st.caption(
    "The scalar network L(x, y) = ½(xy − 1)²: its minima are the hyperbola xy = 1, where the Hessian's "
    "eigenvalues are 0 and x² + y², so the sharpness of a minimum is x² + y² ≥ 2. GD with step η can only "
    "settle on a minimum with x² + y² ≤ 2/η."
)

STARTS = toy_views.STARTS
THEORY_LRS = [0.2, 0.25, 0.3, 0.4, 0.6]  # theory.md §6, from (3, 0.05)
START_LIMIT = 10.0


def _fill_start() -> None:
    xy = STARTS.get(st.session_state.get("tstart"))
    if xy is not None:
        st.session_state["tx"], st.session_state["ty"] = xy


def _name_start() -> None:
    xy = (st.session_state.get("tx"), st.session_state.get("ty"))
    st.session_state["tstart"] = next((name for name, v in STARTS.items() if v == xy), "custom")


def _set_lr(value: float) -> None:
    st.session_state["teta"] = value


def _url_float(key: str, default: float) -> float:
    try:
        value = float(st.query_params.get(key, default))
    except ValueError:
        return default
    return value if math.isfinite(value) else default


named = st.query_params.get("tstart")
if "tstart" not in st.session_state and named not in STARTS and {"tx", "ty"} & set(st.query_params):
    # A link with ?tx=…&ty=… but no (valid) preset: name the start it gives instead of showing the default preset.
    start = (_url_float("tx", 3.0), _url_float("ty", 0.05))
    st.session_state["tstart"] = next((name for name, v in STARTS.items() if v == start), "custom")
elif "tstart" not in st.session_state and STARTS.get(named) and not {"tx", "ty"} & set(st.query_params):
    # A link that names a preset start only (?tstart=(2, 0.1)): start there, not at the default x₀, y₀.
    st.session_state["tx"], st.session_state["ty"] = STARTS[named]

box = st.sidebar
box.subheader("Start (x₀, y₀)")
controls.select("start", "tstart", list(STARTS), container=box, on_change=_fill_start)
x0 = controls.number(
    "x₀", "tx", 3.0, -START_LIMIT, START_LIMIT, step=0.1, format="%g", container=box, on_change=_name_start
)
y0 = controls.number(
    "y₀", "ty", 0.05, -START_LIMIT, START_LIMIT, step=0.1, format="%g", container=box, on_change=_name_start
)
box.subheader("Learning rate η and steps")
lr_box = box.container()  # the η controls' place; the fragment below draws them
steps = int(controls.number("steps T", "tsteps", 2000, 1, toy2d.MAX_STEPS, step=100, container=box))
controls.show_notices()
x0, y0 = float(x0), float(y0)


flow_t, flow = cached.toy_flow(x0, y0)
flow_end = toy2d.flow_limit(x0, y0)
flow_sharpness = flow_end[0] ** 2 + flow_end[1] ** 2
radius = toy_views.view_radius(x0, y0)
flow_path = toy_views.flow_columns(flow_t, flow, radius)  # does not depend on η


# Everything that depends on η, with the η controls themselves: a change of η (the sidebar's box or slider, a
# theory button) reruns only this, not the page (the start's controls, the flow, the text are left alone).
@st.fragment(key="toy_eta")
@turns.in_turn
def eta_view() -> None:
    lr = float(controls.number_with_slider("η", "teta", 0.2, 0.0, 10.0, 1.2, container=lr_box))
    if not controls.is_hidden("teta"):
        lr_box.caption("η of theory §6 (from (3, 0.05): 0.25–0.4 catapult, 0.6 diverges):")
        with lr_box.container(horizontal=True, gap="small"):
            for value in THEORY_LRS:
                st.button(f"{value:g}", key=f"_teta_{value:g}", on_click=_set_lr, args=(value,), help=f"η = {value:g}")
    controls.show_url_notices()  # a bad `teta` in the URL (checked as the η box is drawn)
    path, diverged_at = cached.toy_gd(x0, y0, lr, steps)
    edge = 2.0 / lr if lr > 0 else math.inf
    x_end, y_end = path[-1]
    gd_sharpness = x_end**2 + y_end**2
    gd_loss = float(toy2d.loss(x_end, y_end))
    settled = diverged_at is None and gd_loss < toy_views.SETTLED_LOSS
    stable_end = settled and gd_sharpness <= edge

    row = controls.row()
    controls.metric(
        row, "tedge_m", "2/η", format_number(edge), help="GD can only settle on a minimum with x² + y² ≤ 2/η"
    )
    controls.metric(
        row,
        "tstart_m",
        "x² + y² at the start",
        format_number(x0**2 + y0**2),
        help=f"λ_max(∇²L) at the start: {format_number(float(toy2d.sharpness(x0, y0)))}",
    )
    controls.metric(
        row,
        "tflow_m",
        "flow final sharpness",
        format_number(flow_sharpness) if flow_sharpness > 0 else "saddle",
        help="Where gradient flow ends. It conserves x² − y²: it ends where xy = 1 and x² − y² = x₀² − y₀², sharpness "
        "√((x₀² − y₀²)² + 4).",
    )
    controls.metric(
        row,
        "tgd_m",
        "GD final sharpness",
        "diverged" if diverged_at is not None else format_number(gd_sharpness),
        delta=None if diverged_at is None else f"at step {diverged_at:,}",
        delta_color="off",
        delta_arrow="off",
        help=f"x² + y² at GD's last step (T = {steps:,})",
    )
    controls.metric(
        row,
        "tstable_m",
        "GD on stable part?",
        "—" if diverged_at is not None else ("yes" if stable_end else "no"),
        help="Did GD end on a minimum (L < 1e-8) with x² + y² ≤ 2/η?",
    )

    if not controls.visible("status"):
        pass
    elif diverged_at is not None:
        st.error(
            f"**GD diverged at step {diverged_at:,}**: |x| or |y| passed 10⁶ there. The charts show the path up to "
            f"step {diverged_at - 1:,}. The bounce off the sharp valley was too violent to land anywhere.",
            icon=":material/error:",
        )
    elif not settled and abs(x_end) + abs(y_end) < 1e-6:
        st.warning("**GD sits on the saddle (0, 0)**: the gradient is zero there.", icon=":material/pause_circle:")
    elif lr == 0:
        st.info("**η = 0**: GD does not move.", icon=":material/pause_circle:")
    elif not settled:
        st.warning(
            f"**GD has not reached a minimum after {steps:,} steps** (L = {format_number(gd_loss)}). "
            + (
                "For η > 1, 2/η < 2: no minimum is stable at all, so GD keeps bouncing."
                if lr > 1
                else "Try more steps."
            ),
            icon=":material/waves:",
        )
    elif flow_sharpness > edge:
        st.success(
            f"**Catapult.** Gradient flow ends on a minimum of sharpness {format_number(flow_sharpness)}, sharper "
            f"than 2/η = {format_number(edge)}: GD cannot settle there. It bounced across the valley and landed on a "
            f"flatter minimum, sharpness {format_number(gd_sharpness)}" + (" ≤ 2/η." if stable_end else "."),
            icon=":material/rocket_launch:",
        )
    else:
        st.success(
            f"**Both land on flat enough minima.** Gradient flow's minimum (sharpness {format_number(flow_sharpness)}) "
            f"is under 2/η = {format_number(edge)}, so GD lands near it, at sharpness {format_number(gd_sharpness)}.",
            icon=":material/check_circle:",
        )

    gd = toy_views.gd_columns(path, radius)
    paths = toy_views.paths_table(gd, flow_path)  # for both charts
    marks = toy_views.marks_table((x0, y0), None if diverged_at is not None else (x_end, y_end), flow_end, radius)
    st.subheader("The loss landscape and both paths")
    show(
        toy_views.toy_plane_chart,
        {
            "levels": cached.toy_levels(radius),
            "minima": toy_views.minima_table(radius, lr),
            "paths": paths,
            "marks": marks,
        },
        key="toy_plane",
        alt_text=f"The (x, y) plane around [−{radius:g}, {radius:g}]², equal units: level sets of L, the hyperbola of "
        f"minima xy = 1 coloured by sharpness with the part x² + y² ≤ {format_number(edge)} drawn thick, and the paths "
        f"of GD (η = {lr:g}) and gradient flow from ({x0:g}, {y0:g}).",
        radius=radius,
    )
    st.caption(
        "Grey: level sets of L (the axes are the saddle's level, L = ½). Thick part of the hyperbola: the minima flat "
        "enough for this η. Both axes have the same unit. Hover any point for x, y, the loss and the sharpness."
    )
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.subheader("Sharpness λ_max(∇²L) along the GD path")
        lowest = float(gd["sharpness"].min())
        log_y = diverged_at is not None or bool(gd["sharpness"].max() > 100 * max(lowest, 1e-2))
        show(
            toy_views.toy_sharpness_chart,
            {
                "paths": paths,
                "rules": toy_views.sharpness_rules_table(lr, flow_sharpness, min(lowest, 1.0) if log_y else 0),
            },
            key="toy_sharpness",
            alt_text=f"λ_max of the Hessian along GD against the step t over {steps:,} steps, with a dashed rule at "
            f"2/η = {format_number(edge)} and a dotted rule at gradient flow's final sharpness "
            f"{format_number(flow_sharpness)}.",
            symlog=len(path) > 201,
            log_y=log_y,
        )
        st.caption(
            f"GD drawn at {len(gd['t']):,} steps (every step up to "
            f"{toy_views.PATH_HEAD}, then log-spaced up to T). Solid: λ_max(∇²L) at each step, the sharpness; thin "
            "dashed: xₜ² + yₜ², which equals it only on the minima xy = 1. Shaded: below 2/η, where GD can settle."
        )

    with right:
        st.markdown(
            "**What to look for.** Gradient flow (dashed) conserves x² − y², so from an unbalanced start it slides "
            "straight down to a *sharp* minimum. GD follows it while that is allowed. When the minimum ahead is "
            "sharper than 2/η, GD overshoots across the valley: the loss jumps up, the path bounces (a *catapult*) "
            "and GD lands further along the hyperbola, on a flatter minimum with x² + y² ≤ 2/η, often well "
            "under it. If the bounce is too violent, GD diverges. For η > 1, 2/η < 2 = the flattest minimum "
            "(1, 1): no minimum is stable at all.\n\n"
            "This is the Edge of Stability in miniature: the step size, not the loss, decides how sharp the "
            "place where GD ends can be. From (3, 0.05): η = 0.2 → 8.57, 0.25 → 5.88, 0.3 → 2.67, "
            "0.4 → 2.00, 0.6 → diverges; gradient flow → 9.22."
        )
    controls.share_link()  # its link carries η


eta_view()
