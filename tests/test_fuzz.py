"""Fuzzing: arbitrary text into every text input and arbitrary strings into every URL parameter of
every page. Never an exception; an invalid value gets a message that names it and says what is
allowed; the last good result stays on the page.

The URL keys are read from the widgets a page actually draws (in each of its modes), so a new
control is fuzzed without touching this file. FUZZ_SCALE=10 in the environment runs 10× the examples.
"""

from __future__ import annotations

import functools
import math
import os

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.proto.NumberInput_pb2 import NumberInput as NumberInputProto
from streamlit.proto.Slider_pb2 import Slider as SliderProto
from streamlit.testing.v1 import AppTest

from core import spectrum as sp
from tests.apptest_helpers import APP, assert_charts_clean, chart_frames, open_page, status_text
from ui import eos_runs, sidebar
from ui.controls import escape_markdown
from ui.frames import eigenvalues_drawn

SCALE = float(os.environ.get("FUZZ_SCALE", "1"))
WIDGET_KINDS = ("number_input", "slider", "selectbox", "radio", "toggle", "text_input", "text_area")
TEXT_KINDS = ("text_input", "text_area")

# The EoS page trains on a first visit: keep every fuzzed configuration cheap (a fuzzed key overrides
# its own entry). Runs are cached for the whole process, so repeats cost nothing.
EOS_BASE = {"esteps": "20", "ns": "8", "hidden": "4", "every": "1000", "flow": "false"}
# Each page in the modes that show all its controls (a mode's own keys are fuzzed in the plain mode).
MODES: dict[str, list[dict[str, str]]] = {
    "home": [{}],
    "quadratic": [
        {},
        {"src": "typed list"},
        *({"preset": name} for name in list(sp.PRESETS)[1:]),
        {"start": "seeded random", "rel": "true"},
    ],
    "trajectory": [{}, {"method": "heavy ball"}],
    "momentum": [{}, {"method": "Nesterov", "preset": "two clusters"}, {"rel": "true", "start": "seeded random"}],
    "eos": [EOS_BASE, {**EOS_BASE, "method": "heavy ball"}],
    "toy": [{}],
}
NASTY = [
    "",
    " ",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "-0",
    "0",
    "1",
    "-1",
    "2.5",
    ".5",
    "1e309",
    "-1e309",
    "1e-400",
    "9" * 400,
    str(2**64),
    str(-(2**63)),
    "0x10",
    "1_000",
    "١٢",
    "\u00a05",
    "true",
    "FALSE",
    "yes",
    "<script>alert(1)</script>",
    "__import__('os').system('x')",
    "**bold** [link](http://x)",
    "`code` $x^2$ :red[x] &amp; www.example.com",
    "a" * 10_000,
    "1, " * 3_000,
    ",,,",
    ", ;\t,",
    "line\nbreak",
    "😀 ℵ ∞",
    "0.1, 0.5, 1, 1.9",
    "1e100, -1e100, 0, 0",
]
NUMBERISH = st.from_regex(r"\A[-+]?\d{0,6}(\.\d{0,6})?([eE][-+]?\d{1,3})?\Z")
ANY_TEXT = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=40),
    st.integers().map(str),
    st.floats().map(repr),
    NUMBERISH,
)
NUMBER_LISTS = st.lists(
    st.one_of(
        st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6).map(repr),
        st.sampled_from(["0", "1e-300", "1e99", "-1e99", "1e101", "nan", "inf", "x", ""]),
        NUMBERISH,
    ),
    max_size=12,
).map(lambda items: ", ".join(items))


def fuzz(examples: int) -> settings:
    """Hypothesis settings for AppTest runs (≈ 0.2–0.5 s each): no deadline, no example database."""
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


# ---------------------------------------------------------------- the page's own description of its controls


def url_widgets(at: AppTest) -> dict:
    """The controls bound to the URL, by key ("_…" are internal, "reveal" is not bound)."""
    return {
        w.key: w
        for kind in WIDGET_KINDS
        for w in at.get(kind)
        if w.key and not w.key.startswith("_") and w.key != "reveal"
    }


@functools.cache
def baseline_widgets(page: str, mode: tuple) -> dict:
    """Every URL-bound control of the page in this mode, with nothing else in the URL."""
    at = open_page(page, dict(mode), timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    return url_widgets(at)


def baseline(page: str, mode: tuple) -> dict[str, object]:
    """The default value of every URL-bound control of the page in this mode."""
    return {key: w.value for key, w in baseline_widgets(page, mode).items()}


def fuzz_keys(page: str, mode: dict) -> list[str]:
    return sorted(k for k in baseline(page, tuple(mode.items())) if k not in mode)


CASES = [(page, mode) for page, modes in MODES.items() for mode in modes]


def test_every_page_has_url_keys_and_text_inputs_are_found():
    keys = {page: set().union(*(baseline(page, tuple(m.items())) for m in modes)) for page, modes in MODES.items()}
    assert {"eigs", "lr", "T", "n", "preset", "src", "rel", "present", "eps"} <= keys["quadratic"]
    assert {"etas", "hidden", "esteps", "ns", "beta", "method", "flow"} <= keys["eos"]
    assert {"ts", "phi", "play", "beta"} <= keys["trajectory"]
    assert {"tx", "ty", "teta", "tsteps", "tstart"} <= keys["toy"]
    assert {"hx", "present"} <= keys["home"]
    assert {"beta", "lr", "preset", "frac", "start", "tseed", "lrr"} <= keys["momentum"]


# ---------------------------------------------------------------- the oracle


def expected(widget, raw: str):
    """("absent" | "valid" | "invalid", the value the control must show) for the URL value raw,
    from the widget's own kind, range and options. Text is valid as text (the page parses it)."""
    if widget.type in TEXT_KINDS:
        return "valid", raw  # ("" is the empty text)
    if raw == "":
        return "absent", None
    if widget.type == "toggle":  # Streamlit reads true/false in any case; ui.controls adds 1/0
        choice = {"true": True, "false": False}.get(raw.lower(), {"1": True, "0": False}.get(raw))
        return ("invalid", None) if choice is None else ("valid", choice)
    if widget.type in ("selectbox", "radio"):
        return ("valid", raw) if raw in widget.options else ("invalid", None)
    if widget.type == "number_input":
        lo, hi, whole = widget.min, widget.max, widget.proto.data_type == NumberInputProto.INT
    else:
        lo, hi, whole = widget.proto.min, widget.proto.max, widget.proto.data_type == SliderProto.INT
    try:
        value = float(raw)
    except ValueError:
        return "invalid", None
    if (
        not math.isfinite(value)
        or (whole and value != int(value))
        or (lo is not None and value < lo)
        or (hi is not None and value > hi)
    ):
        return "invalid", None
    return "valid", int(value) if whole else value


# Every refusal says what would be accepted, in one of these words.
ALLOWED_WORDS = ("allowed", "must", "give", "use", "type", "choose", "pick")


# Controls whose default depends on the others: the trajectory's step scrubber starts at the last step.
DYNAMIC_DEFAULTS = {"ts": lambda widget: widget.proto.max}


def assert_specs_finite(at: AppTest) -> None:
    """No chart spec carries inf or NaN (json.dumps writes Infinity/NaN, which browsers refuse)."""
    for chart in at.get("vega_lite_chart"):
        assert "Infinity" not in chart.proto.spec and "NaN" not in chart.proto.spec, chart.proto.spec[:300]


def notices(at: AppTest) -> str:
    return "\n".join(w.value for w in at.warning)


def errors(at: AppTest) -> str:
    return "\n".join(e.value for e in at.error)


def values_in_use(at: AppTest, page: str, query: dict[str, str], mode: dict) -> dict[str, object]:
    """Each control's value: the widget's, or for a control ?hide= keeps off the page, its valid URL
    value or else its default."""
    values = {key: w.value for key, w in url_widgets(at).items()}
    for key, widget in baseline_widgets(page, tuple(mode.items())).items():
        if key not in values:
            verdict, value = expected(widget, query[key]) if key in query else ("absent", None)
            values[key] = value if verdict == "valid" else widget.value
    return values


def eos_config_error(w: dict[str, object]) -> str | None:
    """What RunConfig.from_inputs says about the EoS page's control values (None: a valid config)."""
    method = sidebar.METHOD_CODES[w["method"]]
    try:
        eos_runs.RunConfig.from_inputs(
            w["etas"],
            method,
            w["beta"] if method != "gd" else 0.0,
            w["data"],
            None,
            int(w["ns"]),
            w["hidden"],
            w["act"],
            w["loss"],
            int(w["esteps"]),
            int(w["every"]),
            int(w["topk"]),
            int(w["eseed"]),
            schedule=w.get("sched", ""),
        )
    except ValueError as exc:
        return str(exc)
    return None


def drawn_without_hide(page: str, query: dict[str, str], key: str) -> bool:
    """Whether the page reads this control at all with these values (e.g. λ_max only for some presets)."""
    unhidden = open_page(page, {k: v for k, v in query.items() if k != "hide"}, timeout=120)
    return key in url_widgets(unhidden)


def check_page(page: str, mode: dict, query: dict[str, str], at: AppTest) -> None:
    """Every property of a page opened with a fuzzed URL."""
    assert not at.exception, (query, [e.value for e in at.exception])
    defaults = baseline(page, tuple(mode.items()))
    shown = url_widgets(at)
    messages = notices(at)
    hidden = {part.strip() for part in query.get("hide", "").split(",")}
    for key, raw in query.items():
        if key in hidden and key in defaults:
            # ?hide=key: the control is not drawn, its URL value still applies (or gets its notice).
            assert key not in shown, key
            verdict, _ = expected(baseline_widgets(page, tuple(mode.items()))[key], raw)
            if verdict == "invalid" and key not in DYNAMIC_DEFAULTS and drawn_without_hide(page, query, key):
                assert f"URL parameter `{key}`" in messages, (key, raw, messages)
            continue
        if key in mode or key not in shown:
            continue  # a control this combination does not draw is not read
        widget = shown[key]
        verdict, value = expected(widget, raw)
        if verdict == "invalid":
            quoted = escape_markdown(raw if len(raw) <= 40 else raw[:40] + "…")
            assert f"URL parameter `{key}` = “{quoted}” was ignored: " in messages, (key, raw, messages)
            assert any(w in messages for w in ("must be", "allowed values are")), messages
            if widget.type in ("selectbox", "radio"):
                assert widget.value != raw and widget.value in widget.options
            else:
                default = DYNAMIC_DEFAULTS[key](widget) if key in DYNAMIC_DEFAULTS else defaults[key]
                assert widget.value == default, (key, raw, widget.value, default)
        else:
            assert f"`{key}`" not in messages, (key, raw, messages)
            if verdict == "valid":
                assert widget.value == value, (key, raw, widget.value, value)
    if page == "eos":
        problem = eos_config_error(values_in_use(at, page, query, mode))
        if problem is not None:
            # The text boxes: the page says which value is wrong and what is allowed, and does not train.
            assert f"**Not run.** {escape_markdown(problem)}" in errors(at), (query, problem, errors(at))
            assert any(word in problem for word in ALLOWED_WORDS), problem
            return
        assert "**Not run.**" not in errors(at)
        if not chart_frames(at):  # a valid configuration too big to train by itself waits for Run
            assert any("Press **Run** to train." in i.value for i in at.info), [i.value for i in at.info]
            return
    values = values_in_use(at, page, query, mode)
    if values.get("src") == "typed list":
        default = baseline("quadratic", (("src", "typed list"),))["eigs"]  # (one sidebar for both pages)
        try:
            lam = sp.parse(values.get("eigs", query.get("eigs", default)))
        except ValueError as exc:
            assert f"**Spectrum not changed.** {escape_markdown(exc)}" in errors(at), errors(at)
        else:
            assert "Spectrum not changed" not in errors(at)
            if page == "quadratic" and lam.size <= 1_000:
                assert sorted(eigenvalues_drawn(chart_frames(at)[0])) == sorted(lam)
    assert_charts_clean(at)
    assert_specs_finite(at)


# ---------------------------------------------------------------- the URL


SWEEP = ["", "inf", "2.5", "-1", "1", "**bold** [link](http://x)"]


@pytest.mark.parametrize("page,mode", CASES, ids=[f"{p}-{'&'.join(m)}" for p, m in CASES])
def test_every_url_key_at_once_with_nasty_values(page, mode):
    """Each page and mode, every URL key set to the same nasty value at once (plus ?hide=value)."""
    for raw in SWEEP:
        query = {**{key: raw for key in fuzz_keys(page, mode)}, "hide": raw, **mode}
        at = open_page(page, query, timeout=120)
        check_page(page, mode, query, at)
        if raw:
            # ?hide=<value>: hides nothing real, and the exercise note quotes it as text.
            assert any(escape_markdown(raw) in i.value for i in at.info), [i.value for i in at.info]


def url_examples(page: str):
    modes = MODES[page]

    @st.composite
    def example(draw):
        mode = draw(st.sampled_from(modes))
        keys = fuzz_keys(page, mode)
        chosen = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=3, unique=True))
        query = {key: draw(st.one_of(ANY_TEXT, NUMBER_LISTS, st.sampled_from(VALID.get(key, ["1"])))) for key in chosen}
        hide = draw(st.lists(st.sampled_from(chosen), unique=True))  # ?hide= keeps the value, drops the control
        return mode, {**query, "hide": ",".join(hide)} if hide else query

    return example()


# Values that a control accepts, so the fuzzer also walks the valid paths.
VALID = {
    "src": list(sidebar.SOURCES),
    "preset": list(sp.PRESETS),
    "start": list(sidebar.STARTS),
    "method": list(sidebar.METHOD_CODES),
    "tstart": ["(2, 0.1)", "custom", "(0.5, 0.5) near balanced"],
    "data": ["gaussian", "teacher", "chebyshev", "spirals", "my CSV"],
    "act": ["tanh", "relu", "linear"],
    "loss": ["mse", "ce"],
    "rel": ["true", "1"],
    "present": ["true", "0"],
    "flow": ["true", "1"],
    "play": ["false"],
    "T": ["100000", "1"],
    "n": ["1", "10000"],
    "lr": ["0", "1e12", "1e-300"],
    "beta": ["0", "0.999999"],
    "etas": ["0.1, 0.3", "1e6", "1e-6"],
    "hidden": ["", "256", "200, 200"],
}
EXAMPLES = {"home": 5, "quadratic": 16, "trajectory": 12, "momentum": 12, "eos": 12, "toy": 12}


@pytest.mark.parametrize("page", list(MODES))
def test_random_url_values(page):
    @fuzz(EXAMPLES[page])
    @given(url_examples(page))
    def run(example):
        mode, query = example
        at = open_page(page, {**mode, **query}, timeout=120)
        check_page(page, mode, query, at)

    run()


# ---------------------------------------------------------------- text typed into the boxes


def same_charts(before: list[dict[str, pd.DataFrame]], after: list[dict[str, pd.DataFrame]]) -> bool:
    return len(before) == len(after) and all(
        b.keys() == a.keys() and all(b[name].equals(a[name]) for name in b) for b, a in zip(before, after, strict=True)
    )


@pytest.fixture(scope="module")
def quadratic_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/quadratic.py").run()
    at.radio(key="src").set_value("typed list").run()
    return at


@fuzz(16)
@given(text=st.one_of(ANY_TEXT, NUMBER_LISTS))
def test_typed_eigenvalues(quadratic_app, text):
    at = quadratic_app
    at.text_area(key="eigs").set_value("1, 2, 3").run()
    good = chart_frames(at)
    at.text_area(key="eigs").set_value(text).run()
    assert not at.exception, [e.value for e in at.exception]
    try:
        lam = sp.parse(text)
    except ValueError as exc:
        message = str(exc)
        assert f"**Spectrum not changed.** {escape_markdown(message)}" in errors(at), errors(at)
        assert any(word in message for word in ALLOWED_WORDS), message
        assert same_charts(good, chart_frames(at)), "the last good spectrum's charts must stay"
    else:
        assert "Spectrum not changed" not in errors(at)
        if lam.size <= 1_000:
            assert sorted(eigenvalues_drawn(chart_frames(at)[0])) == sorted(lam)
    assert status_text(at), "every spectrum gets a verdict"
    assert_charts_clean(at)
    assert_specs_finite(at)


@pytest.fixture(scope="module")
def eos_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in {**EOS_BASE, "eseed": "11"}.items():  # its own runs: no other test trains them
        at.query_params[key] = value
    at.switch_page("pages/eos.py").run()
    assert_charts_clean(at)
    return at


@pytest.mark.parametrize("key", ["etas", "hidden"])
def test_typed_eos_settings(eos_app, key):
    @fuzz(10)
    @given(text=st.one_of(ANY_TEXT, NUMBER_LISTS))
    def run(text):
        at = eos_app
        at.text_input(key="etas").set_value("0.2")
        at.text_input(key="hidden").set_value("4").run()
        before = chart_frames(at)
        assert before and "**Not run.**" not in errors(at)
        at.text_input(key=key).set_value(text).run()
        assert not at.exception, [e.value for e in at.exception]
        problem = eos_config_error(values_in_use(at, "eos", {}, EOS_BASE))
        if problem is not None:
            assert f"**Not run.** {escape_markdown(problem)}" in errors(at), (text, problem, errors(at))
            label = {"etas": ("earning rate",), "hidden": ("idden", "widths")}[key]
            assert any(word in problem for word in label), problem  # it names the box
        else:
            assert "**Not run.**" not in errors(at)
        waiting = any("press **Run**" in i.value for i in at.info)
        if problem is not None or waiting:
            # Nothing trains without Run: the previous runs stay on the page, untouched.
            assert same_charts(before, chart_frames(at))
        assert_charts_clean(at)

    run()


# ---------------------------------------------------------------- what fuzzing found, pinned


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_found_by_fuzzing_eta_cap_holds_in_relative_mode():
    at = open_page("momentum", {"src": "typed list", "eigs": "1e-12", "rel": "true", "lrr": "1000000"})
    assert not at.exception
    assert any("past the largest η allowed, 1e+12" in w.value for w in at.warning), notices(at)
    assert_charts_clean(at)


@pytest.mark.parametrize(
    "page,query,key,value",
    [
        ("quadratic", {"n": "inf"}, "n", 10),  # int(inf) raised OverflowError inside Streamlit: a crash
        ("eos", {"esteps": "1e309", "hidden": "4"}, "esteps", 1000),
        ("trajectory", {"phi": "2.5"}, "phi", 30),  # was applied as 2 under a notice saying "default"
        ("quadratic", {"T": "2.5"}, "T", 100),
        ("quadratic", {"preset": "1"}, "preset", "evenly spaced"),  # an index: silently ignored before
        ("trajectory", {"ts": "abc"}, "ts", 100),  # drawn after the notices: silently ignored before
        ("trajectory", {"play": "maybe"}, "play", False),
    ],
)
def test_found_by_fuzzing_bad_url_values(page, query, key, value):
    at = open_page(page, query, timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    assert f"URL parameter `{key}`" in notices(at), notices(at)
    assert url_widgets(at)[key].value == value
    assert_charts_clean(at)


def test_found_by_fuzzing_hidden_control_with_an_infinite_value():
    at = open_page("quadratic", {"T": "inf", "hide": "T"})
    assert not at.exception and "URL parameter `T`" in notices(at)
    assert chart_frames(at)[0]["lines"]["t"].max() == 100  # the default T applies


def test_found_by_fuzzing_a_preset_start_alone_fills_the_start():
    at = open_page("toy", {"tstart": "(2, 0.1)"})
    assert (at.number_input(key="tx").value, at.number_input(key="ty").value) == (2.0, 0.1)
    at = open_page("toy", {"tstart": "bogus", "tx": "1", "ty": "1"})
    assert at.selectbox(key="tstart").value == "custom" and "URL parameter `tstart`" in notices(at)


@pytest.mark.parametrize("eigs", ["1.2e-308", "5e-324"])
def test_found_by_fuzzing_eigenvalues_at_the_bottom_of_float64(eigs):
    """2.5 η_max overflowed: a slider past float64 crashed, the factor chart held NaN, the in-chart η
    scrubber's range was Infinity; and η = ratio × η_max in relative mode passed η's cap."""
    for query in ({}, {"rel": "true"}, {"rel": "true", "lrr": "1000000"}):
        at = open_page("quadratic", {"src": "typed list", "eigs": eigs, **query})
        assert_charts_clean(at)
        assert_specs_finite(at)
        assert float(metrics(at)["η (current)"]) <= 1e12
