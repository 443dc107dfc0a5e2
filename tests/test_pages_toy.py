"""AppTest of the 2-D toy page L(x, y) = ½(xy − 1)²: the numbers of theory.md §6, bad URLs, presets."""

import time

import numpy as np
import pytest

from core import toy2d
from tests.apptest_helpers import assert_charts_clean, chart_frames, open_page
from ui import toy_views

# theory.md §6, from the default start (3, 0.05): GD's final sharpness x² + y² at each η.
GD_FINAL_SHARPNESS = {"0.2": 8.57, "0.25": 5.88, "0.3": 2.67, "0.4": 2.00}
GD_METRIC = "GD final sharpness"


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def plane(at) -> dict:
    return chart_frames(at)[0]


def test_defaults_render_clean():
    at = open_page("toy")
    assert_charts_clean(at)
    assert len(chart_frames(at)) == 2
    shown = metrics(at)
    assert float(shown["2/η"]) == pytest.approx(10.0)
    assert float(shown["flow final sharpness"]) == pytest.approx(9.22, abs=0.01)
    assert shown["GD on stable part?"] == "yes"
    frames = plane(at)
    assert set(frames) == set(toy_views.TOY_PLANE_DATA)
    assert (frames["paths"]["path"] == toy_views.PATHS[0]).sum() <= toy_views.PATH_POINTS
    assert list(frames["marks"]["point"]) == toy_views.POINTS


@pytest.mark.parametrize(("lr", "expected"), GD_FINAL_SHARPNESS.items())
def test_gd_final_sharpness_matches_theory(lr, expected):
    at = open_page("toy", {"teta": lr})
    assert_charts_clean(at)
    assert float(metrics(at)[GD_METRIC]) == pytest.approx(expected, abs=0.01)
    # The stable part of the hyperbola is exactly x² + y² ≤ 2/η (2/η is data, not in the spec).
    minima = plane(at)["minima"]
    stable = minima["minimum"] == toy_views.STABLE
    assert (minima.loc[stable, "sharpness"] <= 2 / float(lr)).all()
    assert (minima.loc[~stable, "sharpness"] > 2 / float(lr)).all()


def test_catapult_is_named_when_flow_minimum_is_too_sharp():
    at = open_page("toy", {"teta": "0.3"})
    assert any("Catapult" in s.value for s in at.success), [s.value for s in at.success]


def test_divergence_at_06_is_a_message_and_a_finite_path():
    at = open_page("toy", {"teta": "0.6"})
    assert_charts_clean(at)
    assert metrics(at)[GD_METRIC] == "diverged"
    _, step = toy2d.gd_path(3.0, 0.05, 0.6, 2000)
    assert any(f"GD diverged at step {step}" in e.value for e in at.error), [e.value for e in at.error]
    gd = plane(at)["paths"].query("path == @toy_views.PATHS[0]")
    assert gd["t"].max() == step - 1
    assert "end of GD" not in set(plane(at)["marks"]["point"])


def test_no_minimum_is_stable_for_lr_above_one():
    at = open_page("toy", {"teta": "1.1", "tx": "1.5", "ty": "0.5"})
    assert_charts_clean(at)
    assert any("no minimum is stable" in w.value for w in at.warning), [w.value for w in at.warning]
    assert (plane(at)["minima"]["minimum"] == toy_views.SHARP).all()


@pytest.mark.parametrize(
    ("query", "keys"),
    [({"teta": "abc", "tx": "nan"}, ["teta", "tx"]), ({"ty": "inf", "tstart": "nowhere"}, ["ty", "tstart"])],
)
def test_bad_url_values_give_a_notice(query, keys):
    at = open_page("toy", query)
    assert_charts_clean(at)
    notices = " ".join(w.value for w in at.warning)
    for key in keys:
        assert f"`{key}`" in notices, notices
    assert float(metrics(at)[GD_METRIC]) == pytest.approx(8.57, abs=0.01)  # the defaults apply


def test_huge_steps_is_rejected_with_a_message_not_a_freeze():
    started = time.perf_counter()
    at = open_page("toy", {"tsteps": str(10**12)})
    assert time.perf_counter() - started < 30
    assert_charts_clean(at)
    assert any("`tsteps`" in w.value for w in at.warning), [w.value for w in at.warning]
    assert at.number_input(key="tsteps").value == 2000


def test_most_steps_allowed_stays_bounded():
    at = open_page("toy", {"tsteps": str(toy2d.MAX_STEPS), "teta": "0.25"})
    assert_charts_clean(at)
    gd = plane(at)["paths"].query("path == @toy_views.PATHS[0]")
    assert len(gd) <= toy_views.PATH_POINTS and gd["t"].max() == toy2d.MAX_STEPS


def test_preset_fills_the_start_and_editing_it_says_custom():
    at = open_page("toy")
    at.selectbox(key="tstart").set_value("(1.5, 0.5)").run()
    assert (at.number_input(key="tx").value, at.number_input(key="ty").value) == (1.5, 0.5)
    assert float(metrics(at)["x² + y² at the start"]) == pytest.approx(2.5)
    at.number_input(key="tx").set_value(1.7).run()
    assert at.selectbox(key="tstart").value == "custom"
    assert not at.exception


def test_start_from_the_url_names_its_preset():
    at = open_page("toy", {"tx": "0.5", "ty": "0.5"})
    assert at.selectbox(key="tstart").value == "(0.5, 0.5) near balanced"


def test_theory_buttons_set_lr_exactly():
    at = open_page("toy")
    at.button(key="_teta_0.4").click().run()
    assert at.number_input(key="teta").value == 0.4
    assert float(metrics(at)[GD_METRIC]) == pytest.approx(2.00, abs=0.01)


@pytest.mark.parametrize("query", [{"present": "true"}, {"tx": "1", "ty": "-1"}, {"teta": "0"}, {"tx": "10"}])
def test_edge_cases_render_clean(query):
    at = open_page("toy", query)
    assert_charts_clean(at)
    for frames in chart_frames(at):
        for frame in frames.values():
            assert np.isfinite(frame.select_dtypes(include="number").to_numpy(dtype=float)).all()


def test_hidden_lr_still_applies_and_hides_its_buttons():
    at = open_page("toy", {"teta": "0.25", "hide": "teta,tgd_m"})
    assert_charts_clean(at)
    assert not [b for b in at.button if b.key and b.key.startswith("_teta_")]
    assert GD_METRIC not in metrics(at)
    assert float(metrics(at)["2/η"]) == pytest.approx(8.0)
