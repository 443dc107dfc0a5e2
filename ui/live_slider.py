"""The sidebar's coarse η (or β) slider on a page with a live chart: it moves the chart in the browser.

The live charts (ui.live, ui.live_momentum) recompute every picture from a Vega-Lite parameter bound
to a range input under the chart. This slider drives that same input: each move sets it and fires
its `input` event, so the pictures follow at the browser's speed with no rerun, and the chart's own
sync (a point selection returned on release, ui.live.live_params) brings the value to Python, which
sets the exact box, the URL and the metrics. It takes its range and step from that input (one grid,
so both handles show the same number) and follows it when the chart's own slider is dragged. With
no live input on the page (an exercise link hid it) it sends its value itself on release, like any
slider. A Streamlit custom component (v2: it runs in the page, not in an iframe), because a Streamlit
slider reaches the chart only through a rerun.
"""

from __future__ import annotations

import math

import streamlit as st

HTML = """
<div class="live-slider">
  <div class="row"><label></label><output></output></div>
  <input type="range" title="Drag for a coarse value; type an exact one above.">
</div>
"""

CSS = """
.live-slider { font-family: var(--st-font, sans-serif); color: var(--st-text-color); }
.row { display: flex; justify-content: space-between; align-items: baseline; font-size: 0.875rem; }
output { font-variant-numeric: tabular-nums; font-weight: 600; color: var(--st-primary-color); }
input { width: 100%; margin: 0.4rem 0 0.25rem 0; accent-color: var(--st-primary-color); cursor: pointer; }
"""

# data: label; value, min, max, step (the server's, in this slider's unit); live (the start of the live
# input's label under the chart); scale (the live input's value per unit of this slider: η_max when η is
# entered as a multiple of η_max, else 1).
JS = """
function liveInput(name) {
  for (const bind of document.querySelectorAll('[data-testid=stVegaLiteChart] .vega-bind')) {
    const label = bind.querySelector('.vega-bind-name');
    const input = bind.querySelector('input[type=range]');
    if (label && input && label.textContent.trim().startsWith(name)) return input;
  }
  return null;
}

const shown = (v) => String(Number(Number(v).toPrecision(4)));

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const input = parentElement.querySelector('input');
  const out = parentElement.querySelector('output');
  const scale = data.scale || 1;
  parentElement.querySelector('label').textContent = data.label;
  input.setAttribute('aria-label', data.label);

  // One grid for both handles: the live input's range and step when it exists, else the server's.
  const fit = () => {
    const live = liveInput(data.live);
    input.min = live ? Number(live.min) / scale : data.min;
    input.max = live ? Math.max(Number(live.max) / scale, data.value) : data.max;
    input.step = live ? Number(live.step) / scale : data.step;
  };
  // The server's value wins when it changes (the exact box, a mark, a release), unless this slider was
  // moved in the last second (a drag or keys still going: the server's value is older than it).
  const busy = () => input.matches(':active') || performance.now() - (Number(input.dataset.moved) || -1e9) < 1000;
  const place = () => {
    fit();
    if (input.dataset.server !== String(data.value) && !busy()) {
      input.value = data.value;  // the thumb: the nearest step
      input.dataset.server = String(data.value);
      out.textContent = shown(data.value);  // the value itself (an exact η or β may lie between steps)
    }
  };
  place();
  // The chart is drawn after the sidebar: take its grid once it is there (a few tries, then give up).
  for (let i = 1; i <= 10 && !liveInput(data.live); i++) setTimeout(place, 300 * i);

  let driving = false;  // this slider is moving the live input: ignore the echo
  input.onpointerdown = input.onfocus = fit;
  input.oninput = () => {
    fit();  // (a no-op once on the live grid; else the value snaps to it before it is sent)
    input.dataset.moved = String(performance.now());
    out.textContent = shown(input.value);
    const live = liveInput(data.live);
    if (live) {
      live.value = Number(input.value) * scale;
      driving = true;
      live.dispatchEvent(new Event('input', { bubbles: true }));
      driving = false;
    }
  };
  input.onchange = () => {
    if (!liveInput(data.live)) setTriggerValue('release', Number(input.value));  // (the same value twice too)
  };

  // The chart's own slider moves this one too (one η, two handles). Delegated, since the chart may be
  // drawn (or redrawn) after this; one listener per slider, replaced at each render.
  const follow = (event) => {
    if (driving || event.target !== liveInput(data.live)) return;
    input.value = Number(event.target.value) / scale;
    out.textContent = shown(input.value);
  };
  if (parentElement.follow) document.removeEventListener('input', parentElement.follow, true);
  parentElement.follow = follow;
  document.addEventListener('input', follow, true);
  return () => document.removeEventListener('input', follow, true);
}
"""

_COMPONENT = st.components.v2.component("live_slider", html=HTML, css=CSS, js=JS)


def live_slider(
    label: str, key: str, value: float, max_value: float, live: str, on_release, scale: float = 1.0, container=None
) -> None:
    """A slider over [0, max_value] (500 steps) at `value` that drives the live chart input whose label
    starts with `live`. on_release(value) runs as a callback when the slider sends a value itself (only
    when no live input is on the page), with a finite number (released_value)."""
    with container or st.container():
        _COMPONENT(
            key=key,
            data={
                "label": label,
                "value": float(value),
                "min": 0.0,
                "max": float(max_value),
                "step": float(max_value) / 500,
                "live": live,
                "scale": float(scale),
            },
            on_release_change=lambda: _released(key, on_release),
        )


def released_value(raw) -> float | None:
    """A value the browser sent: a finite int or float, else None (a tampered message is ignored)."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    try:
        value = float(raw)
    except OverflowError:  # a JSON integer with hundreds of digits
        return None
    return value if math.isfinite(value) else None


def _released(key: str, on_release) -> None:
    value = released_value(getattr(st.session_state.get(key), "release", None))
    if value is not None:
        on_release(value)
