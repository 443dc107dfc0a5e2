"""Caps enforced on the server, not only by widget ranges: a URL value past a cap is refused with a
message naming the cap, and the page stays responsive; core functions raise ValueError past the
caps (uploads cannot go through AppTest, so the readers are called directly)."""

from __future__ import annotations

import io
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest

from core import datasets, momentum, network, spectrum, toy2d
from core import quadratic as q
from core import training as tr
from tests.apptest_helpers import assert_charts_clean, chart_frames, open_page
from ui import eos_runs

ROOT = Path(__file__).resolve().parent.parent
HANG_GUARD = 10.0  # seconds: a refused cap must not freeze the page (a guard, not a benchmark)


def timed_page(page: str, query: dict, timeout: float = 60):
    started = time.perf_counter()
    at = open_page(page, query, timeout=timeout)
    elapsed = time.perf_counter() - started
    assert elapsed < HANG_GUARD, f"{page} {query} took {elapsed:.1f} s"
    assert not at.exception, [e.value for e in at.exception]
    return at


def notices(at) -> str:
    return " ".join(w.value for w in at.warning)


def errors(at) -> str:
    return " ".join(e.value for e in at.error)


# ---------------------------------------------------------------- through the URL


@pytest.mark.parametrize(
    "page,key,over,cap_text,default",
    [
        ("quadratic", "n", spectrum.MAX_EIGENVALUES + 1, "≤ 10000", 10),
        ("momentum", "n", 10**9, "≤ 10000", 10),
        ("quadratic", "T", q.MAX_STEPS + 1, "≤ 100000", 100),
        ("momentum", "T", 10**12, "≤ 100000", 100),
        ("trajectory", "T", momentum.MAX_STEPS + 1, "≤ 100000", 100),
        ("toy", "tsteps", toy2d.MAX_STEPS + 1, "≤ 100000", 2000),
        ("quadratic", "lr", "1e13", "≤ 1e+12", 1.5),
        ("eos", "esteps", tr.MAX_STEPS + 1, "≤ 20000", 1000),
        ("eos", "ns", datasets.MAX_SAMPLES + 1, "≤ 2000", 128),
        ("eos", "topk", 6, "≤ 5", 3),
        ("eos", "every", 10**6, "≤ 1000", 10),
    ],
)
def test_url_value_past_a_cap_is_refused_and_named(page, key, over, cap_text, default):
    # The EoS page would train the default configuration on a first visit: keep that small.
    base = {"esteps": "50", "hidden": "4", "flow": "false"} if page == "eos" else {}
    at = timed_page(page, {**base, key: str(over)}, timeout=120)
    message = notices(at)
    assert f"URL parameter `{key}`" in message and cap_text in message, message
    assert at.number_input(key=key).value == default  # the cap held: the default is used
    assert_charts_clean(at)


@pytest.mark.parametrize(
    "page,query,fragment",
    [
        (
            "quadratic",
            {"src": "typed list", "eigs": "1 " * (spectrum.MAX_EIGENVALUES + 1)},
            "at most 10,000 are allowed",
        ),
        ("momentum", {"src": "typed list", "eigs": "1 " * 200_001}, "at most 10,000 are allowed"),  # 400 kB box
        ("eos", {"hidden": "16, 257"}, "from 1 to 256"),
        ("eos", {"hidden": "256, 256"}, "at most 50,000 are allowed"),  # 68,353 parameters
        ("eos", {"hidden": "4, " * 7}, "at most 6 are allowed"),
        ("eos", {"etas": "1e7"}, "0 < η ≤ 1e+06"),
        ("eos", {"etas": "0.1, 0.2, 0.3, 0.4, 0.5"}, "one to 4"),
        ("eos", {"esteps": "20000", "ns": "2000", "hidden": "64, 64"}, "at most ≈ 20 s per Run is allowed"),
    ],
)
def test_text_past_a_cap_is_refused_with_the_cap(page, query, fragment):
    at = timed_page(page, query, timeout=120)
    shown = errors(at).replace("\\", "")  # (the message is Markdown-escaped; compare its characters)
    assert fragment in shown, shown
    if page != "eos":
        assert_charts_clean(at)  # the default spectrum is still drawn


def test_largest_allowed_values_still_respond():
    """At the caps themselves every page answers within the hang guard."""
    timed_page("quadratic", {"preset": "two clusters", "n": "10000", "T": "100000", "start": "seeded random"})
    timed_page("momentum", {"method": "Nesterov", "n": "10000", "T": "100000", "beta": "0.999999"})
    timed_page("trajectory", {"method": "heavy ball", "T": "100000", "beta": "0.999999"})
    at = timed_page("eos", {"esteps": "20000", "ns": "2000", "hidden": "4", "every": "1000"}, timeout=120)
    assert any("Press **Run**" in i.value for i in at.info) or chart_frames(at)


# ---------------------------------------------------------------- core refuses past the caps


@pytest.mark.parametrize(
    "call,fragment",
    [
        (lambda: spectrum.validate(np.ones(10_001)), "at most 10,000"),
        (lambda: spectrum.parse("1 " * 10_001), "at most 10,000"),
        (lambda: spectrum.parse("1" * (spectrum.MAX_TEXT_CHARS + 1)), "at most 400,000"),
        (lambda: spectrum.preset("log-spaced", n=10_001), "1 … 10,000"),
        (lambda: spectrum.validate([1e101]), "up to 1e+100"),
        (lambda: q.iterates([1.0], 0.1, 1.0, q.MAX_STEPS + 1), "between 0 and 100,000"),
        (lambda: q.loss_curve([1.0], 0.1, 1.0, q.MAX_STEPS + 1), "between 0 and 100,000"),
        (lambda: momentum.iterates([1.0], 0.1, 0.5, 1.0, momentum.MAX_STEPS + 1, "heavy_ball"), "100,000"),
        (lambda: toy2d.gd_path(3.0, 0.05, 0.2, toy2d.MAX_STEPS + 1), "between 0 and 100,000"),
        (lambda: tr.train(0.1, tr.MAX_STEPS + 1), "from 0 to 20,000"),
        (lambda: tr.train(2e6, 10), "0 < η ≤ 1e+06"),
        (lambda: network._check_widths((8, 257, 1)), "from 1 to 256"),
        (lambda: network._check_widths((8, 256, 256, 1)), "at most 50,000"),
        (lambda: tr.train(0.1, 10, widths=(8, 256, 256, 1)), "at most 50,000"),
        (lambda: datasets.make("gaussian", datasets.MAX_SAMPLES + 1), "from 1 to 2,000"),
        (lambda: tr.train(0.1, 10, n_samples=datasets.MAX_SAMPLES + 1), "from 1 to 2,000"),
    ],
)
def test_core_raises_past_the_caps(call, fragment):
    with pytest.raises(ValueError, match=None) as err:
        call()
    assert fragment in str(err.value), str(err.value)


def test_training_data_passed_directly_is_capped_too():
    X, y = np.zeros((datasets.MAX_SAMPLES + 1, 8)), np.zeros((datasets.MAX_SAMPLES + 1, 1))
    with pytest.raises(ValueError, match="1 ≤ n ≤ 2,000"):
        tr.train(0.1, 10, data=(X, y))


def test_everything_at_the_caps_is_accepted():
    assert spectrum.validate(np.ones(spectrum.MAX_EIGENVALUES)).size == 10_000
    assert network._check_widths((8, 256, 1)) == (8, 256, 1)
    assert datasets.make("gaussian", datasets.MAX_SAMPLES)[0].shape == (2_000, 8)
    assert q.loss_curve([1.0], 0.1, 1.0, q.MAX_STEPS).shape == (100_001,)


# ---------------------------------------------------------------- uploads


def npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_upload_larger_than_the_byte_cap_is_refused_before_parsing():
    data = b"1\n" * (spectrum.MAX_UPLOAD_BYTES // 2 + 1)
    started = time.perf_counter()
    with pytest.raises(ValueError, match="at most 10,485,760 are allowed"):
        spectrum.from_file("big.csv", data)
    assert time.perf_counter() - started < 1.0  # refused on its size, not read
    with pytest.raises(ValueError, match="at most 10,485,760 are allowed"):
        spectrum.from_file("big.npy", data)


def test_uploaded_matrix_and_column_caps():
    with pytest.raises(ValueError, match="at most 1,000 × 1,000"):
        spectrum.from_file("a.npy", npy(np.eye(1_001)))  # 8 MB: under the byte cap, over the size cap
    with pytest.raises(ValueError, match="at most 10,000 are allowed"):
        spectrum.from_file("col.csv", b"1\n" * 10_001)
    with pytest.raises(ValueError, match="at most 10,000 are allowed"):
        spectrum.from_file("col.npy", npy(np.ones(10_001)))
    assert spectrum.from_file("col.csv", b"1\n" * 10_000).size == 10_000


def test_csv_upload_caps():
    row = "0.5," * 8 + "1\n"
    with pytest.raises(ValueError, match="at most 2,000 samples"):
        datasets.from_csv(row * (datasets.MAX_SAMPLES + 1))
    with pytest.raises(ValueError, match="at most 4,000,000 are allowed"):
        datasets.from_csv(b"1,2\n" * (datasets.MAX_CSV_CHARS // 4 + 1))
    with pytest.raises(ValueError, match="at most 64 columns"):
        datasets.from_csv(",".join(["1"] * 65) + "\n")
    X, y = datasets.from_csv(row * datasets.MAX_SAMPLES)
    assert X.shape == (2_000, 8) and y.shape == (2_000, 1)


def test_streamlit_refuses_uploads_past_the_same_cap():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] * 2**20 == spectrum.MAX_UPLOAD_BYTES
    assert datasets.MAX_CSV_CHARS <= spectrum.MAX_UPLOAD_BYTES


# ---------------------------------------------------------------- training time


def test_run_cost_cap_is_checked_before_training():
    started = time.perf_counter()
    with pytest.raises(ValueError, match="at most ≈ 20 s per Run"):
        eos_runs.RunConfig.from_inputs(
            "0.1, 0.2", "gd", 0.0, "gaussian", None, 2_000, "64, 64", "swish", "mse", 20_000, 10, 1, 0
        )
    assert time.perf_counter() - started < 1.0
    fits = eos_runs.RunConfig.from_inputs(
        "0.1", "gd", 0.0, "gaussian", None, 128, "16, 16", "swish", "mse", 1000, 10, 1, 0
    )
    assert fits.cost() <= eos_runs.MAX_COST


def test_a_run_stops_at_the_time_budget(monkeypatch):
    monkeypatch.setattr(eos_runs, "MAX_SECONDS", 0.5)
    config = eos_runs.RunConfig.from_inputs(
        "0.2", "gd", 0.0, "gaussian", None, 64, "16, 16", "swish", "mse", tr.MAX_STEPS, 10, 1, 0
    )
    reports = []
    started = time.perf_counter()
    run = eos_runs.train_one(config, 0.2, lambda partial, t: reports.append(t))
    assert time.perf_counter() - started < 0.5 + 2.0  # checked at every progress report (≤ 0.25 s apart)
    stop = run["stopped_at"]
    assert 0 < stop < tr.MAX_STEPS and reports and stop == reports[-1]
    # The run keeps its shape: finite up to the stop, NaN after it, and no history for the flow.
    assert len(run["loss"]) == tr.MAX_STEPS + 1
    assert np.isfinite(run["loss"][: stop + 1]).all() and np.isnan(run["loss"][stop + 1 :]).all()
    assert run["param_history"] is None
