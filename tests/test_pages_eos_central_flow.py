"""AppTest of the EoS page's central-flow comparison: the charts gain the flow, it is computed once per
configuration, and where it does not apply (momentum, Adam, SGD, schedules, over the cap) the page says why."""

import numpy as np
import pytest

from tests.apptest_helpers import assert_charts_clean, chart_frames, open_page
from ui import central_flow_views, train_process


@pytest.mark.parametrize(
    "builder",
    [central_flow_views.loss_chart, central_flow_views.sharpness_chart, central_flow_views.sigma_chart],
    ids=["loss", "sharpness", "sigma"],
)
@pytest.mark.parametrize("big", [False, True])
def test_builders_give_valid_specs_with_named_data(builder, big):
    spec = builder(big=big).to_dict()  # Altair validates against the Vega-Lite schema here
    names = str(spec)
    assert "'name': 'cflow_" in names or "'name': 'sigma'" in names
    if big:
        assert spec["config"]["axis"]["labelFontSize"] >= 18


def frames_with(at, name: str) -> dict:
    found = [frames for frames in chart_frames(at) if name in frames]
    assert len(found) == 1, f"{len(found)} charts carry {name!r}"
    return found[0]


def infos(at) -> str:
    return " ".join(i.value for i in at.info)


def test_the_charts_gain_the_central_flow():
    at = open_page("eos", {"esteps": "400", "cflow": "true", "flow": "false"}, timeout=240)
    assert_charts_clean(at)
    loss = frames_with(at, "cflow_loss")
    assert set(loss["loss"]["run"]) == {"η = 0.2"}  # GD's own loss stays
    series = set(loss["cflow_loss"]["series"])
    assert series == {
        f"{central_flow_views.SERIES[0]} over {central_flow_views.window(400)} steps",
        *central_flow_views.SERIES[1:],
    }
    flow_loss = loss["cflow_loss"]
    predicted = flow_loss[flow_loss["series"] == central_flow_views.SERIES[1]].set_index("step")["loss"]
    own = flow_loss[flow_loss["series"] == central_flow_views.SERIES[2]].set_index("step")["loss"]
    assert (predicted >= own - 1e-15).all() and (predicted > own).any()  # + tr Σ/η ≥ 0, > 0 at the edge

    sharp = frames_with(at, "cflow_sharpness")["cflow_sharpness"]
    assert sharp["ratio"].max() <= 1.005  # the flow never passes 2/η by more than 0.5 %
    pinned = sharp[sharp["step"] >= 300]
    assert len(pinned) and (abs(pinned["ratio"] - 1) <= 0.01).all()
    np.testing.assert_allclose(sharp["S"] / sharp["ratio"], 10.0)

    sigma = frames_with(at, "sigma")
    assert set(sigma["sigma"]["series"]) == set(central_flow_views.SIGMA_SERIES[:2])
    assert (sigma["sigma"]["value"] > 0).all() and len(sigma["sigma_points"]) > 5
    captions = " ".join(c.value for c in at.caption)
    assert "holds λ₁ at 2/η = 10" in captions and "Predicted over GD's mean loss" in captions


def test_off_by_default():
    at = open_page("eos", {"esteps": "200", "flow": "false"}, timeout=120)
    assert_charts_clean(at)
    assert not any("cflow_loss" in f or "cflow_sharpness" in f or "sigma" in f for f in chart_frames(at))


def test_one_computation_per_configuration(monkeypatch):
    calls = []
    real = train_process.central_flow_run  # (the flow itself runs in a child process)

    def counting(kwargs, report, max_seconds):
        calls.append(kwargs.get("record_every"))
        return real(kwargs, report, max_seconds)

    monkeypatch.setattr(train_process, "central_flow_run", counting)
    query = {"esteps": "150", "cflow": "true", "flow": "false", "eseed": "11", "etas": "0.3"}
    first = open_page("eos", query, timeout=240)
    second = open_page("eos", query, timeout=240)  # another session opening the same link
    assert len(calls) == 1
    assert_charts_clean(second)
    a, b = frames_with(first, "cflow_sharpness"), frames_with(second, "cflow_sharpness")
    assert a["cflow_sharpness"].equals(b["cflow_sharpness"])


@pytest.mark.parametrize(
    "query, fragment",
    [
        ({"method": "heavy ball"}, "no flow for momentum"),
        ({"method": "Adam"}, "no flow for momentum"),
        ({"sched": "0.2 until 100, then 0.1"}, "no flow for momentum"),
        ({"act": "relu"}, "relu's kinks"),
    ],
)
def test_where_the_flow_does_not_apply_the_page_says_why(query, fragment):
    at = open_page("eos", {"esteps": "150", "cflow": "true", "flow": "false", **query}, timeout=240)
    assert not at.exception
    assert fragment in infos(at)
    assert not any("cflow_loss" in f for f in chart_frames(at))


@pytest.mark.parametrize("query", [{"esteps": "1"}, {"etas": "5", "esteps": "100"}, {"ns": "1", "esteps": "50"}])
def test_tiny_and_diverging_runs_stay_clean(query):
    at = open_page("eos", {"cflow": "true", "flow": "false", **query}, timeout=240)
    assert_charts_clean(at)


def test_over_the_cap_the_page_says_so():
    at = open_page("eos", {"esteps": "1000", "ns": "600", "cflow": "true", "flow": "false"}, timeout=240)
    assert "Press **Run**" in infos(at)  # too big to train by itself on a first visit
    at.button(key="run").click().run()
    assert not at.exception
    assert "would take about" in infos(at) and "2.5e+08" in infos(at)
    assert not any("cflow_loss" in f for f in chart_frames(at))
