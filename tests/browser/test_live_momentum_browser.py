"""Live η and β on the trajectory and momentum pages, in Chromium: the sliders under each page's compound
chart recompute every view in the browser, the closed form equals core.momentum's, and releasing a slider
sets the sidebar, the metrics and the URL."""

import json
import re

import numpy as np
import pytest

from core import momentum, plane
from tests.browser.conftest import open_app, screenshot, wait_idle
from tests.browser.test_live_eta_browser import LIVE, view_markup
from ui.live_momentum import METHOD_CODE, closed_form


def live_input(name: str) -> str:
    return f"{LIVE} .vega-bindings input[name={'lr' if name == 'η' else 'mb'}]"


def move(pg, name: str, value: float, release: bool = True) -> float:
    """Move one live slider as a drag does (pointer down, input events), then let go; returns the value
    the slider holds (its nearest step)."""
    return pg.eval_on_selector(
        live_input(name),
        """(e, [v, release]) => {
              e.dispatchEvent(new PointerEvent('pointerdown', {bubbles: true, composed: true}));
              e.value = v; e.dispatchEvent(new Event('input', {bubbles: true}));
              if (release) {
                e.dispatchEvent(new Event('change', {bubbles: true}));
                window.dispatchEvent(new PointerEvent('pointerup', {bubbles: true}));
              }
              return Number(e.value); }""",
        [value, release],
    )


def readout(pg) -> str:
    texts = pg.eval_on_selector_all(f"{LIVE} svg text", "els => els.map(e => e.textContent)")
    return next(t for t in texts if t.startswith("η = "))


def wait_readout(pg, fragment: str) -> None:
    pg.wait_for_function(
        "(f) => [...document.querySelectorAll('svg text')].some(t => t.textContent.startsWith('η = ') && "
        "t.textContent.includes(f))",
        arg=fragment,
        timeout=15_000,
    )


@pytest.mark.parametrize(
    "path,views",
    [("trajectory?method=heavy+ball&beta=0.5", 2), ("momentum?method=heavy+ball&beta=0.5", 2)],
    ids=["trajectory", "momentum"],
)
def test_live_eta_and_beta_change_every_view_in_the_browser(page, server, path, views):
    open_app(page, f"{server}/{path}")
    page.wait_for_selector(live_input("η"))
    for name, value in (("η", 2.9), ("β", 0.85)):
        before, text = view_markup(page), readout(page)
        assert len(before) >= views, before.keys()  # the two pictures (the read-out apart)
        value = move(page, name, value, release=False)
        wait_readout(page, f"{name} = {value:.6g}")
        page.wait_for_timeout(300)
        after = view_markup(page)
        changed = [v for v in before if before[v] != after.get(v)]
        assert set(changed) == set(before), f"{name}: unchanged views {set(before) - set(changed)}"
        assert readout(page) != text
    screenshot(page, f"{path.split('?')[0]}-live-moved")


@pytest.mark.parametrize("path", ["trajectory", "momentum"])
def test_release_sets_sidebar_url_and_metrics(page, server, path):
    open_app(page, f"{server}/{path}?method=heavy+ball&beta=0.5")
    page.wait_for_selector(live_input("β"))
    beta = move(page, "β", 0.8)
    page.wait_for_function("(b) => location.search.includes('beta=' + b)", arg=f"{beta:.6g}", timeout=15_000)
    wait_idle(page)
    eta = move(page, "η", 2.2)
    page.wait_for_function("(v) => location.search.includes('lr=' + v)", arg=f"{eta:.6g}", timeout=15_000)
    wait_idle(page)
    assert float(page.get_by_label("η (exact)").input_value()) == pytest.approx(eta, rel=1e-5)  # shown to 6 digits
    assert float(page.get_by_label("momentum β (exact)").input_value()) == pytest.approx(beta, rel=1e-5)
    metrics = page.eval_on_selector_all("[data-testid=stMetricValue]", "els => els.map(e => e.textContent)")
    lam = [0.2, 1.0] if path == "trajectory" else np.linspace(0.1, 1.0, 10)
    rate = momentum.rate(lam, eta, beta, "heavy_ball")
    assert f"{rate:.6g}" in metrics, (rate, metrics)
    # The chart was not re-embedded by its own release: both sliders stay where they were let go.
    assert float(page.eval_on_selector(live_input("η"), "e => e.value")) == eta
    assert float(page.eval_on_selector(live_input("β"), "e => e.value")) == beta
    # The sidebar moves the live sliders.
    box = page.get_by_label("η (exact)")
    box.fill("0.7")
    box.press("Enter")
    wait_idle(page)
    wait_readout(page, "η = 0.7")
    assert float(page.eval_on_selector(live_input("η"), "e => e.value")) == pytest.approx(0.7, abs=0.02)
    # A β released now carries the η slider's older release along: the sidebar's η (0.7) must stay.
    beta = move(page, "β", 0.3)
    page.wait_for_function("(b) => location.search.includes('beta=' + b)", arg=f"{beta:.6g}", timeout=15_000)
    wait_idle(page)
    assert page.get_by_label("η (exact)").input_value() == "0.7"
    assert "lr=0.7" in page.url


@pytest.mark.parametrize("eta,beta", [(0.37, 0.5), (1.8, 0.9), (3.5, 0.8), (2.0, 0.0)])
def test_trajectory_readout_rate_equals_core(page, server, eta, beta):
    open_app(page, f"{server}/trajectory?method=heavy+ball&beta=0.5")
    page.wait_for_selector(live_input("β"))
    beta = move(page, "β", beta, release=False)
    wait_idle(page)  # a slider at rest ≥ 150 ms is sent to Python too
    eta = move(page, "η", eta, release=False)
    wait_idle(page)
    wait_readout(page, f"η = {eta:.6g}")
    wait_readout(page, f"β = {beta:.6g}")
    print(readout(page))
    rho = float(re.search(r"rate ρ = ([0-9.e+-]+)", readout(page)).group(1))
    assert rho == pytest.approx(momentum.rate([0.2, 1.0], eta, beta, "heavy_ball"), rel=1e-6)


def test_coordinate_tooltip_equals_core(page, server):
    """Hover the last point of the eigen-coordinates: the browser's exact θ̃_T equals core.momentum's."""
    open_app(page, f"{server}/trajectory?method=Nesterov&beta=0.7&lr=0.9")
    page.wait_for_selector(live_input("η"))
    points = page.locator(f"{LIVE} g.mark-symbol.role-mark path")
    last = points.nth(points.count() - 1)  # the coordinates view is the last; its last point is t = T = 100
    last.scroll_into_view_if_needed()
    last.hover(force=True)
    tip = page.locator("#vg-tooltip-element")
    tip.wait_for(state="visible", timeout=5_000)
    text = tip.inner_text()
    value = float(re.search(r"θ̃ₜ,ᵢ\s*([-−0-9.e+]+)", text).group(1).replace("−", "-"))
    u0 = plane.to_eigen([-2.0, 1.5], np.radians(30))
    exact = momentum.iterates_at([0.2, 1.0], 0.9, 0.7, u0, np.array([100]), "nesterov")[0]
    assert "100" in text and any(value == pytest.approx(v, rel=1e-6) for v in exact), (text, exact)


def test_closed_form_in_the_browser_equals_core(page, server):
    """The Vega expressions of the closed form, run by Chromium's JavaScript over a grid of methods, β, h
    (real, complex and repeated roots, the edges, saddles) and t ≤ 100,000, against core.momentum."""
    open_app(page, f"{server}/trajectory")
    steps = closed_form("datum.h", "datum.beta", "datum.m")
    rows, expected = [], []
    t = np.array([0, 1, 2, 3, 7, 50, 100, 1_000, 100_000])
    for method in ("gd", "heavy_ball", "nesterov"):
        for beta in (0.0, 0.3, 0.81, 0.99):
            for h in (0.0, 1e-6, 0.05, (1 - beta**0.5) ** 2, 0.5, 1.0, 1.7, (1 + beta**0.5) ** 2, 2.0, 3.3, -0.1):
                u = momentum.iterates_at([h], 1.0, beta, [1.0], t, method)[:, 0]
                for tt, v in zip(t, u, strict=True):
                    rows.append({"m": METHOD_CODE[method], "beta": beta, "h": h, "t": int(tt)})
                    expected.append(v)
    got = page.evaluate(
        """([steps, rows]) => {
            const fns = Object.entries(steps).map(([k, e]) =>
              [k, new Function('datum', 'with (Math) { return (' + e + '); }')]);
            return rows.map(d => { for (const [k, f] of fns) d[k] = f(d); return [String(d._lc), d._sc]; });
        }""",
        [steps, rows],
    )
    checked = 0
    for (lc, sc), v, row in zip(got, expected, rows, strict=True):
        lc = float(lc)
        if row["t"] <= 3 and abs(v) < 1e-12:  # a true zero (e.g. heavy ball at h = 1, t = 1): both are rounding
            continue
        if not np.isfinite(v):
            assert lc > 300 and sc == np.sign(v), (row, lc, v)
            continue
        assert sc * 10.0**lc == pytest.approx(v, rel=1e-6), json.dumps(row)
        checked += 1
    assert checked > 1_000


@pytest.mark.parametrize("path", ["trajectory", "momentum"])
def test_the_sidebar_sliders_drive_the_live_eta_and_beta_in_the_browser(page, server, path):
    """The sidebar's coarse η and β sliders (ui.live_slider) move the chart's inputs, and so every view,
    without waiting for a rerun; released, the value reaches the exact box and the URL."""
    open_app(page, f"{server}/{path}?method=heavy+ball&beta=0.5")
    page.wait_for_selector(live_input("η"))
    # β = 0.5 lies between two steps of the slider's grid: the thumb sits at the nearest step, the
    # number shown is the value itself.
    shown = page.locator(".live-slider:has(input[aria-label='momentum β']) output")
    assert shown.inner_text() == "0.5"
    for label, name, value in (("η", "η", 0.4), ("momentum β", "β", 0.25)):
        slider = page.locator(f"input[type=range][aria-label='{label}']")
        slider.evaluate("(e, v) => { e.value = v; e.dispatchEvent(new Event('input', {bubbles: true})); }", value)
        value = float(slider.input_value())  # on the live input's grid: both handles show one number
        assert page.eval_on_selector(live_input(name), "e => Number(e.value)") == pytest.approx(value, rel=1e-12)
        wait_readout(page, f"{name} = {value:.6g}")
        slider.dispatch_event("change")
        key = "lr" if name == "η" else "beta"
        page.wait_for_function(f"() => location.search.includes('{key}={value}')", timeout=15_000)
        wait_idle(page)
        assert page.get_by_label(f"{label} (exact)").input_value() == str(value)


def _error_lines(pg) -> list[str]:
    """The momentum page's error view: each line's path, solid ones (the method's series) first."""
    return pg.eval_on_selector_all(
        f"{LIVE} g.mark-line.role-mark path",
        """els => els.filter(e => e.getAttribute('d').startsWith('M0,'))
                    .map(e => [e.getAttribute('stroke-dasharray'), e.getAttribute('d')])
                    .sort((a, b) => (a[0] === '1,0' ? 0 : 1) - (b[0] === '1,0' ? 0 : 1)).map(x => x.join(' '))""",
    )


def test_polyak_curves_with_gd_equal_heavy_ball_at_the_optimum(page, server):
    """With GD chosen the solid curves are Polyak's heavy ball at (η*, β*), which travel as data (the chart's
    "now"), not in the spec: they are drawn exactly as heavy ball's own curves at that η and β."""
    best = momentum.optimal(np.linspace(0.1, 1.0, 10))
    lines = {}
    for method in ("gradient+descent", "heavy+ball"):
        open_app(page, f"{server}/momentum?method={method}&lr={best['lr']!r}&beta={best['beta']!r}")
        page.wait_for_selector(live_input("η"))
        wait_idle(page)
        lines[method] = _error_lines(page)
    assert len(lines["heavy+ball"]) == 12, lines  # six directions, each under both methods
    assert lines["gradient+descent"] == lines["heavy+ball"]
