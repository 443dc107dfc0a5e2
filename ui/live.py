"""Live η: the quadratic page's pictures as one compound Vega-Lite chart, recomputed in the browser.

The server sends, once per spectrum, data that does not depend on η (ui.frames.live_frames). One
parameter `lr`, bound to a range input, drives every view through Vega expressions:

    log10|θ̃ₜ,ᵢ| = t·log10|1 − ηλᵢ| + log10|θ̃₀,ᵢ|     (theory.md §2; core.quadratic.log_magnitudes)

drawn within 10^±30 like the rest of the app, with exact values in the tooltips. The verdict, the
rate and the steps to ε aggregate over all n directions (core.quadratic.status, rate,
steps_to_tolerance). Where the browser cannot be exact at a size (the loss for n > 20 directions, the
band for a start with unequal |θ̃₀,ᵢ|), the server computes that picture at the released η and the
browser shows it only while the live η equals that η.

η is never in the spec (live_params): the sidebar's η arrives in the one-row dataset NOW and `lr`
follows it, so a sidebar change updates the chart in place (a changed spec would be re-embedded: a
visible redraw, ≈ 0.1–0.5 s). When the slider rests, the point selection `eta` carries its value to
Streamlit's `on_select`, which sets the sidebar's η (and so the URL `lr`, the metrics and exports).
"""

from __future__ import annotations

import math

import altair as alt
import pandas as pd
import pyarrow as pa
import streamlit as st

from ui import charts, controls
from ui.charts import DANGER, LAMBDA_LEGEND, LAMBDA_SCHEME, NEUTRAL, OKABE_ITO, STABLE_FILL, chart_csv, download_buttons
from ui.frames import BLOWUP_LOG10, FACTOR_CLIP, LOG_CLIP
from ui.style import presenting

LR = "lr"  # the live η in every expression (a parameter that reads the selection)
INF = "(1/0)"  # no literal Infinity/NaN in a spec (tests/test_fuzz.py scans for them)
LOG10 = "(log({x}) / LN10)"
MATCH = f"abs(datum.eta - {LR}) <= 1e-12 * max(abs({LR}), 1e-300)"  # the server's η is the live one
WIDE, NARROW = 640, 290  # px: the page's main column at 1280 px with the sidebar open
READOUT = ("lr_m", "ratio_m", "rate_m", "steps_m", "status")


def _log10(x: str) -> str:
    return LOG10.format(x=x)


def _fmt(x: str, spec: str = ".6~g") -> str:
    return f"format({x}, '{spec}')"


def _exact(lm: str, sign: str) -> dict:
    """Calculate steps writing (log10|x|, sign) as ui.frames.format_log does: 1.5e+4021, −0.25, 0."""
    return {
        "_e0": f"floor({lm})",
        "_m0": f"pow(10, {lm} - floor({lm}))",
        "_E": "datum._m0 >= 9.999995 ? datum._e0 + 1 : datum._e0",
        "_M": "datum._m0 >= 9.999995 ? 1 : datum._m0",
        "_txt": (
            "abs(datum._E) >= 5 ? format(datum._M, '.6~g') + 'e' + (datum._E >= 0 ? '+' : '') + datum._E"
            " : format(datum._M * pow(10, datum._E), '.6~g')"
        ),
        "exact": (
            f"{lm} == -{INF} || {sign} == 0 ? '0' : {lm} == {INF} ? ({sign} > 0 ? '∞' : '−∞')"
            f" : ({sign} < 0 ? '−' : '') + datum._txt"
        ),
    }


def _calc(chart, steps: dict):
    # One transform per field, in order: later fields read earlier ones.
    for name, expr in steps.items():
        chart = chart.transform_calculate(**{name: expr})
    return chart


def _named(name: str) -> alt.Chart:
    return alt.Chart(alt.Data(name=name))


def _log_magnitude() -> dict:
    """log10|θ̃ₜ,ᵢ| from a `lines` (or `verts`) row: the decay view's chain (the loss computes its terms in
    one formula of its own, from the column c)."""
    return {
        "r": f"1 - {LR} * datum['λ']",
        "la": _log10("abs(datum.r)"),
        "lm": f"datum.z ? -{INF} : (datum.t == 0 ? 0 : datum.t * datum.la) + datum.log0",
    }


def _time_x(symlog: bool) -> alt.X:
    return alt.X("t:Q", title="step t", scale=alt.Scale(type="symlog" if symlog else "linear", nice=False))


def _clip_y(log_field: str) -> str:
    return f"pow(10, clamp({log_field}, {-LOG_CLIP}, {LOG_CLIP}))"


def _decay(big: bool, symlog: bool, live_band: bool, width: int):
    x = _time_x(symlog)
    y_scale = alt.Scale(type="log", nice=False)
    axis = alt.Axis(format=".0e", title="|θ̃ₜ,ᵢ| (eigen-coordinate, log)")
    if live_band:
        factor = _log10(f"abs(1 - {LR} * datum['λ'])")
        a = f"datum.kind == 0 && datum.ex ? {factor} : null"
        band_src = (
            _named("dirs")
            .transform_calculate(a=a)
            .transform_calculate(af="isValid(datum.a) && isFinite(datum.a) ? datum.a : null")
            .transform_calculate(b="datum.kind == 0 && datum.ex ? datum.log0 : null")
            .transform_joinaggregate(amax="max(a)", amin="min(af)", b0="max(b)")
            .transform_filter("datum.kind == 1")
            .transform_calculate(
                hi=f"!isValid(datum.b0) ? -{INF} : datum.t == 0 ? datum.b0 : datum.b0 + datum.t * datum.amax",
                lo=(
                    f"!isValid(datum.b0) ? -{INF} : datum.t == 0 ? datum.b0 : "
                    f"isValid(datum.amin) ? datum.b0 + datum.t * datum.amin : -{INF}"
                ),
            )
        )
    else:
        band_src = (
            _named("band")
            .transform_filter(MATCH)
            .transform_calculate(hi="log(datum.highest) / LN10", lo="log(datum.lowest) / LN10")
        )
    band = (
        band_src.transform_calculate(lowest=_clip_y("datum.lo"), highest=_clip_y("datum.hi"))
        # An area is one path: its tooltip would always show the first step's values, so it has none
        # (and no per-point aria label, computed on every move of η).
        .mark_area(opacity=0.18, color=NEUTRAL, aria=False)
        .encode(x=x, y=alt.Y("lowest:Q", scale=y_scale, axis=axis), y2="highest:Q")
    )
    # The chain is computed once for the line, its clip markers and their label (a shared layer's
    # transforms): it runs on every move of η.
    # On a linear time axis the lines come from six vertices per direction (ui.frames.live_frames):
    # t = 0, T, and ⌊t*⌋, ⌊t*⌋ + 1 around the crossing t* of each clip edge (k = 2, 3: −30; 4, 5: +30).
    vertex_t = (
        "datum.k == 0 ? 0 : datum.k == 1 ? datum.T : clamp((isFinite(datum.ts) ? floor(datum.ts) : datum.T)"
        " + (datum.k % 2), 0, datum.T)"
    )
    first = (
        {}
        if symlog
        else {
            "r": f"1 - {LR} * datum['λ']",
            "la": _log10("abs(datum.r)"),
            "ts": (
                f"datum.la == -{INF} ? 0 : (datum.la == 0 ? {INF} : "
                f"((datum.k < 4 ? {-LOG_CLIP} : {LOG_CLIP}) - datum.log0) / datum.la)"
            ),
            "t": vertex_t,
        }
    )
    chain = {
        **first,
        **_log_magnitude(),
        "sg": "datum.z ? 0 : datum.s0 * (datum.t % 2 == 1 && datum.r < 0 ? -1 : 1)",
        "|θ̃|": _clip_y("datum.lm"),
        "trend": "abs(datum.r) > 1 ? 'grows' : 'shrinks'",
        "clip": f"datum.lm < {-LOG_CLIP} ? 'below' : datum.lm > {LOG_CLIP} ? 'above' : 'in'",
    }
    # A line's tooltip is its first point's (Vega draws a line as one path): it names the direction; the
    # exact values are at the clip markers and in the CSV. No per-point text or aria label is computed:
    # these run for every point on every move of η.
    line = (
        alt.Chart()
        .mark_line(strokeWidth=4 if big else 2.2, aria=False)
        .encode(
            x=x,
            y=alt.Y("|θ̃|:Q", scale=y_scale, axis=axis),
            color=alt.Color("λ:Q", scale=alt.Scale(scheme=LAMBDA_SCHEME), title="λᵢ", legend=LAMBDA_LEGEND),
            detail="direction:N",
            strokeDash=alt.StrokeDash(
                "trend:N", scale=alt.Scale(domain=["shrinks", "grows"], range=[[1, 0], [6, 3]]), title="direction"
            ),
            tooltip=[
                alt.Tooltip("direction:Q", title="direction i"),
                alt.Tooltip("λ:Q", format=".6g", title="λᵢ"),
                alt.Tooltip("trend:N", title="|θ̃ₜ,ᵢ|"),
            ],
        )
    )
    # Values past the clip are drawn on the chart's floor (or ceiling): a flat line there is not a
    # stall. Each direction's first clipped point gets a marker and the text "< 1e-30" (or "> 1e+30").
    clipped = (
        alt.Chart()
        .transform_filter("datum.clip != 'in'")
        .transform_window(k="row_number()", groupby=["direction", "clip"], sort=[alt.SortField("t")])
        .transform_filter("datum.k == 1")
        .transform_calculate(note=f"datum.clip == 'below' ? '< 1e-{LOG_CLIP:g}' : '> 1e+{LOG_CLIP:g}'")
    )
    clipped = _calc(clipped, _exact("datum.lm", "datum.sg"))
    clip_mark = clipped.mark_point(shape="triangle-down", filled=True, size=150 if big else 70, color=DANGER).encode(
        x=x,
        y=alt.Y("|θ̃|:Q", scale=y_scale),
        tooltip=[
            alt.Tooltip("direction:Q", title="direction i"),
            alt.Tooltip("t:Q", title="clipped from step"),
            alt.Tooltip("exact:N", title="θ̃ₜ,ᵢ (exact)"),
            alt.Tooltip("note:N", title="drawn at the edge"),
        ],
    )
    clip_text = (
        clipped.transform_window(m="row_number()", groupby=["clip"], sort=[alt.SortField("t")])
        .transform_filter("datum.m == 1")
        .mark_text(align="left", dx=8, dy=-8, color=DANGER, fontWeight="bold")
        .encode(x=x, y=alt.Y("|θ̃|:Q", scale=y_scale), text="note:N")
    )
    lines = _calc(alt.layer(line, clip_mark, clip_text, data=alt.Data(name="lines" if symlog else "verts")), chain)
    return alt.layer(band, lines).properties(width=width, height=300, title="Every eigendirection: |θ̃ₜ,ᵢ| against t")


_SHRINKS, _GROWS = "shrinks (|1 − ηλ| < 1)", "does not shrink"


def _stability_v(big: bool, width: int, complete: bool):
    y_scale = alt.Scale(domain=[0, FACTOR_CLIP], nice=False)
    x_scale = alt.Scale(nice=False, zero=False)
    y = alt.Y("f:Q", title="|1 − ηλ| (shrink factor per step)", scale=y_scale)
    # The V is piecewise linear in λ: three vertices (the ends and its tip at λ = 1/η) draw it exactly.
    v = (
        _named("vgrid")
        .transform_calculate(
            lam=f"datum.k == 0 ? datum.lo : datum.k == 2 ? datum.hi : clamp(1 / {LR}, datum.lo, datum.hi)"
        )
        .transform_calculate(f=f"abs(1 - {LR} * datum.lam)")
        .mark_line(color="#444444", strokeWidth=3.5 if big else 2, clip=True)
        .encode(x=alt.X("lam:Q", title="eigenvalue λ", scale=x_scale), y=y, order="k:O")
    )
    kinds = alt.Scale(domain=[_SHRINKS, _GROWS], range=[OKABE_ITO[0], DANGER])
    dots_src = _named("dirs").transform_filter("datum.kind == 0") if complete else _named("points")
    dots = (
        dots_src.transform_calculate(f=f"abs(1 - {LR} * datum['λ'])")
        .transform_calculate(
            shown=f"min(datum.f, {FACTOR_CLIP})",
            eta_lambda=f"{LR} * datum['λ']",
            stable=f"datum.f < 1 ? '{_SHRINKS}' : '{_GROWS}'",
        )
        .mark_point(filled=True, size=240 if big else 90, opacity=0.9, stroke="white", strokeWidth=0.8)
        .encode(
            x=alt.X("λ:Q", scale=x_scale),
            y=alt.Y("shown:Q", scale=y_scale),
            color=alt.Color("stable:N", scale=kinds, title="direction", legend=alt.Legend(orient="bottom")),
            shape=alt.Shape(
                "stable:N",
                scale=alt.Scale(domain=[_SHRINKS, _GROWS], range=["circle", "triangle-up"]),
                title="direction",
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("λ:Q", format=".6g", title="λᵢ"),
                alt.Tooltip("eta_lambda:Q", format=".6g", title="ηλᵢ"),
                alt.Tooltip("f:Q", format=".6g", title="|1 − ηλᵢ|"),
            ],
        )
    )
    edge_src = (
        _named("vgrid")
        .transform_filter("datum.k == 0")
        .transform_calculate(edge=f"{LR} > 0 ? 2 / {LR} : null")
        .transform_calculate(
            shown="isValid(datum.edge) && datum.edge < datum.hi ? datum.edge : null",
            note=(
                "isValid(datum.edge) && datum.edge < datum.hi ? 'λ = 2/η' : "
                "'λ = 2/η = ' + format(datum.edge, '.4~g') + ' →'"
            ),
        )
    )
    rule = edge_src.mark_rule(color=DANGER, strokeDash=[6, 4], strokeWidth=3 if big else 2, clip=True).encode(
        x=alt.X("shown:Q", scale=x_scale)
    )
    label = edge_src.mark_text(align="right", x="width", dx=-4, y=14, color=DANGER, fontWeight="bold").encode(
        text="note:N"
    )
    band = (
        alt.Chart(pd.DataFrame({"y0": [0.0], "y1": [1.0]}))
        .mark_rect(color=STABLE_FILL, opacity=0.12)
        .encode(y=alt.Y("y0:Q", scale=y_scale), y2="y1:Q")
    )
    one = alt.Chart(pd.DataFrame({"y": [1.0]})).mark_rule(color="#666666").encode(y=alt.Y("y:Q", scale=y_scale))
    return alt.layer(band, one, v, rule, label, dots).properties(
        width=width, height=260, title="Stability boundary: |1 − ηλ| against λ"
    )


FACTOR_MARKS = ["η_max", "η*", "η (live)"]


def _factors(big: bool, width: int):
    y_scale = alt.Scale(domain=[0, FACTOR_CLIP], nice=False)
    x = alt.X("η:Q", title="learning rate η", scale=alt.Scale(nice=False))
    colors = alt.Scale(domain=FACTOR_MARKS, range=[DANGER, OKABE_ITO[2], "#000000"])
    dashes = alt.Scale(domain=FACTOR_MARKS, range=[[6, 4], [2, 2], [1, 0]])
    line = (
        _named("flines")
        .mark_line(strokeWidth=3.5 if big else 2, clip=True)
        .encode(
            x=x,
            y=alt.Y("|1 − ηλ|:Q", title="|1 − ηλᵢ|", scale=y_scale),
            color=alt.Color("λ:Q", scale=alt.Scale(scheme=LAMBDA_SCHEME), title="λᵢ", legend=None),
            detail="λ:N",
            tooltip=[alt.Tooltip("λ:Q", format=".6g", title="λᵢ"), alt.Tooltip("η:Q", format=".6g")],
        )
    )
    marks = (
        _named("marks")
        .transform_filter("datum.label != 'none'")
        .mark_rule(strokeWidth=3 if big else 2)
        .encode(
            x="η:Q",
            color=alt.Color("label:N", scale=colors, legend=alt.Legend(title="marks", orient="bottom")),
            strokeDash=alt.StrokeDash("label:N", scale=dashes, legend=None),
            tooltip=[alt.Tooltip("label:N", title="mark"), alt.Tooltip("value:N", title="η")],
        )
    )
    now = (
        _named("vgrid")
        .transform_filter("datum.k == 0")
        .transform_calculate(**{"η": LR, "label": "'η (live)'"})
        .mark_rule(strokeWidth=3 if big else 2)
        .encode(
            x="η:Q",
            color=alt.Color("label:N", scale=colors, legend=None),
            strokeDash=alt.StrokeDash("label:N", scale=dashes, legend=None),
        )
    )
    dots = (
        _named("freps")
        .transform_calculate(**{"η": LR})
        .transform_calculate(f=f"abs(1 - {LR} * datum['λ'])")
        .transform_calculate(shown=f"min(datum.f, {FACTOR_CLIP})")
        .mark_point(filled=True, size=120 if big else 50, color="#000000")
        .encode(
            x="η:Q",
            y=alt.Y("shown:Q", scale=y_scale),
            tooltip=[alt.Tooltip("λ:Q", format=".6g", title="λᵢ"), alt.Tooltip("f:Q", format=".6g", title="|1 − ηλᵢ|")],
        )
    )
    band = (
        alt.Chart(pd.DataFrame({"y0": [0.0], "y1": [1.0]}))
        .mark_rect(color=STABLE_FILL, opacity=0.12)
        .encode(y=alt.Y("y0:Q", scale=y_scale), y2="y1:Q")
    )
    return (
        alt.layer(band, line, marks, now, dots)
        .resolve_scale(color="independent")
        .properties(width=width, height=260, title="Shrink factors |1 − ηλᵢ| against η")
    )


def _loss(big: bool, symlog: bool, live_loss: bool, signed: bool, width: int):
    """signed: some λᵢ < 0 (a saddle), whose terms are summed apart; without them the chain is shorter
    (this view is half of a live move's work: ≈ 1,000 (t, i) rows at the defaults)."""
    y = alt.Y(
        "|L|:Q",
        title="loss L(θₜ) = ½ Σ λᵢ θ̃ₜ,ᵢ² (log)",
        scale=alt.Scale(type="log", nice=False),
        axis=alt.Axis(format=".0e"),
    )
    if live_loss:
        # Every direction is a row of `lines` here (n ≤ 20): ½ Σ λᵢ θ̃² summed in log space, λ > 0 and
        # λ < 0 apart, as core.quadratic.log_loss does. One formula per row: log10(½|λᵢ| θ̃₀,ᵢ²) comes
        # from the server (c), and each transform is a pass over every row.
        factor = _log10(f"abs(1 - {LR} * datum['λ'])")
        term = f"datum.z || datum['λ'] == 0 ? -{INF} : datum.c + 2 * (datum.t == 0 ? 0 : datum.t * {factor})"
        if signed:
            src = _named("lines").transform_calculate(term=term)
            src = _calc(
                src,
                {"tp": f"datum['λ'] > 0 ? datum.term : -{INF}", "tn": f"datum['λ'] < 0 ? datum.term : -{INF}"},
            )
            src = src.transform_joinaggregate(mp="max(tp)", mn="max(tn)", groupby=["t"])
            src = _calc(
                src,
                {
                    "ep": "isFinite(datum.mp) ? pow(10, datum.tp - datum.mp) : 0",
                    "en": "isFinite(datum.mn) ? pow(10, datum.tn - datum.mn) : 0",
                },
            )
            src = src.transform_aggregate(sp="sum(ep)", sn="sum(en)", mp="max(mp)", mn="max(mn)", groupby=["t"])
            total = {
                "pos": f"isFinite(datum.mp) ? datum.mp + {_log10('datum.sp')} : datum.mp",
                "neg": f"isFinite(datum.mn) ? datum.mn + {_log10('datum.sn')} : datum.mn",
                "big": "max(datum.pos, datum.neg)",
                "small": "min(datum.pos, datum.neg)",
                "ll": (f"datum.big == -{INF} ? -{INF} : datum.big + {_log10('1 - pow(10, datum.small - datum.big)')}"),
                "ls": f"datum.ll == -{INF} ? 0 : datum.pos >= datum.neg ? 1 : -1",
            }
        else:
            src = _named("lines").transform_calculate(tp=term)
            src = src.transform_joinaggregate(mp="max(tp)", groupby=["t"])
            src = src.transform_calculate(ep="isFinite(datum.mp) ? pow(10, datum.tp - datum.mp) : 0")
            src = src.transform_aggregate(sp="sum(ep)", mp="max(mp)", groupby=["t"])
            total = {
                "ll": f"isFinite(datum.mp) ? datum.mp + {_log10('datum.sp')} : datum.mp",
                "ls": f"datum.ll == -{INF} ? 0 : 1",
            }
        src = _calc(
            src,
            {
                **total,
                **_exact("datum.ll", "datum.ls"),
                "|L|": _clip_y("datum.ll"),
                "sign": "datum.ls < 0 ? 'L < 0 (saddle)' : 'L ≥ 0'",
            },
        )
        src = src.transform_calculate(**{"L exact": "datum.exact"})
    else:
        src = _named("loss").transform_filter(MATCH)
    line = (
        alt.Chart()
        .mark_line(
            strokeWidth=4 if big else 2.5,
            color=OKABE_ITO[0],
            aria=False,  # the points carry the tooltips; no aria label per point on every move
            point=alt.OverlayMarkDef(size=60 if big else 25, aria=False),
        )
        .encode(
            x=_time_x(symlog),
            y=y,
            tooltip=[alt.Tooltip("t:Q", title="step t"), alt.Tooltip("L exact:N", title="L(θₜ)"), "sign:N"],
        )
    )
    # Like the decay chart: where the loss passes the 10^±30 clip, a marker and its label say so.
    bound = 10.0**LOG_CLIP
    clip = (
        alt.Chart()
        .transform_filter(f"datum['|L|'] >= {bound!r} || datum['|L|'] <= {1 / bound!r}")
        .transform_window(k="row_number()", sort=[alt.SortField("t")])
        .transform_filter("datum.k == 1")
        .transform_calculate(note=f"datum['|L|'] >= {bound!r} ? '> 1e+{LOG_CLIP:g}' : '< 1e-{LOG_CLIP:g}'")
    )
    marker = clip.mark_point(shape="triangle-down", filled=True, size=150 if big else 70, color=DANGER).encode(
        x=_time_x(symlog), y=y
    )
    label = clip.mark_text(align="left", dx=8, dy=10, color=DANGER, fontWeight="bold").encode(
        x=_time_x(symlog), y=y, text="note:N"
    )
    title = "Loss L(θₜ)" + ("" if live_loss else " (n > 20: summed on the server, drawn when η is released)")
    if live_loss:
        layered = alt.layer(line, marker, label, data=alt.Data(name="lines"))
        layered.transform = src.transform  # the chain computed once for the three layers
    else:
        layered = alt.layer(line, marker, label, data=alt.Data(name="loss")).transform_filter(MATCH)
    return layered.properties(width=width, height=220, title=title)


def _readout(big: bool, shown: tuple[str, ...], complete: bool):
    """The numbers a teacher points at, from the live η: η, η/η_max, the rate, steps to ε, the
    verdict (as core.quadratic.rate, steps_to_tolerance and status compute them)."""
    r = f"1 - {LR} * datum['λ']"
    src = _calc(
        _named("dirs"),
        {
            "r": f"datum.kind == 0 ? {r} : 1",
            "g": "abs(datum.r)",
            "blow": (
                f"datum.kind == 0 && datum.ex && datum.g > 1 ? ceil({BLOWUP_LOG10!r} / {_log10('datum.g')}) : {INF}"
            ),
            "stuck": f"datum.kind == 0 && datum.ex && datum.r == -1 ? datum.i : {INF}",
            "moves": "datum.kind == 0 && datum.ex && datum.r != 1 ? 1 : 0",
            "rt": "datum.kind == 0 && datum['λ'] != 0 ? datum.g : null",
            "em2": "datum.kind == 2 ? datum.em : null",
            "eps2": "datum.kind == 2 ? datum.eps : null",
        },
    )
    src = src.transform_joinaggregate(kmin="min(blow)", js="min(stuck)")
    src = src.transform_calculate(first=f"datum.blow == datum.kmin && isFinite(datum.kmin) ? datum.i : {INF}")
    src = src.transform_joinaggregate(ib="min(first)")
    src = _calc(
        src,
        {
            "lamb": "datum.kind == 0 && datum.i == datum.ib ? datum['λ'] : null",
            "lams": "datum.kind == 0 && datum.i == datum.js ? datum['λ'] : null",
        },
    )
    src = src.transform_aggregate(
        kmin="min(kmin)",
        ib="min(ib)",
        lamb="max(lamb)",
        js="min(js)",
        lams="max(lams)",
        mv="max(moves)",
        rho="max(rt)",
        em="max(em2)",
        eps="max(eps2)",
    )
    if not complete:
        src = src.transform_calculate(one="1").transform_lookup(
            lookup="one", from_=alt.LookupData(data=alt.Data(name="verdict"), key="one", fields=["veta", "vtext"])
        )
    f = _fmt
    steps = "datum.rho >= 1 ? 'never' : datum.rho == 0 ? '1' : format(ceil(log(datum.eps) / log(datum.rho)), ',')"
    verdict = (
        "isFinite(datum.kmin) ? 'Diverges: direction ' + datum.ib + ' (λ = ' + "
        + f("datum.lamb")
        + f" + ', ηλ = ' + format({LR} * datum.lamb, '.4~g') + ') passes 10⁶ × its start at step ' "
        "+ format(datum.kmin, ',')"
        " : isFinite(datum.js) ? 'Oscillates forever: direction ' + datum.js + ' has ηλ = 2 exactly (λ = ' + "
        + f("datum.lams")
        + " + ')'"
        " : datum.mv == 0 ? 'Does not move: 1 − ηλᵢ = 1 in every excited direction'"
        " : 'Converges: every excited direction shrinks, the slowest by ' + " + f("datum.rho") + " + ' per step'"
    )
    parts = {
        "lr_m": f"'η = ' + {f(LR)}",
        "ratio_m": f"'η/η_max = ' + (datum.em > 0 ? {f(LR + ' / datum.em')} : '—')",
        "rate_m": f"'rate max|1 − ηλᵢ| = ' + {f('datum.rho')}",
        "steps_m": f"'steps to ε = ' + format(datum.eps, '~g') + ': ' + ({steps})",
    }
    numbers = [parts[k] for k in READOUT[:4] if k in shown]
    calcs = {"rho": "isValid(datum.rho) ? datum.rho : 1"}
    fields = []
    if numbers:
        calcs["line1"] = " + '   ·   ' + ".join(numbers)
        fields.append("line1")
    if "status" in shown:
        # Above LIVE_DIRS directions the verdict is the server's, shown while it is for the live η.
        server = (
            f"{MATCH.replace('datum.eta', 'datum.veta')} ? datum.vtext : "
            "'Verdict: computed on the server for n > 1,000 directions, shown when η is released'"
        )
        calcs["line2"] = verdict if complete else server
        fields.append("line2")
    if not fields:
        calcs["line1"] = "'(read-out hidden: an exercise)'"
        fields.append("line1")
    src = _calc(src, calcs).transform_fold(fields, as_=["which", "text"])
    font = 20 if big else 15
    return (
        src.mark_text(align="left", x=0, fontSize=font, fontWeight="bold", color="#222222")
        .encode(y=alt.Y("which:N", axis=None, title=None), text="text:N")
        .properties(width=WIDE, height=(font + 10) * len(fields), title="Live read-out (η from the slider below)")
    )


# The labels of the live inputs under the charts: the sidebar's sliders find theirs by them (ui.live_slider).
ETA_LABEL = "η (live, drag me)"
BETA_LABEL = "β (live, drag me)"

NOW = "now"  # the one-row dataset that carries the sidebar's live values (and nothing else that changes)


def now_value(field: str) -> str:
    """A Vega expression: NOW's value of field (0 until the data has arrived)."""
    return f"length(data('{NOW}')) ? data('{NOW}')[0]['{field}'] : 0"


def live_params(name: str, param: str, top: float | None, label: str, step: float | None = None) -> list[dict]:
    """One live value (η, β, η·λ) as raw Vega-Lite parameters, appended to a spec's params. The spec never
    contains the value: a sidebar change re-sends the dataset NOW (a few bytes) and Streamlit updates the
    chart in place instead of re-embedding it.

    - `{name}_srv`: the server's value, read from NOW;
    - `param` (what every expression reads): follows `{name}_srv` whenever that changes, so the sidebar
      moves the slider; bound to a range input on [0, top] (top None: no slider, an exercise hid it);
    - `{name}_push`: when the slider leaves the server's value, writes it (with a time stamp: the same
      value twice is still news) into the point selection `name`, which Streamlit returns on release.
    Vega-Lite passes a variable parameter's `on` handlers through to Vega unchanged."""
    srv = f"{name}_srv"
    follow = {"name": param, "expr": srv, "on": [{"events": {"signal": srv}, "update": srv}]}
    if top is not None:
        # (the space keeps the label off the input in Vega's binding)
        follow["bind"] = {"input": "range", "min": 0, "max": top, "step": step or top / 500, "name": label + " "}
    fields = f"[{{type: 'E', field: '{name}'}}, {{type: 'E', field: 'at'}}]"
    push = f"modify('{name}_store', {{unit: '', fields: {fields}, values: [{param}, now()]}}, true)"
    on_move = [{"events": {"signal": param}, "update": f"{param} !== {srv} ? {push} : 0"}]
    return [
        {"name": srv, "expr": now_value(name)},
        follow,
        {"name": f"{name}_push", "value": 0, "on": on_move},
    ]


def live_selection(name: str) -> alt.Parameter:
    """The point selection a live value is returned to Python through (see live_params)."""
    return alt.selection_point(name=name, fields=[name, "at"], on="none", clear=False)


def reads_now(chart):
    """Make a view read NOW (a lookup whose result nobody uses): Vega-Lite emits a named dataset only for
    the views that read it, and the live parameters need it to exist."""
    return chart.transform_calculate(_one="1").transform_lookup(
        lookup="_one", from_=alt.LookupData(data=alt.Data(name=NOW), key="one", fields=["one"]), as_=["_now"]
    )


def now_frame(**values: float | None) -> pa.Table:
    """NOW's one row: the sidebar's live values (None: not live on this page, sent as 0). Typed arrays, not
    charts.table: built on every run, and its general path (type inference, compaction) took 0.14 ms, this 0.02."""
    floats = {k: pa.array([0.0 if v is None else float(v)], pa.float64()) for k, v in values.items()}
    return pa.table({"one": pa.array([1], pa.int32()), **floats})


def with_params(chart, extra: list[dict], validate: bool = True) -> dict:
    """The chart as a dict with raw parameters appended (Altair's schema has no `on` for a variable), and
    without Vega's ARIA attributes: their axis and legend descriptions were re-computed and re-written on
    every live move (≈ 2.5 ms of a move at the defaults, A/B in one Chromium); the chart's alt text
    (Streamlit's `alt`) describes it instead, and its text marks stay text."""
    out = chart.to_dict(validate=validate)
    out["params"] = [*out.get("params", []), *extra]
    out["config"] = {**out.get("config", {}), "aria": False}
    return charts.constant_tables(out)


def with_ranges(spec_: dict, tops: dict[str, float]) -> dict:
    """A cached spec with its live sliders' ranges [0, top] set (param name → top; 500 steps, as
    live_params): a new top level and new dicts for those parameters, the rest shared with the cache
    (never edited). A new spectrum then costs a dict copy, not an Altair build (0.3–0.7 s of CPU)."""
    params = []
    for param in spec_["params"]:
        top = tops.get(param["name"])
        if top is not None and "bind" in param:
            param = {**param, "bind": {**param["bind"], "max": top, "step": top / 500}}
        params.append(param)
    return {**spec_, "params": params}


@charts.built_once(maxsize=128)
def spec(
    big: bool,
    symlog: bool,
    live_band: bool,
    live_loss: bool,
    signed: bool,
    views: tuple[str, ...],
    shown: tuple[str, ...],
    complete: bool,
    slider: bool,
) -> dict:
    """The compound chart's Vega-Lite dict, the live η on a slider (see live_params; with_ranges sets its
    range). Built once per distinct arguments (Altair's build and validation ≈ 0.3–0.7 s); η is not in it."""
    top = 1.0  # a placeholder: with_ranges sets the slider's range per spectrum
    selection = live_selection("eta")
    rows = [reads_now(_readout(big, shown, complete)).add_params(selection)]
    if "decay" in views:
        rows.append(_decay(big, symlog, live_band, WIDE))
    pair = [v for v in ("stability_v", "factors") if v in views]
    if pair:
        width = NARROW if len(pair) == 2 else WIDE
        built = [_stability_v(big, width, complete) if v == "stability_v" else _factors(big, width) for v in pair]
        rows.append(alt.hconcat(*built, spacing=40).resolve_scale(color="independent", shape="independent"))
    if "loss" in views:
        rows.append(_loss(big, symlog, live_loss, signed, WIDE))
    font = 18 if big else 13
    chart = (
        alt.vconcat(*rows, spacing=28)
        .resolve_scale(color="independent", shape="independent", strokeDash="independent")
        .configure_axis(labelFontSize=font, titleFontSize=font + 1, grid=True)
        .configure_legend(labelFontSize=font, titleFontSize=font, symbolSize=220 if big else 90)
        .configure_title(fontSize=font + 2, anchor="start")
        .configure_text(fontSize=font)
    )
    return with_params(chart, live_params("eta", LR, top if slider else None, ETA_LABEL))


def eta_value(selection) -> float | None:
    """The η a selection event carries ({"eta": [{"eta": v}]}), or None if it carries none."""
    try:
        value = float(selection["eta"][0]["eta"])
    except (KeyError, IndexError, TypeError, ValueError, OverflowError):  # (a 400-digit integer)
        return None
    return value if math.isfinite(value) and value >= 0 else None


def stamp(selection, name: str):
    """The time stamp a live value's selection carries (see live_params), or None."""
    try:
        return selection[name][0]["at"]
    except (KeyError, IndexError, TypeError):
        return None


def show(
    spec_: dict,
    datasets: dict[str, pd.DataFrame],
    key: str,
    alt_text: str,
    on_select,
    modes: tuple[str, ...] = ("eta",),
    name: str = "quadratic",
    export=None,
) -> None:
    """Render the compound chart (keyed: data updates in place) with its CSV and SVG downloads.
    modes: the selections returned to Python; export: builds the CSV when clicked (default: the datasets)."""
    full = dict(spec_)
    full["datasets"] = {**spec_.get("datasets", {}), **charts.wire(datasets)}
    full["usermeta"] = {"embedOptions": {"renderer": "svg"}}
    if presenting():
        ink = "#f0f0f0" if st.context.theme.type == "dark" else "#111111"
        config = dict(spec_.get("config", {}))
        config["axis"] = {**config.get("axis", {}), "labelColor": ink, "titleColor": ink}
        config["legend"] = {**config.get("legend", {}), "labelColor": ink, "titleColor": ink}
        config["title"] = {**config.get("title", {}), "color": ink}
        full["config"] = config
    st.vega_lite_chart(full, key=key, alt=alt_text, on_select=on_select, selection_mode=list(modes), width="content")
    download_buttons(name, key, export or (lambda: chart_csv(datasets)), full, ", at the sidebar's η")


def tables(frames: dict[str, pd.DataFrame]) -> dict[str, pa.Table]:
    """A chart's data that does not depend on η, as compact Arrow tables: cached once per spectrum with
    st.cache_resource (immutable, shared, never copied), they skip the pandas → Arrow conversion that
    each rerun otherwise pays for every dataset (≈ 40 % of a quadratic rerun's chart time)."""
    return {name: charts.arrow(df) for name, df in frames.items()}


VIEWS = ("decay", "stability_v", "factors", "loss")


def visible_views() -> tuple[str, ...]:
    return tuple(v for v in VIEWS if controls.visible(v))


def warm_specs() -> None:
    """Build the quadratic page's chart structures that a class link needs (every view shown, linear
    time axis, not presenting, the default start) for n ≤ LIVE_ALL, ≤ LIVE_DIRS and above, before a
    visitor asks: a first build holds the GIL for 0.3–0.9 s."""
    for live_loss, complete, live_band in ((True, True, True), (False, True, True), (False, False, False)):
        spec(False, False, live_band, live_loss, False, VIEWS, READOUT, complete, True)


def visible_readout() -> tuple[str, ...]:
    return tuple(k for k in READOUT if controls.visible(k) and (k != "lr_m" or controls.visible("lr")))


# ---- the home page's one-direction example ------------------------------------------------

HOME_REGIME = (
    "datum.r == 1 ? 'frozen (η = 0)' : datum.r > 0 ? 'monotone decay' : datum.r == 0 ? 'solved in one step' : "
    "datum.r > -1 ? 'zig-zag decay' : datum.r == -1 ? 'oscillates forever' : 'oscillating blow-up'"
)


@charts.built_once(maxsize=4)
def home_spec(big: bool, slider: bool) -> dict:
    """θₜ = (1 − ηλ)ᵗ θ₀ for λ = θ₀ = 1, t = 0…20, with η (= ηλ) from a live slider over [0, 2.5] (see
    live_params: the value travels in NOW as "hx"); the regime (core.quadratic.regimes) written above the
    line, both recomputed in the browser."""
    h = "h"  # the live η·λ
    y_scale = alt.Scale(domain=[-2.2, 2.2], clamp=True, nice=False)
    src = _calc(
        _named("theta"),
        {
            "r": f"1 - {h}",
            "lm": f"datum.t == 0 ? 0 : datum.t * {_log10('abs(datum.r)')}",
            "sg": "datum.t % 2 == 1 && datum.r < 0 ? -1 : 1",
            **_exact("datum.lm", "datum.sg"),
            "θ": "datum.sg * pow(10, min(datum.lm, 6))",  # drawn within ±1e6, as before; exact in the tooltip
        },
    )
    line = src.mark_line(point=True, strokeWidth=3 if big else 2, color=OKABE_ITO[0], clip=True).encode(
        x=alt.X("t:Q", title="step t"),
        y=alt.Y("θ:Q", title="θₜ = (1 − ηλ)ᵗ θ₀", scale=y_scale),
        tooltip=[alt.Tooltip("t:Q", title="step"), alt.Tooltip("exact:N", title="θₜ")],
    )
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#666666").encode(y="y:Q")
    regime = (
        _named("theta")
        .transform_filter("datum.t == 0")
        .transform_calculate(r=f"1 - {h}")
        .transform_calculate(text=f"({HOME_REGIME}) + ' (r = ' + format(datum.r, '.3~g') + ')'")
        .mark_text(align="left", x=4, y=-12, fontWeight="bold", fontSize=18 if big else 13)
        .encode(text="text:N")
    )
    font = 18 if big else 13
    chart = (
        alt.layer(zero, line, reads_now(regime))
        .add_params(live_selection("hx"))
        .properties(width="container", height=int(260 * (1.25 if big else 1)))
        .configure_axis(labelFontSize=font, titleFontSize=font + 1, grid=True)
    )
    return with_params(chart, live_params("hx", h, 2.5 if slider else None, "η·λ (live, drag me)", step=0.05))
