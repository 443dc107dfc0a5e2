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

import altair as alt
import pandas as pd
import streamlit as st

from ui import controls
from ui.frames import FACTOR_CLIP, LOG_CLIP, RATE_MAP_DB, RATE_MAP_DH
from ui.style import presenting

# Colour-blind-safe: viridis for the ordered λ, Okabe–Ito for categories.
LAMBDA_SCHEME = "viridis"
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


@functools.lru_cache(maxsize=256)
def _spec(builder, options: tuple) -> dict:
    return builder(**dict(options)).to_dict()


def spec(builder, **options) -> dict:
    """The Vega-Lite dict of builder(**options), built once per distinct options."""
    return _spec(builder, tuple(sorted(options.items())))


def show(
    builder, datasets: dict[str, pd.DataFrame], key: str, alt_text: str, params: dict | None = None, **options
) -> None:
    """Render builder's chart with these named DataFrames (a keyed chart updates in place), with
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
    full["datasets"] = {**cached.get("datasets", {}), **{name: compact(df) for name, df in datasets.items()}}
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
    with st.container(horizontal=True, gap="small"):
        st.download_button(
            "CSV",
            data=lambda: chart_csv(datasets),
            file_name=f"{key}.csv",
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
            file_name=f"{key}.svg",
            mime="image/svg+xml",
            on_click="ignore",
            key=f"{key}_svg",
            type="tertiary",
            icon=":material/image:",
            help="A vector image (PNG: the chart's own menu, top right)",
        )


def compact(frame: pd.DataFrame) -> pd.DataFrame:
    """The same table in fewer bytes on the wire (every rerun re-sends a chart's data): repeated
    labels as Arrow dictionaries, small integers as int32. Values are unchanged."""
    out = {}
    for name, column in frame.items():
        if column.dtype.kind in "OUT" or str(column.dtype) in ("str", "string"):
            out[name] = column.astype("category") if column.nunique() <= len(column) // 2 else column
        elif column.dtype.kind == "i" and len(column) and column.abs().max() < 2**31:
            out[name] = column.astype("int32")
        else:
            out[name] = column
    return pd.DataFrame(out)


def chart_csv(datasets: dict[str, pd.DataFrame]) -> str:
    """All of a chart's datasets as one CSV, with a `dataset` column naming each part."""
    parts = [frame.assign(dataset=name) for name, frame in datasets.items() if len(frame)]
    return pd.concat(parts, ignore_index=True).to_csv(index=False) if parts else ""


def chart_svg(full_spec: dict) -> str:
    """The chart as SVG, rendered on the server by vl-convert (no browser needed)."""
    import vl_convert  # imported on first use: the engine takes ≈ 1 s to start

    spec_ = dict(full_spec)
    spec_["datasets"] = {
        name: (data.to_dict(orient="records") if isinstance(data, pd.DataFrame) else data)
        for name, data in spec_.get("datasets", {}).items()
    }
    if spec_.get("width") == "container":
        spec_["width"] = 800
    return vl_convert.vegalite_to_svg(spec_)


def _named(name: str) -> alt.Chart:
    return alt.Chart(alt.Data(name=name))


def _time_axis(symlog: bool) -> alt.X:
    return alt.X("t:Q", title="step t", scale=alt.Scale(type="symlog" if symlog else "linear", nice=False))


def _stable_band(y_scale: alt.Scale) -> alt.Chart:
    return (
        alt.Chart(pd.DataFrame({"y0": [0.0], "y1": [1.0]}))
        .mark_rect(color=STABLE_FILL, opacity=0.12)
        .encode(y=alt.Y("y0:Q", scale=y_scale), y2="y1:Q")
    )


DECAY_DATA = ("lines", "envelope")


def decay_chart(big: bool = False, symlog: bool = False):
    """|θ̃_{t,i}| against t on a log axis: one line per eigendirection coloured by λᵢ, the band
    between the smallest and largest of all n directions behind, growing directions dashed."""
    x = _time_axis(symlog)
    y_scale = alt.Scale(type="log", nice=False)
    axis = alt.Axis(format=".0e", title="|θ̃ₜ,ᵢ| (eigen-coordinate, log)")
    band = (
        _named("envelope")
        .mark_area(opacity=0.18, color=NEUTRAL)
        .encode(
            x=x,
            y=alt.Y("lowest:Q", scale=y_scale, axis=axis),
            y2="highest:Q",
            tooltip=[
                alt.Tooltip("t:Q", title="step"),
                alt.Tooltip("n:Q", title="directions in band"),
                alt.Tooltip("lowest:Q", format=".3e"),
                alt.Tooltip("highest:Q", format=".3e"),
            ],
        )
    )
    line = (
        _named("lines")
        .mark_line(strokeWidth=4 if big else 2.2)
        .encode(
            x=x,
            y=alt.Y("|θ̃|:Q", scale=y_scale, axis=axis),
            color=alt.Color("λ:Q", scale=alt.Scale(scheme=LAMBDA_SCHEME), title="λᵢ"),
            detail="direction:N",
            strokeDash=alt.StrokeDash(
                "trend:N",
                scale=alt.Scale(domain=["shrinks", "grows"], range=[[1, 0], [6, 3]]),
                title="direction",
            ),
            tooltip=[
                alt.Tooltip("direction:Q", title="direction i"),
                alt.Tooltip("λ:Q", format=".6g", title="λᵢ"),
                alt.Tooltip("t:Q", title="step t"),
                alt.Tooltip("θ̃ exact:N", title="θ̃ₜ,ᵢ (exact)"),
                alt.Tooltip("regime:N"),
            ],
        )
    )
    return finish(alt.layer(band, line), big)


STABILITY_V_DATA = ("curve", "points")
_SHRINKS, _GROWS = "shrinks (|1 − ηλ| < 1)", "does not shrink"
_FACTOR = "abs(1 - eta * datum['λ'])"


def stability_v_chart(big: bool = False):
    """The stability boundary: |1 − ηλ| against λ (the V), the band below 1 shaded, every
    eigenvalue a point on it, a labelled rule at λ = 2/η.

    η here is a Vega-Lite parameter bound to a slider under the chart: scrubbing it recomputes the
    V, the points and the rule in the browser, with no Python rerun. `show` sets its value (the
    sidebar's η) and range; the chart prints which η it is drawing.
    """
    eta = alt.param(
        name="eta", value=1.0, bind=alt.binding_range(min=0, max=1, step=0.001, name="scrub η in the chart ")
    )
    y_scale = alt.Scale(domain=[0, FACTOR_CLIP], nice=False)
    x_scale = alt.Scale(nice=False, zero=False)
    y = alt.Y("shown:Q", title="|1 − ηλ| (shrink factor per step)", scale=y_scale)
    v = (
        _named("curve")
        .transform_calculate(f=_FACTOR, shown=f"min({_FACTOR}, {FACTOR_CLIP})")
        .mark_line(color="#444444", strokeWidth=3.5 if big else 2)
        .encode(x=alt.X("λ:Q", title="eigenvalue λ", scale=x_scale), y=y)
    )
    kinds = alt.Scale(domain=[_SHRINKS, _GROWS], range=[OKABE_ITO[0], DANGER])
    dots = (
        _named("points")
        .transform_calculate(
            f=_FACTOR,
            shown=f"min({_FACTOR}, {FACTOR_CLIP})",
            eta_lambda="eta * datum['λ']",
            stable=f"{_FACTOR} < 1 ? '{_SHRINKS}' : '{_GROWS}'",
        )
        .mark_point(filled=True, size=240 if big else 90, opacity=0.9, stroke="white", strokeWidth=0.8)
        .encode(
            x="λ:Q",
            y=y,
            color=alt.Color("stable:N", scale=kinds, title="direction"),
            shape=alt.Shape(
                "stable:N",
                scale=alt.Scale(domain=[_SHRINKS, _GROWS], range=["circle", "triangle-up"]),
                title="direction",
            ),
            tooltip=[
                alt.Tooltip("λ:Q", format=".6g", title="λᵢ"),
                alt.Tooltip("eta_lambda:Q", format=".6g", title="ηλᵢ"),
                alt.Tooltip("f:Q", format=".6g", title="|1 − ηλᵢ|"),
            ],
        )
    )
    one_row = alt.Chart(pd.DataFrame({"row": [0]}))
    edge = one_row.transform_calculate(edge="eta > 0 ? 2 / eta : null")
    rule = edge.mark_rule(color=DANGER, strokeDash=[6, 4], strokeWidth=3 if big else 2, clip=True).encode(x="edge:Q")
    label = edge.mark_text(align="right", dx=-6, color=DANGER, fontWeight="bold", clip=True).encode(
        x="edge:Q", y=alt.value(14), text=alt.value("λ = 2/η")
    )
    which = (
        one_row.transform_calculate(text="'drawn at η = ' + format(eta, '.4~g')")
        .mark_text(align="left", x=8, y=alt.expr("height - 10"), fontWeight="bold")
        .encode(text="text:N")
    )
    one = alt.Chart(pd.DataFrame({"y": [1.0]})).mark_rule(color="#666666").encode(y=alt.Y("y:Q", scale=y_scale))
    layered = alt.layer(_stable_band(y_scale), one, v, rule, label, which, dots).add_params(eta)
    return finish(layered, big, legend_bottom=True)


FACTOR_DATA = ("lines", "rules")
FACTOR_MARKS = ["η_max", "η*", "η (sidebar)"]


def factor_vs_lr_chart(big: bool = False):
    """|1 − ηλᵢ| against η for representative λᵢ, with rules at η_max, η* and the current η."""
    y_scale = alt.Scale(domain=[0, FACTOR_CLIP], nice=False)
    line = (
        _named("lines")
        .mark_line(strokeWidth=3.5 if big else 2)
        .encode(
            x=alt.X("η:Q", title="learning rate η", scale=alt.Scale(nice=False)),
            y=alt.Y("|1 − ηλ|:Q", title="|1 − ηλᵢ|", scale=y_scale),
            color=alt.Color("λ:Q", scale=alt.Scale(scheme=LAMBDA_SCHEME), title="λᵢ"),
            detail="λ:N",
            tooltip=[alt.Tooltip("λ:Q", format=".6g", title="λᵢ"), alt.Tooltip("η:Q", format=".6g")],
        )
    )
    rule = (
        _named("rules")
        .mark_rule(strokeWidth=3 if big else 2)
        .encode(
            x="η:Q",
            color=alt.Color(
                "label:N",
                scale=alt.Scale(domain=FACTOR_MARKS, range=[DANGER, OKABE_ITO[2], "#000000"]),
                legend=alt.Legend(title="marks", direction="vertical"),
            ),
            strokeDash=alt.StrokeDash(
                "label:N", scale=alt.Scale(domain=FACTOR_MARKS, range=[[6, 4], [2, 2], [1, 0]]), legend=None
            ),
            tooltip=[alt.Tooltip("label:N", title="mark"), alt.Tooltip("value:N", title="η")],
        )
    )
    return finish(
        alt.layer(_stable_band(y_scale), line, rule).resolve_scale(color="independent"), big, legend_bottom=True
    )


LOSS_DATA = ("loss",)


def loss_chart(big: bool = False, symlog: bool = False):
    """L(θ_t) on a log axis (its absolute value where a saddle makes it negative)."""
    chart = (
        _named("loss")
        .mark_line(strokeWidth=4 if big else 2.5, color=OKABE_ITO[0], point=alt.OverlayMarkDef(size=60 if big else 25))
        .encode(
            x=_time_axis(symlog),
            y=alt.Y(
                "|L|:Q",
                title="loss L(θₜ) = ½ Σ λᵢ θ̃ₜ,ᵢ² (log)",
                scale=alt.Scale(type="log", nice=False),
                axis=alt.Axis(format=".0e"),
            ),
            tooltip=[alt.Tooltip("t:Q", title="step t"), alt.Tooltip("L exact:N", title="L(θₜ)"), "sign:N"],
        )
    )
    return finish(chart, big)


ONE_DIRECTION_DATA = ("theta",)


def one_direction_chart(big: bool = False):
    """The home page's live example: θ_t = (1 − ηλ)^t θ_0 for one direction, signed."""
    y_scale = alt.Scale(domain=[-2.2, 2.2], clamp=True, nice=False)
    line = (
        _named("theta")
        .mark_line(point=True, strokeWidth=3 if big else 2, color=OKABE_ITO[0], clip=True)
        .encode(
            x=alt.X("t:Q", title="step t"),
            y=alt.Y("θ:Q", title="θₜ = (1 − ηλ)ᵗ θ₀", scale=y_scale),
            tooltip=[alt.Tooltip("t:Q", title="step"), alt.Tooltip("θ exact:N", title="θₜ")],
        )
    )
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#666666").encode(y="y:Q")
    return finish(alt.layer(zero, line), big, height=260)


LOG_CLIP_NOTE = f"Values beyond 10^±{LOG_CLIP:g} sit on the chart's edge; tooltips give exact values."


TRAJECTORY_DATA = ("levels", "axes", "path", "current")


def equal_domain(radius: float, along: str, across: str) -> alt.Scale:
    """[−R, R] on the shorter side of the plot, stretched on the longer one so that one unit is
    as long on both axes whatever width the page gives the chart (Vega's width/height signals)."""
    r = f"{float(radius):.12g}"
    grow = f"max(1, {along} / max({across}, 1))"
    return alt.Scale(domain=alt.ExprRef(f"[-{r} * {grow}, {r} * {grow}]"), nice=False, zero=False)


def trajectory_chart(big: bool = False, radius: float = 1.0):
    """The 2-D loss: level-set ellipses, the eigenvector axes, the path of iterates (the part up
    to the scrubbed step drawn bold) and the current point. Equal units on both axes at any width
    (a stretched axis would draw the eigenvectors off 90° and distort the ellipses)."""
    x = alt.X("x:Q", scale=equal_domain(radius, "width", "height"), title="θ₁")
    y = alt.Y("y:Q", scale=equal_domain(radius, "height", "width"), title="θ₂")
    levels = (
        _named("levels")
        .mark_line(color=NEUTRAL, strokeWidth=1.5 if big else 1, clip=True)
        .encode(x=x, y=y, detail="level:N", order="order:Q", tooltip=[alt.Tooltip("L:Q", format=".4g", title="L")])
    )
    axes = (
        _named("axes")
        .mark_line(strokeDash=[5, 4], strokeWidth=2 if big else 1.5, clip=True)
        .encode(
            x=x,
            y=y,
            color=alt.Color("axis:N", scale=alt.Scale(range=[OKABE_ITO[2], OKABE_ITO[4]]), title="eigenvector"),
        )
    )
    tooltip = [alt.Tooltip("t:Q", title="step t"), alt.Tooltip("θ:N", title="θₜ"), alt.Tooltip("L:N", title="L(θₜ)")]
    full = (
        _named("path")
        .mark_line(color=OKABE_ITO[0], opacity=0.25, strokeWidth=2, clip=True)
        .encode(x=x, y=y, order="t:Q")
    )
    done = (
        _named("path")
        .transform_filter("datum.shown")
        .mark_line(
            color=OKABE_ITO[0],
            strokeWidth=4 if big else 2.5,
            clip=True,
            point=alt.OverlayMarkDef(size=70 if big else 30),
        )
        .encode(x=x, y=y, order="t:Q", tooltip=tooltip)
    )
    current = (
        _named("current")
        .mark_point(filled=True, size=400 if big else 200, color=DANGER, clip=True)
        .encode(x=x, y=y, tooltip=tooltip)
    )
    side = 560 if big else 460
    chart = alt.layer(levels, axes, full, done, current).properties(width=side, height=side)
    font = 18 if big else 13
    return chart.configure_axis(labelFontSize=font, titleFontSize=font + 1).configure_legend(
        labelFontSize=font, titleFontSize=font, orient="bottom"
    )


COORDS_DATA = ("coords", "current")


def coords_chart(big: bool = False):
    """Each eigen-coordinate θ̃ₜ,ᵢ/|θ̃₀,ᵢ| against t, signed, on a symlog axis: the sign flips of
    1 < ηλ < 2 and the ripples of momentum are visible; a rule marks the scrubbed step."""
    line = (
        _named("coords")
        .mark_line(strokeWidth=3.5 if big else 2, point=alt.OverlayMarkDef(size=40 if big else 16))
        .encode(
            x=alt.X("t:Q", title="step t"),
            y=alt.Y("value:Q", title="θ̃ₜ,ᵢ / |θ̃₀,ᵢ| (symlog)", scale=alt.Scale(type="symlog", constant=0.01)),
            color=alt.Color(
                "coordinate:N", scale=alt.Scale(range=[OKABE_ITO[2], OKABE_ITO[4]]), title="eigen-coordinate"
            ),
            tooltip=[alt.Tooltip("t:Q", title="step t"), "coordinate:N", alt.Tooltip("exact:N", title="θ̃ₜ,ᵢ")],
        )
    )
    now = _named("current").mark_rule(color=DANGER, strokeWidth=2).encode(x="t:Q")
    return finish(alt.layer(line, now), big, height=260, legend_bottom=True)


RATE_MAP_DATA = ("cells", "boundary", "spectrum")
REGIME_ORDER = ["monotone", "oscillating", "rippling", "marginal", "diverging", "flat"]


def rate_map_chart(big: bool = False):
    """Spectral radius ρ over (ηλ, β): cells coloured by ρ (darker = faster; ≥ 1 diverges), the
    three stability boundaries, and the current spectrum as points (ηλᵢ, β)."""
    x = alt.X("h0:Q", title="ηλ (step size × eigenvalue)", scale=alt.Scale(domain=[0, 4], nice=False))
    y = alt.Y("b0:Q", title="momentum β", scale=alt.Scale(domain=[0, 1], nice=False))
    dh, db = RATE_MAP_DH, RATE_MAP_DB
    cells = (
        _named("cells")
        .transform_calculate(
            h0=f"datum.i * {dh!r}",
            h1=f"(datum.i + 1) * {dh!r}",
            b0=f"datum.j * {db!r}",
            b1=f"(datum.j + 1) * {db!r}",
            h=f"(datum.i + 0.5) * {dh!r}",
            beta=f"(datum.j + 0.5) * {db!r}",
        )
        .mark_rect()
        .encode(
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
    )
    edge = (
        _named("boundary")
        .mark_line(strokeWidth=4 if big else 2.5)
        .encode(
            x=alt.X("ηλ:Q"),
            y=alt.Y("β:Q"),
            order="β:Q",
            color=alt.Color(
                "method:N",
                scale=alt.Scale(domain=["gd", "heavy_ball", "nesterov"], range=["#000000", DANGER, OKABE_ITO[4]]),
                title="stability edge",
            ),
            strokeDash=alt.StrokeDash(
                "method:N",
                scale=alt.Scale(domain=["gd", "heavy_ball", "nesterov"], range=[[1, 0], [6, 3], [2, 2]]),
                legend=None,
            ),
        )
    )
    points = (
        _named("spectrum")
        .mark_point(filled=True, size=260 if big else 110, color="white", stroke="#000000", strokeWidth=1.5)
        .encode(
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
    )
    return finish(
        alt.layer(cells, edge, points).resolve_scale(color="independent"), big, height=380, legend_bottom=True
    )


MOMENTUM_ERROR_DATA = ("errors",)


def momentum_error_chart(big: bool = False, symlog: bool = False, method: str = "heavy ball"):
    """|θ̃ₜ,ᵢ| for a few directions under `method` (solid; its name as in the frame) and plain GD (dashed);
    a line that falls below 10^−30 ends there with a "< 1e-30" marker."""
    floor = (
        _named("errors")
        .transform_filter("datum.clipped")
        .mark_text(text="▼ < 1e-30", dy=-10, fontSize=16 if big else 11, color=NEUTRAL)
        .encode(x=_time_axis(symlog), y=alt.Y("|θ̃|:Q", scale=alt.Scale(type="log", nice=False)))
    )
    lines = (
        _named("errors")
        .mark_line(strokeWidth=3.5 if big else 2)
        .encode(
            x=_time_axis(symlog),
            y=alt.Y(
                "|θ̃|:Q", scale=alt.Scale(type="log", nice=False), axis=alt.Axis(format=".0e", title="|θ̃ₜ,ᵢ| (log)")
            ),
            color=alt.Color("λ:Q", scale=alt.Scale(scheme=LAMBDA_SCHEME), title="λᵢ"),
            # Momentum solid, plain GD dashed, as the page's heading says (Vega's default order flips them).
            strokeDash=alt.StrokeDash(
                "method:N",
                title="optimizer",
                scale=alt.Scale(domain=[method, "gradient descent"], range=[[1, 0], [6, 4]]),
                legend=alt.Legend(symbolType="stroke", symbolSize=500, symbolStrokeWidth=3, symbolStrokeColor=NEUTRAL),
            ),
            detail="direction:N",
            tooltip=[
                alt.Tooltip("method:N"),
                alt.Tooltip("λ:Q", format=".6g", title="λᵢ"),
                alt.Tooltip("t:Q", title="step"),
                alt.Tooltip("exact:N", title="θ̃ₜ,ᵢ"),
            ],
        )
    )
    return finish(alt.layer(lines, floor), big, legend_bottom=True)
