"""Ready-made settings of the EoS page that each show one phenomenon in ≤ 3 s of training on one core
(benchmarks/bench_optimizers.py measures them; tests/test_pages_eos_methods.py loads each).

A preset sets every run control (the rest to their defaults) and asks for a run: values are the
widgets' own (the method by its page name), so the URL then says exactly what was loaded.
"""

from __future__ import annotations

import streamlit as st

# Every control a preset touches, at the page's default.
DEFAULTS = {
    "etas": "0.2",
    "sched": "",
    "method": "gradient descent",
    "beta": 0.5,
    "beta1": 0.9,
    "beta2": 0.999,
    "aeps": 1e-8,
    "batch": 16,
    "sbeta": 0.0,
    "data": "gaussian",
    "classes": 4,
    "ns": 128,
    "hidden": "16, 16",
    "act": "swish",
    "loss": "mse",
    "esteps": 1000,
    "every": 10,
    "eseed": 0,
    "flow": True,
}

# name → (what it shows, the settings that differ from DEFAULTS)
PRESETS = {
    "GD at the edge (the default)": (
        "Full-batch GD, η = 0.2: the sharpness climbs to 2/η = 10 and hovers there.",
        {},
    ),
    "Adam: λ_max(P⁻¹H) at 38/η": (
        "Adam, η = 0.01, 1,500 steps: the preconditioned sharpness rises to (2 + 2β₁)/((1 − β₁)η) = 3,800 and "
        "hovers just under it; the raw sharpness stays near 30, nowhere near 2/η = 200.",
        {"method": "Adam", "etas": "0.01", "esteps": 1500, "every": 20},
    ),
    "RMSProp: λ_max(P⁻¹H) at 2/η": (
        "RMSProp, η = 0.003, β₂ = 0.999: λ_max(P⁻¹H) starts far above 2/η (v₀ is tiny: no bias correction), "
        "falls, and hovers at 2/η ≈ 667.",
        {"method": "RMSProp", "etas": "0.003", "esteps": 1500, "every": 20},
    ),
    "SGD: batch sharpness at 2/η (batch 16 of 128)": (
        "Mini-batch SGD, b = 16 of n = 128, η = 0.2, 2,000 steps: the batch sharpness rises to 2/η = 10 and "
        "hovers there while the full-batch λ_max stays near 0.75 × 2/η.",
        {"method": "SGD", "batch": 16, "esteps": 2000, "every": 50},
    ),
    "SGD with twice the data (batch 16 of 256)": (
        "Mini-batch SGD, b = 16 of n = 256, η = 0.4, 4,000 steps: the batch sharpness climbs from 0.2 × 2/η to "
        "2/η = 5 and hovers there while the full-batch λ_max stays near 0.6 × 2/η.",
        {"method": "SGD", "batch": 16, "ns": 256, "etas": "0.4", "esteps": 4000, "every": 200},
    ),
    "SGD that interpolates first (100 digits)": (
        "SGD on 100 digits of 4 classes, b = 16, η = 0.5: the training loss falls below 1 % of its start while "
        "the batch sharpness stays near half of 2/η — memorised, not at the edge.",
        {"method": "SGD", "data": "digits", "ns": 100, "batch": 16, "etas": "0.5", "esteps": 800, "every": 50},
    ),
    "Schedule: η halves at step 600": (
        "GD with η = 0.2, then 0.1 from step 600: the sharpness leaves 10 and climbs to the new 2/η = 20.",
        {"sched": "0.2 until 600, then 0.1", "esteps": 2000},
    ),
    "Schedule: η doubles at step 1000": (
        "GD with η = 0.1, then 0.2 from step 1000: the sharpness (≈ 24) is far past the new 2/η = 10; GD does "
        "not diverge but catapults to a flatter region and hovers at 10.",
        {"sched": "0.1 until 1000, then 0.2", "esteps": 2000},
    ),
    "Digits with GD (300 images, 4 classes)": (
        "Real data: 300 handwritten digits 0–3 (8 × 8 pixels, mse on one-hot targets), GD η = 0.8: the "
        "sharpness rises to 2/η = 2.5 and hovers there.",
        {"data": "digits", "ns": 300, "etas": "0.8", "flow": False},  # a 1,380-parameter flow would take ≈ 8 s
    ),
}


def _load(name: str) -> None:
    st.session_state.update({**DEFAULTS, **PRESETS[name][1]})
    st.session_state["eos_run_requested"] = True  # the page trains on this rerun


def preset_picker(container) -> None:
    """A preset box and its Load button (in a callback, before the widgets are drawn)."""
    with container.expander("Presets: one phenomenon each", icon=":material/auto_awesome:"):
        name = st.selectbox("preset", list(PRESETS), key="_eos_preset", label_visibility="collapsed")
        st.caption(PRESETS[name][0])
        st.button("Load and run", key="eos_preset_load", on_click=_load, args=(name,), icon=":material/play_arrow:")
