"""Chart builders: valid Vega-Lite specs that depend on layout options only, and a cache that the
per-rerun patching (datasets, the scrubber's η) never edits."""

import inspect

import pytest

from tests.apptest_helpers import open_page
from ui import charts, eos_views, toy_views

BUILDERS = [
    getattr(module, name)
    for module in (charts, eos_views, toy_views)
    for name, fn in inspect.getmembers(module, inspect.isfunction)
    if name.endswith("_chart") and fn.__module__ == module.__name__
]


@pytest.mark.parametrize("builder", BUILDERS, ids=[b.__name__ for b in BUILDERS])
@pytest.mark.parametrize("big", [False, True])
def test_builders_give_valid_specs_with_named_data(builder, big):
    spec = builder(big=big).to_dict()  # Altair validates against the Vega-Lite schema here
    text = str(spec)
    assert "'name':" in text  # reads named datasets, filled in by charts.show
    if big:
        assert spec["config"]["axis"]["labelFontSize"] >= 18


def test_spec_cache_is_not_edited_by_reruns():
    at = open_page("toy", {"teta": "0.3"})
    at.number_input(key="teta").set_value(0.25).run()
    cached = charts.spec(toy_views.toy_sharpness_chart, big=False, symlog=True, log_y=False)
    assert not set(cached.get("datasets", {})) & {"paths", "rules"}  # the per-rerun data is never written back
    assert "usermeta" not in cached
