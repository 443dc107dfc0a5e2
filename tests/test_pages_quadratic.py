"""AppTest of the home page and the quadratic explorer (rendering, status, bad input)."""

import pytest

from tests.apptest_helpers import assert_charts_clean, chart_frames, open_page, status_text


def test_home_runs_with_live_example():
    at = open_page("home")
    assert_charts_clean(at)
    at.slider(key="hx").set_value(2.2).run()
    assert any("oscillating blow-up" in m.value for m in at.markdown)


def test_quadratic_defaults():
    at = open_page("quadratic")
    assert_charts_clean(at)
    assert "Converges" in status_text(at)
    assert len(chart_frames(at)) == 4


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
    good = chart_frames(at)[1]["points"]
    at.text_area(key="eigs").set_value("1, two, 3").run()
    errors = [e.value for e in at.error]
    assert any("Item #2, 'two', is not a number" in e for e in errors), errors
    assert_charts_clean(at)
    # The stability chart still shows the last good spectrum's points.
    after = chart_frames(at)[1]["points"]
    assert sorted(after["λ"]) == sorted(good["λ"]) == [1.0, 2.0, 3.0]


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
