"""Timings of core.quadratic and of every page's script run through AppTest.

    python benchmarks/bench_pages.py

Prints a table; writes nothing. The page figures are whole script runs (widgets, core, frames,
chart specs and Arrow serialisation), without the browser's share.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import quadratic as q  # noqa: E402


def timed(fn, repeat: int = 5) -> float:
    """Median wall time in ms over `repeat` calls (after one warm-up)."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def bench_core() -> None:
    print("core.quadratic (median ms)")
    print(f"{'n':>7} {'T':>8} {'iterates (all t)':>17} {'sampled t (150)':>16} {'loss (sampled)':>15}")
    for n in (10, 1_000, 10_000):
        lam = np.linspace(0.01, 1.0, n)
        theta0 = np.ones(n)
        for steps in (100, 10_000, 100_000):
            # The full (T+1) × n array is what the API offers; the page only ever asks for 150 steps.
            full = (
                "—"
                if (steps + 1) * n > 2e8
                else f"{timed(lambda lam=lam, th=theta0, T=steps: q.iterates(lam, 1.5, th, T), 3):.2f}"
            )
            t = q.sample_steps(steps)
            sampled = timed(lambda lam=lam, th=theta0, t=t: q.iterates_at(lam, 1.5, th, t))
            loss = timed(lambda lam=lam, th=theta0, t=t: q.log_loss(lam, 1.5, th, t))
            print(f"{n:>7,} {steps:>8,} {full:>17} {sampled:>16.2f} {loss:>15.2f}")


def bench_pages() -> None:
    from streamlit.testing.v1 import AppTest

    cases = [
        ("home", {}, "defaults"),
        ("quadratic", {}, "defaults"),
        ("quadratic", {"preset": "neural-net-like", "n": "10000", "T": "100000"}, "caps: n = 10,000, T = 100,000"),
        ("trajectory", {}, "defaults"),
        ("trajectory", {"method": "Nesterov", "beta": "0.99", "T": "100000"}, "caps: T = 100,000, β = 0.99"),
        ("momentum", {"method": "heavy ball"}, "defaults (heavy ball)"),
        ("momentum", {"method": "heavy ball", "n": "10000", "T": "100000"}, "caps: n = 10,000, T = 100,000"),
        ("toy", {}, "defaults"),
        ("toy", {"tsteps": "100000", "teta": "0.3"}, "caps: T = 100,000"),
        ("eos", {"flow": "false"}, "defaults, run cached (rerun)"),
    ]
    print("\npage script runs through AppTest (median of 5 reruns, ms)")
    print(f"{'page':<12} {'case':<40} {'first run':>10} {'rerun':>8}")
    for page, query, label in cases:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        for k, v in query.items():
            at.query_params[k] = v
        at.switch_page(f"pages/{page}.py")
        start = time.perf_counter()
        at.run()
        first = (time.perf_counter() - start) * 1e3
        assert not at.exception, at.exception
        rerun = timed(at.run)
        print(f"{page:<12} {label:<40} {first:>10.1f} {rerun:>8.1f}")


if __name__ == "__main__":
    bench_core()
    bench_pages()
