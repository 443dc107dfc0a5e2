"""The sidebar shared by the quadratic pages: the spectrum, η, the start point and T.

One definition used by every page (same keys, so the state carries over between pages).
"""

from __future__ import annotations

import math

import numpy as np
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core import momentum
from core import quadratic as q
from core import spectrum as sp
from ui import controls

SOURCES = ["preset", "typed list", "uploaded matrix"]
STARTS = ["all ones", "seeded random", "along the top direction"]
LR_RATIO_MAX = 2.5  # the η slider reaches 2.5 η_max: well into the blow-up
LR_MAX = 1e12  # the largest η, in either unit

DEFAULT_LR = 1.5
LAST_GOOD = "_last_good_spectrum"


@st.cache_data(max_entries=64, show_spinner=False)
def _preset(name: str, params: tuple) -> np.ndarray:
    return sp.preset(name, **dict(params))


@st.cache_data(max_entries=16, show_spinner=False)
def _uploaded(name: str, data: bytes) -> np.ndarray:
    return sp.from_file(name, data)


@st.cache_data(max_entries=64, show_spinner=False)
def _parsed(text: str) -> np.ndarray:
    return sp.parse(text)


def _preset_params(name: str, box) -> dict:
    n = controls.number("number of eigenvalues n", "n", 10, 1, sp.MAX_EIGENVALUES, container=box)
    params: dict = {"n": int(n)}
    if name in ("evenly spaced", "log-spaced"):
        params["lam_min"] = controls.number("λ_min", "lmin", 0.1, format="%g", container=box)
        params["lam_max"] = controls.number("λ_max", "lmax", 1.0, format="%g", container=box)
    elif name == "power law":
        params["lam_max"] = controls.number("λ_max", "lmax", 1.0, format="%g", container=box)
        params["alpha"] = controls.number("α (λᵢ = λ_max·i^−α)", "alpha", 1.0, 0.0, 10.0, container=box)
    elif name == "two clusters":
        params["lam_low"] = controls.number("low cluster λ", "lo", 0.1, format="%g", container=box)
        params["lam_high"] = controls.number("high cluster λ", "hi", 1.0, format="%g", container=box)
        params["fraction_high"] = controls.number("fraction in the high cluster", "frac", 0.2, 0.0, 1.0, container=box)
        params["spread"] = controls.number("relative spread", "spread", 0.05, 0.0, 0.99, container=box)
    elif name == "neural-net-like":
        params["n_outliers"] = int(controls.number("outliers", "outl", 3, 0, 50, container=box))
        params["lam_max"] = controls.number("λ_max (top outlier)", "lmax", 1.0, format="%g", container=box)
        params["bulk_scale"] = controls.number("bulk scale σ²", "bulk", 0.01, format="%g", container=box)
    if name in ("two clusters", "neural-net-like"):
        params["seed"] = int(controls.number("seed", "seed", 0, 0, 2**31 - 1, container=box))
    return params


def spectrum_controls() -> np.ndarray:
    """The eigenvalues λ₁…λₙ chosen in the sidebar. A bad input shows an error saying what was
    wrong and the page keeps drawing the last good spectrum."""
    box = st.sidebar
    box.subheader("Spectrum of A")
    source = controls.select("eigenvalues from", "src", SOURCES, container=box, radio=True, horizontal=True)
    try:
        if source == "typed list":
            text = controls.text_input(
                "eigenvalues (commas, spaces or new lines; 1e-3 notation allowed)",
                "eigs",
                "0.1, 0.5, 1, 1.9",
                container=box,
                area=True,
                max_chars=sp.MAX_TEXT_CHARS,
            )
            lam = _parsed(text)
        elif source == "uploaded matrix":
            file = box.file_uploader(
                "symmetric matrix A (.csv or .npy) or one column of eigenvalues",
                type=["csv", "txt", "npy"],
                key="upload",
            )
            if file is None:
                box.info("No file yet: showing the last spectrum.")
                return st.session_state.get(LAST_GOOD, _preset("evenly spaced", (("n", 10),)))
            lam = _uploaded(file.name, file.getvalue())
        else:
            name = controls.select("preset", "preset", list(sp.PRESETS), container=box)
            lam = _preset(name, tuple(sorted(_preset_params(name, box).items())))
    except ValueError as exc:
        # The message quotes what was typed or uploaded: shown as text, never as Markdown.
        box.error(f"**Spectrum not changed.** {controls.escape_markdown(exc)}", icon=":material/warning:")
        return st.session_state.get(LAST_GOOD, _preset("evenly spaced", (("n", 10),)))
    st.session_state[LAST_GOOD] = lam
    negatives = int(np.sum(lam < 0))
    if negatives:
        box.warning(
            f"{negatives} negative eigenvalue(s): A is not positive semi-definite. Those directions are "
            "saddles and grow for every η > 0.",
            icon=":material/trending_up:",
        )
    return lam


def _switch_units(eta_max: float) -> None:
    # The toggle has just flipped: carry η over into the other unit so nothing jumps.
    if st.session_state.get("rel"):
        st.session_state["lrr"] = float(st.session_state.get("lr", DEFAULT_LR)) / eta_max
    else:
        st.session_state["lr"] = float(st.session_state.get("lrr", 1.0)) * eta_max


WHOLE_PAGE = "_mark_whole_page"  # a mark changed more than η (the method): the whole page must rerun


def _set_lr(value: float, unit: float, extra: dict) -> None:
    st.session_state.update(extra)  # e.g. the method and β that go with this η
    if extra:
        st.session_state[WHOLE_PAGE] = True
    if st.session_state.get("rel"):
        st.session_state["lrr"] = value / unit
    else:
        st.session_state["lr"] = value


def set_lr(value: float, unit: float) -> None:
    """Set the sidebar's η from elsewhere (the live η's release), in whichever unit it is entered;
    call from a callback, before the widgets are drawn. unit: η_max (1 when it is infinite)."""
    _set_lr(min(max(float(value), 0.0), LR_MAX), unit, {})


# η_max of each method in terms of λ_max (theory.md §3–4): one meaning of "η_max" per method.
EDGE_FORMULA = {"gd": "2/λ_max", "heavy_ball": "(2 + 2β)/λ_max", "nesterov": "(2 + 2β)/((1 + 2β)λ_max)"}


def _unit(eigenvalues, beta: float, method: str) -> float:
    """The method's η_max, the unit of "η as a multiple of η_max" (1 when no η_max exists)."""
    edge = momentum.max_stable_lr(eigenvalues, beta, method)
    return edge if math.isfinite(edge) else 1.0


def lr_marks(eigenvalues, method: str = "gd", beta: float = 0.0) -> list[tuple[str, float, str, float, dict]]:
    """The exact learning rates the chosen method cares about, for the buttons under the η slider:
    (label, η, why, the η_max unit that goes with it, other state to set). η_max is always the
    method's own edge; η* is GD's 2/(λ_min + λ_max) for GD and Polyak's (η*, β*) for momentum,
    which is a heavy-ball optimum: that button also switches to heavy ball with β = β*."""
    edge = momentum.max_stable_lr(eigenvalues, beta, method)
    unit = _unit(eigenvalues, beta, method)
    why = f"{EDGE_FORMULA[method]} exactly: the top direction oscillates forever"
    if method == "gd":
        return [("η = η_max", edge, why, unit, {}), ("η = η*", q.optimal_lr(eigenvalues), GD_OPT_WHY, unit, {})]
    return [("η = η_max", edge, why, unit, {}), polyak_mark(eigenvalues)]


def polyak_mark(eigenvalues) -> tuple[str, float, str, float, dict]:
    """Polyak's heavy-ball optimum as a mark: η*, and the switch to heavy ball with β = β*."""
    best = momentum.optimal(eigenvalues)
    jump = {"method": METHOD_NAMES["heavy_ball"], "beta": best["beta"]}
    return ("(η*, β*)", best["lr"], POLYAK_WHY, _unit(eigenvalues, best["beta"], "heavy_ball"), jump)


def mark_button(container, mark: tuple[str, float, str, float, dict], **kwargs) -> None:
    """A button that sets η (and the state that goes with it) exactly to a mark of lr_marks."""
    label, value, why, unit, extra = mark
    container.button(
        label,
        on_click=_set_lr,
        args=(value, unit, extra),
        disabled=not math.isfinite(value),
        help=why,
        width="stretch",
        **kwargs,
    )


GD_OPT_WHY = "2/(λ_min + λ_max) exactly: gradient descent's fastest rate"
POLYAK_WHY = "Polyak's optimum, 4/(√λ_max + √λ_min)² with β* = ((√κ − 1)/(√κ + 1))²: switches to heavy ball"


def lr_controls(
    eigenvalues,
    method: str = "gd",
    beta: float = 0.0,
    slider_reach: float | None = None,
    box=None,
    live: str | None = None,
) -> float:
    """η from an exact number box plus a coarse slider, and buttons that land exactly on the
    method's η_max and η* (lr_marks). A switch enters η as a multiple of the method's η_max
    instead. slider_reach: the slider's top in absolute η (default 2.5 η_max); box: where to draw
    (default the sidebar; a page's η fragment passes the sidebar container it reserved); live: the
    label start of the page's live η input, which the slider then drives in the browser."""
    ctx = get_script_run_ctx()
    if st.session_state.pop(WHOLE_PAGE, False) and ctx is not None and ctx.fragment_ids_this_run:
        st.rerun()  # a fragment drew the mark, but the method it switched to is the page's: rerun all of it
    box = st.sidebar if box is None else box
    box.subheader("Learning rate η")
    unit = _unit(eigenvalues, beta, method)
    reach = slider_reach if slider_reach and math.isfinite(slider_reach) else LR_RATIO_MAX * unit
    rel = controls.toggle(
        f"enter η as a multiple of η_max = {EDGE_FORMULA[method]}",
        "rel",
        container=box,
        on_change=_switch_units,
        args=(unit,),
    )
    if rel:
        ratio = controls.number_with_slider(
            "η / η_max", "lrr", 0.75, 0.0, 1e6, reach / unit, container=box, live=live, scale=unit
        )
        lr = unit * ratio
        if not lr <= LR_MAX:  # a tiny λ_max makes η_max huge: the product may pass the cap, or overflow
            box.warning(f"η = {ratio:g} η_max is past the largest η allowed, {LR_MAX:g}: using η = {LR_MAX:g}.")
            lr = LR_MAX
    else:
        lr = controls.number_with_slider("η", "lr", DEFAULT_LR, 0.0, LR_MAX, reach, container=box, live=live)
    marks = lr_marks(eigenvalues, method, beta)
    row = controls.row(box)
    for mark in marks:
        mark_button(row, mark)
    return float(lr)


METHOD_NAMES = {"gd": "gradient descent", "heavy_ball": "heavy ball", "nesterov": "Nesterov"}
METHOD_CODES = {name: code for code, name in METHOD_NAMES.items()}


def method_control() -> str:
    """The optimizer: gd / heavy_ball / nesterov."""
    st.sidebar.subheader("Optimizer")
    # The URL carries the readable name (?method=heavy+ball); core takes the code.
    return METHOD_CODES[controls.select("method", "method", list(METHOD_CODES), container=st.sidebar, radio=True)]


def beta_control(method: str, box=None, live: str | None = None) -> float:
    """Momentum β (exact box plus slider), 0 for plain GD (nothing drawn); box and live as for lr_controls."""
    if method == "gd":
        return 0.0
    box = st.sidebar if box is None else box
    return float(controls.number_with_slider("momentum β", "beta", 0.5, 0.0, 0.999999, 0.99, container=box, live=live))


def method_controls(live: str | None = None) -> tuple[str, float]:
    """The optimizer and its momentum β (live: as for beta_control)."""
    method = method_control()
    return method, beta_control(method, live=live)


# The EoS page's optimizers: the quadratic pages' three (same key "method" and names, so a choice among
# them carries over) plus Adam, RMSProp and mini-batch SGD. The quadratic pages' own radio has only the
# three: arriving there with one of the others selected, it shows gradient descent.
EOS_METHOD_NAMES = {**METHOD_NAMES, "adam": "Adam", "rmsprop": "RMSProp", "sgd": "SGD"}
EOS_METHOD_CODES = {name: code for code, name in EOS_METHOD_NAMES.items()}
MAX_BATCH = 2_000  # core.datasets.MAX_SAMPLES; a batch larger than the data is refused with a message


def eos_method_controls() -> dict:
    """The EoS page's optimizer and its settings, as core.training.train's keywords:
    method (gd / heavy_ball / nesterov / adam / rmsprop; SGD is gd or heavy_ball with batch_size), beta,
    beta1, beta2, eps, batch_size (None: full batch), and "label" (the name the page shows).
    The boxes allow the edges (β = 1, ε = 0) so that core's message says why they are refused."""
    box = st.sidebar
    box.subheader("Optimizer")
    name = controls.select("method", "method", list(EOS_METHOD_CODES), container=box, radio=True)
    code = EOS_METHOD_CODES[name]
    out = {"method": code, "beta": 0.0, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "batch_size": None, "label": name}
    if code in ("heavy_ball", "nesterov"):
        out["beta"] = controls.number_with_slider("momentum β", "beta", 0.5, 0.0, 0.999999, 0.99, container=box)
    elif code in ("adam", "rmsprop"):
        if code == "adam":
            out["beta1"] = controls.number(
                "β₁ (average of g)", "beta1", 0.9, 0.0, 1.0, format="%.6g", container=box, help="0 ≤ β₁ < 1"
            )
        out["beta2"] = controls.number(
            "β₂ (average of g²)", "beta2", 0.999, 0.0, 1.0, format="%.6g", container=box, help="0 ≤ β₂ < 1"
        )
        out["eps"] = controls.number(
            "ε", "aeps", 1e-8, 0.0, 1.0, format="%.3g", step=1e-8, container=box, help="0 < ε ≤ 1"
        )
    else:
        if code == "sgd":
            out["batch_size"] = int(
                controls.number("batch size b", "batch", 16, 1, MAX_BATCH, container=box, help="at most n, the samples")
            )
            out["beta"] = controls.number_with_slider(
                "heavy-ball momentum β (0: plain SGD)", "sbeta", 0.0, 0.0, 0.999999, 0.99, container=box
            )
            out["method"] = "heavy_ball" if out["beta"] > 0 else "gd"
    for key in ("beta", "beta1", "beta2", "eps"):
        out[key] = float(out[key])
    return out


def start_controls(eigenvalues) -> np.ndarray:
    """θ̃₀ in the eigenbasis: all ones, seeded standard normal, or along the top eigenvector."""
    box = st.sidebar
    box.subheader("Start θ̃₀ and steps")
    lam = np.asarray(eigenvalues)
    start = controls.select("start point θ̃₀ (eigenbasis)", "start", STARTS, container=box)
    if start == "seeded random":
        seed = int(controls.number("start seed", "tseed", 0, 0, 2**31 - 1, container=box))
        return np.random.default_rng(seed).standard_normal(lam.size)
    if start == "along the top direction":
        theta0 = np.zeros(lam.size)
        theta0[int(np.argmax(lam))] = 1.0
        return theta0
    return np.ones(lam.size)


def steps_control() -> int:
    return int(controls.number("steps T", "T", 100, 1, q.MAX_STEPS, step=10, container=st.sidebar))
