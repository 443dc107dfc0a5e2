"""Issue 11, Edge of Stability page: the method's own flow time and threshold, the flow chart's axis
and departure mark, and the loss that follows the dataset."""

import numpy as np
import pytest

from core import momentum
from core import training as tr
from tests.apptest_helpers import assert_charts_clean, chart_frames, open_page


@pytest.mark.parametrize("method", ["heavy_ball", "nesterov"])
@pytest.mark.parametrize("beta", [0.3, 0.9])
def test_flow_time_is_the_slow_root_of_the_momentum_recursion(method, beta):
    # Slow root of the 2 × 2 recursion ≈ 1 − ηλ/(1 − β) at small ηλ: one step covers time η/(1 − β).
    lr, lam = 1e-5, 1.0
    root = max(abs(np.linalg.eigvals(momentum.iteration_matrix(lr * lam, beta, method))))
    assert (1 - root) / lam == pytest.approx(tr.flow_time(lr, method, beta), rel=1e-3)
    assert tr.flow_time(lr, "gd") == lr


def test_heavy_ball_tracks_gradient_flow_on_its_own_clock():
    # Issue 11: at η·t heavy ball (β = 0.5, η = 0.2) is 9.5e-2 away by step 40; at η·t/(1 − β) 1.6e-2.
    kwargs = {"steps": 160, "sharpness_every": 20}
    run = tr.train(0.2, method="heavy_ball", beta=0.5, **kwargs)
    own = tr.distance_to_flow(run, tr.gradient_flow(0.2, method="heavy_ball", beta=0.5, with_sharpness=False, **kwargs))
    naive = tr.distance_to_flow(run, tr.gradient_flow(0.2, with_sharpness=False, **kwargs))
    at = {int(s): i for i, s in enumerate(own["step"])}
    for step in (40, 160):
        assert own["relative"][at[step]] < 0.3 * naive["relative"][at[step]]
    assert own["time"][at[160]] == pytest.approx(0.2 * 160 / 0.5)


def test_departure_is_the_first_tenfold_growth_after_the_crossing():
    distance = {"step": np.arange(0, 100, 10), "relative": np.array([0, 1, 2, 3, 3, 5, 20, 40, 35, 80]) * 1e-4}
    assert tr.departure_step(distance, 30) == 70  # level 3e-4 at step 30; 40e-4 > 30e-4 first at 70
    assert tr.departure_step(distance, None) is None
    assert tr.departure_step(distance, 80) is None


def test_flow_chart_starts_at_the_first_real_distance_and_marks_the_departure():
    at = open_page("eos", {"esteps": "600"}, timeout=180)
    assert_charts_clean(at)
    flow = next(c for c in chart_frames(at) if "distance" in c)
    assert (flow["distance"]["distance"] > 0).all() and flow["distance"]["step"].min() > 0
    # Before: step 0 clipped to 1e-16 stretched the log axis over 14 decades.
    assert flow["distance"]["distance"].min() > 1e-9
    marks = flow["crossing"].set_index("label")["step"]
    assert len(marks) == 2 and marks.iloc[1] > marks.iloc[0]  # the departure comes after the crossing


def test_momentum_runs_name_their_own_threshold_and_clock():
    at = open_page("eos", {"method": "heavy ball", "beta": "0.5", "esteps": "300", "etas": "0.2"}, timeout=180)
    assert_charts_clean(at)
    heads = " ".join(h.value for h in at.subheader)
    assert "(2 + 2β)/η" in heads and "2/η" not in heads.replace("(2 + 2β)/η", "")
    assert chart_frames(at)[0]["thresholds"]["threshold"].tolist() == [pytest.approx(15.0)]
    captions = " ".join(c.value for c in at.caption)
    assert "η·t/(1 − β)" in captions
    assert "exactly at the edge" not in captions and "hovers at or just above" in captions


def test_spirals_default_to_cross_entropy_and_the_axis_says_so():
    at = open_page("eos", {"data": "spirals", "esteps": "100", "flow": "false"}, timeout=180)
    assert not at.exception and not at.error
    assert at.selectbox(key="loss").value == "ce"
    spec = next(c.proto.spec for c in at.get("vega_lite_chart") if "cross-entropy" in c.proto.spec)
    assert "(1/2n)" not in spec
    at.selectbox(key="data").set_value("gaussian").run()
    assert at.selectbox(key="loss").value == "mse"
