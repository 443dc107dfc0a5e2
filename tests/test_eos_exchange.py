"""Saved EoS runs: JSON round trip, strict validation, and overlay on the page's frames."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import training
from tests.apptest_helpers import open_page
from ui import eos_exchange as ex
from ui import eos_views
from ui.eos_runs import RunConfig


def config():
    return RunConfig((0.2,), "gd", 0.0, "gaussian", None, 32, (8, 4, 1), "swish", "mse", 60, 5, 2, 0)


@pytest.fixture(scope="module")
def run():
    return training.train(0.2, 60, widths=(8, 4, 1), n_samples=32, sharpness_every=5, top_k=2)


def test_round_trip_keeps_every_series(run):
    text = ex.runs_to_json(config(), {0.2: run})
    loaded = ex.runs_from_json(text.encode())
    ((label, back),) = loaded.items()
    assert label == "η = 0.2 (saved)" and back["threshold"] == run["threshold"] == 10.0
    for name in ("step", "loss", "sharpness", "residual", "top_k"):
        np.testing.assert_array_equal(back[name], run[name])  # NaN where not measured, both sides
    frame, rules = eos_views.sharpness_frames({0.2: run, label: back})
    assert set(frame["run"]) == {"η = 0.2", "η = 0.2 (saved)"} and len(rules) == 2


def bad(doc) -> bytes:
    return json.dumps(doc).encode()


def good(run) -> dict:
    return json.loads(ex.runs_to_json(config(), {0.2: run}))


@pytest.mark.parametrize(
    "mutate,fragment",
    [
        (lambda d: d.update(format="other"), "format"),
        (lambda d: d.update(runs=[]), "1 to 4 runs"),
        (lambda d: d.update(runs=d["runs"] * 5), "1 to 4 runs"),
        (lambda d: d["runs"][0].update(lr=-1), "positive numbers"),
        (lambda d: d["runs"][0].update(lr=True), "positive numbers"),
        (lambda d: d["runs"][0].update(loss=d["runs"][0]["loss"][:-1]), "as long as 'step'"),
        (lambda d: d["runs"][0].update(loss=["1"] * len(d["runs"][0]["step"])), "only numbers"),
        (lambda d: d["runs"][0].update(top_k=[[1.0]] * 3), "one row per step"),
    ],
)
def test_rejections_say_what_is_wrong(run, mutate, fragment):
    doc = good(run)
    mutate(doc)
    with pytest.raises(ValueError, match=fragment):
        ex.runs_from_json(bad(doc))


def test_not_json_and_too_big():
    with pytest.raises(ValueError, match="Not a JSON file"):
        ex.runs_from_json(b"\x80\x04pickle")
    with pytest.raises(ValueError, match="at most"):
        ex.runs_from_json(b" " * (ex.MAX_BYTES + 1))
    with pytest.raises(ValueError, match="infinite"):
        ex.runs_from_json(
            b'{"format": "eos-explorer-runs/1", "runs": [{"lr": 0.1, "threshold": 20,'
            b' "step": [0], "loss": [1e999], "sharpness": [null], "top_k": [[1]]}]}'
        )


@given(st.binary(max_size=300))
@settings(max_examples=200, deadline=None)
def test_any_bytes_give_runs_or_a_value_error(data):
    try:
        ex.runs_from_json(data)
    except ValueError as exc:
        assert str(exc)


def test_page_offers_the_save_button():
    at = open_page("eos", {"esteps": "50", "flow": "false"}, timeout=120)
    assert not at.exception
    assert any(getattr(b, "key", None) == "eos_save" for b in at.get("download_button"))


def test_a_schedule_run_keeps_its_stepping_threshold():
    sched = training.train("0.2 until 30, then 0.1", 60, widths=(8, 4, 1), n_samples=32, sharpness_every=5)
    back = next(iter(ex.runs_from_json(ex.runs_to_json(config(), {0.2: sched}).encode()).values()))
    np.testing.assert_array_equal(back["thresholds"], sched["thresholds"])
    assert set(np.round(eos_views.thresholds(back), 9)) == {10.0, 20.0}
    doc = json.loads(ex.runs_to_json(config(), {0.2: sched}))
    doc["runs"][0]["thresholds"][3] = -1
    with pytest.raises(ValueError, match="'thresholds' must be positive"):
        ex.runs_from_json(bad(doc))
