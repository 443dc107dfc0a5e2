"""Live η and β on the trajectory and momentum pages: the 2 × 2 recursion of core.momentum in closed
form, written as Vega expressions, and the two pages' compound charts that evaluate it in the browser.

Each eigen-coordinate x = θ̃ᵢ follows x_{t+1} = a x_t − b x_{t−1} from rest (x_{−1} = x_0), with
(a, b) = (1 − h, 0) for GD, (1 + β − h, β) for heavy ball, ((1 + β)(1 − h), β(1 − h)) for Nesterov,
h = ηλᵢ (core.momentum; theory.md §4). With the roots z₁, z₂ of z² − a z + b = 0, |z₁| ≥ |z₂|:

    x_t / x_0 = c_t = [z₁^{t+1}(1 − z₂) − z₂^{t+1}(1 − z₁)] / (z₁ − z₂)

written so that no step cancels or overflows:

    real roots (r = a/2, s = √(r² − b), z₁ = sgn(r)(|r| + s), q = z₂/z₁):
        c_t = z₁ᵗ · [1 + (q − z₂)·S_t],   S_t = (1 − qᵗ)/(1 − q) = Σ_{k<t} qᵏ,
        1 − q = 2s/(|r| + s),  log|q| = −2·atanh(min(s, |r|)/max(s, |r|)),  1 − qᵗ = −expm1(t log q)
        (S_t = t at a repeated root, s = 0: the same formula, continuous through it);
    complex roots (ρ = √b, θ = atan2(s, |r|), s = √(b − r²)):
        c_t = sgn(r)ᵗ ρᵗ · [cos tθ + sgn(r)(r − b)/ρ · sin tθ / sin θ].

Magnitudes travel as log10|c_t| with the sign apart, like the quadratic page (ui.live), so a diverging
run reads 1.5e+4021 in its tooltip and is drawn at the 10^±30 edge; never NaN.
"""

from __future__ import annotations

import math

import altair as alt
import pandas as pd
import pyarrow as pa
import streamlit as st

from core import momentum
from ui import charts, frames, live, sidebar
from ui.charts import DANGER, LAMBDA_SCHEME, NEUTRAL, OKABE_ITO, RATE_MAP_DB, RATE_MAP_DH, rate_cells, spectrum_points
from ui.live import INF, _exact, _log10, _named

ETA, BETA = "lr", "mb"  # the live η and β in every expression (parameters that read the selections)
POLYAK_ETA, POLYAK_BETA = "polyak_eta", "polyak_beta"  # Polyak's (η*, β*) on the momentum page with GD (from NOW)
PLANE_R = "plane_r"  # the trajectory plane's half-width, read from the data
METHOD_CODE = {"gd": 0, "heavy_ball": 1, "nesterov": 2}
# Altair's schema validation of these long specs costs seconds on a first visit; tests validate every
# variant (tests/test_pages_momentum.py sets this True), the server skips it.
VALIDATE = False
WIDE = 640  # px: the main column at 1280 px with the sidebar open (as ui.live)


def _calc(chart: alt.Chart, steps: dict[str, str]) -> alt.Chart:
    """One calculate transform per field, in order (later fields read earlier ones), appended in place:
    Altair's transform_calculate deep-copies the chart once per field, seconds for these long chains.
    Only for charts built here and not yet shared."""
    new = [alt.CalculateTransform(calculate=expr, **{"as": name}) for name, expr in steps.items()]
    chart.transform = ([] if chart.transform is alt.Undefined else list(chart.transform)) + new
    return chart


def _atanh(w: str) -> str:
    # Vega has no atanh/log1p: a short series where 0.5·log((1+w)/(1−w)) would lose digits.
    return f"({w} < 1e-4 ? {w} + {w}*{w}*{w}/3 + {w}*{w}*{w}*{w}*{w}/5 : 0.5 * log((1 + {w}) / (1 - {w})))"


def _expm1(y: str) -> str:
    return f"(abs({y}) < 1e-5 ? {y} + {y}*{y}/2 + {y}*{y}*{y}/6 : exp({y}) - 1)"


def closed_form(h: str, beta: str, method: str, prefix: str = "_") -> dict[str, str]:
    """Calculate steps that write, for the row's step datum.t, log10|c_t| as `{prefix}lc` and its sign
    as `{prefix}sc` (c_t = x_t/x_0, see the module docstring). h, beta: expressions of ηλ and β;
    method: an expression giving 0 (gd), 1 (heavy ball) or 2 (Nesterov)."""
    p = prefix

    def f(name: str) -> str:
        return f"datum.{p}{name}"

    return {
        f"{p}h": h,
        f"{p}be": beta,
        f"{p}a": (
            f"{method} == 0 ? 1 - {f('h')} : {method} == 1 ? 1 + {f('be')} - {f('h')}"
            f" : (1 + {f('be')}) * (1 - {f('h')})"
        ),
        f"{p}b": f"{method} == 0 ? 0 : {method} == 1 ? {f('be')} : {f('be')} * (1 - {f('h')})",
        f"{p}r": f"{f('a')} / 2",
        f"{p}ar": f"abs({f('r')})",
        f"{p}sg": f"{f('r')} < 0 ? -1 : 1",
        # r² − b (the discriminant / 4), 1 − r and r − b, each in a form that does not cancel when β → 1
        # or h → 0 (r² and b are both ≈ 1 there while their difference is ≈ (1 − β)²/4).
        f"{p}d": (
            f"{method} == 0 ? {f('r')} * {f('r')} : {method} == 1"
            f" ? (pow(1 - {f('be')} - {f('h')}, 2) - 4 * {f('be')} * {f('h')}) / 4"
            f" : (1 - {f('h')}) * (pow(1 - {f('be')}, 2) - {f('h')} * pow(1 + {f('be')}, 2)) / 4"
        ),
        f"{p}p": (
            f"{method} == 0 ? (1 + {f('h')}) / 2 : {method} == 1 ? (1 - {f('be')} + {f('h')}) / 2"
            f" : (1 - {f('be')} + {f('h')} * (1 + {f('be')})) / 2"
        ),
        f"{p}rb": (
            f"{method} == 0 ? {f('r')} : {method} == 1 ? (1 - {f('be')} - {f('h')}) / 2"
            f" : (1 - {f('h')}) * (1 - {f('be')}) / 2"
        ),
        # Where the discriminant overflows (h past ≈ 1e154), b is negligible beside r².
        f"{p}s": (
            f"{f('b')} == 0 ? {f('ar')} : isFinite({f('d')}) ? sqrt(abs({f('d')}))"
            f" : {f('ar')} * sqrt(abs(1 - {f('b')} / {f('r')} / {f('r')}))"
        ),
        # Real roots: z₁ (the larger in size), z₂ = b/z₁, q = z₂/z₁; 1 − z₁ = h/(1 − z₂) when z₁ > 0
        # ((1 − z₁)(1 − z₂) = 1 − a + b = h for all three methods), which does not cancel as z₁ → 1.
        f"{p}z1": f"{f('b')} == 0 ? {f('a')} : {f('sg')} * ({f('ar')} + {f('s')})",
        f"{p}z2": f"{f('z1')} == 0 ? 0 : {f('b')} / {f('z1')}",
        f"{p}q": f"{f('z1')} == 0 ? 0 : {f('z2')} / {f('z1')}",
        f"{p}o1": (f"{f('sg')} > 0 && {f('p')} + {f('s')} != 0 ? {f('h')} / ({f('p')} + {f('s')}) : 1 - {f('z1')}"),
        f"{p}qz": f"{f('z1')} == 0 ? 0 : {f('z2')} * {f('o1')} / {f('z1')}",  # q − z₂
        f"{p}w": (f"max({f('ar')}, {f('s')}) == 0 ? 0 : min({f('ar')}, {f('s')}) / max({f('ar')}, {f('s')})"),
        f"{p}y": f"datum.t == 0 ? 0 : -2 * datum.t * {_atanh(f('w'))}",  # t·log|q|
        f"{p}oq": (  # 1 − qᵗ
            f"{f('q')} < 0 && datum.t % 2 == 1 ? 1 + exp({f('y')}) : -{_expm1(f('y'))}"
        ),
        f"{p}S": f"{f('s')} == 0 ? datum.t : {f('oq')} * ({f('ar')} + {f('s')}) / (2 * {f('s')})",
        f"{p}th": f"atan2({f('s')}, {f('ar')})",
        f"{p}B": (
            f"{f('d')} >= 0 ? 1 + {f('qz')} * {f('S')}"
            f" : cos(datum.t * {f('th')}) + {f('sg')} * {f('rb')} / sqrt({f('b')})"
            f" * sin(datum.t * {f('th')}) / sin({f('th')})"
        ),
        f"{p}lz": f"{f('d')} >= 0 ? {_log10('abs(' + f('z1') + ')')} : {_log10(f('b'))} / 2",
        f"{p}lc": (
            f"datum.t == 0 ? 0 : {f('B')} == 0 || ({f('d')} >= 0 && {f('z1')} == 0) ? -{INF}"
            f" : datum.t * {f('lz')} + {_log10('abs(' + f('B') + ')')}"
        ),
        f"{p}sc": (
            f"datum.t == 0 ? 1 : {f('lc')} == -{INF} ? 0"
            f" : ({f('B')} < 0 ? -1 : 1) * ({f('sg')} < 0 && datum.t % 2 == 1 ? -1 : 1)"
        ),
    }


def _edge(method: str, beta: str) -> str:
    """core.momentum.boundary(β) as an expression: where stability ends in h = ηλ."""
    return {"gd": "2", "heavy_ball": f"(2 + 2 * {beta})", "nesterov": f"((2 + 2 * {beta}) / (1 + 2 * {beta}))"}[method]


def _rho(p: str = "_") -> str:
    """The spectral radius from closed_form's fields: |z₁| for real roots, √b for complex ones."""
    return f"datum.{p}d >= 0 ? abs(datum.{p}z1) : sqrt(datum.{p}b)"


def _selections(eta_top: float, beta_top: float | None, slider: bool, beta_slider: bool):
    """The live η (and β): the point selections they return to Python through, and the raw parameters
    every expression reads (ui.live.live_params; the values travel in the dataset "now")."""
    selections = [live.live_selection("eta")]
    raw = live.live_params("eta", ETA, eta_top if slider else None, live.ETA_LABEL)
    if beta_top is not None:
        selections.append(live.live_selection("beta"))
        raw += live.live_params("beta", BETA, beta_top if beta_slider else None, live.BETA_LABEL)
    else:
        raw.append({"name": BETA, "expr": "0"})
    return selections, raw


def _shared(source: alt.Chart, *children: alt.Chart) -> alt.LayerChart:
    """Layers drawn from one source whose transforms run once (a layer's own transforms would run the
    whole chain again for each mark on every move of η)."""
    return alt.LayerChart(layer=list(children), data=source.data, transform=source.transform)


def _configure(chart, big: bool):
    font = 18 if big else 13
    return (
        chart.configure_axis(labelFontSize=font, titleFontSize=font + 1, grid=True)
        .configure_legend(labelFontSize=font, titleFontSize=font, symbolSize=220 if big else 90, orient="bottom")
        .configure_title(fontSize=font + 2, anchor="start")
        .configure_text(fontSize=font)
    )


def _readout(lines: dict[str, str], source: alt.Chart, big: bool, title: str) -> alt.Chart:
    src = _calc(source, lines).transform_fold(list(lines), as_=["which", "text"])
    font = 20 if big else 15
    return (
        src.mark_text(align="left", x=0, fontSize=font, fontWeight="bold", color="#222222")
        .encode(y=alt.Y("which:N", axis=None, title=None, sort=list(lines)), text="text:N")
        .properties(width=WIDE, height=(font + 10) * len(lines), title=title)
    )


# ---- the trajectory page ------------------------------------------------------------------

COORD_NAMES = ("θ̃₁ (λ₁)", "θ̃₂ (λ₂)")
COORD_CLIP = 1e6  # the eigen-coordinates' chart draws θ̃ₜ,ᵢ/|θ̃₀,ᵢ| within ±1e6 (as before); exact in tooltips


def trajectory_frames(l1, l2, angle, theta0, steps) -> dict[str, pa.Table]:
    """What the live trajectory chart needs that depends on neither η nor β, as Arrow tables (built from numpy:
    through pandas they were a fifth of a φ change's rerun): the level sets and the eigenvector axes
    (ui.frames.trajectory_levels), and "coords": the sampled steps × the two directions with λᵢ, log10|θ̃₀,ᵢ|
    and its sign, and the rotation (≤ 600 rows)."""
    import numpy as np

    from core import plane
    from core import quadratic as q

    base = frames.trajectory_levels(l1, l2, angle, theta0)
    u0 = plane.to_eigen(np.asarray(theta0, dtype=np.float64), angle)
    t = q.sample_steps(steps, max_points=frames.PATH_POINTS, dense_head=frames.PATH_POINTS // 2)
    with np.errstate(divide="ignore"):
        log0 = np.where(u0 != 0, np.log10(np.abs(np.where(u0 != 0, u0, 1.0))), -np.inf)
    coords = {
        "t": np.repeat(t, 2).astype(np.int32),
        "i": np.tile(np.array([1, 2], dtype=np.int8), t.size),
        "coordinate": pa.DictionaryArray.from_arrays(
            pa.array(np.tile(np.array([0, 1], dtype=np.int8), t.size)), pa.array(COORD_NAMES)
        ),
        "λ": np.tile([float(l1), float(l2)], t.size),
        # log10|θ̃₀,ᵢ| (a start on an axis has θ̃₀,ᵢ = 0: z = 1 says so, the log is unused)
        "log0": np.tile(np.where(np.isfinite(log0), log0, 0.0), t.size),
        "z": np.tile((u0 == 0).astype(np.int8), t.size),
        "s0": np.tile(np.sign(u0), t.size).astype(np.int8),
    }
    consts = {
        "one": 1,
        "cs": math.cos(angle),
        "sn": math.sin(angle),
        "R": base["radius"],
        "n0": float(np.hypot(*theta0)),
    }
    return {
        "levels": charts.table(base["levels"]),
        "axes": charts.table(base["axes"]),
        "coords": charts.table(coords),
        "consts": charts.table(consts),
    }


def _coord_values(method: str, lm_cap: str | None) -> dict[str, str]:
    """Per (t, i) row: the closed form at h = ηλᵢ, then log10|θ̃ₜ,ᵢ| (e), its sign (sg), whether the direction
    diverges and, for the plane (lm_cap), the drawn value v (|θ̃| capped at 10^lm_cap: the rotation stays
    finite). Views that read the same dataset share its rows (Vega writes fields onto them): a field name
    means one thing in every view."""
    code = METHOD_CODE[method]
    edge = _edge(method, BETA)
    out = {
        **closed_form(f"{ETA} * datum['λ']", BETA, str(code)),
        "e": f"datum.z ? -{INF} : datum._lc + datum.log0",
        "sg": "datum.z ? 0 : datum._sc * datum.s0",
        # core.momentum.regime: diverging when h < 0 or h past the edge (the edge itself is marginal).
        "dv": f"datum._h < 0 || datum._h > {edge} * (1 + 2e-15) ? 1 : 0",
        "mg": f"abs(datum._h - {edge}) <= 8 * 2.220446049250313e-16 * {edge} ? 1 : 0",  # ρ = 1: marginal
        "rho": _rho(),
    }
    if lm_cap is not None:
        out["v"] = f"datum.sg * pow(10, min(datum.e, {lm_cap}))"
    return out


def _path_source(method: str) -> alt.Chart:
    """One row per sampled step: θₜ = R(φ)θ̃ₜ, clipped to 3 × the view; a diverging run is cut at the
    first step past 3 × the view (as ui.frames.trajectory_frames), a converging one kept whole."""
    cap = "(log(3 * datum.R) / LN10 + 1)"
    src = (
        _named("coords")
        .transform_calculate(one="1")
        .transform_lookup(
            lookup="one", from_=alt.LookupData(data=alt.Data(name="consts"), key="one", fields=["cs", "sn", "R", "n0"])
        )
    )
    src = _calc(src, _coord_values(method, cap))
    src = _calc(
        src,
        {
            "v1": "datum.i == 1 ? datum.v : 0",
            "v2": "datum.i == 2 ? datum.v : 0",
            "e1": f"datum.i == 1 ? datum.e : -{INF}",
            "e2": f"datum.i == 2 ? datum.e : -{INF}",
            "s1": "datum.i == 1 ? datum.sg : 0",
            "s2": "datum.i == 2 ? datum.sg : 0",
            "le": _log10("datum['λ']"),
            "l1": f"datum.i == 1 ? datum.le : -{INF}",
            "l2": f"datum.i == 2 ? datum.le : -{INF}",
        },
    )
    src = src.transform_aggregate(
        v1="sum(v1)",
        v2="sum(v2)",
        e1="max(e1)",
        e2="max(e2)",
        s1="sum(s1)",
        s2="sum(s2)",
        l1="max(l1)",
        l2="max(l2)",
        dv="max(dv)",
        mg="max(mg)",
        rho="max(rho)",
        lam="max(λ)",
        cs="max(cs)",
        sn="max(sn)",
        R="max(R)",
        n0="max(n0)",
        groupby=["t"],
    )
    src = _calc(
        src,
        {
            "hi": "max(datum.e1, datum.e2)",
            "lo": "min(datum.e1, datum.e2)",
            # log10‖θₜ‖ (a rotation keeps the norm), never overflowing.
            "ln": f"datum.hi == -{INF} ? -{INF} : datum.hi + {_log10('1 + pow(10, 2 * (datum.lo - datum.hi))')} / 2",
            "out": f"datum.ln > {_log10('3 * datum.R')} ? 1 : 0",
            "esc": f"datum.out ? datum.t : {INF}",
            "x": "clamp(datum.cs * datum.v1 - datum.sn * datum.v2, -3 * datum.R, 3 * datum.R)",
            "y": "clamp(datum.sn * datum.v1 + datum.cs * datum.v2, -3 * datum.R, 3 * datum.R)",
            # L = ½(λ₁θ̃₁² + λ₂θ̃₂²) in log space.
            "a1": "datum.l1 + 2 * datum.e1",
            "a2": "datum.l2 + 2 * datum.e2",
            "lL": (
                f"max(datum.a1, datum.a2) == -{INF} ? -{INF} : {_log10('0.5')} + max(datum.a1, datum.a2)"
                f" + {_log10('1 + pow(10, min(datum.a1, datum.a2) - max(datum.a1, datum.a2))')}"
            ),
        },
    )
    src = src.transform_joinaggregate(escape="min(esc)", diverges="max(dv)", peak="max(ln)")
    src = src.transform_filter("!datum.diverges || datum.t <= datum.escape")
    src = _calc(
        src,
        {
            **{k.replace("exact", "Lx"): v for k, v in _exact("datum.lL", "datum.lL == -" + INF + " ? 0 : 1").items()},
            "θ": (
                "datum.hi < 300 ? '(' + format(datum.cs * datum.s1 * pow(10, datum.e1) - datum.sn * datum.s2 *"
                " pow(10, datum.e2), '.6~g') + ', ' + format(datum.sn * datum.s1 * pow(10, datum.e1) + datum.cs *"
                " datum.s2 * pow(10, datum.e2), '.6~g') + ')' : '‖θ‖ = 10^' + format(datum.ln, '.6~g')"
            ),
        },
    )
    return src.transform_calculate(L="datum.Lx")


def _plane(method: str, big: bool) -> alt.Chart:
    side = 520 if big else 440
    domain = alt.ExprRef(f"[-{PLANE_R}, {PLANE_R}]")
    x = alt.X("x:Q", scale=alt.Scale(domain=domain, nice=False, zero=False), title="θ₁")
    y = alt.Y("y:Q", scale=alt.Scale(domain=domain, nice=False, zero=False), title="θ₂")
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
    path = (
        _path_source(method)
        .transform_lookup(lookup="one", from_=alt.LookupData(data=alt.Data(name="now"), key="one", fields=["ts"]))
        .transform_calculate(shown="datum.t <= datum.ts")
    )
    tooltip = [alt.Tooltip("t:Q", title="step t"), alt.Tooltip("θ:N", title="θₜ"), alt.Tooltip("L:N", title="L(θₜ)")]
    full = (
        alt.Chart().mark_line(color=OKABE_ITO[0], opacity=0.25, strokeWidth=2, clip=True).encode(x=x, y=y, order="t:Q")
    )
    done = (
        alt.Chart()
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
        alt.Chart()
        .transform_filter("datum.shown")
        .transform_joinaggregate(last="max(t)")
        .transform_filter("datum.t == datum.last")
        .mark_point(filled=True, size=400 if big else 200, color=DANGER, clip=True)
        .encode(x=x, y=y, tooltip=tooltip)
    )
    return alt.layer(levels, axes, _shared(path, full, done, current)).properties(
        width=side, height=side, title="Path θₜ over the level sets of L"
    )


def _coords(method: str, big: bool, symlog: bool) -> alt.Chart:
    src = (
        _named("coords")
        .transform_calculate(one="1")
        .transform_lookup(lookup="one", from_=alt.LookupData(data=alt.Data(name="consts"), key="one", fields=["R"]))
    )
    src = _calc(src, _coord_values(method, None))
    src = _calc(
        src,
        {
            # θ̃ₜ,ᵢ/|θ̃₀,ᵢ| = c_t·sign(θ̃₀,ᵢ), drawn within ±1e6 as before.
            "value": f"datum.z ? 0 : clamp(datum.sg * pow(10, min(datum._lc, 7)), -{COORD_CLIP:g}, {COORD_CLIP:g})",
            **_exact("datum.e", "datum.sg"),
        },
    )
    line = src.mark_line(strokeWidth=3.5 if big else 2, point=alt.OverlayMarkDef(size=40 if big else 16)).encode(
        x=alt.X("t:Q", title="step t", scale=alt.Scale(type="symlog" if symlog else "linear", nice=False)),
        y=alt.Y("value:Q", title="θ̃ₜ,ᵢ / |θ̃₀,ᵢ| (symlog)", scale=alt.Scale(type="symlog", constant=0.01)),
        color=alt.Color(
            "coordinate:N",
            scale=alt.Scale(domain=list(COORD_NAMES), range=[OKABE_ITO[2], OKABE_ITO[4]]),
            title="eigen-coordinate",
        ),
        detail="i:N",
        tooltip=[alt.Tooltip("t:Q", title="step t"), "coordinate:N", alt.Tooltip("exact:N", title="θ̃ₜ,ᵢ")],
    )
    now = _named("now").mark_rule(color=DANGER, strokeWidth=2).encode(x="ts:Q")
    return alt.layer(line, now).properties(width=WIDE, height=240, title="Eigen-coordinates against t")


def _trajectory_readout(method: str, big: bool, beta_live: bool, show_status: bool) -> alt.Chart:
    """η, β, η·λ_max, the rate and the verdict at the live values, worded as the page's status box
    (decided by the regime, never by the path's size; a converging path past 3 × the view is a transient)."""
    src = _path_source(method).transform_aggregate(
        rho="max(rho)",
        lmax="max(lam)",
        escape="min(escape)",
        diverges="max(diverges)",
        marginal="max(mg)",
        peak="max(peak)",
        R="max(R)",
        n0="max(n0)",
    )
    parts = [f"'η = ' + format({ETA}, '.6~g')"]
    if beta_live:
        parts.append(f"'β = ' + format({BETA}, '.6~g')")
    parts += [f"'η·λ_max = ' + format({ETA} * datum.lmax, '.6~g')", "'rate ρ = ' + format(datum.rho, '.6~g')"]
    lines = {"line1": " + '   ·   ' + ".join(parts)}
    if show_status:
        lines["line2"] = (
            "datum.diverges ? (isFinite(datum.escape) ? 'Diverged at step ' + format(datum.escape, ',') + ': the path "
            "left the view (3 × the start’s level set) there; some direction has rate ρ > 1' : 'Diverges: it has not "
            f"left the view within T steps yet; some direction has rate ρ > 1') : {ETA} == 0 ? 'Does not move: with "
            "η = 0 every step leaves θ at the start' : datum.marginal ? 'Does not converge: some direction has rate "
            f"≥ 1 (it oscillates or will grow)' : datum.peak > {_log10('3 * datum.R')} ? 'Converges, after a "
            f"transient: ‖θ‖ grows by ' + format(pow(10, datum.peak - {_log10('datum.n0')}), '.3~g') + '× before it "
            "shrinks (clipped at 3 × the view)' : 'Converges to the minimum at the origin'"
        )
    return _readout(lines, src, big, "Live read-out (η, β from the sliders below)")


TRAJECTORY_VIEWS = ("trajectory", "coords")


@charts.built_once(maxsize=64)
def trajectory_spec(
    method: str,
    big: bool,
    symlog: bool,
    has_beta: bool,
    slider: bool,
    beta_slider: bool,
    views: tuple[str, ...],
    show_status: bool,
) -> dict:
    """The trajectory page's compound chart: read-out, the plane and the eigen-coordinates, all from the
    live η (and β, has_beta). Built once per structure: η, β and the view's radius are data; the page sets
    the sliders' ranges with live.with_ranges."""
    selections, raw = _selections(1.0, 0.99 if has_beta else None, slider, beta_slider)
    rows = [_trajectory_readout(method, big, has_beta, show_status).add_params(*selections)]
    if "trajectory" in views:
        rows.append(_plane(method, big))
        # The view's half-width R (3 × the start's level set) from the data, so a new start or angle
        # does not change the spec.
        raw.append({"name": PLANE_R, "expr": "length(data('consts')) ? data('consts')[0].R : 1"})
    if "coords" in views:
        rows.append(_coords(method, big, symlog))
    chart = alt.vconcat(*rows, spacing=24).resolve_scale(color="independent")
    return live.with_params(_configure(chart, big), raw, validate=VALIDATE)


def live_top(state_key: str, spec_key, edge: float, lr: float, shown: tuple) -> float:
    """The live η slider's top, kept in session state (state_key) with the (η, β) on screen (`shown`, which
    sync_from_live reads) and the release stamps seen. The range is fixed with the spec (a released β moves
    the edge but must not rebuild it): set anew for a new spec_key (spectrum and method), or when η passes it."""
    state = st.session_state.get(state_key)
    if state is None or state.get("at") != spec_key or lr > state["top"]:
        seen = {} if state is None else state.get("seen", {})
        state = {"top": frames.live_top(edge, lr), "at": spec_key, "seen": seen}
    st.session_state[state_key] = {**state, "shown": shown}
    return state["top"]


def with_ranges(spec: dict, eta_top: float, beta: float | None) -> dict:
    """A page's cached chart with its sliders' ranges: η over [0, eta_top], β over [0, max(0.99, β)]."""
    return live.with_ranges(spec, {ETA: eta_top, BETA: None if beta is None else max(0.99, beta)})


def beta_value(selection) -> float | None:
    """The β a selection event carries ({"beta": [{"beta": v}]}), or None; within [0, 1)."""
    try:
        value = float(selection["beta"][0]["beta"])
    except (KeyError, IndexError, TypeError, ValueError, OverflowError):
        return None
    return value if math.isfinite(value) and 0 <= value < 1 else None


# ---- the momentum page --------------------------------------------------------------------


def momentum_frames(eigenvalues, theta0, steps) -> dict[str, pd.DataFrame]:
    """What the live momentum chart needs that depends on neither η nor β: the three stability edges,
    ≤ 200 representative λᵢ for the map, and "edirs": the sampled steps × ≤ 6 representative directions
    with log10|θ̃₀,ᵢ| and its sign, once per series (≤ 1,800 rows). The map's 4,000 cells are generated in the
    browser."""
    import numpy as np

    from core import quadratic as q

    lam = np.asarray(eigenvalues, dtype=np.float64)
    theta0 = np.broadcast_to(np.asarray(theta0, dtype=np.float64), lam.shape)
    reps = q.representative_directions(lam, 6)
    t = q.sample_steps(steps)
    u0 = theta0[reps]
    with np.errstate(divide="ignore"):
        log0 = np.where(u0 != 0, np.log10(np.abs(np.where(u0 != 0, u0, 1.0))), 0.0)
    one = pd.DataFrame(
        {
            "t": np.repeat(t, reps.size).astype(np.int32),
            "direction": np.tile(reps + 1, t.size).astype(np.int32),
            "λ": np.tile(lam[reps], t.size),
            "log0": np.tile(log0, t.size),
            "z": np.tile((u0 == 0).astype(np.int8), t.size),
            "s0": np.tile(np.sign(u0), t.size).astype(np.int8),
        }
    )
    # Series 0: the chosen method (or Polyak's heavy ball); series 1: plain GD at the live η.
    edirs = pd.concat([one.assign(series=np.int8(0)), one.assign(series=np.int8(1))], ignore_index=True)
    points = pd.DataFrame({"λ": lam[q.representative_directions(lam, 200)]})
    return {"boundary": frames.boundary_frame(), "spectrum": points, "edirs": edirs}


def _regime(p: str, edge: str) -> str:
    """core.momentum.regime from closed_form's fields (h against the exact edge, then the roots)."""
    h = f"datum.{p}h"
    return (
        f"{h} == 0 ? 'flat' : abs({h} - {edge}) <= 8 * 2.220446049250313e-16 * {edge} ? 'marginal'"
        f" : {h} < 0 || {h} > {edge} ? 'diverging' : datum.{p}d < 0 ? 'rippling'"
        f" : datum.{p}a >= 0 ? 'monotone' : 'oscillating'"
    )


def _rate_map(map_method: str, big: bool) -> alt.Chart:

    dh, db = RATE_MAP_DH, RATE_MAP_DB
    n_beta = frames.RATE_MAP_BETA[2]
    x = alt.X("h0:Q", title="ηλ (step size × eigenvalue)", scale=alt.Scale(domain=[0, 4], nice=False))
    y = alt.Y("b0:Q", title="momentum β", scale=alt.Scale(domain=[0, 1], nice=False))
    # The cells (100 × 40, as ui.frames.rate_map_frame) are generated here: nothing to send.
    cells = alt.Chart(alt.sequence(0, frames.RATE_MAP_H[2] * n_beta, as_="k")).transform_calculate(
        i=f"floor(datum.k / {n_beta})", j=f"datum.k % {n_beta}"
    )
    cells = _calc(
        cells,
        {
            "h0": f"datum.i * {dh!r}",
            "h1": f"(datum.i + 1) * {dh!r}",
            "b0": f"datum.j * {db!r}",
            "b1": f"(datum.j + 1) * {db!r}",
            "h": f"(datum.i + 0.5) * {dh!r}",
            "beta": f"(datum.j + 0.5) * {db!r}",
            **closed_form("datum.h", "datum.beta", str(METHOD_CODE[map_method]), prefix="m"),
            "ρ": f"min({_rho('m')}, {frames.RATE_CLIP})",
            "regime": _regime("m", _edge(map_method, "datum.beta")),
        },
    )
    cells = rate_cells(cells, x, y)
    edge = charts.stability_edges(big)
    code = str(METHOD_CODE[map_method])
    points = _calc(
        _named("spectrum"),
        {
            **closed_form(f"{ETA} * datum['λ']", BETA, code),
            "ηλ": f"clamp(datum._h, 0, {frames.RATE_MAP_H[1]})",
            "β": BETA,
            "ηλ exact": "format(datum._h, '.6~g')",
            "rate": f"format({_rho()}, '.6~g')",
            "regime": _regime("_", _edge(map_method, BETA)),
            "off map": f"datum._h > {frames.RATE_MAP_H[1]} || datum._h < 0 ? 'beyond the map' : 'on the map'",
        },
    )
    points = spectrum_points(points, big)
    return (
        alt.layer(cells, edge, points)
        .resolve_scale(color="independent")
        .properties(width=WIDE, height=380, title="Rate map: ρ over (ηλ, β), your spectrum at (ηλᵢ, β)")
    )


def _errors(method: str, label: str, polyak: bool, big: bool, symlog: bool) -> alt.Chart:
    """|θ̃ₜ,ᵢ| under `method` at the live (η, β) (or, polyak, at Polyak's (η*, β*), when GD is chosen) and
    under plain GD at the live η; a line that passes 10^−30 ends there with a "< 1e-30" marker."""
    x = alt.X("t:Q", title="step t", scale=alt.Scale(type="symlog" if symlog else "linear", nice=False))
    y_scale = alt.Scale(type="log", nice=False)

    # One pipeline over both series: views that read one dataset share its rows (Vega writes fields
    # onto them), so a field must mean one thing for every row.
    if polyak:
        h0, b0, code = f"{POLYAK_ETA} * datum['λ']", POLYAK_BETA, METHOD_CODE["heavy_ball"]
    else:
        h0, b0, code = f"{ETA} * datum['λ']", BETA, METHOD_CODE[method]
    src = _calc(
        _named("edirs"),
        {
            **closed_form(
                f"datum.series == 0 ? {h0} : {ETA} * datum['λ']",
                f"datum.series == 0 ? {b0} : 0",
                f"(datum.series == 0 ? {code} : 0)",
            ),
            "method": f"datum.series == 0 ? '{label}' : '{frames.METHOD_LABELS['gd']}'",
            "e": f"datum.z ? -{INF} : datum._lc + datum.log0",
            "sg": "datum.z ? 0 : datum._sc * datum.s0",
            "below": f"datum.e < -{frames.LOG_CLIP:g} ? 1 : 0",
        },
    )
    src = src.transform_window(nb="sum(below)", groupby=["series", "direction"], sort=[alt.SortField("t")])
    src = src.transform_filter("datum.nb <= 1 && (datum.nb == 0 || datum.below == 1)")
    src = _calc(
        src,
        {
            "|θ̃|": f"pow(10, clamp(datum.e, -{frames.LOG_CLIP:g}, {frames.LOG_CLIP:g}))",
            **_exact("datum.e", "datum.sg"),
        },
    )

    def lines(src: alt.Chart) -> alt.Chart:
        return (
            alt.Chart()
            .mark_line(strokeWidth=3.5 if big else 2)
            .encode(
                x=x,
                y=alt.Y("|θ̃|:Q", scale=y_scale, axis=alt.Axis(format=".0e", title="|θ̃ₜ,ᵢ| (log)")),
                color=alt.Color("λ:Q", scale=alt.Scale(scheme=LAMBDA_SCHEME), title="λᵢ", legend=charts.LAMBDA_LEGEND),
                strokeDash=alt.StrokeDash(
                    "method:N",
                    title="optimizer",
                    scale=alt.Scale(domain=[label, "gradient descent"], range=[[1, 0], [6, 4]]),
                    legend=alt.Legend(
                        symbolType="stroke", symbolSize=500, symbolStrokeWidth=3, symbolStrokeColor=NEUTRAL
                    ),
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

    def floor(src: alt.Chart) -> alt.Chart:
        return (
            alt.Chart()
            .transform_filter("datum.below == 1")
            .mark_text(text="▼ < 1e-30", dy=-10, fontSize=16 if big else 11, color=NEUTRAL)
            .encode(x=x, y=alt.Y("|θ̃|:Q", scale=y_scale))
        )

    return _shared(src, lines(src), floor(src)).properties(
        width=WIDE, height=320, title="Error per direction against t"
    )


def _momentum_readout(big: bool, beta_live: bool) -> alt.Chart:
    src = _named("spectrum").transform_aggregate(lmax="max(λ)")
    parts = [f"'η = ' + format({ETA}, '.6~g')"]
    if beta_live:
        parts.append(f"'β = ' + format({BETA}, '.6~g')")
    parts.append(f"'η·λ_max = ' + format({ETA} * datum.lmax, '.6~g')")
    return _readout({"line1": " + '   ·   ' + ".join(parts)}, src, big, "Live read-out (η, β from the sliders below)")


MOMENTUM_VIEWS = ("rate_map", "momentum_errors")


@charts.built_once(maxsize=64)
def momentum_spec(
    method: str,
    big: bool,
    symlog: bool,
    polyak: bool,
    has_beta: bool,
    slider: bool,
    beta_slider: bool,
    views: tuple[str, ...],
) -> dict:
    """The momentum page's compound chart: read-out, the rate map with your spectrum at (ηλᵢ, β) and the
    per-direction errors, all from the live η (and β, has_beta). polyak: the errors at Polyak's (η*, β*) (GD
    chosen), which travel in NOW as "polyak_eta" and "polyak_beta". Built once per structure: η, β and
    Polyak's point are data (a point written into the spec was a 0.14 s build for every spectrum a class
    opened with GD); the page sets the sliders' ranges with live.with_ranges."""
    selections, raw = _selections(1.0, 0.99 if has_beta else None, slider, beta_slider)
    if polyak:
        raw += [{"name": name, "expr": live.now_value(name)} for name in (POLYAK_ETA, POLYAK_BETA)]
    map_method = method if method != "gd" else "heavy_ball"
    rows = [live.reads_now(_momentum_readout(big, has_beta)).add_params(*selections)]
    if "rate_map" in views:
        rows.append(_rate_map(map_method, big))
    if "momentum_errors" in views:
        label = frames.METHOD_LABELS[map_method]
        rows.append(_errors(method, label, polyak, big, symlog))
    chart = alt.vconcat(*rows, spacing=24).resolve_scale(
        color="independent", shape="independent", strokeDash="independent"
    )
    return live.with_params(_configure(chart, big), raw, validate=VALIDATE)


def warm_specs() -> None:
    """Build the momentum and trajectory pages' chart structures for the three methods (views all shown, not
    presenting, T ≤ 200) before a visitor asks: a first build held its replica's GIL for 0.14 s (momentum) and
    0.26 s (trajectory), and a class arriving with heavy ball met them mid-run."""
    for method in METHOD_CODE:
        momentum_spec(method, False, False, method == "gd", method != "gd", True, True, MOMENTUM_VIEWS)
        trajectory_spec(method, False, False, method != "gd", True, True, TRAJECTORY_VIEWS, True)


def sync_from_live(key: str, state_key: str, eigenvalues, method: str, synced_key: str | None = None) -> None:
    """on_select of a live chart: the released η or β becomes the sidebar's, and so the URL's and the
    metrics'. The selection also carries the other slider's last release, possibly older than a sidebar
    change since: only a value with a new time stamp is taken (state_key keeps the stamps seen).
    synced_key, if given, is set to True."""
    selection = st.session_state[key].selection
    state = st.session_state.get(state_key)
    if state is None:
        return
    seen = dict(state.get("seen", {}))
    lr_now, beta_now = state["shown"]
    b, at = beta_value(selection), live.stamp(selection, "beta")
    if beta_now is not None and b is not None and seen.get("beta") != at:
        seen["beta"] = at
        beta_now = b
        st.session_state["beta"] = b
    value, at = live.eta_value(selection), live.stamp(selection, "eta")
    if value is not None and seen.get("eta") != at:
        seen["eta"] = at
        lr_now = min(value, sidebar.LR_MAX)
        edge_now = momentum.max_stable_lr(eigenvalues, beta_now or 0.0, method)  # the unit of "η/η_max"
        sidebar.set_lr(lr_now, edge_now if math.isfinite(edge_now) else 1.0)
    st.session_state[state_key] = {**state, "shown": (lr_now, beta_now), "seen": seen}
    if synced_key is not None:
        st.session_state[synced_key] = True
