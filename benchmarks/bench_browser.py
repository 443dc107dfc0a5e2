"""What a user feels on the quadratic and home pages, measured in Debian's Chromium against a real
`streamlit run` on loopback, beside the one-chart floor app (loadtest/minimal_app.py) in the same run.

    python benchmarks/bench_browser.py [--moves 25]

Prints a table (each row as it is measured) with each figure's ratio to the floor's; writes nothing.
At n = 10, 1,000 and 10,000 eigenvalues:
- load: navigation start → every chart drawn with marks and the script finished, new visitor
  (a new browser profile: empty HTTP cache);
- live η → every view repainted: an input event on the live chart's η slider → the chart's SVG
  changed (Vega redraws the whole compound chart in one pass) → the next frame, no rerun;
- sidebar η → last chart repainted: the key press on the sidebar's η slider → a chart's SVG changed
  and painted. That slider drives the live chart in the browser (ui.live_slider), so this is the
  browser's time; the release then reaches Python (box, URL, metrics) after the repaint;
- sidebar exact η → repainted: a new value typed in the exact box, Enter → the chart's SVG changed,
  through a Python rerun (the chart updated in place with the new η).
The floor: its slider → its chart repainted, and its load, by the same code.
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

WATCH_PAGE = """() => { window.__latency = new Promise((resolve) => {
  // Watch every chart of the page: resolve at the first change inside an SVG after the key press
  // (Vega redraws a compound chart in one pass), once painted.
  const main = document.querySelector('[data-testid=stMain]') || document.body;
  let pressed = null;
  document.addEventListener('keydown', (e) => { pressed = e.timeStamp; }, {capture: true, once: true});
  const inSvg = (n) => n && (n.nodeName === 'svg' || (n.closest && n.closest('svg')));
  const obs = new MutationObserver((records) => {
    if (pressed === null) return;
    if (!records.some((r) => inSvg(r.target) || [...r.addedNodes].some(inSvg))) return;
    obs.disconnect();
    requestAnimationFrame(() => resolve(performance.now() - pressed));
  });
  obs.observe(main, {subtree: true, childList: true, attributes: true, characterData: true});
  setTimeout(() => { obs.disconnect(); resolve(-1); }, 10000);
}); }"""

LIVE_MOVE = """([value]) => new Promise((resolve) => {
  // One move of the live η: an input event on its slider → every view of the compound chart
  // redrawn (Vega renders the whole scene in one pass) → the next frame painted.
  const chart = document.querySelector('[data-testid=stVegaLiteChart]');
  const input = chart.querySelector('.vega-bindings input[type=range]');
  const obs = new MutationObserver(() => {
    obs.disconnect();
    requestAnimationFrame(() => resolve(performance.now() - t0));
  });
  obs.observe(chart.querySelector('svg'), {subtree: true, childList: true, attributes: true, characterData: true});
  input.dispatchEvent(new PointerEvent('pointerdown', {bubbles: true}));
  const t0 = performance.now();
  input.value = value;
  input.dispatchEvent(new Event('input', {bubbles: true}));
  setTimeout(() => { obs.disconnect(); resolve(-1); }, 5000);
})"""


def live_moves(browser, url: str, moves: int) -> list[float]:
    """The live η slider moved `moves` times (as during a drag): ms until every view is repainted."""
    pg = browser.new_page(viewport={"width": 1280, "height": 900})
    pg.goto(url)
    pg.wait_for_selector(".vega-bindings input[type=range]", timeout=60_000)
    idle(pg, 1)
    top = float(pg.eval_on_selector(".vega-bindings input[type=range]", "e => e.max"))
    times = []
    for i in range(moves):
        value = top * (0.2 + 0.6 * ((i * 7) % moves) / moves)
        t = pg.evaluate(LIVE_MOVE, [value])
        if t > 0:
            times.append(t)
    pg.close()
    return times


def _repaints(browser, url: str, moves: int, ready, act) -> list[float]:
    """Open url; ready(page) → the control; then per move act(control, i) → a chart's SVG changed and
    painted, timed from the key press (any chart: see WATCH_PAGE)."""
    pg = browser.new_page(viewport={"width": 1280, "height": 900})
    pg.goto(url)
    idle(pg, 1)
    control = ready(pg)
    times = []
    for i in range(moves):
        pg.evaluate(WATCH_PAGE)  # arms the observer; the key press starts the clock
        act(control, i)
        value = pg.evaluate("() => window.__latency")
        if value > 0:
            times.append(value)
        idle(pg, 1)
    pg.close()
    return times


def sidebar_repaint(browser, url: str, label: str, moves: int) -> list[float]:
    """Arrow keys on a sidebar slider (wandering, in range) → a chart repainted."""

    def ready(pg):
        thumb = pg.locator(f"input[type=range][aria-label='{label}']").first
        thumb.focus()
        return thumb

    def act(thumb, i):
        thumb.press("ArrowRight" if (i // 5) % 2 == 0 else "ArrowLeft")

    return _repaints(browser, url, moves, ready, act)


def box_repaint(browser, url: str, label: str, moves: int) -> list[float]:
    """A value typed in the exact box and Enter → a chart repainted (a rerun); five values in turn."""

    def ready(pg):
        box = pg.get_by_label(label)
        return box, float(box.input_value())

    def act(control, i):
        box, start = control
        box.fill(f"{start + 0.01 * (1 + i % 5):.6g}")  # (no key event: the clock starts at Enter)
        box.press("Enter")

    return _repaints(browser, url, moves, ready, act)


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--moves", type=int, default=25)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from loadtest.client import start_server as launch

    path = chromium_path()
    if path is None:
        sys.exit("no Chromium: apt-get install -y chromium")
    proc, url = start_server()
    floor = launch(ROOT / "loadtest" / "minimal_app.py")
    rows: list[tuple[str, list[float]]] = []
    floor_of: dict[str, float] = {}

    def report(name: str, values: list[float]) -> None:
        """Print a row as soon as it is measured (a later failure keeps what was measured)."""
        rows.append((name, values))
        if not values:
            print(f"{name:<52} {0:>3} {'—':>8} {'—':>8}", flush=True)
            return
        median = statistics.median(values)
        if name.startswith("FLOOR"):
            floor_of["load" if "load" in name else "repaint"] = median
        base = floor_of.get("load") if "load" in name else floor_of.get("repaint") if "sidebar" in name else None
        ratio = f"{median / base:8.2f}" if base and not name.startswith("FLOOR") else ""
        print(f"{name:<52} {len(values):>3} {median:>8.1f} {percentile(values, 95):>8.1f} {ratio}", flush=True)

    print(f"{'measure (ms)':<52} {'n':>3} {'median':>8} {'p95':>8} {'÷ floor':>8}", flush=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            report("first load on a fresh server, quadratic", [page_load(context, f"{url}/quadratic")])
            context.close()
            # The floor app, served beside the app and measured by the same code in the same run.
            report("FLOOR load: new visitor (empty cache)", loads(browser, floor.url)[0])
            report("FLOOR slider → repaint", sidebar_repaint(browser, floor.url, "frequency", args.moves))
            for n in (10, 1_000, 10_000):
                page = f"{url}/quadratic?n={n}"
                report(f"n={n:,}: load, new visitor, all charts drawn", loads(browser, page)[0])
                report(f"n={n:,}: live η → every view repainted", live_moves(browser, page, args.moves))
                report(f"n={n:,}: sidebar η → last chart repainted", sidebar_repaint(browser, page, "η", args.moves))
                typed = box_repaint(browser, page, "η (exact)", args.moves)
                report(f"n={n:,}: sidebar exact η (rerun) → repainted", typed)
            report("home: load, new visitor", loads(browser, url)[0])
            browser.close()
    finally:
        stop_server(proc)
        floor.stop()


if __name__ == "__main__":
    main()
