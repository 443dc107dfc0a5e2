"""Numeric extremes on every page: λ = 0, λ < 0, λ over 12 orders of magnitude, duplicates, n = 1 and
n = 10,000, η = 0 / tiny / huge, T at its cap, β → 1, a diverging network. Each renders something
meaningful (the verdict theory gives, finite metrics or a clear "∞"/"—"/"never") with no NaN in any
chart. Cases already covered by tests/test_pages_*.py are not repeated here."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core import momentum, spectrum, toy2d
from core import quadratic as q
from core import training as tr
from tests.apptest_helpers import assert_charts_clean, chart_frames, open_page, status_text
from ui import frames
from ui.frames import eigenvalues_drawn

WORDS = {"∞", "—", "never", "saddle", "diverged", "yes", "no"}


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def assert_metrics_meaningful(at) -> dict[str, str]:
    """Every metric is a finite number (commas allowed) or one of the words that say why not."""
    shown = metrics(at)
    assert shown, "no metrics on the page"
    for label, value in shown.items():
        if value in WORDS:
            continue
        number = float(value.replace(",", ""))
        assert math.isfinite(number), (label, value)
    return shown


def typed(eigs: str, **query) -> dict[str, str]:
    return {"src": "typed list", "eigs": eigs, **query}


def decay_lines(at):
    """The directions the decay view draws: vertices on a linear time axis, sampled steps on a symlog one."""
    frames = chart_frames(at)[0]
    return frames["verts"] if "verts" in frames else frames["lines"]


# ---------------------------------------------------------------- quadratic explorer


def test_quadratic_all_flat_does_not_move():
    at = open_page("quadratic", typed("0, 0, 0"))
    assert_charts_clean(at)
    assert "**Does not move.**" in status_text(at) and "flat" in status_text(at)
    shown = assert_metrics_meaningful(at)
    assert shown["η_max = 2/λ_max"] == "∞" and shown["η / η_max"] == "—" and shown["steps to ε = 1e-06"] == "never"


def test_quadratic_flat_direction_stays_while_the_rest_converges():
    at = open_page("quadratic", typed("0, 1", lr="1.5"))
    assert_charts_clean(at)
    assert "**Converges.**" in status_text(at)
    assert float(assert_metrics_meaningful(at)["rate max|1 − ηλᵢ|"]) == pytest.approx(0.5)  # λ = 0 left out
    assert sorted(eigenvalues_drawn(chart_frames(at)[0])) == [0.0, 1.0]


def test_quadratic_saddle_only_diverges_at_any_eta():
    at = open_page("quadratic", typed("-1", lr="0.1"))
    assert_charts_clean(at)
    status = status_text(at)
    # |1 − ηλ| = 1.1: 10⁶ × the start after ⌈6 / log10 1.1⌉ = 145 steps.
    assert "**Diverges.**" in status and "step 145" in status, status
    assert any("negative eigenvalue" in w.value for w in at.warning)
    shown = assert_metrics_meaningful(at)
    assert shown["η_max = 2/λ_max"] == "∞" and shown["steps to ε = 1e-06"] == "never"


@pytest.mark.parametrize("lr,verdict", [("1.9e-6", "**Converges.**"), ("2.1e-6", "**Diverges.**")])
def test_quadratic_twelve_orders_of_magnitude(lr, verdict):
    at = open_page("quadratic", typed("1e-6, 1e-3, 1, 1e3, 1e6", lr=lr, T="100000"))
    assert_charts_clean(at)
    assert verdict in status_text(at), status_text(at)
    shown = assert_metrics_meaningful(at)
    assert float(shown["κ = λ_max/λ_min"]) == pytest.approx(1e12)
    if verdict == "**Converges.**":
        # ρ = 1 − 1.9e-12: finite, ≈ ln(1e6)/1.9e-12 steps.
        steps = int(shown["steps to ε = 1e-06"].replace(",", ""))
        assert steps == q.steps_to_tolerance([1e-6, 1e6], 1.9e-6, 1e-6) and 7e12 < steps < 7.5e12
    else:
        assert "Direction 5 (λ = 1e+06" in status_text(at)
    assert decay_lines(at)["direction"].nunique() == 5


def test_quadratic_duplicate_eigenvalues_at_eta_max_oscillate_forever():
    at = open_page("quadratic", typed("2, 2, 2, 2", lr="1"))
    assert_charts_clean(at)
    assert "**Oscillates forever.**" in status_text(at)
    shown = assert_metrics_meaningful(at)
    assert shown["κ = λ_max/λ_min"] == "1" and shown["steps to ε = 1e-06"] == "never"
    assert list(eigenvalues_drawn(chart_frames(at)[0])) == [2.0] * 4


def test_quadratic_one_eigenvalue():
    at = open_page("quadratic", {"n": "1", "lr": "10"})  # λ = 0.1: η = 10 = η*: solved in one step
    assert_charts_clean(at)
    shown = assert_metrics_meaningful(at)
    assert shown["η* (fastest)"] == "10" and shown["rate max|1 − ηλᵢ|"] == "0" and shown["steps to ε = 1e-06"] == "1"
    assert "**Converges.**" in status_text(at)
    assert decay_lines(at)["direction"].nunique() == 1


def test_quadratic_ten_thousand_eigenvalues_just_past_the_edge():
    at = open_page("quadratic", {"n": str(spectrum.MAX_EIGENVALUES), "lmin": "0", "lmax": "1", "lr": "2.001"})
    assert_charts_clean(at)
    status = status_text(at)
    assert "**Diverges.** Direction 10000 (λ = 1," in status, status
    assert decay_lines(at)["direction"].nunique() <= 20
    assert len(eigenvalues_drawn(chart_frames(at)[0])) <= 1_000
    assert assert_metrics_meaningful(at)["κ = λ_max/λ_min"] == "9999"  # λ = 0 is left out of κ


@pytest.mark.parametrize(
    "lr,why", [("0", "(η = 0)"), ("1e-300", "(ηλᵢ is below double precision)")], ids=["zero", "tiny"]
)
def test_quadratic_eta_zero_or_tiny_does_not_move(lr, why):
    at = open_page("quadratic", {"lr": lr})
    assert_charts_clean(at)
    assert "**Does not move.**" in status_text(at) and why in status_text(at)
    assert assert_metrics_meaningful(at)["steps to ε = 1e-06"] == "never"
    # (Every line is flat: the live chart computes it in the browser; tests/browser checks it there.)


def test_quadratic_eta_at_its_cap_diverges_in_one_step():
    at = open_page("quadratic", {"lr": "1e12", "T": str(q.MAX_STEPS)})
    assert_charts_clean(at)
    assert "at step 1." in status_text(at)
    shown = assert_metrics_meaningful(at)
    assert shown["η (current)"] == "1e+12" and shown["steps to ε = 1e-06"] == "never"


def test_quadratic_steps_at_the_cap_near_the_edge():
    at = open_page("quadratic", {"T": str(q.MAX_STEPS), "lr": "1.999"})
    assert_charts_clean(at)
    assert "**Converges.**" in status_text(at)
    assert chart_frames(at)[0]["lines"]["t"].max() == q.MAX_STEPS  # (the loss is summed in the browser)
    assert assert_metrics_meaningful(at)["steps to ε = 1e-06"] == "13,809"


# ---------------------------------------------------------------- momentum map


def test_momentum_beta_almost_one_over_the_longest_run():
    at = open_page("momentum", {"method": "heavy ball", "beta": "0.999999", "lr": "1", "T": str(momentum.MAX_STEPS)})
    assert_charts_clean(at)
    shown = assert_metrics_meaningful(at)
    assert float(shown["η_max, heavy ball (β = 0.999999)"]) == pytest.approx(3.999998, rel=1e-6)
    assert float(shown["rate now"]) < 1  # every ηλ = 0.1 … 1 is inside (0, 2 + 2β): it converges, slowly
    errors = chart_frames(at)[0]["edirs"]  # the steps the live chart evaluates in the browser
    assert errors["t"].max() == momentum.MAX_STEPS


def test_momentum_eta_zero_stays_put():
    at = open_page("momentum", {"method": "Nesterov", "lr": "0"})
    assert_charts_clean(at)
    assert assert_metrics_meaningful(at)["rate now"] == "1"


def test_momentum_flat_and_saddle_directions():
    at = open_page("momentum", typed("-1, 0, 1", method="heavy ball"))
    assert_charts_clean(at)
    assert any("1 negative eigenvalue" in w.value for w in at.warning)
    assert float(assert_metrics_meaningful(at)["rate now"]) > 1  # the saddle grows


def test_momentum_ten_thousand_eigenvalues_twelve_orders():
    at = open_page("momentum", {"preset": "log-spaced", "n": "10000", "lmin": "1e-6", "lmax": "1e6", "lr": "1e-6"})
    assert_charts_clean(at)
    shown = assert_metrics_meaningful(at)
    assert float(shown["η_max, gradient descent"]) == pytest.approx(2e-6)


# ---------------------------------------------------------------- trajectory


@pytest.mark.parametrize("query", [{"lr": "0"}, {"lr": "0", "method": "heavy ball", "beta": "0.999999"}])
def test_trajectory_eta_zero_does_not_move(query):
    at = open_page("trajectory", query)
    assert_charts_clean(at)
    assert any("**Does not move**" in i.value for i in at.info), [i.value for i in at.info]
    assert not at.success and not at.error
    assert "coords" in chart_frames(at)[0]  # the path is evaluated in the browser; the export's, from core:
    beta = float(query.get("beta", 0.0))
    method = "heavy_ball" if "method" in query else "gd"
    path = frames.trajectory_frames(0.2, 1.0, np.radians(30), [-2.0, 1.5], 0.0, beta, method, 100)["path"]
    assert np.ptp(path["x"]) < 1e-12 and np.ptp(path["y"]) < 1e-12  # (rounding only, with momentum)


@pytest.mark.parametrize(
    "query,verdict",
    [
        ({"method": "heavy ball", "beta": "0.999999", "lr": "1", "T": "100000"}, "**Converges**"),  # ηλ₂ = 1 < 4
        ({"method": "heavy ball", "beta": "0.999", "lr": "1e-20"}, "**Converges**"),  # ρ rounds past 1 here
        ({"method": "Nesterov", "beta": "0.999999", "lr": "1e12"}, "**Diverged at step 1**"),
        ({"lr": "2"}, "**Does not converge**"),  # ηλ₂ = 2 exactly: oscillates forever
        ({"l1": "1", "l2": "1", "lr": "1"}, "**Converges**"),  # duplicate eigenvalues, solved in one step
    ],
)
def test_trajectory_verdicts_at_the_extremes(query, verdict):
    at = open_page("trajectory", query)
    assert_charts_clean(at)
    boxes = [b.value for kind in ("success", "warning", "error") for b in at.get(kind)]
    assert any(verdict in b for b in boxes), boxes
    assert_metrics_meaningful(at)


# ---------------------------------------------------------------- 2-D toy


def test_toy_eta_tiny_has_not_moved_far_and_says_so():
    at = open_page("toy", {"teta": "1e-300", "tsteps": str(toy2d.MAX_STEPS)})
    assert_charts_clean(at)
    assert any("has not reached a minimum after 100,000 steps" in w.value for w in at.warning)
    shown = assert_metrics_meaningful(at)
    assert shown["GD final sharpness"] == shown["x² + y² at the start"] == "9.0025"


def test_toy_eta_at_its_cap_diverges_and_keeps_the_path_before():
    at = open_page("toy", {"teta": "10"})
    assert_charts_clean(at)
    _, step = toy2d.gd_path(3.0, 0.05, 10.0, 2000)
    assert any(f"GD diverged at step {step}" in e.value for e in at.error)
    assert metrics(at)["GD final sharpness"] == "diverged" and metrics(at)["GD on stable part?"] == "—"
    assert_metrics_meaningful(at)


def test_toy_saddle_start():
    at = open_page("toy", {"tx": "0", "ty": "0", "tsteps": str(toy2d.MAX_STEPS)})
    assert_charts_clean(at)
    assert any("sits on the saddle" in w.value for w in at.warning)
    assert assert_metrics_meaningful(at)["flow final sharpness"] == "saddle"


def test_toy_eta_zero_at_the_step_cap():
    at = open_page("toy", {"teta": "0", "tsteps": str(toy2d.MAX_STEPS)})
    assert_charts_clean(at)
    assert any("**η = 0**: GD does not move." in i.value for i in at.info)
    assert assert_metrics_meaningful(at)["2/η"] == "∞"


# ---------------------------------------------------------------- Edge of Stability


def summary(at) -> list[dict]:
    return at.dataframe[0].value.to_dict("records")


def test_eos_one_run_diverges_the_other_finishes():
    at = open_page("eos", {"etas": "0.1, 5", "esteps": "100", "flow": "false"}, timeout=120)
    assert_charts_clean(at)
    rows = {row["run"]: row for row in summary(at)}
    diverged = int(rows["η = 5"]["diverged at"].replace(",", ""))
    assert 0 < diverged < 100 and rows["η = 0.1"]["diverged at"] == "—"
    assert any(f"η = 5 diverged at step {diverged}" in e.value for e in at.error)
    loss = chart_frames(at)[1]["loss"]
    ends = loss.groupby("run")["step"].max()
    assert ends["η = 0.1"] == 100 and ends["η = 5"] <= diverged  # the rest of the run kept, up to there
    sharp = chart_frames(at)[0]["sharpness"]
    assert sharp.query("run == 'η = 5'")["step"].max() < diverged


def test_eos_tiny_eta_never_reaches_the_edge():
    at = open_page("eos", {"etas": "1e-6", "esteps": "50", "flow": "false"}, timeout=120)
    assert_charts_clean(at)
    (row,) = summary(at)
    assert row["crossed threshold at"] == "—" and row["diverged at"] == "—"
    assert float(row["threshold"]) == pytest.approx(2e6)
    assert float(row["first S"]) > 0


def test_eos_one_sample_linear_model_top_five():
    at = open_page("eos", {"ns": "1", "hidden": "", "topk": "5", "esteps": "30", "flow": "false"}, timeout=120)
    assert_charts_clean(at)
    topk = chart_frames(at)[2]["topk"]
    assert topk["eigenvalue"].nunique() == 5


def test_eos_steps_at_the_cap():
    query = {"esteps": str(tr.MAX_STEPS), "ns": "8", "hidden": "4", "every": "1000", "flow": "false"}
    at = open_page("eos", query, timeout=120)
    assert_charts_clean(at)
    assert chart_frames(at)[1]["loss"]["step"].max() == tr.MAX_STEPS
    (row,) = summary(at)
    assert row["diverged at"] == "—" and math.isfinite(float(row["final loss"]))
