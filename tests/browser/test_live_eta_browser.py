"""Live η on the quadratic and home pages, in Chromium: the slider under the live chart recomputes
every view and the read-out in the browser, the values equal core.quadratic's, and releasing it
sets the sidebar's η, the metrics and the URL; the sidebar's η moves the slider, and the sidebar's
coarse slider drives the chart in the browser too (ui.live_slider)."""

import math
import re

import numpy as np
import pytest

from core import quadratic as q
from tests.browser.conftest import open_app, screenshot, wait_idle

LIVE = "[data-testid=stVegaLiteChart]"
DEFAULT = np.linspace(0.1, 1.0, 10)  # the default spectrum: evenly spaced, n = 10


SHOWS = "(s) => [...document.querySelectorAll('svg text')].some(t => t.textContent.startsWith(s))"


def view_markup(pg) -> dict[str, str]:
    """Each view of the live chart (by its Vega group name) → its drawn marks, serialised."""
    return pg.eval_on_selector(
        LIVE,
        """el => Object.fromEntries([...el.querySelectorAll('g.mark-group.role-scope')]
              .filter(g => /concat_\\d+(_concat_\\d+)?_group$/.test(g.getAttribute('class')))
              .map(g => [g.getAttribute('class').split(' ').pop(),
                         [...g.querySelectorAll('path, line, text')].map(e =>
                           (e.getAttribute('d') || '') + (e.getAttribute('transform') || '')
                           + (e.getAttribute('x2') || '') + e.textContent).join('|')]))""",
    )


def readout(pg) -> list[str]:
    return pg.eval_on_selector_all(
        f"{LIVE} svg text",
        "els => els.map(e => e.textContent)"
        ".filter(t => t.startsWith('η = ') || /^(Converges|Diverges|Osc|Does)/.test(t))",
    )


def move_live(pg, value: float, release: bool = True) -> None:
    """Move the live slider as a drag does (pointer down, input events), then let go (pointer up)."""
    pg.eval_on_selector(
        f"{LIVE} .vega-bindings input[type=range]",
        """(e, [v, release]) => {
              e.dispatchEvent(new PointerEvent('pointerdown', {bubbles: true, composed: true}));
              e.value = v; e.dispatchEvent(new Event('input', {bubbles: true}));
              if (release) {
                e.dispatchEvent(new Event('change', {bubbles: true}));
                window.dispatchEvent(new PointerEvent('pointerup', {bubbles: true}));
              } }""",
        [value, release],
    )


def number(text: str, label: str) -> str:
    match = re.search(re.escape(label) + r" = ([^ ·:]+)", text)
    assert match, (label, text)
    return match.group(1)


def test_live_eta_changes_every_view_and_the_readout(page, server):
    open_app(page, f"{server}/quadratic")
    page.wait_for_selector(f"{LIVE} .vega-bindings input[type=range]")
    before, text_before = view_markup(page), readout(page)
    assert len(before) >= 4, before.keys()  # read-out, decay, V, factors, loss
    # A real drag with the mouse: every view follows in the browser. (Streamlit sends the value to
    # Python when the slider rests ≥ 150 ms, also mid-drag; that rerun leaves the chart as it is.)
    slider = page.locator(f"{LIVE} .vega-bindings input[type=range]")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.3, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.84, y, steps=8)  # η ≈ 0.84 × 5 = 4.2: past η_max
    page.wait_for_function(SHOWS, arg="Diverges")
    after = view_markup(page)
    changed = [name for name in before if before[name] != after.get(name)]
    assert set(changed) == set(before), f"unchanged views: {set(before) - set(changed)}"
    assert readout(page) != text_before
    page.mouse.up()
    page.wait_for_function("() => location.search.includes('lr=')", timeout=15_000)
    screenshot(page, "quadratic-live-eta-2.1")


@pytest.mark.parametrize("eta", [0.37, 1.1, 2.0, 2.2])
def test_readout_equals_core(page, server, eta):
    """The browser's read-out equals core.quadratic's rate, steps to ε and verdict (6 digits)."""
    open_app(page, f"{server}/quadratic")
    page.wait_for_selector(f"{LIVE} .vega-bindings input[type=range]")
    move_live(page, eta, release=False)
    page.wait_for_function(SHOWS, arg=f"η = {eta:g}")
    line, verdict = readout(page)
    theta0 = np.ones(10)
    assert float(number(line, "η/η_max")) == pytest.approx(eta / q.max_stable_lr(DEFAULT), rel=1e-6)
    assert float(number(line, "rate max|1 − ηλᵢ|")) == pytest.approx(q.rate(DEFAULT, eta), rel=1e-6)
    steps = q.steps_to_tolerance(DEFAULT, eta, 1e-6)
    assert line.endswith("never" if math.isinf(steps) else f"{steps:,}"), line
    status = q.status(DEFAULT, eta, theta0)
    if status["status"] == "diverges":
        assert verdict.startswith(f"Diverges: direction {status['direction'] + 1} ")
        assert verdict.endswith(f"at step {int(status['step']):,}"), verdict
    else:
        assert verdict.lower().startswith(status["status"]), (verdict, status)


@pytest.mark.parametrize(
    ("query", "spectrum"),
    [("", DEFAULT), ("?src=typed+list&eigs=-0.3,0.2,0.9,1.4,2.5", np.array([-0.3, 0.2, 0.9, 1.4, 2.5]))],
    ids=["default", "saddle"],
)
def test_loss_tooltip_equals_core(page, server, query, spectrum):
    """Hover the loss's last point: the exact L(θ_T) the browser computed equals core's, 6 digits (a
    spectrum with λ < 0 too: positive and negative terms are summed apart)."""
    open_app(page, f"{server}/quadratic{query}")
    page.wait_for_selector(f"{LIVE} .vega-bindings input[type=range]")
    move_live(page, 0.6, release=False)
    page.wait_for_function(SHOWS, arg="η = 0.6")
    points = page.locator(f"{LIVE} g.mark-symbol.role-mark path")
    last = points.nth(points.count() - 1)  # the loss is the last view; its last point is t = T = 100
    last.scroll_into_view_if_needed()
    last.hover(force=True)
    tip = page.locator("#vg-tooltip-element")
    tip.wait_for(state="visible", timeout=5_000)
    text = tip.inner_text()
    assert "100" in text, text
    exact = float(re.search(r"L\(θₜ\)\s*([-−0-9.e+]+)", text).group(1).replace("−", "-"))
    assert exact == pytest.approx(q.loss_curve(spectrum, 0.6, np.ones(spectrum.size), 100)[-1], rel=1e-6)


def test_release_updates_sidebar_url_and_metrics_and_sidebar_moves_the_slider(page, server):
    open_app(page, f"{server}/quadratic")
    page.wait_for_selector(f"{LIVE} .vega-bindings input[type=range]")
    move_live(page, 2.2)
    page.wait_for_function("() => location.search.includes('lr=2.2')", timeout=15_000)
    wait_idle(page)
    assert page.get_by_label("η (exact)").input_value() == "2.2"
    metrics = page.eval_on_selector_all("[data-testid=stMetricValue]", "els => els.map(e => e.textContent)")
    assert "2.2" in metrics and "1.1" in metrics and "never" in metrics, metrics  # η, η/η_max, steps
    page.get_by_text("Diverges").first.wait_for()
    # The live chart was not re-embedded by its own release: the slider stays where it was let go.
    assert page.eval_on_selector(f"{LIVE} .vega-bindings input[type=range]", "e => e.value") == "2.2"
    # The sidebar's η moves the live slider and read-out.
    box = page.get_by_label("η (exact)")
    box.fill("0.8")
    box.press("Enter")
    wait_idle(page)
    page.wait_for_function(SHOWS, arg="η = 0.8")
    assert page.eval_on_selector(f"{LIVE} .vega-bindings input[type=range]", "e => e.value") == "0.8"


def test_clip_marker_and_hide(page, server):
    open_app(page, f"{server}/quadratic")
    page.wait_for_selector(f"{LIVE} .vega-bindings input[type=range]")
    texts = page.eval_on_selector_all(f"{LIVE} svg text", "els => els.map(e => e.textContent)")
    assert "< 1e-30" in texts
    open_app(page, f"{server}/quadratic?hide=lr,status")
    page.wait_for_selector(f"{LIVE} svg")
    assert page.locator(f"{LIVE} .vega-bindings input").count() == 0  # the live control hides with η
    assert not any(t.startswith("η = ") for t in readout(page))


def test_home_example_is_live_and_syncs_back(page, server):
    open_app(page, server)
    page.wait_for_selector(f"{LIVE} .vega-bindings input[type=range]")
    page.eval_on_selector(
        f"{LIVE} .vega-bindings input[type=range]",
        "e => { e.value = 2.2; e.dispatchEvent(new Event('input', {bubbles: true})); }",
    )
    page.wait_for_function(SHOWS, arg="oscillating blow-up")
    page.eval_on_selector(
        f"{LIVE} .vega-bindings input[type=range]", "e => e.dispatchEvent(new Event('change', {bubbles: true}))"
    )
    page.wait_for_function("() => location.search.includes('hx=2.2')", timeout=15_000)
    wait_idle(page)
    page.get_by_text("oscillating blow-up", exact=True).first.wait_for()
    screenshot(page, "home-live")


SIDEBAR = "input[type=range][aria-label='η']"  # the sidebar's coarse η slider (ui.live_slider)
MOVED_BEFORE_ANY_RERUN = """([selector, value, shows]) => new Promise((resolve) => {
  // Move the sidebar slider (in its component's shadow root) as a drag does: input events, no release;
  // wait for the read-out under the chart to show the value and report what the page showed then.
  const slider = [...document.querySelectorAll('*')].map((e) => e.shadowRoot?.querySelector(selector))
    .find(Boolean);
  slider.value = value;
  slider.dispatchEvent(new Event('input', {bubbles: true}));
  const poll = () => {
    if ([...document.querySelectorAll('svg text')].some((t) => t.textContent.startsWith(shows))) {
      resolve({url: location.search, box: document.querySelector("input[aria-label$='(exact)']").value,
               live: document.querySelector('.vega-bindings input[type=range]').value});
    } else requestAnimationFrame(poll);
  };
  poll();
})"""


def test_the_sidebar_slider_moves_every_view_in_the_browser_then_syncs_on_release(page, server):
    open_app(page, f"{server}/quadratic")
    page.wait_for_selector(f"{LIVE} .vega-bindings input[type=range]")
    before = view_markup(page)
    seen = page.evaluate(MOVED_BEFORE_ANY_RERUN, [SIDEBAR, 2.2, "η = 2.2"])
    # Drawn from the browser alone: the chart's own input follows, the box and the URL do not yet.
    assert seen["live"] == "2.2" and seen["box"] == "1.5" and "lr=2.2" not in seen["url"], seen
    after = view_markup(page)
    assert all(before[k] != after[k] for k in before), [k for k in before if before[k] == after[k]]
    page.locator(SIDEBAR).dispatch_event("change")  # released: the chart's selection brings it to Python
    page.wait_for_function("() => location.search.includes('lr=2.2')", timeout=15_000)
    wait_idle(page)
    assert page.get_by_label("η (exact)").input_value() == "2.2"
    page.get_by_text("Diverges").first.wait_for()
    assert page.locator(SIDEBAR).input_value() == "2.2"


def test_the_chart_slider_moves_the_sidebar_slider(page, server):
    open_app(page, f"{server}/quadratic")
    page.wait_for_selector(f"{LIVE} .vega-bindings input[type=range]")
    move_live(page, 0.7, release=False)
    assert page.locator(SIDEBAR).input_value() == "0.7"


def test_the_sidebar_slider_in_units_of_eta_max_drives_the_chart_in_eta(page, server):
    open_app(page, f"{server}/quadratic?rel=true&lrr=0.5")
    page.wait_for_selector(f"{LIVE} .vega-bindings input[type=range]")
    seen = page.evaluate(MOVED_BEFORE_ANY_RERUN, ["input[type=range][aria-label='η / η_max']", 0.9, "η = 1.8"])
    assert seen["live"] == "1.8", seen  # 0.9 η_max with η_max = 2


def test_with_the_chart_slider_hidden_the_sidebar_slider_reruns_on_release(page, server):
    open_app(page, f"{server}/quadratic?hide=live")
    page.wait_for_selector(f"{LIVE} svg")
    assert page.locator(f"{LIVE} .vega-bindings input").count() == 0
    page.locator(SIDEBAR).evaluate(
        "e => { e.value = 0.6; e.dispatchEvent(new Event('input', {bubbles: true}));"
        " e.dispatchEvent(new Event('change', {bubbles: true})); }"
    )
    page.wait_for_function("() => location.search.includes('lr=0.6')", timeout=15_000)
    wait_idle(page)
    page.wait_for_function(SHOWS, arg="η = 0.6")
    box = page.get_by_label("η (exact)")
    box.fill("0.3")
    box.press("Enter")
    page.wait_for_function("() => location.search.includes('lr=0.3')", timeout=15_000)
    wait_idle(page)
    # Released at 0.6 again (the value it sent before): still news.
    page.locator(SIDEBAR).evaluate(
        "e => { e.value = 0.6; e.dispatchEvent(new Event('input', {bubbles: true}));"
        " e.dispatchEvent(new Event('change', {bubbles: true})); }"
    )
    page.wait_for_function("() => location.search.includes('lr=0.6')", timeout=15_000)
