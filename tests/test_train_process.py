"""Training in a child process (ui/train_process.py) gives exactly core.training.train's run."""

import time

import numpy as np
import pytest

from core import datasets
from core import training as tr
from ui import train_process

SMALL = dict(lr=0.05, steps=300, widths=(8, 8, 1), n_samples=32, seed=3, sharpness_every=10)


def assert_same_run(a: dict, b: dict) -> None:
    assert set(a) == set(b)
    for key in set(a) - {"seconds"}:  # (wall time)
        if isinstance(a[key], np.ndarray):
            assert a[key].dtype == b[key].dtype, key
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)  # NaN == NaN here; bit for bit
        else:
            assert a[key] == b[key], key


@pytest.mark.parametrize(
    "kwargs",
    [
        SMALL,
        dict(SMALL, method="adam", lr=0.01, top_k=2),
        dict(SMALL, lr="0.05 until 100, then 0.02"),  # an η schedule (text)
        dict(SMALL, method="heavy_ball", beta=0.9, batch_size=8),
    ],
)
def test_the_child_trains_the_same_run_as_train(kwargs):
    reports = []
    run, finished = train_process.train(dict(kwargs), lambda part, t: reports.append((t, len(part["step"]))), 30.0)
    assert finished
    assert_same_run(run, tr.train(**kwargs))
    assert reports and all(rows == t + 1 for t, rows in reports[:-1])  # each partial holds steps 0..t


def test_given_data_reaches_the_child():
    X, y = datasets.make("spirals", 40, 5)
    kwargs = dict(SMALL, widths=(2, 6, 2), loss="ce", data=(X, y), n_samples=40)
    run, finished = train_process.train(dict(kwargs), lambda part, t: None, 30.0)
    assert finished
    assert_same_run(run, tr.train(**kwargs))


def test_past_the_time_budget_the_last_partial_comes_back_and_the_child_is_gone():
    kwargs = dict(SMALL, steps=20_000, widths=(8, 64, 64, 1), n_samples=256)
    start = time.perf_counter()
    seen = []
    run, finished = train_process.train(kwargs, lambda part, t: seen.append(t), 1.5)
    assert not finished
    assert time.perf_counter() - start < 5.0
    assert seen and len(run["step"]) == seen[-1] + 1 < 20_001


def test_an_error_in_the_child_is_raised_with_its_message():
    with pytest.raises(train_process.TrainingFailed, match="activation"):
        train_process.train(dict(SMALL, activation="nope"), lambda part, t: None, 30.0)


def test_pack_round_trip_and_no_object_arrays():
    values = {"a": np.arange(3.0), "m": np.eye(2), "n": None, "s": "gd", "i": np.int64(4), "f": 0.5, "b": True}
    back = train_process.unpack(train_process.pack(values))
    assert back["n"] is None and back["s"] == "gd" and back["i"] == 4 and back["f"] == 0.5 and back["b"] is True
    np.testing.assert_array_equal(back["m"], np.eye(2))
    with pytest.raises(TypeError):
        train_process.pack({"o": np.array([None, 1], dtype=object)})


def test_the_child_integrates_the_same_gradient_flow():
    kwargs = dict(lr=0.05, steps=100, widths=(8, 8, 1), n_samples=32, seed=3, sharpness_every=10, max_seconds=20.0)
    flow = train_process.gradient_flow(dict(kwargs), 30.0)
    assert flow is not None and flow["success"]
    assert_same_run(flow, tr.gradient_flow(**kwargs))


def test_the_child_computes_the_same_central_flow():
    from core import central_flow

    kwargs = dict(lr=0.5, steps=200, widths=(8, 8, 1), n_samples=32, seed=1, record_every=10, max_seconds=30.0)
    seen = []
    flow = train_process.central_flow_run(dict(kwargs), lambda part, t: seen.append(t), 60.0)
    assert flow is not None and seen
    assert_same_run(flow, central_flow.run(**kwargs))


def test_a_child_that_cannot_start_is_a_training_failure(monkeypatch):
    class NoProcess:  # the host refuses a new process (e.g. a container's pid limit)
        def __init__(self, *args, **kwargs):
            pass

        def start(self):
            raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(train_process._CONTEXT, "Process", NoProcess)
    with pytest.raises(train_process.TrainingFailed, match="could start"):
        train_process.train(dict(SMALL), lambda part, t: None, 5.0)


def _child_state(conn) -> None:
    """In a training child: its BLAS thread counts and whether the forkserver primed it."""
    import sys

    from threadpoolctl import threadpool_info

    conn.send(([pool["num_threads"] for pool in threadpool_info()], "ui.train_prime" in sys.modules))
    conn.close()


def test_every_child_starts_primed_with_one_blas_thread():
    """The forkserver imports ui.train_prime (one BLAS thread, a small training and flow run once), and each
    child starts from its memory: one BLAS thread without a call of its own (threadpoolctl's scan cost each
    child ≈ 8 ms), the first-use costs already paid."""
    train_process.warm()
    parent, child = train_process._CONTEXT.Pipe(duplex=False)
    process = train_process._CONTEXT.Process(target=_child_state, args=(child,), daemon=True)
    process.start()
    child.close()
    threads, primed = parent.recv()
    process.join(10)
    assert primed and threads and set(threads) == {1}, (threads, primed)
