"""Frames and chart builders for the 2-D toy page: L(x, y) = ½(xy − 1)² (theory.md §6).

Frames are bounded whatever the start, η and T: level sets ≤ 7 × 4 × 80 points, the minima
≤ 2 × 300 segments, the GD path ≤ 600 sampled steps, the gradient-flow path ≤ 200 points. Drawn
coordinates are clipped to a few times the view; exact values ride along for the tooltips.
The builders depend only on layout options (presentation mode, axis types), never on η: 2/η
reaches the charts as data.
"""

from __future__ import annotations

import functools
import math

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa

from core import toy2d
from core.quadratic import sample_steps
from ui.charts import DANGER, NEUTRAL, OKABE_ITO, STABLE_FILL, _named, _time_axis, equal_domain, finish, spec, table
from ui.frames import format_number

PATH_POINTS = 600  # GD steps drawn: every step up to PATH_HEAD, then log-spaced up to T
PATH_HEAD = 200
FLOW_SOLVE_POINTS = 4_000  # the flow is solved on a fine grid in time, then sampled
FLOW_POINTS = 200
FLOW_T_MAX = 40.0  # flow time: near a minimum the flow shrinks like e^(−2t) at least
MINIMA_POINTS = 300  # per branch of xy = 1
LEVEL_POINTS = 80  # per branch of a level set
SETTLED_LOSS = 1e-8  # GD's last point counts as a minimum below this loss
SHARPNESS_FLOOR = 1e-3  # for the log axis: x² + y² is drawn ≥ this
VIEW_MIN = 2.5
# The page's preset starts (x₀, y₀); "custom" is any other.
STARTS = {
    "(3, 0.05) unbalanced": (3.0, 0.05),
    "(2, 0.1)": (2.0, 0.1),
    "(1.5, 0.5)": (1.5, 0.5),
    "(0.5, 0.5) near balanced": (0.5, 0.5),
    "custom": None,
}
DATA_REACH = 2.0  # curves are computed over [−2R, 2R]²: a wide plot shows more than [−R, R] across

GD_COLOR = DANGER  # vermillion: absent from viridis, so it stands out on the coloured minima
FLOW_COLOR = "#000000"
PATHS = ["gradient descent", "gradient flow"]
POINTS = ["start", "end of GD", "end of gradient flow"]
STABLE, SHARP = "stable: x² + y² ≤ 2/η", "too sharp: x² + y² > 2/η"
EDGE, FLOW_END = "2/η", "gradient flow's end"
TIME_TICKS = [0, 1, 3, 10, 30, 100, 300, 1_000, 3_000, 10_000, 30_000, 100_000]


# ---- frames ------------------------------------------------------------------------------


def view_radius(x0: float, y0: float) -> float:
    """Half-width R of the view (at least [−R, R]²): the start and gradient flow's end fit with a margin."""
    xf, yf = toy2d.flow_limit(x0, y0)
    reach = max(abs(x0), abs(y0), abs(xf), abs(yf))
    return max(VIEW_MIN, math.ceil(2.5 * reach) / 2)  # 1.25 × reach, up to the next 0.5


def level_values(radius: float) -> np.ndarray:
    """Loss levels whose curves xy = 1 ± d spread over the view (d = 1 is the saddle's level, the axes)."""
    d = np.concatenate([[0.25, 0.5, 1.0], np.geomspace(2.0, 0.75 * radius**2, 4)])
    return 0.5 * np.unique(d) ** 2


def level_frame(radius: float) -> pd.DataFrame:
    """Level sets of L inside [−2R, 2R]²: x, y, L (the level), curve (one id per branch), order."""
    reach = DATA_REACH * radius
    points, level, curve = toy2d.level_sets(level_values(radius), (-reach, reach), n=LEVEL_POINTS)
    return pd.DataFrame(
        {
            "x": points[:, 0].astype(np.float32),  # drawn only: single precision halves what every rerun sends
            "y": points[:, 1].astype(np.float32),
            "L": level,
            "curve": curve,
            "order": np.arange(len(points), dtype=np.int16 if len(points) < 2**15 else np.int32),
        }
    )


@functools.lru_cache(maxsize=16)  # per view: the hyperbola does not depend on η
def _minima_segments(radius: float) -> pa.Table:
    reach = DATA_REACH * radius
    points, sharp, branch = toy2d.minima_curve((-reach, reach), n=MINIMA_POINTS)
    same = branch[1:] == branch[:-1]
    a, b = points[:-1][same], points[1:][same]
    return table(
        {"x": a[:, 0], "y": a[:, 1], "x2": b[:, 0], "y2": b[:, 1], "sharpness": 0.5 * (sharp[:-1] + sharp[1:])[same]}
    )


def minima_table(radius: float, lr: float) -> pa.Table:
    """The hyperbola xy = 1 inside [−2R, 2R]² as short segments (x, y) → (x2, y2), each with its
    sharpness x² + y² and whether it is stable for this η (x² + y² ≤ 2/η)."""
    segments = _minima_segments(radius)
    edge = 2.0 / lr if lr > 0 else math.inf
    sharp = segments.column("sharpness").to_numpy()
    stable = pa.DictionaryArray.from_arrays(pa.array((sharp > edge).astype(np.int8)), pa.array([STABLE, SHARP]))
    return segments.append_column("minimum", stable)


def _point_columns(points: np.ndarray, radius: float) -> dict:
    x, y = points[:, 0], points[:, 1]
    sharp = x * x + y * y
    top = toy2d.sharpness(x, y)
    clip = 3.0 * radius
    # What is only drawn (positions, the sharpness curves) goes in single precision: the toy page's messages were
    # the largest of a class's (160–250 kB per rerun), and each byte is serialized, hashed and sent; the exact
    # values in the tooltips stay double.
    single = np.float32
    return {
        "x": np.clip(x, -clip, clip).astype(single),
        "y": np.clip(y, -clip, clip).astype(single),
        # The exact values for the tooltips, as numbers the browser formats (TIP_FORMAT): formatting 5 columns of
        # 800 points here on every rerun, and sending them as text, cost more than the rest of the paths.
        "xₜ": x,
        "yₜ": y,
        "L": toy2d.loss(x, y),
        # λ_max(∇²L) is the sharpness everywhere; x² + y² equals it only on the minima (a hint).
        "sharpness": np.clip(top, SHARPNESS_FLOOR, None).astype(single),
        "hint": np.clip(sharp, SHARPNESS_FLOOR, None).astype(single),
        "x² + y²": sharp,
        "λ_max": top,
    }


def gd_columns(path: np.ndarray, radius: float) -> dict:
    """The GD path (all finite: core stops it before divergence) at ≤ PATH_POINTS sampled steps."""
    t = sample_steps(len(path) - 1, max_points=PATH_POINTS, dense_head=PATH_HEAD)
    return {"t": t.astype(np.float64), **_point_columns(path[t], radius)}


def flow_columns(times: np.ndarray, path: np.ndarray, radius: float) -> dict:
    """The gradient-flow path at ≤ FLOW_POINTS samples, dense early (where it moves)."""
    idx = sample_steps(len(path) - 1, max_points=FLOW_POINTS, dense_head=FLOW_POINTS // 3)
    return {"t": times[idx], **_point_columns(path[idx], radius)}


def paths_table(gd: dict, flow: dict) -> pa.Table:
    """Both paths in one table (both charts read it), a "path" column naming each."""
    sizes = [len(gd["t"]), len(flow["t"])]
    name = pa.DictionaryArray.from_arrays(pa.array(np.repeat(np.arange(2, dtype=np.int8), sizes)), pa.array(PATHS))
    columns = {k: pa.array(np.concatenate([gd[k], flow[k]])) for k in gd}
    return pa.Table.from_arrays([columns.pop("t"), name, *columns.values()], names=["t", "path", *columns])


def marks_table(start, gd_end, flow_end, radius: float) -> pa.Table:
    """Start, GD's last point (None if it diverged) and gradient flow's limit."""
    rows = [(POINTS[0], start), (POINTS[1], gd_end), (POINTS[2], flow_end)]
    kept = [(name, xy) for name, xy in rows if xy is not None]
    points = np.array([xy for _, xy in kept], dtype=np.float64).reshape(-1, 2)
    return table({"point": [name for name, _ in kept], **_point_columns(points, radius)})


def sharpness_rules_table(lr: float, flow_sharpness: float, lo: float = 0.0) -> pa.Table:
    """Horizontal rules for the sharpness chart: 2/η and gradient flow's final sharpness; lo is
    where the stable band under 2/η starts (0 on a linear axis, > 0 on a log one). Built in Arrow: as a
    two-row pandas frame, built and converted on every η move, it cost 0.50–0.55 ms, now 0.05."""
    rows = []
    if lr > 0:
        rows.append((EDGE, 2.0 / lr))
    if flow_sharpness > 0:
        rows.append((FLOW_END, flow_sharpness))
    return table(
        {
            "label": pa.array([name for name, _ in rows], pa.string()),
            "value": np.array([v for _, v in rows], dtype=np.float64),
            "exact": pa.array([format_number(v) for _, v in rows], pa.string()),
            "lo": np.full(len(rows), float(lo)),
        }
    )


# ---- charts ------------------------------------------------------------------------------

TOY_PLANE_DATA = ("levels", "minima", "paths", "marks")


TIP_FORMAT = ".6~g"  # six significant digits, as ui.frames.format_number


def _point_tooltip(time_title: str = "t (GD step, or flow time)") -> list:
    return [
        alt.Tooltip("path:N"),
        alt.Tooltip("t:Q", title=time_title, format=".4~g"),
        alt.Tooltip("xₜ:Q", title="x", format=TIP_FORMAT),
        alt.Tooltip("yₜ:Q", title="y", format=TIP_FORMAT),
        alt.Tooltip("L:Q", title="loss L", format=TIP_FORMAT),
        alt.Tooltip("x² + y²:Q", title="x² + y²", format=TIP_FORMAT),
        alt.Tooltip("λ_max:Q", title="λ_max(∇²L)", format=TIP_FORMAT),
    ]


def toy_plane_chart(big: bool = False, radius: float = 4.0):
    """The (x, y) plane with equal units on both axes, at least [−radius, radius]²: grey level
    sets of L, the minima xy = 1 coloured by sharpness (the stable part thick), the GD path
    (points joined) and the gradient-flow path (dashed) from the same start, and the start and
    end points. radius is a layout option (the page rounds it to a multiple of 0.5)."""
    x = alt.X("x:Q", title="x", scale=equal_domain(radius, "width", "height"), axis=alt.Axis(tickMinStep=1))
    y = alt.Y("y:Q", title="y", scale=equal_domain(radius, "height", "width"), axis=alt.Axis(tickMinStep=1))
    levels = (
        _named("levels")
        .mark_line(color=NEUTRAL, opacity=0.55, strokeWidth=1.5 if big else 1, clip=True)
        .encode(x=x, y=y, detail="curve:N", order="order:Q", tooltip=[alt.Tooltip("L:Q", format=".4g", title="L")])
    )
    minima = (
        _named("minima")
        .mark_rule(strokeCap="round", clip=True)
        .encode(
            x=x,
            y=y,
            x2="x2:Q",
            y2="y2:Q",
            # stroke, not color: its own scale, so the paths' colour legend stays separate
            stroke=alt.Stroke(
                "sharpness:Q",
                scale=alt.Scale(scheme="viridis", type="log", nice=False),
                title="sharpness x² + y²",
                legend=alt.Legend(
                    orient="bottom", direction="horizontal", gradientLength=320 if big else 240, format=".3~g"
                ),
            ),
            strokeWidth=alt.StrokeWidth(
                "minimum:N",
                scale=alt.Scale(domain=[STABLE, SHARP], range=[12, 4] if big else [9, 3]),
                title="minima xy = 1",
                legend=alt.Legend(symbolType="stroke", symbolStrokeColor="#3B528B"),
            ),
            tooltip=[
                alt.Tooltip("sharpness:Q", title="sharpness x² + y²", format=TIP_FORMAT),
                alt.Tooltip("minimum:N"),
            ],
        )
    )
    path_title = "path from the start"
    path_colour = alt.Color("path:N", scale=alt.Scale(domain=PATHS, range=[GD_COLOR, FLOW_COLOR]), title=path_title)
    lines = (
        _named("paths")
        .mark_line(strokeWidth=3.5 if big else 2, clip=True)
        .encode(
            x=x,
            y=y,
            order="t:Q",
            color=path_colour,
            strokeDash=alt.StrokeDash(
                "path:N", scale=alt.Scale(domain=PATHS, range=[[1, 0], [7, 4]]), title=path_title
            ),
            tooltip=_point_tooltip(),
        )
    )
    dots = (
        _named("paths")
        .transform_filter(alt.datum.path == PATHS[0])
        .mark_circle(size=45 if big else 22, opacity=0.9, clip=True, color=GD_COLOR)
        .encode(x=x, y=y, tooltip=_point_tooltip())
    )
    points_legend = alt.Legend(symbolStrokeWidth=0, symbolSize=300 if big else 150)
    marks = (
        _named("marks")
        .mark_point(filled=True, size=300 if big else 140, stroke="white", strokeWidth=1.5, opacity=1, clip=True)
        .encode(
            x=x,
            y=y,
            shape=alt.Shape(
                "point:N",
                scale=alt.Scale(domain=POINTS, range=["circle", "diamond", "square"]),
                title="points",
                legend=points_legend,
            ),
            fill=alt.Fill(
                "point:N",
                scale=alt.Scale(domain=POINTS, range=["#555555", GD_COLOR, FLOW_COLOR]),
                title="points",
                legend=points_legend,
            ),
            tooltip=[
                alt.Tooltip("point:N"),
                alt.Tooltip("xₜ:Q", title="x", format=TIP_FORMAT),
                alt.Tooltip("yₜ:Q", title="y", format=TIP_FORMAT),
                alt.Tooltip("L:Q", title="loss L", format=TIP_FORMAT),
                alt.Tooltip("x² + y²:Q", title="x² + y²", format=TIP_FORMAT),
            ],
        )
    )
    chart = alt.layer(levels, minima, marks, lines, dots)  # the paths on top of the points
    done = finish(chart, big, height=520)
    done.config.legend.labelLimit = 0  # the minima's labels are long; the legend sits at the right
    return done


TOY_SHARPNESS_DATA = ("paths", "rules")


def toy_sharpness_chart(big: bool = False, symlog: bool = False, log_y: bool = False):
    """λ_max(∇²L) along the GD path against t (x_t² + y_t², its value on the minima, thin and
    dashed as a hint), over the stable band below 2/η (a dashed rule) and gradient flow's final
    sharpness (a dotted rule)."""
    y_scale = alt.Scale(type="log", nice=False) if log_y else alt.Scale(zero=True, nice=True)
    y_title = "sharpness λ_max(∇²L)" + (" (log)" if log_y else "")
    time = _time_axis(symlog)
    if symlog:  # a symlog axis left alone labels only its ends
        time = time.axis(values=TIME_TICKS, format=",d", grid=True)
    else:
        time = time.axis(tickMinStep=1, format=",d")
    band = (
        _named("rules")
        .transform_filter(alt.datum.label == EDGE)
        .mark_rect(color=STABLE_FILL, opacity=0.12)
        .encode(y=alt.Y("lo:Q", scale=y_scale, title=y_title), y2="value:Q")
    )
    line = (
        _named("paths")
        .transform_filter(alt.datum.path == PATHS[0])
        .mark_line(
            color=GD_COLOR,
            strokeWidth=3.5 if big else 2,
            point=alt.OverlayMarkDef(size=40 if big else 16, color=GD_COLOR),
        )
        .encode(
            x=time,
            y=alt.Y("sharpness:Q", scale=y_scale, title=y_title, axis=alt.Axis(format=".0e") if log_y else alt.Axis()),
            tooltip=_point_tooltip(),
        )
    )
    hint = (
        _named("paths")
        .transform_filter(alt.datum.path == PATHS[0])
        .mark_line(color=GD_COLOR, strokeWidth=1.5 if big else 1, strokeDash=[3, 3], opacity=0.6)
        .encode(x=time, y=alt.Y("hint:Q", scale=y_scale), tooltip=_point_tooltip())
    )
    rules = (
        _named("rules")
        .mark_rule(strokeWidth=3 if big else 2)
        .encode(
            y=alt.Y("value:Q", scale=y_scale),
            color=alt.Color(
                "label:N",
                scale=alt.Scale(domain=[EDGE, FLOW_END], range=[OKABE_ITO[2], FLOW_COLOR]),
                legend=alt.Legend(title=None, labelLimit=0),
            ),
            strokeDash=alt.StrokeDash(
                "label:N", scale=alt.Scale(domain=[EDGE, FLOW_END], range=[[8, 4], [2, 3]]), legend=None
            ),
            tooltip=[alt.Tooltip("label:N", title="rule"), alt.Tooltip("exact:N", title="value")],
        )
    )
    return finish(alt.layer(band, rules, hint, line), big, height=360, legend_bottom=True)


def warm_specs() -> None:
    """Build the chart structures of the preset starts' views and of every time and sharpness axis before a
    visitor asks (a first build holds its replica's GIL for 50–130 ms; under load they fell mid-class)."""
    for start in STARTS.values():
        if start is not None:
            spec(toy_plane_chart, big=False, radius=view_radius(*start))
    for symlog in (False, True):
        for log_y in (False, True):
            spec(toy_sharpness_chart, big=False, symlog=symlog, log_y=log_y)
