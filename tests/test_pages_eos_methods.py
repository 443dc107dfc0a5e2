"""AppTest of the EoS page with Adam, RMSProp, SGD, schedules, the digits and the presets: what the sharpness
chart draws for each method against which threshold, what steps aside, and the messages for bad input."""

import pytest

from core import training as tr
from tests.apptest_helpers import assert_charts_clean, chart_frames, open_page
from ui import eos_presets
from ui.controls import escape_markdown


def errors(at) -> str:
    return " ".join(e.value for e in at.error)


def texts(at, kind: str) -> str:
    return " ".join(e.value for e in at.get(kind))


def sharpness_datasets(at) -> dict:
    return chart_frames(at)[0]


def test_adam_draws_the_preconditioned_sharpness_against_38_over_eta():
    at = open_page("eos", {"method": "Adam", "etas": "0.01", "esteps": "600", "every": "20"}, timeout=120)
    assert_charts_clean(at)
    data = sharpness_datasets(at)
    assert list(data["thresholds"]["threshold"]) == [pytest.approx(3800.0)]  # (2 + 2·0.9)/(0.1·0.01)
    main, beside = data["sharpness"], data["beside"]
    assert len(main) == len(beside) == 31
    assert (main["S"] > 5 * beside["S"].max()).all()  # λ_max(P⁻¹H) is far above the raw sharpness
    assert set(beside["what"]) == {"raw sharpness λ_max(H)"}
    assert "Preconditioned sharpness λ_max(P⁻¹H) against the threshold (2 + 2β₁)/((1 − β₁)η)" in texts(at, "subheader")
    assert "Drawn: the preconditioned sharpness λ_max(P⁻¹H)" in texts(at, "caption")
    info = texts(at, "info")
    assert "Gradient flow is left out" in info and "rate map is left out for Adam and RMSProp" in info
    # the η·λ chart draws 2·λ_max(P⁻¹H)/threshold in place of H's eigenvalues
    normalised = chart_frames(at)[2]["topk"]
    assert set(normalised["eigenvalue"]) == {"λ_max(P⁻¹H)"}


def test_rmsprop_threshold_is_two_over_eta():
    at = open_page("eos", {"method": "RMSProp", "etas": "0.003", "esteps": "300", "every": "20"}, timeout=120)
    assert_charts_clean(at)
    assert list(sharpness_datasets(at)["thresholds"]["threshold"]) == [pytest.approx(2 / 0.003)]
    assert "Preconditioned sharpness λ_max(P⁻¹H) against the threshold 2/η" in texts(at, "subheader")


def test_sgd_draws_the_batch_sharpness_with_the_full_batch_lambda_max_beside():
    at = open_page("eos", {"method": "SGD", "batch": "16", "esteps": "600", "every": "50"}, timeout=120)
    assert_charts_clean(at)
    data = sharpness_datasets(at)
    assert list(data["thresholds"]["threshold"]) == [pytest.approx(10.0)]
    assert set(data["beside"]["what"]) == {"full-batch λ_max(H)"}
    assert data["sharpness"]["residual"].str.contains("std. error").all()
    assert "Batch sharpness against the threshold 2/η" in texts(at, "subheader")
    assert "b = 16" in texts(at, "caption")
    assert "batch sharpness" in set(chart_frames(at)[2]["topk"]["eigenvalue"])
    assert "Gradient flow is left out" in texts(at, "info")


def test_sgd_with_heavy_ball_uses_its_threshold():
    at = open_page("eos", {"method": "SGD", "sbeta": "0.5", "esteps": "200", "every": "50"}, timeout=120)
    assert_charts_clean(at)
    assert list(sharpness_datasets(at)["thresholds"]["threshold"]) == [pytest.approx(3 / 0.2)]


def test_a_run_that_interpolates_first_says_so():
    query = {"method": "SGD", "data": "digits", "ns": "100", "etas": "0.5", "esteps": "800", "every": "50"}
    at = open_page("eos", query, timeout=120)
    assert_charts_clean(at)
    warning = texts(at, "warning")
    assert "interpolated first, it is not at the edge" in warning and "100 samples" in warning


def test_sgd_at_the_edge_gets_no_interpolation_note():
    at = open_page("eos", {"method": "SGD", "esteps": "2000", "every": "50"}, timeout=120)
    assert "interpolated first" not in texts(at, "warning")


def test_schedule_threshold_follows_eta():
    at = open_page("eos", {"sched": "0.2 until 200, then 0.1", "esteps": "400"}, timeout=120)
    assert_charts_clean(at)
    data = sharpness_datasets(at)
    path = data["threshold_path"]
    assert list(path["step"]) == [0, 199, 200, 400]
    assert list(path["threshold"]) == [pytest.approx(v) for v in (10, 10, 20, 20)]
    assert data["thresholds"].empty  # no constant rule for a schedule
    assert set(data["sharpness"]["run"]) == {"η: 0.2 until 200, then 0.1"}
    # η·λ divides by the threshold in force at each step
    normalised = chart_frames(at)[2]["topk"]
    top = normalised[normalised["eigenvalue"] == "λ1"]
    late = top[top["step"] >= 200]
    assert (late["ηλ"] - 2 * late["λ"] / 20).abs().max() < 1e-9


def test_digits_train_with_their_class_count():
    at = open_page("eos", {"data": "digits", "ns": "100", "classes": "3", "esteps": "100", "flow": "false"})
    assert_charts_clean(at)
    assert at.number_input(key="classes").value == 3
    assert not errors(at)


@pytest.mark.parametrize(
    "query,fragment",
    [
        ({"method": "Adam", "beta1": "1"}, "beta1 = 1.0: Adam's β₁ (momentum of the gradient average) must satisfy"),
        ({"method": "Adam", "aeps": "0"}, "eps = 0.0: Adam's ε must satisfy 0 < ε ≤ 1"),
        ({"method": "RMSProp", "beta2": "1"}, "0 ≤ beta2 < 1"),
        ({"method": "SGD", "batch": "200"}, "Batch size b = 200 with n = 128 samples"),
        ({"sched": "0.2 until 500"}, "must run to the end"),
        ({"sched": "fast then slow"}, "is not understood"),
        ({"sched": "0.2 until 500, then 0.1 until 100, then 0.05"}, "larger than 500"),
        ({"data": "digits", "ns": "800"}, "the digits 0–3 have"),
    ],
)
def test_bad_inputs_explain_themselves(query, fragment):
    at = open_page("eos", query, timeout=120)
    assert not at.exception
    assert "**Not run.**" in errors(at) and escape_markdown(fragment) in errors(at), errors(at)


def test_out_of_range_url_values_get_a_notice():
    at = open_page("eos", {"method": "Adam", "beta1": "2", "esteps": "50"}, timeout=120)
    assert not at.exception
    notices = " ".join(w.value for w in at.warning) + errors(at) + texts(at, "info")
    assert "URL parameter `beta1`" in notices


def test_cost_estimate_counts_the_batch_sharpness():
    """SGD's fresh batches cost work: a configuration that is cheap for GD is refused for SGD at b = n − 1."""
    from ui.eos_runs import MAX_COST, RunConfig

    args = ("0.2", "gd", 0.0, "gaussian", None, 2000, "16, 16", "swish", "mse", 1000, 1, 1, 0)
    plain = RunConfig.from_inputs(*args)
    assert plain.cost() <= MAX_COST
    with pytest.raises(ValueError, match="at most ≈ 20 s per Run"):
        RunConfig.from_inputs(*args, optimizer={"batch_size": 1999})


@pytest.mark.parametrize("name", list(eos_presets.PRESETS))
def test_every_preset_loads_and_runs(name):
    at = open_page("eos", {"esteps": "20", "flow": "false"}, timeout=120)
    at.selectbox(key="_eos_preset").set_value(name).run()
    at.button(key="eos_preset_load").click().run()
    assert_charts_clean(at)
    assert not errors(at), errors(at)
    settings = {**eos_presets.DEFAULTS, **eos_presets.PRESETS[name][1]}
    assert at.number_input(key="esteps").value == settings["esteps"]
    data = sharpness_datasets(at)
    assert data["sharpness"]["step"].max() == settings["esteps"]
    if settings["method"] == "Adam":
        assert list(data["thresholds"]["threshold"]) == [pytest.approx(tr.threshold(0.01, "adam"))]
    if settings["sched"]:
        assert not data["threshold_path"].empty


def test_adam_on_the_eos_page_then_the_momentum_page_shows_gradient_descent():
    """The quadratic pages share the key "method" but offer only three: Adam falls back to their default."""
    at = open_page("eos", {"method": "Adam", "etas": "0.01", "esteps": "50", "every": "50"}, timeout=120)
    assert not at.exception
    at.query_params.clear()
    at.switch_page("pages/momentum.py").run()
    assert not at.exception, [e.value for e in at.exception]
    radio = at.radio(key="method").proto  # (AppTest's .value reads the session's stale "Adam")
    assert list(radio.options) == ["gradient descent", "heavy ball", "Nesterov"] and radio.default == 0
    assert any(m.label == "rate now" for m in at.metric)  # the page drew past the optimizer
