"""Memory stays bounded: 200 distinct configurations, and every cache has a bound.

- test_200_configurations_stay_under_the_bound: AppTest (in this process, through app.py's router)
  drives 200 distinct configurations over the quadratic explorer, the momentum map, the 2-D
  trajectory, the 2-D toy and a few small Edge of Stability runs, after one warm-up visit of each
  page; the process's resident memory may grow by at most GROWTH_BOUND_MB over them.
- test_every_cache_is_bounded: every st.cache_data / st.cache_resource in app.py, ui/ and pages/ has
  max_entries or ttl, or takes no argument (one entry; RunStore, the one such store, is checked by
  byte budget below); every functools.lru_cache there and in core/ has a finite maxsize.
- The checker itself is tested on unbounded examples, so that a cache without a bound fails.
"""

from __future__ import annotations

import ast
import gc
import time
from pathlib import Path

import numpy as np
import pytest

from tests.apptest_helpers import open_page

ROOT = Path(__file__).resolve().parent.parent
CACHE_SOURCES = [ROOT / "app.py", *sorted((ROOT / "ui").glob("*.py")), *sorted((ROOT / "pages").glob("*.py"))]
LRU_SOURCES = [*CACHE_SOURCES, *sorted((ROOT / "core").glob("*.py"))]

# The bound: resident memory growth (MB) of the process over the 200 configurations below, after a
# warm-up visit of each page. It covers the bounded caches filling up (spectra, chart specs, the toy's
# GD paths and flows, the EoS RunStore holding ten small runs), Streamlit's per-run buffers and
# allocator slack. Measured here (2 cores, Python 3.11, Streamlit 1.67): +5 to +28 MB. It catches a
# leak of a few hundred kB per rerun (session state or per-run frames kept); an unbounded cache of
# small results is caught by test_every_cache_is_bounded instead.
GROWTH_BOUND_MB = 100
CONFIGURATIONS = 200


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _no_exception(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _quadratic(count: int) -> int:
    presets = ["evenly spaced", "log-spaced", "power law", "two clusters", "neural-net-like"]
    at = open_page("quadratic")
    for i in range(count):
        at.selectbox(key="preset").set_value(presets[i % len(presets)])
        at.number_input(key="n").set_value(20 + 9 * i)  # n distinct for every configuration
        at.number_input(key="lr").set_value(0.2 + 0.03 * (i % 50))
        at.run()
        _no_exception(at)
    return count


def _momentum(count: int) -> int:
    at = open_page("momentum", {"method": "heavy ball"})
    for i in range(count):
        at.number_input(key="n").set_value(15 + 11 * i)
        at.number_input(key="beta").set_value(0.1 + 0.85 * i / count)
        at.run()
        _no_exception(at)
    return count


def _trajectory(count: int) -> int:
    at = open_page("trajectory")
    for i in range(count):
        at.number_input(key="l2").set_value(1.0 + 0.1 * i)
        at.slider(key="phi").set_value(-80 + 7 * i)
        at.run()
        _no_exception(at)
    return count


def _toy(count: int) -> int:
    at = open_page("toy")
    for i in range(count):
        at.number_input(key="tx").set_value(round(1.0 + 0.1 * i, 3))
        at.number_input(key="teta").set_value(round(0.1 + 0.02 * i, 3))
        at.run()
        _no_exception(at)
    return count


def _eos(count: int, with_flow: int = 2) -> int:
    # The first visit trains by itself (small cost); each further seed is trained by pressing Run.
    # The gradient-flow comparison (≈ 1.5 s even for 40 steps) only for the last with_flow runs.
    at = open_page("eos", {"esteps": "40", "every": "5", "eseed": "1000", "flow": "false"}, timeout=120)
    _no_exception(at)
    for i in range(1, count):
        at.number_input(key="eseed").set_value(1000 + i)
        if i >= count - with_flow:
            at.toggle(key="flow").set_value(True)
        at.button(key="run").click()
        at.run()
        _no_exception(at)
    return count


def test_200_configurations_stay_under_the_bound():
    # Warm-up: one visit of each page (imports, Altair specs, the momentum rate maps, first caches).
    for page, query in [
        ("quadratic", {}),
        ("momentum", {"method": "heavy ball"}),
        ("trajectory", {}),
        ("toy", {}),
        ("eos", {"esteps": "40", "every": "5", "eseed": "999"}),
    ]:
        _no_exception(open_page(page, query, timeout=120))
    gc.collect()
    before = rss_mb()
    start = time.perf_counter()

    done = _quadratic(120) + _momentum(45) + _trajectory(15) + _toy(10) + _eos(10)

    gc.collect()
    after = rss_mb()
    print(
        f"\n{done} configurations in {time.perf_counter() - start:.1f} s: RSS {before:.0f} → {after:.0f} MB "
        f"(+{after - before:.1f} MB, bound {GROWTH_BOUND_MB} MB)"
    )
    assert done == CONFIGURATIONS
    assert after - before <= GROWTH_BOUND_MB, f"RSS grew by {after - before:.0f} MB over {done} configurations"


# ---- caches are bounded, by construction ----------------------------------------------------


def _decorator_name(node: ast.expr) -> str:
    """`st.cache_data(...)` → "st.cache_data"; `functools.lru_cache` → "functools.lru_cache"."""
    target = node.func if isinstance(node, ast.Call) else node
    parts = []
    while isinstance(target, ast.Attribute):
        parts.append(target.attr)
        target = target.value
    if isinstance(target, ast.Name):
        parts.append(target.id)
    return ".".join(reversed(parts))


def _has_bound(call: ast.expr, names: tuple[str, ...]) -> bool:
    if not isinstance(call, ast.Call):
        return False
    for kw in call.keywords:
        if kw.arg in names and not (isinstance(kw.value, ast.Constant) and kw.value.value is None):
            return True
    return False


def unbounded_caches(source: str, filename: str = "<source>") -> list[str]:
    """Every cache decorator in the source without a bound, as "file:line function: why"."""
    problems = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        takes_args = bool(node.args.args or node.args.posonlyargs or node.args.kwonlyargs)
        takes_args = takes_args or node.args.vararg is not None or node.args.kwarg is not None
        for dec in node.decorator_list:
            name = _decorator_name(dec)
            where = f"{filename}:{dec.lineno} {node.name}"
            leaf = name.rsplit(".", 1)[-1]
            if leaf in ("cache_data", "cache_resource", "cache", "experimental_memo", "experimental_singleton"):
                if leaf == "cache" and name.startswith("functools") or name == "cache":
                    problems.append(f"{where}: functools.cache has no maxsize")
                elif not _has_bound(dec, ("max_entries", "ttl")) and takes_args:
                    problems.append(f"{where}: {name} without max_entries or ttl")
            elif leaf == "lru_cache":
                positional = isinstance(dec, ast.Call) and dec.args
                bounded = _has_bound(dec, ("maxsize",)) or (
                    positional and not (isinstance(dec.args[0], ast.Constant) and dec.args[0].value is None)
                )
                if not bounded:
                    problems.append(f"{where}: lru_cache without an explicit finite maxsize")
    return problems


def test_every_cache_is_bounded():
    problems = []
    for path in LRU_SOURCES:
        found = unbounded_caches(path.read_text(), str(path.relative_to(ROOT)))
        if path not in CACHE_SOURCES:  # core/: only functools caches are expected there
            found = [p for p in found if "lru_cache" in p or "functools.cache" in p]
        problems += found
    assert not problems, "unbounded caches:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "decorator",
    [
        "@st.cache_data",
        "@st.cache_data(show_spinner=False)",
        "@st.cache_resource",
        "@st.cache_data(max_entries=None)",
        "@functools.lru_cache(maxsize=None)",
        "@functools.lru_cache(None)",
        "@functools.lru_cache",
        "@lru_cache",
        "@functools.cache",
    ],
)
def test_checker_flags_an_unbounded_cache(decorator):
    source = f"import functools\nimport streamlit as st\n\n{decorator}\ndef f(x):\n    return x\n"
    assert unbounded_caches(source), decorator


@pytest.mark.parametrize(
    "decorator",
    [
        "@st.cache_data(max_entries=8)",
        "@st.cache_data(ttl=60, show_spinner=False)",
        "@st.cache_resource(max_entries=1)",
        "@functools.lru_cache(maxsize=3)",
        "@functools.lru_cache(16)",
    ],
)
def test_checker_accepts_a_bounded_cache(decorator):
    source = f"import functools\nimport streamlit as st\n\n{decorator}\ndef f(x):\n    return x\n"
    assert not unbounded_caches(source), decorator


def test_run_store_keeps_to_its_byte_budget():
    from ui import eos_runs

    # The server-wide store (st.cache_resource without arguments: one instance) has a byte budget.
    assert eos_runs.store().max_bytes == eos_runs.STORE_BYTES <= 512 * 2**20
    store = eos_runs.RunStore(max_bytes=2 * 2**20)
    run = {"sharpness": np.zeros(25_000), "loss": np.zeros(25_000)}  # 400 kB
    for i in range(60):
        with store.key_lock(("run", i)):  # as run_all does: one lock per key, dropped with the entry
            store.put(("run", i), dict(run))
        assert store.nbytes() <= store.max_bytes
    assert len(store.items) == 5 and store.get(("run", 59)) is not None and store.get(("run", 0)) is None
    assert len(store.key_locks) <= len(store.items)


def test_uploaded_data_is_bounded():
    from ui import eos_runs

    rng = np.random.default_rng(0)
    for _ in range(40):
        eos_runs._remember_data(rng.standard_normal((4, 2)), rng.standard_normal((4, 1)))
    assert len(eos_runs._DATA) <= 16
