"""One chart builder per picture, and the one function that renders them.

A builder returns an Altair chart whose layers read *named* datasets (alt.Data(name=...)); it
depends only on layout options (presentation mode, axis type), never on the data or on η.
`show` turns the chart into a Vega-Lite spec once per option set (Altair's schema validation
and deep copies cost ≈ 100 ms a chart, far more than the math), then attaches the DataFrames
under their names on every rerun. A keyed chart whose spec did not change is updated in place
by Streamlit instead of being rebuilt: no flicker.
"""

from __future__ import annotations

import functools
import threading

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import streamlit as st

from ui import controls
from ui.frames import LOG_CLIP, RATE_MAP_DB, RATE_MAP_DH, boundary_frame, rate_map_frame
from ui.sidebar import METHOD_NAMES
from ui.style import presenting

# Colour-blind-safe: viridis for the ordered λ, Okabe–Ito for categories.
LAMBDA_SCHEME = "viridis"
# λ colours on live charts get a symbol legend: Vega rewrites a gradient legend's SVG definition on every
# repaint, ≈ 3 ms of each live move (A/B in one Chromium).
LAMBDA_LEGEND = alt.Legend(type="symbol")
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
STABLE_FILL = "#009E73"
DANGER = "#D55E00"
NEUTRAL = "#888888"


def finish(chart, big: bool = False, height: int = 320, legend_bottom: bool = False):
    """Shared sizes: presentation mode (big) makes text ≥ 18 px and lines thicker for a projector.
    Charts in half-width columns put their legends below so the plot keeps its width."""
    font = 18 if big else 13
    legend = {"orient": "bottom", "direction": "horizontal"} if legend_bottom else {}
    return (
        chart.properties(height=int(height * (1.25 if big else 1)), width="container")
        .configure_axis(labelFontSize=font, titleFontSize=font + 1, grid=True)
        .configure_legend(labelFontSize=font, titleFontSize=font, symbolSize=220 if big else 90, **legend)
        .configure_title(fontSize=font + 3)
        .configure_text(fontSize=font)
    )


def built_once(maxsize: int):
    """functools.lru_cache whose misses are built one at a time: a class opening the same link at once
    waits for the first build of a chart instead of each session building it again (an Altair build
    holds the GIL for 0.3–0.9 s; 15 sessions building one spec together took seconds each)."""

    def decorate(func):
        cached = functools.lru_cache(maxsize=maxsize)(func)
        lock = threading.Lock()

        @functools.wraps(func)
        def once(*args, **kwargs):
            with lock:
                return cached(*args, **kwargs)

        once.cache_clear = cached.cache_clear
        once.cache_info = cached.cache_info
        return once

    return decorate


@built_once(maxsize=256)
def _spec(builder, options: tuple) -> dict:
    return constant_tables(builder(**dict(options)).to_dict())


def constant_tables(spec_: dict) -> dict:
    """spec_ with the data Altair inlined (a builder's constant layers, as lists of records) as Arrow tables,
    converted once: Streamlit turned each list into a pandas frame and then Arrow on every rerun (≈ 1 ms each)."""
    inline = spec_.get("datasets", {})
    if inline:
        spec_["datasets"] = {name: pa.Table.from_pylist(rows) for name, rows in inline.items()}
    return spec_


def spec(builder, **options) -> dict:
    """The Vega-Lite dict of builder(**options), built once per distinct options."""
    return _spec(builder, tuple(sorted(options.items())))


def show(
    builder, datasets: dict[str, pd.DataFrame], key: str, alt_text: str, params: dict | None = None, **options
) -> None:
    """Render builder's chart with these named DataFrames (or Arrow tables from `arrow`: converted once, for
    data shared by charts or cached across reruns; a keyed chart updates in place), with
    CSV and SVG downloads built only when clicked. ?hide=<key> hides it (an exercise).

    params: {name: {"value": v, "bind": {...}}} set on the spec's Vega-Lite parameters (the
    in-chart η scrubber's start value and range) without rebuilding the chart in Altair."""
    if not controls.visible(key):
        return
    big = presenting()
    cached = spec(builder, big=big, **options)
    # A new top level (Streamlit pops "datasets" from the dict it is given); nested parts are shared
    # with the cache and only ever replaced here, never edited in place. (A deepcopy cost ≈ 6 ms.)
    full = dict(cached)
    # Keep the builder's constant layers; send ours compacted.
    full["datasets"] = {**cached.get("datasets", {}), **wire(datasets)}
    # Streamlit switches a chart with > 2,000 rows in a dataset to canvas; ours are bounded, and SVG
    # keeps text crisp on a projector, selectable, and checkable by the browser tests.
    full["usermeta"] = {"embedOptions": {"renderer": "svg"}}
    if params:
        full["params"] = [
            {
                **param,
                **{
                    field: {**param.get(field, {}), **value} if isinstance(value, dict) else value
                    for field, value in params.get(param.get("name"), {}).items()
                },
            }
            for param in cached.get("params", [])
        ]
    if big:
        # Projector: full-contrast axis and legend text in the current theme's ink.
        ink = "#f0f0f0" if st.context.theme.type == "dark" else "#111111"
        config = dict(cached.get("config", {}))
        config["axis"] = {**config.get("axis", {}), "labelColor": ink, "titleColor": ink}
        config["legend"] = {**config.get("legend", {}), "labelColor": ink, "titleColor": ink}
        full["config"] = config
    st.vega_lite_chart(full, key=key, width="stretch", alt=alt_text)
    download_buttons(key, key, lambda: chart_csv(datasets), full)


def download_buttons(name: str, key: str, csv, full: dict, svg_note: str = "") -> None:
    """CSV (csv: a callable, built only when clicked) and SVG (rendered on the server) of a chart."""
    with st.container(horizontal=True, gap="small"):
        st.download_button(
            "CSV",
            data=csv,
            file_name=f"{name}.csv",
            mime="text/csv",
            on_click="ignore",
            key=f"{key}_csv",
            type="tertiary",
            icon=":material/download:",
            help="The numbers behind this chart (every dataset, one column says which)",
        )
        st.download_button(
            "SVG",
            data=lambda: chart_svg(full),
            file_name=f"{name}.svg",
            mime="image/svg+xml",
            on_click="ignore",
            key=f"{key}_svg",
            type="tertiary",
            icon=":material/image:",
            help=f"A vector image{svg_note} (PNG: the chart's own menu, top right)",
        )


def wire(datasets: dict) -> dict:
    """A chart's datasets as sent: Arrow tables (from `arrow`) as they are, DataFrames made compact the same
    way (one that Arrow cannot convert as it is, e.g. mixed types in a column, is left to Streamlit's own
    conversion, which falls back to text)."""
    out = {}
    for name, data in datasets.items():
        try:
            out[name] = data if isinstance(data, pa.Table) else arrow(data)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            out[name] = data
    return out


def arrow(frame: pd.DataFrame) -> pa.Table:
    """A chart dataset as the compact Arrow table Streamlit sends (every rerun re-sends a chart's data):
    repeated labels as dictionaries with the narrowest index, small integers as int32; values unchanged.
    Done in Arrow (pandas' category conversion of a text column cost 5 × more: 3.7 against 0.9 ms for the
    toy page's paths); data that several charts share, or that a cache keeps, is converted once."""
    # nthreads=1: for long frames pyarrow otherwise starts a thread pool per call, to convert a few columns.
    return _compact(pa.Table.from_pandas(frame, preserve_index=False, nthreads=1))


def table(columns: dict) -> pa.Table:
    """arrow() of a DataFrame with these columns (numpy or Arrow arrays, lists, or scalars repeated), built without
    pandas: a frame's construction and conversion were ≈ 30 % of a toy-page rerun."""
    arrays = (np.ndarray, list, pa.Array)
    rows = max((len(v) for v in columns.values() if isinstance(v, arrays)), default=1)
    return _compact(pa.table({k: v if isinstance(v, arrays) else [v] * rows for k, v in columns.items()}))


def _compact(table: pa.Table) -> pa.Table:
    columns = []
    for column in table.columns:
        kind = column.type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            distinct = pc.count_distinct(column).as_py()
            if distinct <= len(column) // 2:
                index = pa.int8() if distinct < 2**7 else pa.int16() if distinct < 2**15 else pa.int32()
                column = column.dictionary_encode().cast(pa.dictionary(index, kind))
        elif pa.types.is_int64(kind) and (pc.max(pc.abs(column)).as_py() or 0) < 2**31:
            column = column.cast(pa.int32())
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)


@functools.lru_cache(maxsize=3)  # one per method: the map never changes
def rate_map_tables(method: str) -> dict[str, pa.Table]:
    """The rate map's cells (4,000) and stability edges for rate_map_chart as Arrow tables, converted once:
    the EoS page re-sends them with every rerun."""
    return {"cells": arrow(rate_map_frame(method)), "boundary": arrow(boundary_frame())}


def chart_csv(datasets: dict[str, pd.DataFrame]) -> str:
    """All of a chart's datasets as one CSV, with a `dataset` column naming each part."""
    parts = [_frame(frame).assign(dataset=name) for name, frame in datasets.items() if len(frame)]
    return pd.concat(parts, ignore_index=True).to_csv(index=False) if parts else ""


def _frame(data) -> pd.DataFrame:
    return data if isinstance(data, pd.DataFrame) else data.to_pandas()  # a pyarrow Table (ui.live.tables)


def chart_svg(full_spec: dict) -> str:
    """The chart as SVG, rendered on the server by vl-convert (no browser needed)."""
    import vl_convert  # imported on first use: the engine takes ≈ 1 s to start

    spec_ = dict(full_spec)
    spec_["datasets"] = {
        name: data if isinstance(data, list) else _frame(data).to_dict(orient="records")  # (records already)
        for name, data in spec_.get("datasets", {}).items()
    }
    if spec_.get("width") == "container":
        spec_["width"] = 800
    return vl_convert.vegalite_to_svg(spec_)


def _named(name: str) -> alt.Chart:
    return alt.Chart(alt.Data(name=name))


def _time_axis(symlog: bool) -> alt.X:
    return alt.X("t:Q", title="step t", scale=alt.Scale(type="symlog" if symlog else "linear", nice=False))


_SHRINKS, _GROWS = "shrinks (|1 − ηλ| < 1)", "does not shrink"


LOG_CLIP_NOTE = f"Values beyond 10^±{LOG_CLIP:g} sit on the chart's edge; tooltips give exact values."


def equal_domain(radius: float, along: str, across: str) -> alt.Scale:
    """[−R, R] on the shorter side of the plot, stretched on the longer one so that one unit is
    as long on both axes whatever width the page gives the chart (Vega's width/height signals)."""
    r = f"{float(radius):.12g}"
    grow = f"max(1, {along} / max({across}, 1))"
    return alt.Scale(domain=alt.ExprRef(f"[-{r} * {grow}, {r} * {grow}]"), nice=False, zero=False)


def rate_cells(cells: alt.Chart, x: alt.X, y: alt.Y) -> alt.Chart:
    """The rate map's cells (fields h0…h1 × b0…b1, h, beta, ρ, regime) coloured by ρ, pale where ρ ≥ 1."""
    return cells.mark_rect().encode(
        x=x,
        x2="h1:Q",
        y=y,
        y2="b1:Q",
        color=alt.condition(
            "datum['ρ'] >= 1",
            alt.value("#f2c6b4"),
            alt.Color("ρ:Q", scale=alt.Scale(scheme="viridis", domain=[0, 1]), title="rate ρ"),
        ),
        tooltip=[
            alt.Tooltip("h:Q", format=".3f", title="ηλ"),
            alt.Tooltip("beta:Q", format=".3f", title="β"),
            alt.Tooltip("ρ:Q", format=".4f", title="rate ρ (≥ 1.2 shown as 1.2)"),
            alt.Tooltip("regime:N"),
        ],
    )


def spectrum_points(points: alt.Chart, big: bool) -> alt.Chart:
    """A spectrum on the rate map (fields ηλ, β, off map, λ, ηλ exact, rate, regime): white dots, a
    triangle at the edge for ηλ beyond the map."""
    return points.mark_point(
        filled=True, size=260 if big else 110, color="white", stroke="#000000", strokeWidth=1.5
    ).encode(
        x="ηλ:Q",
        y="β:Q",
        shape=alt.Shape(
            "off map:N",
            scale=alt.Scale(domain=["on the map", "beyond the map"], range=["circle", "triangle-right"]),
            title="your spectrum",
        ),
        tooltip=[
            alt.Tooltip("λ:Q", format=".6g", title="λᵢ"),
            alt.Tooltip("ηλ exact:N", title="ηλᵢ"),
            alt.Tooltip("rate:N", title="rate ρ"),
            "regime:N",
        ],
    )


def stability_edges(big: bool) -> alt.Chart:
    """Each method's stability edge on the rate map (the dataset "boundary": ui.frames.boundary_frame),
    named in the legend as the sidebar names the methods."""
    codes = list(METHOD_NAMES)
    label = (
        " : ".join(f"datum.label == '{c}' ? '{METHOD_NAMES[c]}'" for c in codes[:-1])
        + f" : '{METHOD_NAMES[codes[-1]]}'"
    )
    return (
        _named("boundary")
        .mark_line(strokeWidth=4 if big else 2.5)
        .encode(
            x=alt.X("ηλ:Q"),
            y=alt.Y("β:Q"),
            order="β:Q",
            color=alt.Color(
                "method:N",
                scale=alt.Scale(domain=codes, range=["#000000", DANGER, OKABE_ITO[4]]),
                title="stability edge",
                legend=alt.Legend(labelExpr=label),
            ),
            strokeDash=alt.StrokeDash(
                "method:N", scale=alt.Scale(domain=codes, range=[[1, 0], [6, 3], [2, 2]]), legend=None
            ),
        )
    )


def rate_map_chart(big: bool = False):
    """Spectral radius ρ over (ηλ, β): cells coloured by ρ (darker = faster; ≥ 1 diverges), the
    three stability boundaries, and the current spectrum as points (ηλᵢ, β)."""
    x = alt.X("h0:Q", title="ηλ (step size × eigenvalue)", scale=alt.Scale(domain=[0, 4], nice=False))
    y = alt.Y("b0:Q", title="momentum β", scale=alt.Scale(domain=[0, 1], nice=False))
    dh, db = RATE_MAP_DH, RATE_MAP_DB
    cells = _named("cells").transform_calculate(
        h0=f"datum.i * {dh!r}",
        h1=f"(datum.i + 1) * {dh!r}",
        b0=f"datum.j * {db!r}",
        b1=f"(datum.j + 1) * {db!r}",
        h=f"(datum.i + 0.5) * {dh!r}",
        beta=f"(datum.j + 0.5) * {db!r}",
    )
    cells = rate_cells(cells, x, y)
    edge = stability_edges(big)
    points = spectrum_points(_named("spectrum"), big)
    return finish(
        alt.layer(cells, edge, points).resolve_scale(color="independent"), big, height=380, legend_bottom=True
    )
