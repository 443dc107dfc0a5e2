"""The EoS page's new methods in Chromium: Adam, RMSProp, SGD, an η schedule and the digits each train from a
deep link and draw what hovers for them (the dimmed series beside it, the threshold path); picking Adam in
the sidebar and pressing Run puts it in the URL; a preset loads and runs. Screenshots go to screenshots/."""

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from tests.browser.conftest import open_app, screenshot, wait_idle
from tests.browser.test_quadratic_browser import assert_page_healthy

CASES = [
    (
        "adam",
        "eos?method=Adam&etas=0.01&esteps=1500&every=20",
        5,
        "Preconditioned sharpness λ_max(P⁻¹H) against the threshold (2 + 2β₁)/((1 − β₁)η)",
    ),
    ("rmsprop", "eos?method=RMSProp&etas=0.003&esteps=1500&every=20", 5, "against the threshold 2/η"),
    ("sgd", "eos?method=SGD&batch=16&esteps=2000&every=50", 6, "Batch sharpness against the threshold 2/η"),
    ("schedule", "eos?sched=0.2+until+600,+then+0.1&esteps=2000", 6, "Sharpness against the threshold 2/η"),
    ("digits", "eos?data=digits&ns=300&etas=0.8&flow=false", 6, "Sharpness against the threshold 2/η"),
]


def dimmed_lines(pg) -> int:
    """Line marks drawn at the 'beside' series' opacity in the first chart (the sharpness chart)."""
    return pg.eval_on_selector(
        "[data-testid=stVegaLiteChart]",
        "el => [...el.querySelectorAll('g.mark-line path')].filter(p => p.getAttribute('stroke-opacity') === '0.4'"
        " || p.getAttribute('opacity') === '0.4').length",
    )


@pytest.mark.parametrize("name,path,n_charts,heading", CASES, ids=[c[0] for c in CASES])
def test_method_trains_from_a_deep_link_and_draws_what_hovers(page, server, name, path, n_charts, heading):
    page.set_viewport_size({"width": 1280, "height": 2400})
    open_app(page, f"{server}/{path}", timeout=120_000)
    if name == "digits":  # ≈ 3 s of work: more than a first visit trains by itself
        page.get_by_role("button", name="Run", exact=True).click()
        wait_idle(page, timeout=120_000)
    assert_page_healthy(page, n_charts)
    expect(page.get_by_role("heading", name=heading).first).to_be_visible(timeout=20_000)
    if name in ("adam", "rmsprop", "sgd"):
        assert dimmed_lines(page) >= 1  # the raw sharpness / full-batch λ_max beside
    if name in ("adam", "rmsprop"):
        assert page.get_by_text("The momentum rate map is left out for Adam and RMSProp").count() == 1
    if name == "schedule":
        # the threshold path: 2/η at 10, then 20, drawn as a dashed line with a step at 600
        axis = page.locator("[data-testid=stVegaLiteChart]").first.inner_text()
        assert "20" in axis
    screenshot(page, f"eos-method-{name}", full=True)


def test_picking_adam_in_the_sidebar_and_running_puts_it_in_the_url(page, server):
    open_app(page, f"{server}/eos?esteps=200&flow=false", timeout=120_000)
    assert_page_healthy(page, 5)
    page.locator("[data-testid=stSidebar]").get_by_text("Adam", exact=True).click()
    wait_idle(page)
    expect(page.get_by_role("spinbutton", name="β₁ (average of g)")).to_have_value("0.9", timeout=15_000)
    page.get_by_role("textbox", name="learning rates η (one to four, commas)").fill("0.01")
    page.get_by_role("textbox", name="learning rates η (one to four, commas)").press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Run", exact=True).click()
    wait_idle(page, timeout=120_000)
    page.wait_for_function("() => location.search.includes('method=Adam')", timeout=10_000)
    expect(page.get_by_role("heading", name="Preconditioned sharpness").first).to_be_visible(timeout=20_000)
    assert_page_healthy(page, 5)


def test_a_preset_loads_and_runs(page, server):
    page.set_viewport_size({"width": 1280, "height": 1600})
    open_app(page, f"{server}/eos?esteps=100&flow=false", timeout=120_000)
    sidebar = page.locator("[data-testid=stSidebar]")
    sidebar.get_by_text("Presets: one phenomenon each").click()
    box = sidebar.locator("[data-testid=stSelectbox]").first
    option = page.get_by_role("option", name="SGD that interpolates first (100 digits)")
    for _ in range(5):  # a click while the expander still opens does not open the list: click again
        box.click()
        try:
            option.wait_for(state="visible", timeout=3_000)
            break
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
    option.click()
    wait_idle(page)
    sidebar.get_by_role("button", name="Load and run").click()
    wait_idle(page, timeout=120_000)
    expect(page.get_by_text(re.compile("interpolated first, it is not at the edge"))).to_be_visible(timeout=30_000)
    assert "method=SGD" in page.url and "data=digits" in page.url, page.url
    screenshot(page, "eos-preset-interpolates-first", full=True)
