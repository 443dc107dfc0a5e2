"""The background warm-up (ui/runtime.py) builds the chart structures the pages then ask for: a structure
first built while a class is on the page holds its replica's GIL for 15–200 ms."""

import gc

import pytest

from tests.apptest_helpers import chart_frames, open_page
from ui import charts, eos_views, live_momentum, runtime, toy_views


@pytest.fixture
def warmed():
    """warm(function): empty the spec cache, run function (a warm-up), return how many structures it built."""
    runtime.WARM_UP.join()  # (the process's own warm-up, started by the import, must not build in between)

    def warm(function):
        charts._spec.cache_clear()
        function()
        return charts._spec.cache_info().misses

    return warm


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"tstart": "(0.5, 0.5) near balanced"},
        {"tstart": "(2, 0.1)", "teta": "0.6"},  # diverges: a log sharpness axis
        {"tstart": "(1.5, 0.5)", "tsteps": "100"},  # a linear time axis
    ],
)
def test_the_toy_page_builds_no_chart_structure_of_its_own(warmed, query):
    built = warmed(toy_views.warm_specs)
    at = open_page("toy", query)
    assert len(chart_frames(at)) == 2
    assert charts._spec.cache_info().misses == built


@pytest.mark.parametrize(
    "query",
    [
        {"esteps": "300"},
        {"method": "heavy ball", "esteps": "300"},
        {"method": "Adam", "etas": "0.01", "esteps": "200", "every": "20"},
        {"method": "SGD", "batch": "16", "esteps": "200", "every": "50"},
    ],
)
def test_the_eos_page_builds_no_chart_structure_of_its_own(warmed, query):
    built = warmed(eos_views.warm_specs)
    at = open_page("eos", query, timeout=120)
    assert not at.exception and len(chart_frames(at)) >= 5
    assert charts._spec.cache_info().misses == built


@pytest.mark.parametrize(
    "page,query",
    [
        ("momentum", {}),  # GD: Polyak's heavy ball drawn
        ("momentum", {"preset": "log-spaced", "n": "50"}),  # another spectrum, the same structure
        ("momentum", {"method": "heavy ball", "beta": "0.3"}),
        ("momentum", {"method": "Nesterov"}),
        ("trajectory", {}),
        ("trajectory", {"method": "heavy ball", "beta": "0.7", "phi": "-20"}),
        ("trajectory", {"method": "Nesterov"}),
    ],
)
def test_the_momentum_and_trajectory_pages_build_no_chart_structure_of_their_own(page, query):
    runtime.WARM_UP.join()
    specs = (live_momentum.momentum_spec, live_momentum.trajectory_spec)
    for spec in specs:
        spec.cache_clear()
    live_momentum.warm_specs()
    built = [spec.cache_info().misses for spec in specs]
    at = open_page(page, query)
    assert not at.exception and len(chart_frames(at)) >= 1
    assert [spec.cache_info().misses for spec in specs] == built


def test_the_warm_up_moves_the_long_lived_heap_out_of_the_collectors_reach():
    """After it, a full collection walks only what sessions made since (76–149 ms → 17–34 ms a collection in a
    proxied load run)."""
    runtime.WARM_UP.join()
    assert gc.get_freeze_count() > 100_000  # modules, Altair's schemas, the chart structures
