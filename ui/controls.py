"""Widgets whose value lives in the URL (bind="query-params") and survives page switches.

Every control of every page goes through these wrappers so that:
- the URL key is the widget key (short, documented in the README);
- a malformed or out-of-range URL value, which Streamlit drops silently, gets a visible notice
  naming the parameter and what is allowed (the value is shown as text, never as Markdown), and
  leaves the URL;
- `hide=` in the URL can hide any control by key (its value still applies), so a link becomes an
  exercise.
"""

from __future__ import annotations

import functools
import math
import re
from urllib.parse import urlencode

import streamlit as st
from streamlit.runtime.state.session_state_proxy import get_session_state

from ui.live_slider import live_slider

NOTICES = "_url_notices"
# What could turn user text into Markdown inside one line: emphasis, code, strikethrough, links and
# images, autolinks (<http://…>, bare http:// and www., e-mail), $math$, :directives: and &entities;.
# (Raw HTML is shown as text by Streamlit unless unsafe_allow_html; a line start never holds user text.)
_MARKDOWN_ACTIVE = re.compile(r"([\\`*_~\[\]$:@&.])")


def escape_markdown(text) -> str:
    """User text (a URL value, a token quoted in an error) made inert for st.error/st.warning/…:
    line breaks flattened and every character that could start Markdown backslash-escaped, so it
    is shown exactly as typed."""
    return _MARKDOWN_ACTIVE.sub(r"\\\1", " ".join(str(text).splitlines()))


def hidden() -> set[str]:
    """Keys named in ?hide=a,b,c (controls or page elements to hide)."""
    raw = st.query_params.get_all("hide")
    return {part.strip() for item in raw for part in item.split(",") if part.strip()}


def is_hidden(key: str) -> bool:
    return key in hidden() and not st.session_state.get("reveal", False)


def visible(name: str) -> bool:
    """Whether a page element (a chart key, a metric, "status") is shown: ?hide=name hides it
    until the class presses "reveal"."""
    return not is_hidden(name)


def row(container=None):
    """A row of elements side by side (metrics, buttons): one horizontal block (st.columns(k) sent k + 1 blocks on
    every rerun)."""
    return (container or st).container(horizontal=True)


def metric(container, key: str, label: str, value, **kwargs) -> None:
    """st.metric that ?hide=key can hide (an exercise: "what is η_max?")."""
    if visible(key):
        container.metric(label, value, **kwargs)


def _notice(key: str, raw: str, allowed: str) -> None:
    shown = escape_markdown(raw if len(raw) <= 40 else raw[:40] + "…")
    st.session_state.setdefault(NOTICES, {})[key] = (
        f"URL parameter `{key}` = “{shown}” was ignored: {allowed}. Using the default instead."
    )
    _drop_url_value(key)


def _drop_url_value(key: str) -> None:
    """Take a rejected value out of the URL before its widget reads it.

    Streamlit seeds a bound widget from the URL the page was opened with: for a whole-number box it
    would apply part of a bad value (2.5 → 2) or crash on it (int(inf) raises OverflowError). The
    notice says the default is used; this makes it so, and the shared link loses the bad value.
    """
    with get_session_state().query_params() as qp:
        # (A private field of Streamlit's QueryParams: tests/test_fuzz.py fails if it ever moves.)
        getattr(qp, "_initial_query_params", {}).pop(key, None)
        qp.remove_param(key)


CARRIED = "_carried"  # the value each URL-bound control was last drawn with, by key (see carry_to_new_page)


def carry_to_new_page() -> None:
    """Bring every URL-bound control's value to a page opened from another, on its first visit too.

    Streamlit 1.67 copies a bound widget's value under its key only at the end of the first run in
    which the widget is gone, and keeps no value at all for one the browser re-sent after a replica
    died: the first visit to another page drawing a control with the same key (momentum?method=heavy+ball
    → trajectory) showed the default and dropped it from the URL; the second visit was right. Called by
    app.py before a page runs, when the page changed, this puts each control's last drawn value (which
    _draw keeps) where Streamlit's own copy goes, before the new page's widgets register, so the value and
    its URL parameter come back as on later visits. A value in this run's URL (a link) is left to seed the
    widget as usual. (A private field of Streamlit's SessionState: if it moves, Streamlit's own carrying
    applies and tests/test_page_switch.py fails.)
    """
    try:
        old = get_session_state()._state._old_state
    except AttributeError:
        return
    for key, value in st.session_state.get(CARRIED, {}).items():
        if key not in st.query_params:
            old[key] = value


def _initial(key: str, **default) -> dict:
    """The default-value argument, left out once the key has a value in session state (a callback
    or a button set it): passing both makes Streamlit warn, and the state wins anyway."""
    return {} if key in st.session_state else default


def _url_value(key: str) -> str | None:
    values = st.query_params.get_all(key)
    return values[-1] if values else None


def _check_number(key: str, lo: float | None, hi: float | None, integer: bool) -> None:
    raw = _url_value(key)
    if raw is None or raw == "":
        return
    allowed = (
        f"{'a whole number' if integer else 'a number'}"
        f"{'' if lo is None else f' ≥ {lo:g}'}{'' if hi is None else f' and ≤ {hi:g}'}"
    )
    try:
        value = float(raw)
    except ValueError:
        _notice(key, raw, f"it must be {allowed}")
        return
    if (
        not math.isfinite(value)
        or (integer and value != int(value))
        or (lo is not None and value < lo)
        or (hi is not None and value > hi)
    ):
        _notice(key, raw, f"it must be {allowed}")


def _check_option(key: str, options) -> None:
    raw = _url_value(key)
    if raw is None or raw == "":
        return
    labels = [str(o) for o in options]
    if raw not in labels:  # (Streamlit reads option labels only, not indices)
        _notice(key, raw, "allowed values are " + ", ".join(f"“{x}”" for x in labels))


def _check_bool(key: str) -> None:
    raw = _url_value(key)
    if raw is None:
        return
    if raw in ("1", "0") and key not in st.session_state:
        # Streamlit reads only true/false; a hand-written ?present=1 should work too.
        st.session_state[key] = raw == "1"
    elif raw.lower() not in ("true", "false", ""):
        _notice(key, raw, "it must be true or false (or 1 / 0)")


def show_url_notices() -> None:
    """Show the URL notices gathered since the last call (for controls drawn after show_notices)."""
    for message in st.session_state.pop(NOTICES, {}).values():
        st.warning(message, icon=":material/link:")


def show_notices() -> None:
    """Show the notices gathered from the URL in this run, and, on an exercise link, the
    "reveal" switch that shows what the link hides."""
    show_url_notices()
    if hidden():
        st.info(
            "This is an exercise link: some controls or results are hidden "
            f"({escape_markdown(', '.join(sorted(hidden())))}). Work out the answer, then reveal it.",
            icon=":material/school:",
        )
        st.toggle("reveal the hidden answers", key="reveal")


def _hidden_value(key: str, default, lo=None, hi=None, options=None):
    """The value of a control that ?hide= keeps off the page: the URL's, if valid, else the default.

    (Streamlit only reads a bound parameter when the widget is drawn, so this parses it itself.)
    """
    if key in st.session_state:
        return st.session_state[key]
    raw = _url_value(key)
    if raw is None:
        return default
    try:
        if options is not None:
            return raw if raw in [str(o) for o in options] else default
        if isinstance(default, bool):
            return {"true": True, "1": True, "false": False, "0": False}[raw.lower()]
        if isinstance(default, str):
            return raw
        value = type(default)(float(raw)) if isinstance(default, int) else float(raw)
    except (ValueError, KeyError, OverflowError):
        return default
    if not math.isfinite(value) or (lo is not None and value < lo) or (hi is not None and value > hi):
        return default
    return value


def share_link() -> None:
    """A copyable link to exactly this view (page and every bound control), in the sidebar."""
    base = st.context.url or ""
    query = urlencode([(k, v) for k in st.query_params for v in st.query_params.get_all(k)])
    with st.sidebar.expander("Copy link to this view", icon=":material/link:"):
        # Inline code, not st.code: st.code loads Streamlit's syntax highlighter, ≈ 0.4 s of a new
        # visitor's main thread on every page (measured in Chromium), for a URL. Not a text box either:
        # a widget's value would be part of the view (and typing in it would rerun). The query is
        # percent-encoded; a backtick in the base would end the code span, so it is encoded too.
        link = (f"{base}?{query}" if query else base).replace("`", "%60")
        st.markdown(f"`{link}`")
        st.caption("Add `hide=key1,key2` to hide controls or answers (an exercise), `present=1` for a projector.")


def slider(label: str, key: str, min_value, max_value, value, step=None, container=None, **kwargs):
    _check_number(key, min_value, max_value, isinstance(value, int))
    if is_hidden(key):
        return _hidden_value(key, value, min_value, max_value)
    return _draw(
        (container or st).slider, label, min_value, max_value, step=step, key=key, initial={"value": value}, **kwargs
    )


def number(label: str, key: str, value, min_value=None, max_value=None, step=None, container=None, **kwargs):
    _check_number(key, min_value, max_value, isinstance(value, int))
    if is_hidden(key):
        return _hidden_value(key, value, min_value, max_value)
    return _draw(
        (container or st).number_input,
        label,
        min_value=min_value,
        max_value=max_value,
        step=step,
        key=key,
        initial={"value": value},
        **kwargs,
    )


def select(label: str, key: str, options, index: int = 0, container=None, radio: bool = False, **kwargs):
    _check_option(key, options)
    if is_hidden(key):
        return _hidden_value(key, options[index], options=options)
    box = container or st
    return _draw(box.radio if radio else box.selectbox, label, options, key=key, initial={"index": index}, **kwargs)


def toggle(label: str, key: str, value: bool = False, container=None, **kwargs):
    _check_bool(key)
    if is_hidden(key):
        return _hidden_value(key, value)
    return _draw((container or st).toggle, label, key=key, initial={"value": value}, **kwargs)


def text_input(label: str, key: str, value: str = "", container=None, area: bool = False, **kwargs):
    """A one-line text box (a text area with area=True), bound to ?key=."""
    if is_hidden(key):
        return _hidden_value(key, value)
    box = container or st
    return _draw(box.text_area if area else box.text_input, label, key=key, initial={"value": value}, **kwargs)


def _draw(widget, *args, key: str, initial: dict, **kwargs):
    """Draw a widget bound to the URL (?key=) whose value survives page switches."""
    value = widget(*args, key=key, bind="query-params", persist_state="session", **_initial(key, **initial), **kwargs)
    # Kept for carry_to_new_page; a default is not (it would be written into the next page's URL).
    default = initial["value"] if "value" in initial else args[1][initial["index"]]
    carried = st.session_state.setdefault(CARRIED, {})
    if value == default:
        carried.pop(key, None)
    else:
        carried[key] = value
    return value


def _copy_from_slider(key: str) -> None:
    st.session_state[key] = float(st.session_state[f"_{key}_slider"])


def _set_from_live_slider(key: str, value: float, min_value: float, max_value: float) -> None:
    # A finite number the browser sent (ui.live_slider.released_value): taken if in the box's range.
    if min_value <= value <= max_value:
        st.session_state[key] = value


def number_with_slider(
    label: str,
    key: str,
    value: float,
    min_value: float,
    max_value: float,
    slider_max: float,
    container=None,
    live: str | None = None,
    scale: float = 1.0,
) -> float:
    """An exact number box (bound to the URL) with a coarse slider under it.

    A slider cannot land on 2/λ_max exactly, and its range depends on the spectrum; so the number
    is the value, and the slider is re-seeded from it on every run and writes back when dragged.
    live: the start of the label of a live chart's input on this page that the slider drives in the
    browser (ui.live_slider; scale: that input's value per unit of this box), instead of a rerun.
    """
    box = container or st
    exact = number(f"{label} (exact)", key, value, min_value, max_value, format="%.6g", container=box)
    if is_hidden(key):
        return exact
    # Never past the box's own range (a drag there would be refused) nor float64's (λ_max ≈ 1e-308).
    slider_max = min(float(slider_max), float(max_value))
    if live is not None:
        release = functools.partial(_set_from_live_slider, key, min_value=min_value, max_value=max_value)
        live_slider(label, f"_{key}_live", exact, slider_max, live, release, scale=scale, container=box)
        return float(exact)
    slider_key = f"_{key}_slider"
    st.session_state[slider_key] = float(min(max(exact, min_value), slider_max))
    box.slider(
        label,
        float(min_value),
        float(slider_max),
        step=float(slider_max - min_value) / 500,
        key=slider_key,
        format="%.4g",
        on_change=_copy_from_slider,
        args=(key,),
        help="Drag for a coarse value; type an exact one above.",
    )
    return float(exact)
