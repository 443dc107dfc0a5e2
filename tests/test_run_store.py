"""The EoS run store's shared directory (ui/eos_runs.RunStore): what one replica trains, another reads."""

import os
import time

import numpy as np
import pytest

from core import training as tr
from ui import eos_runs


def small_run() -> dict:
    run = tr.train(lr=0.05, steps=100, widths=(8, 8, 1), n_samples=32, seed=1, sharpness_every=10)
    return dict(run, stopped_at=-1, label="η = 0.05")


def test_a_run_put_by_one_store_is_read_by_another_on_the_same_directory(tmp_path):
    run = small_run()
    key = ("run", "a config", 0.05)
    eos_runs.RunStore(directory=tmp_path).put(key, run)
    other = eos_runs.RunStore(directory=tmp_path)  # another replica: nothing in its memory
    back = other.get(key)
    assert back is not None and set(back) == set(run)
    for name, value in run.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(back[name], value, err_msg=name)
        else:
            assert back[name] == value, name
    assert other.get(("run", "a config", 0.06)) is None  # another η: not trained
    assert eos_runs.RunStore().get(key) is None  # without the directory: memory only


def test_a_failed_flow_is_shared_too_and_a_broken_file_means_train_again(tmp_path):
    store = eos_runs.RunStore(directory=tmp_path)
    store.put(("flow", "c", 0.1), {"step": None, "failed_at": 123.5})
    assert eos_runs.RunStore(directory=tmp_path).get(("flow", "c", 0.1)) == {"step": None, "failed_at": 123.5}
    key = ("run", "c", 0.1)
    whole = eos_runs.train_process.pack(small_run())
    for broken in (b"half a file", whole[: len(whole) // 2]):  # not npz; an npz cut short
        store._path(key).write_bytes(broken)
        assert eos_runs.RunStore(directory=tmp_path).get(key) is None


def test_the_directory_keeps_to_the_byte_budget_dropping_the_oldest(tmp_path):
    run = small_run()
    size = len(eos_runs.train_process.pack(run))
    store = eos_runs.RunStore(max_bytes=int(2.5 * size), directory=tmp_path)
    for i in range(5):
        store.put(("run", "c", float(i)), run)
        time.sleep(0.05)  # file times tick in jiffies: the order must be visible
    files = list(tmp_path.glob("*.npz"))
    assert len(files) == 2 and sum(f.stat().st_size for f in files) <= 2.5 * size
    fresh = eos_runs.RunStore(directory=tmp_path)
    assert fresh.get(("run", "c", 4.0)) is not None and fresh.get(("run", "c", 0.0)) is None


def _config(seed: int) -> eos_runs.RunConfig:
    inputs = ("0.05", "gd", 0.0, "gaussian", None, 32, "8", "swish", "mse", 100, 10, 1, seed)
    return eos_runs.RunConfig.from_inputs(*inputs)


def test_page_tables_are_built_once_per_configuration_and_match_the_frames():
    """The EoS page's tables of a configuration's runs come from one build (its reruns re-send them), hold the
    frames' values, and a configuration with other runs gets its own."""
    run = small_run()
    a, b = _config(1), _config(2)
    first = eos_runs.page_tables(a, {0.05: run})
    assert eos_runs.page_tables(a, {0.05: run}) is first
    assert eos_runs.page_tables(b, {0.05: run}) is not first
    assert eos_runs.page_tables(a, {0.05: run, 0.06: run}) is not first
    np.testing.assert_allclose(
        first["loss"].column("loss").to_numpy(), eos_runs.eos_views.loss_frame({0.05: run})["loss"]
    )
    assert first["summary"].to_pandas().equals(eos_runs.eos_views.summary_frame(first["rows"]))
    for i in range(eos_runs.PAGE_TABLES_KEPT):  # bounded: the oldest configuration goes
        eos_runs.page_tables(_config(10 + i), {0.05: run})
    assert eos_runs.page_tables(a, {0.05: run}) is not first


def test_flow_tables_are_built_once_per_configuration_and_match_the_frames():
    """The gradient-flow comparison's datasets: one build per configuration and η, the frames' values in Arrow."""
    run = small_run()
    distance = {"step": run["step"], "relative": np.linspace(1e-9, 1e-1, run["step"].size)}
    a, b = _config(3), _config(4)
    first = eos_runs.flow_tables(a, 0.05, distance, run)
    assert eos_runs.flow_tables(a, 0.05, distance, run) is first
    assert eos_runs.flow_tables(b, 0.05, distance, run) is not first
    frame, marks = eos_runs.eos_views.flow_distance_frames(distance, run, 0.05)
    np.testing.assert_array_equal(first["distance"].column("distance").to_numpy(), frame["distance"])
    np.testing.assert_array_equal(first["distance"].column("step").to_numpy(), frame["step"])
    assert first["crossing"].to_pylist() == marks.to_dict(orient="records")


def test_a_claim_held_by_one_replica_makes_another_wait_for_its_value(tmp_path):
    """Two stores on one directory (two replicas): the second waits for the first's value instead of
    computing it too; it computes itself once the claim is gone without a value."""
    import threading

    key = ("run", "a class link", 0.2)
    first, second = eos_runs.RunStore(directory=tmp_path), eos_runs.RunStore(directory=tmp_path)
    claimed, seen = threading.Event(), []

    def train_on_first():
        with first.claim(key):
            claimed.set()
            time.sleep(eos_runs.CLAIM_STALE + 1.0)  # training, longer than a claim lasts untouched: it beats
            first.put(key, {"loss": np.arange(3.0)})

    worker = threading.Thread(target=train_on_first)
    worker.start()
    claimed.wait(5)
    start = time.perf_counter()
    with second.claim(key):
        seen.append(second.get(key))
    waited = time.perf_counter() - start
    worker.join()
    assert seen[0] is not None and list(seen[0]["loss"]) == [0.0, 1.0, 2.0]  # the first's run, not computed again
    assert eos_runs.CLAIM_STALE < waited < eos_runs.CLAIM_STALE + 2.0  # it waited for the value all along
    assert not list(tmp_path.glob("*.claim"))  # released


def test_a_claim_left_by_a_dead_replica_goes_stale_and_a_cancelled_wait_stops(tmp_path):
    key = ("run", "a link", 0.3)
    store = eos_runs.RunStore(directory=tmp_path)
    claim = store._path(key).with_suffix(".claim")
    claim.touch()
    with pytest.raises(eos_runs.train_process.Cancelled):
        with store.claim(key, cancelled=lambda: True):
            pass
    old = time.time() - eos_runs.CLAIM_STALE - 1  # nobody has touched it since the replica died
    os.utime(claim, (old, old))
    start = time.perf_counter()
    with store.claim(key):
        assert store.get(key) is None  # the caller computes it
        assert claim.exists()  # under a claim of its own
    assert time.perf_counter() - start < 1.0 and not claim.exists()
