"""What a user feels, measured in Debian's Chromium against a real `streamlit run` on loopback.

    python benchmarks/bench_browser.py [--moves 25]

Prints a table; writes nothing. Figures:
- page load: navigation start → every chart drawn and the script finished: the first visit to a
  freshly started server, then new visitors (empty browser cache) and return visits (cached);
- slider → repaint through a Python rerun: the key press on the sidebar η slider (event.timeStamp)
  → the first change of a chart's SVG (MutationObserver), median and p95 over the moves;
- the in-chart η scrubber: an input event on the Vega-Lite slider → the SVG change, no rerun.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM_ARGS, chromium_path, start_server, stop_server  # noqa: E402

WATCH = """([chartIndex]) => { window.__latency = new Promise((resolve) => {
  // Watch the chart's whole element: Vega may redraw into the same SVG or a new one. Count only
  // changes inside an SVG (the alt text on the container changes too, and is not a repaint).
  const chart = document.querySelectorAll('[data-testid=stVegaLiteChart]')[chartIndex];
  let pressed = null;
  document.addEventListener('keydown', (e) => { pressed = e.timeStamp; }, {capture: true, once: true});
  const inSvg = (n) => n && (n.nodeName === 'svg' || (n.closest && n.closest('svg')));
  const obs = new MutationObserver((records) => {
    if (pressed === null) return;
    const drawn = records.some((r) => inSvg(r.target) || [...r.addedNodes].some(inSvg));
    if (!drawn) return;
    obs.disconnect();
    resolve(performance.now() - pressed);
  });
  obs.observe(chart, {subtree: true, childList: true, attributes: true, characterData: true});
  setTimeout(() => { obs.disconnect(); resolve(-1); }, 10000);
}); }"""

SCRUB = """([chartIndex, value]) => new Promise((resolve) => {
  const chart = document.querySelectorAll('[data-testid=stVegaLiteChart]')[chartIndex];
  const svg = chart.querySelector('svg');
  const input = chart.querySelector('.vega-bindings input[type=range]');
  const obs = new MutationObserver(() => {
    obs.disconnect();
    requestAnimationFrame(() => resolve(performance.now() - t0));
  });
  obs.observe(svg, {subtree: true, childList: true, attributes: true, characterData: true});
  const t0 = performance.now();
  input.value = value;
  input.dispatchEvent(new Event('input', {bubbles: true}));
  setTimeout(() => { obs.disconnect(); resolve(-1); }, 5000);
})"""


def idle(pg, charts: int = 1) -> None:
    """The rerun has finished and at least `charts` charts have their SVG."""
    pg.wait_for_timeout(250)
    pg.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=60_000)
    pg.wait_for_function(
        f"[...document.querySelectorAll('[data-testid=stVegaLiteChart]')].slice(0, {charts})"
        f".filter(c => c.querySelector('svg')).length >= {charts}",
        timeout=60_000,
    )


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def page_load(context, url: str) -> float:
    """Navigation start → every chart of the page drawn and the script finished, in ms."""
    pg = context.new_page()
    start = time.perf_counter()
    pg.goto(url)
    pg.wait_for_function(
        "() => { const c = [...document.querySelectorAll('[data-testid=stVegaLiteChart]')];"
        " return c.length > 0 && c.every(e => e.querySelector('svg .mark-line, svg .mark-symbol, svg .mark-rect')); }",
        timeout=60_000,
    )
    pg.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=60_000)
    elapsed = (time.perf_counter() - start) * 1e3
    pg.close()
    return elapsed


def loads(browser, url: str, repeat: int = 3) -> tuple[list[float], list[float]]:
    """(cold, warm): a new browser profile each time (empty HTTP cache: a first visit), then the
    same page again in a profile that has it cached (a return visit)."""
    cold, warm = [], []
    for _ in range(repeat):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        cold.append(page_load(context, url))
        warm.append(page_load(context, url))
        context.close()
    return cold, warm


def slider_repaint(browser, url: str, label: str, chart_index: int, moves: int) -> list[float]:
    pg = browser.new_page(viewport={"width": 1280, "height": 900})
    pg.goto(url)
    idle(pg, chart_index + 1)
    thumb = pg.locator(f"[data-testid=stSlider] input[type=range][aria-label='{label}']")
    thumb.focus()
    times = []
    for i in range(moves):
        key = "ArrowRight" if (i // 5) % 2 == 0 else "ArrowLeft"  # wander, stay in range
        pg.evaluate(WATCH, [chart_index])  # arms the observer; the key press starts the clock
        thumb.press(key)
        value = pg.evaluate("() => window.__latency")
        if value > 0:
            times.append(value)
        idle(pg, chart_index + 1)
    pg.close()
    return times


def scrubber(browser, url: str, chart_index: int, moves: int) -> list[float]:
    pg = browser.new_page(viewport={"width": 1280, "height": 900})
    pg.goto(url)
    pg.wait_for_selector(".vega-bindings input[type=range]", timeout=60_000)
    idle(pg, chart_index + 1)
    top = float(pg.eval_on_selector(".vega-bindings input[type=range]", "e => e.max"))
    times = []
    for i in range(moves):
        value = top * (0.2 + 0.6 * ((i * 7) % moves) / moves)
        t = pg.evaluate(SCRUB, [chart_index, value])
        if t > 0:
            times.append(t)
    pg.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--moves", type=int, default=25)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:
        sys.exit("no Chromium: apt-get install -y chromium")
    proc, url = start_server()
    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            rows.append(("first load on a fresh server, quadratic", [page_load(context, f"{url}/quadratic")]))
            context.close()
            for name, path in (("home", ""), ("quadratic", "/quadratic"), ("momentum", "/momentum")):
                cold, warm = loads(browser, f"{url}{path}")
                rows.append((f"load, {name}: new visitor (empty cache)", cold))
                rows.append((f"load, {name}: return visit (cached)", warm))
            rows.append(
                (
                    "quadratic: sidebar η slider → repaint",
                    slider_repaint(browser, f"{url}/quadratic", "η", 0, args.moves),
                )
            )
            rows.append(
                (
                    "momentum: sidebar β slider → repaint",
                    slider_repaint(browser, f"{url}/momentum?method=heavy+ball", "momentum β", 0, args.moves),
                )
            )
            rows.append(
                ("quadratic: in-chart η scrubber → repaint", scrubber(browser, f"{url}/quadratic", 1, args.moves))
            )
            browser.close()
    finally:
        stop_server(proc)
    print(f"{'measure (ms)':<44} {'n':>3} {'median':>8} {'p95':>8}")
    for name, values in rows:
        if not values:
            print(f"{name:<44} {0:>3} {'—':>8} {'—':>8}")
            continue
        print(f"{name:<44} {len(values):>3} {statistics.median(values):>8.1f} {percentile(values, 95):>8.1f}")


if __name__ == "__main__":
    main()
