"""Train a run (or integrate a flow) in a child process, so its seconds of numpy never hold the server's GIL.

A Streamlit server runs every session's script in threads of one process: a training in a script
thread (pure Python loops around small matrix products) held the GIL for seconds, and every other
visitor on that replica waited for it (the load test's tail). Here the training runs in a process of
its own, forked from a forkserver that has core.training imported (a start costs milliseconds, not
the 0.5 s of importing scipy). The script thread only waits on a pipe (the GIL released) and draws
the progress the child reports.

Nothing is pickled by this code: requests are JSON, arrays travel as .npz bytes read with
allow_pickle=False (multiprocessing itself passes the pipe and these bytes to the child).
"""

from __future__ import annotations

import importlib.machinery
import io
import json
import multiprocessing
import multiprocessing.forkserver
import sys
import time
from pathlib import Path

import numpy as np

from core import central_flow
from core import training as tr
from ui import turns

_CONTEXT = multiprocessing.get_context("forkserver")
# (and so core.training, central_flow, numpy, scipy); ui.train_prime then warms them, once for all children
_CONTEXT.set_forkserver_preload(["ui.train_process", "ui.train_prime"])
# The forkserver imports its preload with the sys.path of the moment it starts; Streamlit puts the app's
# folder there only while a script runs (a preload that fails to import is skipped silently).
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.append(_ROOT)
META = "__meta__"
FUNCTIONS = {"train": tr.train, "gradient_flow": tr.gradient_flow, "central_flow": central_flow.run}
REPORTING = {"train", "central_flow"}  # these take callback(partial, t)


def pack(values: dict) -> bytes:
    """A dict of arrays, numbers, strings, booleans and None as .npz bytes (no object arrays)."""
    arrays, meta = {}, {}
    for key, value in values.items():
        if isinstance(value, np.ndarray):
            if value.dtype == object:
                raise TypeError(f"{key}: object arrays are not packed")
            arrays[key] = value
        elif isinstance(value, np.generic):
            meta[key] = value.item()
        elif value is None or isinstance(value, bool | int | float | str):
            meta[key] = value
        else:
            raise TypeError(f"{key}: {type(value).__name__} is not packed")
    buffer = io.BytesIO()
    np.savez(buffer, **arrays, **{META: np.array(json.dumps(meta))})
    return buffer.getvalue()


def unpack(data: bytes) -> dict:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        values = {key: npz[key] for key in npz.files if key != META}
        values.update(json.loads(str(npz[META])))
    return values


def _main_module_named() -> None:
    """multiprocessing runs the parent's main script again in every child (as __mp_main__) unless the
    main module's spec names it; under Streamlit the main module is the app script, so each child ran
    app.py (≈ 0.85 s, and app.py's own warm-up) before training. Named "__main__", it is left alone."""
    main = sys.modules["__main__"]
    if getattr(main, "__spec__", None) is None:
        main.__spec__ = importlib.machinery.ModuleSpec("__main__", None)


def prime() -> None:
    """Run what a child runs, small (a training, a flow, their results packed): in the forkserver (ui.train_prime)."""
    unpack(pack(tr.train(0.2, 10)))
    unpack(pack(tr.gradient_flow(0.2, 10, with_sharpness=False)))


def warm() -> None:
    """Start the forkserver (it imports core.training, ≈ 0.6 s) before the first training needs it."""
    _main_module_named()
    multiprocessing.forkserver.ensure_running()


def _child(conn, name: str, request: str, data: bytes | None) -> None:
    """The child: run FUNCTIONS[name], sending each partial result (train, central flow), then the result."""
    # (Not niced: at a lower priority a training took 3× longer on a machine that was merely busy, and
    # under a class's load visitors opening the EoS page waited 8–23 s for the default run.)
    try:
        kwargs = json.loads(request)
        if data is not None:
            arrays = unpack(data)
            kwargs["data"] = (arrays["X"], arrays["y"])
        if "widths" in kwargs:
            kwargs["widths"] = tuple(kwargs["widths"])
        if name in REPORTING:
            kwargs["callback"] = lambda partial, t: conn.send_bytes(pack({**partial, "_t": t}))
        result = FUNCTIONS[name](**kwargs)
        conn.send_bytes(pack({**result, "_t": -1}))
    except (BrokenPipeError, EOFError):  # the server stopped waiting (rerun, session gone, killed)
        pass
    except Exception as exc:  # noqa: BLE001  (said to the parent, which raises it)
        conn.send_bytes(pack({"_error": f"{type(exc).__name__}: {exc}"}))
    finally:
        conn.close()


class TrainingFailed(RuntimeError):
    """The child raised (its message) or died."""


class Cancelled(RuntimeError):
    """cancelled() said stop: the child was killed, nothing of it is returned."""


def train(kwargs: dict, report, max_seconds: float, cancelled=None) -> tuple[dict, bool]:
    """core.training.train(**kwargs) in a child process: (the run, True) or, past max_seconds, (the
    last partial run, False). report(partial, t) is called here for each partial the child sends;
    cancelled() is asked a few times a second."""
    return call("train", kwargs, max_seconds, report, cancelled)


def gradient_flow(kwargs: dict, max_seconds: float, cancelled=None) -> dict:
    """core.training.gradient_flow(**kwargs) in a child process (its own max_seconds keyword stops it
    sooner than max_seconds, which only catches a child that hangs)."""
    return _finished("gradient_flow", kwargs, max_seconds, cancelled=cancelled)


def central_flow_run(kwargs: dict, report, max_seconds: float) -> dict:
    """core.central_flow.run(**kwargs) in a child process, report(partial, t) as for train (max_seconds as
    for gradient_flow)."""
    return _finished("central_flow", kwargs, max_seconds, report)


def _finished(name: str, kwargs: dict, max_seconds: float, report=None, cancelled=None) -> dict:
    result, finished = call(name, kwargs, max_seconds, report, cancelled)
    if not finished:
        raise TrainingFailed(f"no answer within {max_seconds:g} s")
    return result


def call(name: str, kwargs: dict, max_seconds: float, report=None, cancelled=None) -> tuple[dict, bool]:
    """FUNCTIONS[name](**kwargs) in a child: (result, True), or (the last partial, False) past max_seconds;
    TrainingFailed if the child raised, died or could not start; Cancelled once cancelled() is true."""
    kwargs = dict(kwargs)
    data = kwargs.pop("data", None)
    packed = None if data is None else pack({"X": np.asarray(data[0]), "y": np.asarray(data[1])})
    parent, child = _CONTEXT.Pipe(duplex=False)
    process = _CONTEXT.Process(target=_child, args=(child, name, json.dumps(kwargs), packed), daemon=True)
    _main_module_named()
    try:
        process.start()
    except OSError as exc:  # no process or forkserver could be started (limits of the host)
        child.close()
        parent.close()
        raise TrainingFailed(f"no training process could start ({exc})") from None
    child.close()
    start, last = time.perf_counter(), {}
    # A page's run waiting on its child lets the next run in line have the turn (ui/turns.py).
    with turns.waiting():
        try:
            while True:
                left = max_seconds - (time.perf_counter() - start)
                if left <= 0:
                    return last, False
                if cancelled is not None and cancelled():
                    raise Cancelled(name)
                if not parent.poll(min(left, 0.1 if cancelled is not None else 1.0)):
                    if not process.is_alive() and not parent.poll():
                        raise TrainingFailed(f"the training process ended (exit code {process.exitcode})")
                    continue
                try:
                    message = unpack(parent.recv_bytes())
                except EOFError:
                    raise TrainingFailed(f"the training process ended (exit code {process.exitcode})") from None
                if "_error" in message:
                    raise TrainingFailed(message["_error"])
                t = message.pop("_t")
                if t < 0:
                    return message, True
                last = message
                if report is not None:
                    report(message, t)
        finally:
            parent.close()
            if process.is_alive():
                process.kill()
            process.join(timeout=5)
