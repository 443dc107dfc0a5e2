"""The URL is the state: every bound control reads its query parameter, bad values get a notice,
and hide= turns a view into an exercise (issue: share, teach, export)."""

import pytest

from tests.apptest_helpers import assert_charts_clean, chart_frames, open_page, status_text

WIDGET_KINDS = ("number_input", "slider", "selectbox", "radio", "toggle", "text_area", "text_input")


def widget(at, key):
    for kind in WIDGET_KINDS:
        for w in at.get(kind):
            if getattr(w, "key", None) == key:
                return w
    return None


def warnings_text(at) -> str:
    return " ".join(w.value for w in at.warning)


# page → a non-default value for every control bound to the URL (several cases where controls
# appear only in some modes).
CASES = [
    ("home", {"hx": "1.75"}),
    (
        "quadratic",
        {
            "preset": "two clusters",
            "n": "50",
            "lo": "0.2",
            "hi": "3",
            "frac": "0.3",
            "spread": "0.1",
            "seed": "7",
            "T": "500",
            "eps": "0.001",
            "start": "seeded random",
            "tseed": "3",
            "lr": "0.25",
        },
    ),
    ("quadratic", {"preset": "evenly spaced", "lmin": "0.5", "lmax": "4", "rel": "true", "lrr": "0.9"}),
    ("quadratic", {"preset": "power law", "alpha": "2", "lmax": "3"}),
    ("quadratic", {"preset": "neural-net-like", "outl": "5", "bulk": "0.05", "lmax": "20", "seed": "2"}),
    ("quadratic", {"src": "typed list", "eigs": "1, 2, 3", "start": "along the top direction", "present": "true"}),
    (
        "trajectory",
        {
            "l1": "0.5",
            "l2": "3",
            "phi": "-45",
            "x0": "1",
            "y0": "-2",
            "method": "Nesterov",
            "beta": "0.7",
            "lr": "0.4",
            "T": "50",
            "ts": "20",
        },
    ),
    ("momentum", {"method": "heavy ball", "beta": "0.8", "lr": "0.7", "T": "300", "n": "20"}),
    (
        "eos",
        {
            "etas": "0.1, 0.3",
            "data": "teacher",
            "ns": "64",
            "hidden": "8",
            "act": "tanh",
            "esteps": "60",
            "every": "5",
            "topk": "2",
            "eseed": "3",
            "flow": "false",
            "method": "Nesterov",
            "beta": "0.3",
        },
    ),
    ("eos", {"loss": "ce", "data": "spirals", "esteps": "40", "flow": "false"}),
    ("toy", {"tstart": "custom", "tx": "2", "ty": "0.3", "teta": "0.25", "tsteps": "500"}),
]


@pytest.mark.parametrize("page,query", CASES)
def test_every_bound_control_shows_its_url_value(page, query):
    at = open_page(page, query)
    assert not at.exception
    for key, raw in query.items():
        w = widget(at, key)
        assert w is not None, f"no widget bound to ?{key}= on {page}"
        value = w.value
        if isinstance(value, bool):
            assert value == (raw == "true"), key
        elif isinstance(value, (int, float)):
            assert value == pytest.approx(float(raw)), key
        else:
            assert str(value) == raw, key
    assert not warnings_text(at).count("was ignored")


@pytest.mark.parametrize(
    "page,key,raw",
    [
        ("quadratic", "n", "abc"),
        ("quadratic", "n", "99999"),
        ("quadratic", "lr", "-1"),
        ("quadratic", "lr", "nan"),
        ("quadratic", "T", "1e9"),
        ("quadratic", "preset", "<script>"),
        ("quadratic", "present", "maybe"),
        ("trajectory", "method", "adam"),
        ("trajectory", "phi", "200"),
        ("momentum", "start", "nowhere"),
        ("home", "hx", "1e400"),
    ],
)
def test_bad_url_values_give_a_notice_naming_the_parameter(page, key, raw):
    at = open_page(page, {key: raw})
    assert not at.exception
    text = warnings_text(at)
    assert f"`{key}`" in text and "was ignored" in text, text
    assert_charts_clean(at)


def test_bad_beta_with_momentum_selected():
    at = open_page("trajectory", {"method": "heavy ball", "beta": "1.5"})
    assert "`beta`" in warnings_text(at) and widget(at, "beta").value == 0.5
    assert_charts_clean(at)


def test_present_accepts_1():
    at = open_page("quadratic", {"present": "1"})
    assert widget(at, "present").value is True


def test_hide_removes_exactly_the_named_controls_and_elements():
    at = open_page("quadratic", {"lr": "2.5", "hide": "lr,status,etamax_m,decay"})
    assert not at.exception
    assert widget(at, "lr") is None and widget(at, "T") is not None
    assert status_text(at) == ""
    labels = [m.label for m in at.metric]
    assert "η_max = 2/λ_max" not in labels and "sharpness λ_max" in labels
    # The hidden η still applies (from the URL), and the decay view is gone from the live chart.
    assert {m.label: m.value for m in at.metric}["η (current)"] == "2.5"
    assert len(chart_frames(at)) == 1 and "Every eigendirection" not in at.get("vega_lite_chart")[0].proto.spec
    # Reveal: everything comes back.
    at.toggle(key="reveal").set_value(True).run()
    assert widget(at, "lr") is not None and "Diverges" in status_text(at)
    assert "Every eigendirection" in at.get("vega_lite_chart")[0].proto.spec


def test_share_link_lists_the_state():
    at = open_page("quadratic", {"lr": "0.3"})
    links = [m.value for m in at.markdown if m.value.startswith("`") and "lr=" in m.value]
    assert len(links) == 1 and "lr=0.3" in links[0] and not at.text_input, links
