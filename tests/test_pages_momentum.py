"""AppTest of the trajectory and momentum pages: defaults, divergence, β near 1, exact optimum."""

import json

import pytest

from core import momentum
from tests.apptest_helpers import assert_charts_clean, chart_frames, live_now, open_page

DEFAULT_SPECTRUM = [0.1 + 0.1 * i for i in range(10)]


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"lr": "4.5"},  # diverges: ηλ₂ = 4.5
        {"method": "heavy ball", "beta": "0.999"},
        {"method": "Nesterov", "beta": "0.9", "lr": "1.9", "T": "100000"},
        {"l1": "0.001", "l2": "1000", "lr": "0.0021", "T": "100000"},
    ],
)
def test_trajectory_renders(query):
    at = open_page("trajectory", query)
    assert_charts_clean(at)
    coords = chart_frames(at)[0]["coords"]  # the sampled steps × 2 directions the browser evaluates
    assert len(coords) <= 600 and set(coords["i"]) == {1, 2}


def test_trajectory_says_diverged_at_step():
    at = open_page("trajectory", {"lr": "4.5"})
    errors = [e.value for e in at.error]
    assert any("Diverged at step" in e for e in errors), errors


def test_trajectory_step_scrubber_moves_the_current_point():
    at = open_page("trajectory")
    at.slider(key="ts").set_value(3).run()
    frames = chart_frames(at)[0]
    assert list(frames["now"]["ts"]) == [3]  # the browser draws the path bold up to this step


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"method": "heavy ball", "beta": "0.999", "lr": "3"},
        {"method": "Nesterov", "beta": "0.5", "lr": "100"},
        {"method": "heavy ball", "beta": "0.9", "T": "100000", "preset": "log-spaced", "n": "10000"},
    ],
)
def test_momentum_renders(query):
    at = open_page("momentum", query)
    assert_charts_clean(at)


def test_momentum_metrics_and_jump_to_optimum_exactly():
    at = open_page("momentum")
    at.radio(key="method").set_value("heavy ball").run()
    at.number_input(key="beta").set_value(0.6).run()
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["η_max, heavy ball (β = 0.6)"]) == pytest.approx(3.2)
    assert float(metrics["η_max, Nesterov (β = 0.6)"]) == pytest.approx(3.2 / 2.2, rel=1e-5)
    at.button(key="jump").click().run()
    best = momentum.optimal(DEFAULT_SPECTRUM)
    assert at.number_input(key="beta").value == best["beta"]
    assert at.number_input(key="lr").value == best["lr"]
    assert float({m.label: m.value for m in at.metric}["rate now"]) == pytest.approx(best["rate"], rel=1e-5)


@pytest.mark.parametrize("page", ["trajectory", "momentum"])
def test_live_controls_hide_with_their_sidebar_controls(page):
    # An exercise link hides η and β: the live sliders under the chart go too (the chart still draws).
    spec = json.loads(open_page(page, {"method": "heavy ball", "hide": "lr,beta"}).get("vega_lite_chart")[0].proto.spec)
    assert "binding_range" not in json.dumps(spec) and '"bind"' not in json.dumps(spec)
    shown = json.loads(open_page(page, {"method": "heavy ball"}).get("vega_lite_chart")[0].proto.spec)
    names = {p["name"] for p in shown["params"] if "bind" in p} | {
        p["name"] for v in shown.get("vconcat", []) for p in v.get("params", []) if "bind" in p
    }
    assert names == {"lr", "mb"}  # the live η and β (ui.live_momentum.ETA, BETA)


@pytest.mark.parametrize("page", ["trajectory", "momentum"])
def test_sidebar_eta_and_beta_move_the_live_values_and_keep_the_spec(page):
    """The sidebar's η and β reach the chart as data (its one-row "now"): the spec stays byte for byte,
    so Streamlit updates the chart in place, its live sliders included."""
    at = open_page(page, {"method": "heavy ball", "beta": "0.6"})
    spec0 = at.get("vega_lite_chart")[0].proto.spec
    assert live_now(at)["beta"] == 0.6
    at.number_input(key="beta").set_value(0.7).run()
    at.number_input(key="lr").set_value(1.25).run()
    assert live_now(at)["beta"] == 0.7 and live_now(at)["eta"] == 1.25
    assert at.get("vega_lite_chart")[0].proto.spec == spec0
    if page == "trajectory":
        at.slider(key="ts").set_value(5).run()
        assert at.get("vega_lite_chart")[0].proto.spec == spec0 and live_now(at)["ts"] == 5
        # A new start angle moves the view's radius: data, not the spec.
        at.slider(key="phi").set_value(75).run()
        assert at.get("vega_lite_chart")[0].proto.spec == spec0


@pytest.mark.parametrize(
    "method,lr,beta,expected",
    [
        ("heavy_ball", 3.88, 0.95, "Converges, after a transient: ‖θ‖ grows by {growth:.3g}×"),
        ("heavy_ball", 3.2, 0.5, "Diverged at step {escaped:,}"),
        ("nesterov", 1e12, 0.999999, "Diverged at step {escaped:,}"),
        ("gd", 2.0, None, "Does not converge"),
        ("gd", 0.0, None, "Does not move"),
        ("gd", 1.5, None, "Converges to the minimum"),
    ],
)
def test_live_trajectory_verdict_equals_the_servers(method, lr, beta, expected):
    """The read-out's verdict, evaluated by Vega (vl-convert runs the same engine as the browser), says what
    the page's status box says at that η and β (ui.frames.trajectory_frames)."""
    import math
    import re

    import numpy as np
    import pandas as pd
    import vl_convert

    from ui import frames, live_momentum

    theta0, angle = np.array([-2.0, 1.5]), math.radians(30)
    data = live_momentum.trajectory_frames(0.2, 1.0, angle, theta0, 100)
    structure = live_momentum.trajectory_spec(
        method, False, False, beta is not None, True, True, ("trajectory", "coords"), True
    )
    spec = dict(live_momentum.with_ranges(structure, 7.5, beta))
    data["now"] = pd.DataFrame({"one": [1], "ts": [100], "eta": [lr], "beta": [beta or 0.0]})
    records = {
        k: v.to_dict(orient="records") if isinstance(v, pd.DataFrame) else v.to_pylist() for k, v in data.items()
    }
    spec["datasets"] = {**spec.get("datasets", {}), **records}
    svg = vl_convert.vegalite_to_svg(spec)
    server = frames.trajectory_frames(0.2, 1.0, angle, theta0, lr, beta or 0.0, method, 100)
    assert expected.format(**server) in svg
    rate = re.search(r"rate ρ = ([0-9.e+]+)", svg).group(1)
    assert float(rate) == pytest.approx(momentum.rate([0.2, 1.0], lr, beta or 0.0, method), rel=1e-6)


@pytest.mark.parametrize("big", [False, True])
@pytest.mark.parametrize("method", ["gd", "heavy_ball", "nesterov"])
def test_every_live_spec_is_valid_vega_lite(monkeypatch, method, big):
    # The server skips Altair's schema validation (seconds on a first visit): it is done here instead.
    from ui import live_momentum

    monkeypatch.setattr(live_momentum, "VALIDATE", True)
    has_beta = method != "gd"
    for views in [("trajectory", "coords"), ("coords",), ()]:
        live_momentum.trajectory_spec.__wrapped__(method, big, True, has_beta, True, has_beta, views, True)
    fixed = (2.3, 0.27) if method == "gd" else None
    for views in [("rate_map", "momentum_errors"), ("momentum_errors",), ()]:
        live_momentum.momentum_spec.__wrapped__(method, big, False, fixed, has_beta, True, has_beta, views)
