"""Edge of Stability: train a small network with full-batch GD, sharpness against 2/η, live."""

import streamlit as st

from core import datasets
from core import training as tr
from ui import central_flow_views as cflow_views
from ui import charts, controls, eos_exchange, eos_jobs, eos_presets, eos_views, sidebar
from ui.eos_runs import RunConfig, cached_run, flow_distance, flow_tables, page_tables
from ui.routing import ensure_app_router

ensure_app_router()


def _default_loss(name: str) -> str:
    return datasets.default_loss(name) if name in datasets.DATASETS else "mse"


st.title("Edge of Stability: a network sets its own sharpness")
st.caption(
    "Gradient descent on a small MLP — full batch, with momentum, Adam, RMSProp or mini-batch SGD (sidebar) — "
    "loss (1/2n)Σ‖f(xᵢ) − yᵢ‖² (with the ½, like ½θᵀAθ; "
    "cross-entropy is the default for the spirals' classes). Sharpness S = top eigenvalue of the Hessian, by "
    "Lanczos on exact Hessian-vector products, warm-started each time."
)

box = st.sidebar
eos_presets.preset_picker(box)
box.subheader("Runs")
lr_text = controls.text_input(
    "learning rates η (one to four, commas)", "etas", "0.2", container=box, help="Several η overlay their runs."
)
schedule_text = controls.text_input(
    "or an η schedule (replaces the list)",
    "sched",
    "",
    container=box,
    placeholder=tr.SCHEDULE_EXAMPLE,
    help=f"Piecewise-constant η, e.g. {tr.SCHEDULE_EXAMPLE!r}: η holds for the steps before 'until'.",
)
optimizer = sidebar.eos_method_controls()
method, beta = optimizer["method"], optimizer["beta"]
box.subheader("Model and data")
dataset = controls.select(
    "dataset",
    "data",
    [*datasets.DATASETS, "my CSV"],
    container=box,
    # The loss follows the data (cross-entropy for classes) unless the person picks another afterwards.
    on_change=lambda: st.session_state.update(loss=_default_loss(st.session_state["data"])),
)
classes = None
if dataset == "digits":
    classes = int(controls.number("digit classes (0 … k − 1)", "classes", 4, 2, datasets.DIGITS_CLASSES, container=box))
upload = None
if dataset == "my CSV":
    upload = box.file_uploader("CSV: numeric columns, the last one is the target", type=["csv", "txt"], key="ecsv")
n_samples = int(controls.number("samples n", "ns", 128, 1, datasets.MAX_SAMPLES, container=box))
hidden_text = controls.text_input("hidden layer widths", "hidden", "16, 16", container=box)
activation = controls.select("activation", "act", ["swish", "tanh", "relu", "softplus", "linear"], container=box)
LOSSES = ["mse", "ce"]
loss_name = controls.select(
    "loss", "loss", LOSSES, index=LOSSES.index(_default_loss(dataset)), container=box, help="ce needs class targets"
)
steps = int(controls.number("steps", "esteps", 1000, 1, tr.MAX_STEPS, step=100, container=box))
every = int(controls.number("sharpness every k steps", "every", 10, 1, 1000, container=box))
top_k = int(controls.number("top-k eigenvalues", "topk", 3, 1, 5, container=box))
seed = int(controls.number("seed (data and init)", "eseed", 0, 0, 2**31 - 1, container=box))
with_flow = controls.toggle("compare with gradient flow", "flow", value=True, container=box)
with_cflow = controls.toggle(
    "compare with the central flow", "cflow", value=False, container=box, help=cflow_views.TOGGLE_HELP
)
controls.show_notices()

try:
    config = RunConfig.from_inputs(
        lr_text,
        method,
        beta,
        dataset,
        upload,
        n_samples,
        hidden_text,
        activation,
        loss_name,
        steps,
        every,
        top_k,
        seed,
        optimizer=optimizer,
        schedule=schedule_text,
        classes=classes,
    )
except ValueError as exc:
    st.error(f"**Not run.** {controls.escape_markdown(exc)}", icon=":material/warning:")  # quotes user text
    config = None


def _trained(config: RunConfig | None) -> bool:
    return config is not None and all(cached_run(config, lr) is not None for lr in config.lrs)


ready = _trained(config)
first_visit = "eos_auto" not in st.session_state and config is not None and config.cost() <= RunConfig.AUTO_RUN_COST
st.button(
    "Run",
    type="primary",
    icon=":material/play_arrow:",
    disabled=config is None,
    key="run",
    # A callback flag rather than the button's return value: the request survives any rerun in between.
    on_click=lambda: st.session_state.update(eos_run_requested=True),
)
pressed = st.session_state.pop("eos_run_requested", False)
if config is not None and (pressed or first_visit) and not ready:
    eos_jobs.start(config, with_flow and config.flow_applies)
st.session_state["eos_auto"] = True
if eos_jobs.current() is not None:  # (a job that has just finished says here how it went)
    eos_jobs.follow()
ready = ready or _trained(config)  # (a job may have finished in this run)

if config is not None and ready:
    st.session_state[eos_jobs.SHOWN_KEY] = config
elif eos_jobs.SHOWN_KEY in st.session_state:
    if eos_jobs.training(config):
        st.info("Settings changed: they are training. Showing the previous runs until then.", icon=":material/info:")
    else:
        st.info("Settings changed: press **Run** to train them. Showing the previous runs.", icon=":material/info:")
shown = st.session_state.get(eos_jobs.SHOWN_KEY)
if shown is None:
    if not eos_jobs.training(config):
        st.info("Press **Run** to train.", icon=":material/info:")
    controls.share_link()
    st.stop()

runs = {lr: cached_run(shown, lr) for lr in shown.lrs}
runs = {lr: run for lr, run in runs.items() if run is not None}
tables = page_tables(shown, runs)
for row in tables["rows"]:
    if row["diverged at"] is not None:
        st.error(f"**{row['run']} diverged at step {row['diverged at']:,}**: the charts keep the run up to there.")
if controls.visible("summary"):
    st.dataframe(tables["summary"], hide_index=True, width="stretch")

saved = {}
with st.sidebar.expander("Save or overlay runs (JSON)", icon=":material/save:"):
    st.download_button(
        "Save these runs",
        data=lambda: eos_exchange.runs_to_json(shown, runs),
        file_name="eos-runs.json",
        mime="application/json",
        on_click="ignore",
        key="eos_save",
        icon=":material/download:",
    )
    overlay_file = st.file_uploader("Overlay saved runs on the charts", type=["json"], key="eos_overlay")
    if overlay_file is not None:
        try:
            saved = eos_exchange.runs_from_json(overlay_file.getvalue())
        except ValueError as exc:
            st.error(controls.escape_markdown(exc), icon=":material/warning:")
overlay = {**runs, **saved}  # saved runs join the loss, sharpness and η·λ charts
drawn = eos_views.run_tables(overlay) if saved else tables
cflow = cflow_views.for_page(shown, runs) if with_cflow else None  # cached per configuration

left, right = st.columns(2, gap="large")
with left:
    hovering = eos_views.hovering_label(shown)
    title = eos_views.QUANTITY_TITLES[eos_views.hovering_key(shown)]
    st.subheader(f"{title} against the threshold {eos_views.THRESHOLD_FORMULA[shown.method]}")
    charts.show(
        eos_views.sharpness_chart if cflow is None else cflow_views.sharpness_chart,
        {**drawn["hover"], **cflow_views.sharpness_datasets(cflow)},
        key="eos_sharpness",
        quantity=hovering,
        alt_text=f"The {hovering} against step for each run with its threshold dashed: it rises, then hovers there.",
    )
    st.caption(eos_views.quantity_sentence(shown))
    for note in eos_views.interpolation_notes(runs):
        st.warning(note, icon=":material/school:")
with right:
    st.subheader("Training loss")
    charts.show(
        eos_views.loss_chart if cflow is None else cflow_views.loss_chart,
        {"loss": drawn["loss"], **cflow_views.loss_datasets(cflow)},
        key="eos_loss",
        loss=shown.loss,
        alt_text="Training loss on a log scale against step for each run.",
    )

st.subheader("The two stories on one axis: 2λ/threshold (η·λ for GD) against the line at 2")
charts.show(
    eos_views.normalised_chart,
    {"topk": drawn["normalised"]},
    key="eos_normalised",
    alt_text="The top eigenvalues as 2 lambda over the threshold against step, with the edge at 2.",
)
st.caption(
    "On a quadratic, a direction with ηλ > 2 blows up (the quadratic explorer's V). Here the top eigenvalue climbs to "
    "the edge, overshoots it, and then hovers at or just above it (the summary's median S/threshold): the network's "
    "curvature adjusts instead of blowing up. The axis is 2λ/threshold, which is η·λ for GD, so the edge is at 2 "
    "for every method." + eos_views.normalised_note(shown)
)

left, right = st.columns(2, gap="large")
with left:
    st.subheader(f"Top-{shown.top_k} Hessian eigenvalues")
    charts.show(
        eos_views.top_k_chart, {"topk": drawn["topk"]}, key="eos_topk", alt_text="Top Hessian eigenvalues against step."
    )
first_lr = tables["first_lr"]
with right:
    st.subheader("Oscillation along the top eigenvector")
    charts.show(
        eos_views.projection_chart,
        {"projection": tables["projection"]},
        key="eos_projection",
        alt_text="The last steps' component along the top eigenvector: its sign flips every step at the edge.",
    )
    st.caption(f"{eos_views.run_label(first_lr)}: the last 80 steps. At the edge the sign flips every step.")

if with_flow and not shown.flow_applies:
    st.info(eos_views.FLOW_STEPS_ASIDE, icon=":material/info:")
elif with_flow and eos_jobs.training(shown):  # its runs are in; the job integrates the flow: no waiting here
    st.subheader("Gradient descent against gradient flow")
    st.info("Integrating gradient flow for these runs: the comparison appears when the box above is done.")
elif with_flow:
    st.subheader("Gradient descent against gradient flow")
    distance = flow_distance(shown, first_lr)
    flow_clock = eos_views.FLOW_TIME_FORMULA[shown.method]
    if distance is None:
        st.info("Gradient flow did not finish within its time budget for this configuration.")
    else:
        charts.show(
            eos_views.flow_distance_chart,
            flow_tables(shown, first_lr, distance, runs[first_lr]),
            key="eos_flow",
            alt_text="Relative distance between the run and gradient flow against step, with the threshold crossing "
            "and the departure marked.",
        )
        st.caption(
            f"{eos_views.run_label(first_lr)}: step t is compared with the flow dθ/dt = −∇L at time {flow_clock} "
            "(momentum moves η/(1 − β) per step at small curvature). The run follows the flow until the sharpness "
            "reaches the threshold; the unstable direction then needs some steps to grow before the run departs."
        )

cflow_views.show_section(cflow)

st.subheader("The run on the momentum rate map")
map_method = eos_views.rate_map_method(shown)
if map_method is None:
    st.info(eos_views.RATE_MAP_STEPS_ASIDE, icon=":material/info:")
else:
    charts.show(
        charts.rate_map_chart,
        {**charts.rate_map_tables(map_method), "spectrum": tables["spectrum"]},
        key="eos_rate_map",
        alt_text="The runs' measured eta times sharpness on the convergence-rate map over step size and momentum.",
    )
    st.caption(
        "Each point is one measurement (η·S_t, β), raw η times sharpness, on the map of "
        f"{sidebar.METHOD_NAMES[map_method]} (GD is heavy ball's row β = 0): the run climbs along its β row until it "
        "meets that method's stability edge (ηλ = 2 for GD, 2 + 2β for heavy ball, (2 + 2β)/(1 + 2β) for Nesterov) "
        "and hovers there. Open the momentum page for the full map." + eos_views.rate_map_note(shown)
    )
st.page_link("pages/momentum.py", label="Momentum map with your own spectrum", icon=":material/grid_on:")
controls.share_link()
