"""Helpers for AppTest (run a page through app.py's router and read every chart's data), and for the
tests that speak Streamlit's protocol through loadtest/client.py (run_async)."""

import asyncio
import concurrent.futures
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from streamlit.testing.v1 import AppTest

VERDICTS = ("Converges", "Diverges", "Oscillates forever", "Does not move")
APP = str(Path(__file__).resolve().parent.parent / "app.py")


def run_async(coro, timeout: float = 120):
    """Run the coroutine on an event loop of its own thread: the browser tests' session-wide Playwright
    (sync API) keeps a loop running on this thread, where asyncio.run() refuses to start."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, asyncio.wait_for(coro, timeout)).result()


def open_page(page: str, query: dict | None = None, timeout: float = 60) -> AppTest:
    """An AppTest of app.py switched to pages/<page>.py, with optional URL query parameters."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.switch_page(f"pages/{page}.py")
    return at.run()


def chart_frames(at: AppTest) -> list[dict[str, pd.DataFrame]]:
    """For each vega-lite chart on the page, the DataFrames it carries, by dataset name."""
    return [
        {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets}
        for chart in at.get("vega_lite_chart")
    ]


def live_now(at: AppTest, index: int = 0) -> dict[str, float]:
    """The sidebar's live values a chart carries (its one-row dataset "now": ui.live.live_params)."""
    return {k: float(v) for k, v in chart_frames(at)[index]["now"].iloc[0].items()}


def assert_charts_clean(at: AppTest, max_rows: int = 5_000) -> None:
    """No exception; every chart present, without NaN/inf in numeric columns, and bounded."""
    assert not at.exception, [e.value for e in at.exception]
    charts = chart_frames(at)
    assert charts, "no chart rendered"
    for i, frames in enumerate(charts):
        total = sum(len(f) for f in frames.values())
        assert total <= max_rows, f"chart {i} carries {total} rows"
        assert total > 0, f"chart {i} is empty"
        for f in frames.values():
            numeric = f.select_dtypes(include="number")
            assert np.isfinite(numeric.to_numpy(dtype=float)).all(), f"chart {i} carries NaN/inf:\n{numeric}"


def status_text(at: AppTest) -> str:
    """The quadratic page's status line (the first success/warning/error/info box)."""
    for kind in ("success", "warning", "error", "info"):
        for el in at.get(kind):
            if any(f"**{verdict}.**" in el.value for verdict in VERDICTS):
                return el.value
    return ""
