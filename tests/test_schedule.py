"""Piecewise-constant learning rates: the text, η_t and the threshold step by step, the update, and the
sharpness following 2/η_t when η halves (Cohen et al. 2021) or doubles."""

import numpy as np
import pytest

from core import network, training


@pytest.mark.parametrize(
    "text, pieces",
    [
        ("0.2 until 500, then 0.1", ((0.2, 500), (0.1, None))),
        ("0.3", ((0.3, None),)),
        ("  0.2 until step 100; 0.1 until 300 ;then 5e-2 ", ((0.2, 100), (0.1, 300), (0.05, None))),
        ("0.2 UNTIL 10, THEN .4", ((0.2, 10), (0.4, None))),
    ],
)
def test_parse_schedule(text, pieces):
    assert training.parse_schedule(text) == pieces
    assert training.parse_schedule(training.format_schedule(pieces)) == pieces


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        (" , ", "empty"),
        ("fast", "piece 1 .'fast'. is not understood"),
        ("0.2 until 500", "is the last one and must run to the end"),
        ("0.2, 0.1", "piece 1 .'0.2'. must end with 'until <step>'"),
        ("0.2 until 500, then 0.1 until 400, then 0.05", "larger than 500"),
        ("0.2 until 0, then 0.1", "larger than 0"),
        ("0 until 5, then 0.1", "0 < η"),
        ("-0.1", "0 < η"),
        ("nan", "not understood"),
        ("1e999", "0 < η"),
        ("0.2 until 30000, then 0.1", "at most 20,000"),
        (", ".join(f"0.1 until {i + 1}" for i in range(8)) + ", then 0.1", "at most 8"),
        ("0.1" * 200, "at most 400"),
        (0.2 + 0j, "must be text"),
    ],
)
def test_bad_schedules_say_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        training.parse_schedule(text)


def test_learning_rates_per_step():
    rates = training.learning_rates("0.2 until 3, then 0.1 until 5, then 0.05", 7)
    np.testing.assert_array_equal(rates, [0.2, 0.2, 0.2, 0.1, 0.1, 0.05, 0.05, 0.05])
    np.testing.assert_array_equal(training.learning_rates([(0.2, 2), (0.4, None)], 3), [0.2, 0.2, 0.4, 0.4])
    np.testing.assert_array_equal(training.learning_rates(0.3, 2), [0.3, 0.3, 0.3])
    np.testing.assert_array_equal(training.learning_rates("0.2 until 50, then 0.1", 3), [0.2] * 4)  # never reached
    with pytest.raises(ValueError, match="pieces"):
        training.learning_rates([("a", None)], 3)


def test_constant_schedule_is_the_plain_run_bit_for_bit():
    plain, text = training.train(0.2, 100), training.train("0.2", 100)
    for key in ("loss", "sharpness", "params", "update_norm"):
        np.testing.assert_array_equal(plain[key], text[key])
    assert plain["threshold"] == text["threshold"] == pytest.approx(10.0)


@pytest.mark.parametrize("method, beta", [("gd", 0.0), ("heavy_ball", 0.5)])
def test_each_step_uses_its_own_learning_rate(method, beta):
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((15, 3)), rng.standard_normal((15, 1))
    widths = (3, 4, 1)
    run = training.train("0.1 until 3, then 0.05", 6, widths=widths, data=(X, y), method=method, beta=beta)
    theta, last = network.init_params(widths, 0), 0.0
    for t in range(6):
        _, g = network.loss_and_grad(theta, X, y, widths)
        last = -(0.1 if t < 3 else 0.05) * g + beta * last
        theta = theta + last
    np.testing.assert_allclose(run["params"], theta, rtol=1e-13)
    expected = training.threshold(np.array([0.1] * 3 + [0.05] * 4), method, beta)
    np.testing.assert_allclose(run["thresholds"], expected)
    np.testing.assert_array_equal(run["lr"], [0.1] * 3 + [0.05] * 4)


def test_adam_thresholds_follow_the_schedule():
    run = training.train("0.01 until 5, then 0.02", 8, method="adam")
    np.testing.assert_allclose(run["thresholds"], [3800.0] * 5 + [1900.0] * 4)


def window_median(values, start, stop):
    window = values[start:stop]
    return float(np.median(window[np.isfinite(window)]))


def test_halving_eta_lets_the_sharpness_rise_to_the_new_edge():
    """Default problem, η = 0.2 then 0.1 from step 600: S is at 10, then climbs to 20 and hovers within 10 %."""
    run = training.train("0.2 until 600, then 0.1", 2000)
    assert abs(window_median(run["sharpness"], 400, 600) / 10 - 1) < 0.2  # at the edge, still settling
    assert run["thresholds"][599] == pytest.approx(10) and run["thresholds"][600] == pytest.approx(20)
    assert abs(window_median(run["sharpness"], 1400, 2001) / 20 - 1) < 0.1
    assert np.nanmax(run["sharpness"][600:]) > 20
    report = training.edge_report(run)
    assert abs(report["tail_median"] - 1) < 0.1


def test_doubling_eta_makes_the_sharpness_fall_to_the_new_edge():
    """η = 0.1 then 0.2 from step 1000: S ≈ 24 > 2/0.2 = 10 when η doubles; GD does not diverge, it catapults
    to a flatter region and hovers at the new 2/η = 10."""
    run = training.train("0.1 until 1000, then 0.2", 2000)
    assert run["sharpness"][1000] > 15
    assert run["diverged_at"] == -1
    assert abs(window_median(run["sharpness"], 1400, 2001) / 10 - 1) < 0.1
