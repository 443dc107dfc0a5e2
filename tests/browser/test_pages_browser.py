"""Every page in a real Chromium: loads without an exception, every chart is drawn with marks,
the main controls work; URL state, presentation mode and the in-chart scrubber as a user sees them.
Screenshots of every page go to screenshots/ (see the README)."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_app, screenshot, wait_idle
from tests.browser.test_quadratic_browser import assert_page_healthy, chart_mark_counts

PAGES = [
    ("home", "", 1),
    ("quadratic", "quadratic", 1),  # one live chart (tests/browser/test_live_eta_browser.py)
    ("trajectory", "trajectory", 1),  # one live chart each (tests/browser/test_live_momentum_browser.py)
    ("momentum", "momentum?method=heavy+ball&beta=0.6", 1),
    ("eos", "eos?etas=0.1,0.2", 6),
    ("toy", "toy?teta=0.3", 2),
]


@pytest.mark.parametrize("name,path,n_charts", PAGES, ids=[p[0] for p in PAGES])
def test_page_renders_every_chart_with_marks(page, server, name, path, n_charts):
    page.set_viewport_size({"width": 1280, "height": 2400})
    open_app(page, f"{server}/{path}", timeout=120_000)
    assert_page_healthy(page, n_charts)
    wait_idle(page, 120_000)  # (the EoS page: the run its training's box started, drawing the trained page)
    screenshot(page, f"page-{name}")


def test_eos_run_button_fills_the_charts(page, server):
    open_app(page, f"{server}/eos?esteps=300&flow=false", timeout=120_000)
    assert_page_healthy(page, 5)
    page.get_by_label("steps", exact=True).fill("400")
    page.get_by_label("steps", exact=True).press("Enter")
    wait_idle(page)
    page.get_by_text("press **Run**").or_(page.get_by_text("press Run")).first.wait_for(timeout=20_000)
    page.get_by_role("button", name="Run", exact=True).click()
    wait_idle(page, timeout=120_000)
    # Run answers at once with the training's progress box (ui/eos_jobs.py) over the previous runs; the page
    # reruns by itself with the new runs once the training is done.
    expect(page.get_by_text("Settings changed")).to_have_count(0, timeout=120_000)
    expect(page.get_by_text("Training 1 run(s)")).to_have_count(0, timeout=120_000)
    assert_page_healthy(page, 5)


def test_in_chart_scrubber_recomputes_without_a_rerun(page, server):
    # The quadratic page's live η (tests/browser/test_live_eta_browser.py covers it in full).
    open_app(page, f"{server}/quadratic")
    assert_page_healthy(page, 1)
    chart = page.locator("[data-testid=stVegaLiteChart]").first
    label = chart.locator("text", has_text="η = ").first
    assert label.text_content().startswith("η = 1.5")
    scrub = chart.locator(".vega-bindings input[type=range]")
    scrub.evaluate("(e) => { e.value = 2.6; e.dispatchEvent(new Event('input', {bubbles: true})); }")
    page.wait_for_timeout(300)
    assert label.text_content().startswith("η = 2.6")
    # λ = 0.8, 0.9, 1.0 lie right of 2/η = 0.77 now: drawn in the "does not shrink" colour.
    assert chart.locator("g.mark-symbol.role-mark path[fill='#D55E00']").count() >= 3


def test_url_state_round_trip_on_a_non_default_page(page, server):
    open_app(page, f"{server}/momentum?method=heavy+ball&beta=0.8&lr=0.7&n=20")
    assert_page_healthy(page, 1)
    # expect() retries: a widget may repaint once more after the first run's deltas.
    expect(page.get_by_label("momentum β (exact)")).to_have_value("0.8", timeout=15_000)
    expect(page.get_by_label("η (exact)")).to_have_value("0.7", timeout=15_000)
    expect(page.get_by_label("number of eigenvalues n")).to_have_value("20", timeout=15_000)
    wait_idle(page)
    metric = page.locator("[data-testid=stMetric]", has_text="η_max, heavy ball").inner_text()
    assert "3.6" in metric  # (2 + 2·0.8)/λ_max with λ_max = 1
    thumb = page.locator("input[type=range][aria-label='momentum β']")  # the sidebar's (ui.live_slider)
    thumb.focus()
    thumb.press("ArrowLeft")
    wait_idle(page)
    page.wait_for_function("() => !location.search.includes('beta=0.8')", timeout=10_000)
    beta = re.search(r"beta=([0-9.]+)", page.url)
    assert beta and float(beta.group(1)) < 0.8, page.url
    assert "/momentum" in page.url


def test_a_links_values_follow_to_the_next_page_from_the_menu(page, server):
    """The first visit to another page drawing the same control shows the link's value and keeps it in
    the URL (Streamlit 1.67 alone: η (exact) = 0 on the momentum map, and the URL lost lr)."""
    open_app(page, f"{server}/quadratic?lr=1.7")
    expect(page.get_by_label("η (exact)")).to_have_value("1.7", timeout=15_000)
    page.get_by_role("link", name="Momentum map").click()
    page.wait_for_url(re.compile(r"/momentum"), timeout=15_000)
    wait_idle(page)
    expect(page.get_by_label("η (exact)")).to_have_value("1.7", timeout=15_000)
    page.wait_for_function("() => location.search.includes('lr=1.7')", timeout=10_000)


def test_presentation_mode_text_is_big(page, server):
    open_app(page, f"{server}/quadratic?present=1")
    assert_page_healthy(page, 1)
    sizes = page.eval_on_selector_all(
        "[data-testid=stVegaLiteChart] svg text", "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))"
    )
    assert sizes and min(sizes) >= 18, sorted(set(sizes))
    assert page.locator("[data-testid=stSidebar][data-collapsed=true]").count() == 1  # collapsed
    screenshot(page, "presentation-quadratic")
    assert min(chart_mark_counts(page)) > 0
