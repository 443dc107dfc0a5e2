"""AppTest of the Edge of Stability page: a run fills the charts; bad input and caps give messages."""

import pytest

from tests.apptest_helpers import assert_charts_clean, chart_frames, open_page


def errors(at) -> str:
    return " ".join(e.value for e in at.error)


def test_first_visit_trains_and_fills_every_chart():
    at = open_page("eos", {"esteps": "300"}, timeout=120)
    assert_charts_clean(at)
    charts = chart_frames(at)
    assert len(charts) >= 6
    sharp = charts[0]["sharpness"]
    assert len(sharp) >= 30 and (sharp["S"] > 0).all()
    assert list(charts[0]["thresholds"]["threshold"]) == [pytest.approx(10.0)]  # 2/η at η = 0.2


def test_several_learning_rates_overlay():
    at = open_page("eos", {"etas": "0.1, 0.3", "esteps": "200", "flow": "false"}, timeout=120)
    assert_charts_clean(at)
    runs = set(chart_frames(at)[0]["sharpness"]["run"])
    assert runs == {"η = 0.1", "η = 0.3"}


def test_divergence_is_reported_and_charts_stay_clean():
    at = open_page("eos", {"etas": "5", "esteps": "200"}, timeout=120)
    assert "diverged at step" in errors(at)
    assert_charts_clean(at)


@pytest.mark.parametrize(
    "query,fragment",
    [
        ({"etas": "abc"}, "is not a number"),
        ({"etas": "-0.1"}, "0 < η"),
        ({"etas": "0.1,0.2,0.3,0.4,0.5"}, "one to 4"),
        ({"hidden": "16, 1000"}, "from 1 to 256"),
        ({"hidden": "2.5"}, "whole number"),
        ({"esteps": "20000", "ns": "2000", "hidden": "128, 128"}, "at most ≈ 20 s per Run"),
        ({"loss": "ce"}, "Cross-entropy needs"),
    ],
)
def test_bad_inputs_explain_themselves(query, fragment):
    at = open_page("eos", query, timeout=120)
    assert not at.exception
    assert fragment in errors(at), errors(at)


def test_changed_settings_wait_for_run():
    at = open_page("eos", timeout=120)  # (AppTest re-sends its query parameters on every run)
    at.toggle(key="flow").set_value(False).run()
    before = len(chart_frames(at)[1]["loss"])
    at.number_input(key="esteps").set_value(150).run()
    assert any("press **Run**" in i.value for i in at.info)
    assert len(chart_frames(at)[1]["loss"]) == before  # still the previous run
    at.button(key="run").click().run()
    assert chart_frames(at)[1]["loss"]["step"].max() == 150


def test_a_training_process_that_dies_is_said_and_nothing_is_shown_as_trained(monkeypatch):
    from ui import train_process

    def died(kwargs, report, max_seconds, cancelled=None):
        raise train_process.TrainingFailed("the training process ended (exit code -9)")

    monkeypatch.setattr(train_process, "train", died)
    at = open_page("eos", {"esteps": "300", "eseed": "9191", "flow": "false"}, timeout=120)  # a first visit trains
    assert not at.exception
    assert any("did not finish" in e.value and "exit code -9" in e.value for e in at.error), [e.value for e in at.error]
    assert any("Press **Run** to train" in i.value for i in at.info)  # no run shown as trained
    assert not at.get("vega_lite_chart")
