"""Live η and β on the trajectory and momentum pages, in Debian's Chromium, beside the one-chart floor app
(loadtest/minimal_app.py) served and measured by the same code in the same run.

    python benchmarks/bench_live_momentum.py [--moves 25]

Prints a table; writes nothing. Figures (ms, median and p95):
- live η / live β → every view of the page's compound chart repainted (an input event on the slider under
  the chart → the SVG changed → the next frame painted; no Python rerun);
- sidebar η → a chart repainted (key press → SVG changed): the sidebar's slider drives the live chart in the
  browser (ui.live_slider); the floor app's slider goes through a Python rerun;
- sidebar exact η typed (Enter) → a chart repainted, through a Python rerun;
- load, new visitor (empty cache) until every chart is drawn, and the floor app's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_browser import box_repaint, idle, loads, percentile, sidebar_repaint  # noqa: E402
from tests.browser.conftest import CHROMIUM_ARGS, chromium_path, start_server, stop_server  # noqa: E402

MOVE = """([name, value]) => new Promise((resolve) => {
  const chart = document.querySelector('[data-testid=stVegaLiteChart]');
  const input = chart.querySelector(`.vega-bindings input[name=${name}]`);
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


def live_moves(browser, url: str, name: str, moves: int) -> list[float]:
    """One live slider (lr: η, mb: β) moved `moves` times, as in a drag: ms until repainted."""
    pg = browser.new_page(viewport={"width": 1280, "height": 900})
    pg.goto(url)
    pg.wait_for_selector(f".vega-bindings input[name={name}]", timeout=60_000)
    idle(pg, 1)
    top = float(pg.eval_on_selector(f".vega-bindings input[name={name}]", "e => e.max"))
    times = []
    for i in range(moves):
        value = top * (0.2 + 0.6 * ((i * 7) % moves) / moves)
        t = pg.evaluate(MOVE, [name, value])
        if t > 0:
            times.append(t)
    pg.close()
    return times


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
    base: dict[str, float] = {}

    def report(name: str, values: list[float], against: str | None = None) -> None:
        if not values:
            print(f"{name:<58} {0:>3} {'—':>8} {'—':>8}", flush=True)
            return
        median = statistics.median(values)
        ratio = f"{median / base[against]:8.2f}" if against in base else ""
        print(f"{name:<58} {len(values):>3} {median:>8.1f} {percentile(values, 95):>8.1f} {ratio}", flush=True)
        if name.startswith("FLOOR"):
            base["load" if "load" in name else "repaint"] = median

    print(f"{'measure (ms)':<58} {'n':>3} {'median':>8} {'p95':>8} {'÷ floor':>8}", flush=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
            # Warm the app's server once (imports, caches): the figures are for a running server.
            loads(browser, f"{url}/trajectory", repeat=1)
            report("FLOOR load: new visitor (empty cache)", loads(browser, floor.url)[0])
            floor_moves = sidebar_repaint(browser, floor.url, "frequency", args.moves)
            report("FLOOR slider → repaint (one chart, Python rerun)", floor_moves)
            pages = [
                ("trajectory, GD", "trajectory"),
                ("trajectory, heavy ball", "trajectory?method=heavy+ball&beta=0.8"),
                ("momentum, heavy ball (n = 10)", "momentum?method=heavy+ball&beta=0.6"),
                ("momentum, Nesterov (n = 1,000)", "momentum?method=Nesterov&beta=0.6&n=1000"),
            ]
            for name, page in pages:
                full = f"{url}/{page}"
                report(f"{name}: load, new visitor, all drawn", loads(browser, full)[0], "load")
                report(f"{name}: live η → every view repainted", live_moves(browser, full, "lr", args.moves))
                if "beta" in page:
                    report(f"{name}: live β → every view repainted", live_moves(browser, full, "mb", args.moves))
                report(f"{name}: sidebar η → repainted", sidebar_repaint(browser, full, "η", args.moves), "repaint")
                report(
                    f"{name}: sidebar exact η (rerun) → repainted",
                    box_repaint(browser, full, "η (exact)", args.moves),
                    "repaint",
                )
            browser.close()
    finally:
        stop_server(proc)
        floor.stop()


if __name__ == "__main__":
    main()
