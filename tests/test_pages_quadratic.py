"""AppTest of the home page and the quadratic explorer (rendering, status, bad input)."""

import json

import pytest

from tests.apptest_helpers import assert_charts_clean, chart_frames, live_now, open_page, status_text
from ui import live
from ui.frames import eigenvalues_drawn


def test_home_runs_with_live_example():
    at = open_page("home")
    assert_charts_clean(at)
    spec = at.get("vega_lite_chart")[0].proto.spec
    assert live_now(at)["hx"] == 0.5 and "0.5" not in spec  # the value travels as data, not in the spec
    assert "oscillating blow-up" in spec  # the regime is worded in the browser too
    at.slider(key="hx").set_value(2.2).run()
    assert any("oscillating blow-up" in m.value for m in at.markdown)
    assert live_now(at)["hx"] == 2.2 and at.get("vega_lite_chart")[0].proto.spec == spec


def test_home_condition_names_positive_eigenvalues():
    """Issue 11: |1 − ηλᵢ| < 1 ⟺ 0 < η < 2/λᵢ needs λᵢ > 0 (A is only PSD)."""
    at = open_page("home")
    text = " ".join(m.value for m in at.markdown) + " ".join(x.value for x in at.latex)
    assert "For every λᵢ > 0" in text and r"\text{for every } \lambda_i > 0" in text
    assert r"\text{for all } i" not in text


def test_quadratic_defaults():
    at = open_page("quadratic")
    assert_charts_clean(at)
    assert "Converges" in status_text(at)
    # One live chart: read-out, decay, V, factors and loss share one η.
    assert len(chart_frames(at)) == 1
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert [p["name"] for p in spec["params"]] == ["eta", "eta_srv", "lr", "eta_push"]
    assert "value" not in spec["params"][0] and spec["params"][2]["bind"]["input"] == "range"
    assert live_now(at)["eta"] == 1.5
    titles = json.dumps(spec, ensure_ascii=False)
    for title in ("Every eigendirection", "Stability boundary", "Shrink factors", "Loss L(θₜ)", "Live read-out"):
        assert title in titles


def test_live_chart_data_does_not_depend_on_eta():
    """η-only sidebar changes keep the spec byte for byte (Streamlit updates the chart in place) and
    re-send the same data but for the one-row dataset "now"."""
    at = open_page("quadratic")
    before = chart_frames(at)[0]
    spec_before = at.get("vega_lite_chart")[0].proto.spec
    at.number_input(key="lr").set_value(2.5).run()
    after = chart_frames(at)[0]
    assert before.keys() == after.keys() and all(before[k].equals(after[k]) for k in before if k != "now")
    assert live_now(at)["eta"] == 2.5 and at.get("vega_lite_chart")[0].proto.spec == spec_before


def test_live_selection_value_is_validated():
    """What the release callback accepts from the browser: a finite η ≥ 0, else nothing."""
    assert live.eta_value({"eta": [{"eta": 2.25}]}) == 2.25
    assert live.eta_value({"eta": [{"eta": "nan"}]}) is None and live.eta_value({"eta": []}) is None
    assert live.eta_value({"eta": [{"eta": -1}]}) is None and live.eta_value(None) is None


def test_clip_is_marked_in_the_decay_chart():
    """Issue 11: values below 1e-30 sit on the floor; a marker labelled "< 1e-30" says so."""
    at = open_page("quadratic")
    spec = at.get("vega_lite_chart")[0].proto.spec
    assert "< 1e-30" in spec and "triangle-down" in spec


def test_status_flips_when_eta_crosses_eta_max():
    at = open_page("quadratic")
    at.number_input(key="lr").set_value(1.99).run()  # λ_max = 1: η_max = 2
    assert "Converges" in status_text(at)
    at.number_input(key="lr").set_value(2.01).run()
    assert "Diverges" in status_text(at)
    assert_charts_clean(at)
    at.number_input(key="lr").set_value(2.0).run()
    assert "Oscillates forever" in status_text(at)


def test_eta_max_and_eta_star_buttons_land_exactly():
    at = open_page("quadratic")
    at.button[0].click().run()
    assert at.number_input(key="lr").value == 2.0
    assert "Oscillates forever" in status_text(at)
    at.button[1].click().run()
    assert at.number_input(key="lr").value == pytest.approx(2 / 1.1, rel=1e-15)


def test_relative_mode_keeps_eta_and_scales_with_the_spectrum():
    at = open_page("quadratic")
    at.toggle(key="rel").set_value(True).run()
    assert at.number_input(key="lrr").value == pytest.approx(0.75)
    at.number_input(key="lrr").set_value(1.2).run()
    assert "Diverges" in status_text(at)


def test_malformed_list_shows_error_and_keeps_last_good_chart():
    at = open_page("quadratic")
    at.radio(key="src").set_value("typed list").run()
    at.text_area(key="eigs").set_value("1, 2, 3").run()
    good = eigenvalues_drawn(chart_frames(at)[0])
    at.text_area(key="eigs").set_value("1, two, 3").run()
    errors = [e.value for e in at.error]
    assert any("Item #2, 'two', is not a number" in e for e in errors), errors
    assert_charts_clean(at)
    # The stability chart still shows the last good spectrum's points.
    after = eigenvalues_drawn(chart_frames(at)[0])
    assert sorted(after) == sorted(good) == [1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    "query",
    [
        {"src": "typed list", "eigs": "0, -1, 1e-6, 1e6, 5, 5"},
        {"preset": "neural-net-like", "n": "10000", "T": "100000"},
        {"preset": "log-spaced", "n": "1", "lr": "0"},
        {"lr": "1e9", "T": "100000"},
        {"preset": "power law", "n": "10000", "alpha": "2", "start": "seeded random"},
    ],
)
def test_extremes_render_without_nan_and_bounded(query):
    at = open_page("quadratic", query)
    assert_charts_clean(at)
    assert status_text(at)
    if "n" in query:
        assert at.number_input(key="n").value == int(query["n"])  # the URL value really applied


@pytest.mark.parametrize("seed", range(6))
def test_decay_vertices_draw_the_integer_polyline_exactly(seed):
    """The live decay view draws each direction from six vertices (ui.live, ui.frames.live_frames): t = 0,
    T and ⌊t*⌋, ⌊t*⌋ + 1 around each crossing t* of the ±30 clip. Interpolating them, as the line does,
    gives core's clamped log10|θ̃ₜ,ᵢ| at every integer step, for growth, decay, ηλ = 1 and 2, and starts
    beyond the clip. (The expressions are the browser's, mirrored; tests/browser runs the real ones.)"""
    import numpy as np

    from core import quadratic as q
    from ui.frames import LOG_CLIP

    rng = np.random.default_rng(seed)
    T = 100
    lam = np.concatenate([rng.uniform(0.01, 3.0, 20), [1.0, 2.0, 0.0]])
    theta0 = np.concatenate([10.0 ** rng.uniform(-40, 40, 20), [1.0, 1.0, 1.0]])
    t = np.arange(T + 1)
    for eta in (0.3, 1.0, 1.9, rng.uniform(0, 5)):
        exact = np.clip(q.log_magnitudes(lam, eta, theta0, t)[0], -LOG_CLIP, LOG_CLIP)
        for i in range(lam.size):
            log0 = np.log10(abs(theta0[i]))
            with np.errstate(divide="ignore"):
                la = np.log10(abs(1 - eta * lam[i]))
            ts = [
                0.0 if la == -np.inf else (np.inf if la == 0 else (edge - log0) / la)
                for edge in (-LOG_CLIP, -LOG_CLIP, LOG_CLIP, LOG_CLIP)
            ]
            vt = [0, T] + [
                min(max((np.floor(s) if np.isfinite(s) else T) + k % 2, 0), T)
                for k, s in zip(range(2, 6), ts, strict=True)
            ]
            vt = np.array(sorted(vt), dtype=float)
            with np.errstate(invalid="ignore"):
                lm = np.where(vt == 0, 0.0, vt * la) + log0
            drawn = np.interp(t, vt, np.clip(lm, -LOG_CLIP, LOG_CLIP))
            np.testing.assert_allclose(drawn, exact[:, i], atol=1e-9, err_msg=f"η={eta}, λ={lam[i]}")
