"""Edge of Stability runs: their validated configuration, a bounded server-wide store, the training of
one run with a time budget, and its gradient-flow comparison (ui.eos_jobs runs both in the background).

The store is shared by every session (cache_resource): a class that opens the same link trains
once; a per-configuration lock makes simultaneous visitors wait for the first one instead of
training again. Entries are evicted least-recently-used under a byte budget.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from core import datasets, network
from core import spectrum as sp
from core import training as tr
from ui import eos_views, train_process, turns

MAX_RUNS = 4
MAX_HIDDEN_LAYERS = 6
# Work units = steps × samples × parameters, summed over the runs. The default run is 5.5e7 units
# ≈ 0.4 s here; 2.5e9 ≈ 20 s is the most one press of Run may ask for.
MAX_COST = 2.5e9
MAX_SECONDS = 40.0  # a hard stop whatever the estimate said
STORE_BYTES = 300 * 2**20
MAX_HISTORY_BYTES = 20 * 2**20  # θ at the sampled steps, kept only for the GD-vs-flow comparison


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a run except η (one config trains one run per η)."""

    lrs: tuple[float, ...]
    method: str
    beta: float
    dataset: str
    data_digest: str | None
    n_samples: int
    widths: tuple[int, ...]
    activation: str
    loss: str
    steps: int
    every: int
    top_k: int
    seed: int
    # Adam / RMSProp settings, mini-batch size (None: full batch), η schedule text (None: constant η,
    # lrs then holds its first η), digit classes (digits only).
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    batch_size: int | None = None
    schedule: str | None = None
    classes: int | None = None

    AUTO_RUN_COST = 2.5e8  # a first visit (or a shared link) trains by itself up to ≈ 2 s of work

    @classmethod
    def from_inputs(
        cls,
        lr_text,
        method,
        beta,
        dataset,
        upload,
        n_samples,
        hidden_text,
        activation,
        loss,
        steps,
        every,
        top_k,
        seed,
        *,
        optimizer: dict | None = None,
        schedule: str = "",
        classes: int | None = None,
    ) -> RunConfig:
        """Validate the page's inputs; every rejection is a ValueError saying what is allowed.

        optimizer: sidebar.eos_method_controls()'s dict (beta1, beta2, eps, batch_size); schedule: text for
        core.training.parse_schedule, which replaces the η list; classes: the digits' class count."""
        optimizer = optimizer or {}
        if schedule and schedule.strip():
            pieces = tr.parse_schedule(schedule)
            schedule = tr.format_schedule(pieces)
            lrs = (pieces[0][0],)
        else:
            schedule = None
            lrs = parse_learning_rates(lr_text)
        beta1 = tr._check_decay("beta1", optimizer.get("beta1", 0.9), "Adam's β₁ (momentum of the gradient average)")
        beta2 = tr._check_decay("beta2", optimizer.get("beta2", 0.999), "β₂ (decay of the squared-gradient average)")
        eps = tr._check_eps(optimizer.get("eps", 1e-8))
        hidden = parse_hidden_widths(hidden_text)
        digest = None
        if dataset == "digits":
            classes = int(classes if classes is not None else datasets.DIGITS_CLASSES)
            datasets.make("digits", int(n_samples), int(seed), classes=classes)  # its own checks and messages
        else:
            classes = None
        if dataset == "my CSV":
            if upload is None:
                raise ValueError("Upload a CSV file (numeric columns, the last one the target) or pick a dataset.")
            X, y = datasets.from_csv(upload.getvalue())
            digest = _remember_data(X, y)
            d_in, d_out, n_samples = X.shape[1], y.shape[1], len(X)
        else:
            d_in, d_out = datasets.input_dim(dataset), datasets.output_dim(dataset, classes)
        if loss == "ce" and d_out < 2:
            raise ValueError(
                "Cross-entropy needs one-hot class targets (two or more target columns): use mse, or the spirals data."
            )
        widths = (d_in, *hidden, d_out)
        network._check_widths(widths)  # the parameter cap, with its own message
        config = cls(
            lrs,
            method,
            float(beta),
            dataset,
            digest,
            int(n_samples),
            widths,
            activation,
            loss,
            int(steps),
            int(every),
            int(top_k),
            int(seed),
            beta1,
            beta2,
            eps,
            None if optimizer.get("batch_size") is None else int(optimizer["batch_size"]),
            schedule,
            classes,
        )
        if config.batch_size is not None and not 1 <= config.batch_size <= config.n_samples:
            raise ValueError(
                f"Batch size b = {config.batch_size:,} with n = {config.n_samples:,} samples: a batch is part of the "
                f"data, so give 1 ≤ b ≤ {config.n_samples:,} (or more samples)."
            )
        if config.cost() > MAX_COST:
            seconds = config.cost() / 5.5e7 * 0.4
            raise ValueError(
                f"This would train for about {seconds:,.0f} s ({len(lrs)} run(s) × {steps:,} steps × {n_samples:,} "
                f"samples × {network.n_params(widths):,} parameters): at most ≈ 20 s per Run is allowed. "
                "Use fewer steps, samples, learning rates or smaller layers."
            )
        return config

    def cost(self) -> float:
        """Work units, steps × samples × parameters per run, plus for SGD each step's batch gradient and the
        batch sharpness's fresh batches (up to MAX_BATCHES per measurement, a gradient and an HVP each)."""
        units = self.steps * self.n_samples
        if self.batch_size is not None and self.batch_size < self.n_samples:
            measurements = self.steps // self.every + 2
            units += self.steps * self.batch_size + measurements * tr.MAX_BATCHES * 2 * self.batch_size
        return len(self.lrs) * units * network.n_params(self.widths)

    @property
    def flow_applies(self) -> bool:
        """Gradient flow is the small-step limit of full-batch GD and momentum at a constant η only."""
        return self.method in ("gd", "heavy_ball", "nesterov") and self.batch_size is None and self.schedule is None

    def optimizer_kwargs(self, lr) -> dict:
        """train's η (the schedule text when there is one) and the optimizer's keywords."""
        return {
            "lr": self.schedule or lr,
            "method": self.method,
            "beta": self.beta,
            "beta1": self.beta1,
            "beta2": self.beta2,
            "eps": self.eps,
            "batch_size": self.batch_size,
        }

    def train_kwargs(self) -> dict:
        data = _DATA.get(self.data_digest) if self.data_digest else None
        if self.dataset == "digits":
            data = datasets.make("digits", self.n_samples, self.seed, classes=self.classes)
        return {
            "steps": self.steps,
            "widths": self.widths,
            "activation": self.activation,
            "loss": self.loss,
            "dataset": self.dataset if self.dataset in datasets.DATASETS else "gaussian",
            "n_samples": self.n_samples,
            "seed": self.seed,
            "data": data,
        }


def parse_learning_rates(text: str) -> tuple[float, ...]:
    """One to four learning rates η > 0 from text ("0.1, 0.2"), sorted, duplicates dropped."""
    try:
        values = sp.parse(text)
    except ValueError as exc:
        raise ValueError(f"Learning rates: {exc}") from None
    if values.size > MAX_RUNS:
        raise ValueError(f"{values.size} learning rates: give one to {MAX_RUNS} (each one is a run).")
    bad = values[(values <= 0) | (values > tr.MAX_LR)]
    if bad.size:
        raise ValueError(f"Learning rate η = {bad[0]:g} is not allowed: each η must satisfy 0 < η ≤ {tr.MAX_LR:g}.")
    return tuple(sorted({float(v) for v in values}))


def parse_hidden_widths(text: str) -> tuple[int, ...]:
    """Hidden layer sizes from text ("16, 16"); empty text means no hidden layer (a linear model)."""
    if not text.strip():
        return ()
    try:
        values = sp.parse(text)
    except ValueError as exc:
        raise ValueError(f"Hidden widths: {exc}") from None
    if values.size > MAX_HIDDEN_LAYERS:
        raise ValueError(f"{values.size} hidden layers: at most {MAX_HIDDEN_LAYERS} are allowed.")
    for v in values:
        if v != int(v) or not 1 <= v <= network.MAX_WIDTH:
            raise ValueError(f"Hidden width {v:g}: each must be a whole number from 1 to {network.MAX_WIDTH}.")
    return tuple(int(v) for v in values)


# ---- the store ----------------------------------------------------------------------------

_DATA: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()  # uploaded CSVs by digest


def _remember_data(X: np.ndarray, y: np.ndarray) -> str:
    digest = hashlib.sha256(X.tobytes() + y.tobytes() + str(X.shape).encode()).hexdigest()[:16]
    _DATA[digest] = (X, y)
    _DATA.move_to_end(digest)
    while len(_DATA) > 16:
        _DATA.popitem(last=False)
    return digest


class RunStore:
    """An LRU of finished runs under a byte budget, with one lock per key for concurrent visitors.

    With a directory (RUN_DIR_ENV: deploy/serve.py gives its replicas one), every finished run and flow
    is also written there, and a miss is looked up there: replicas behind one proxy train a link once
    between them, and a replica that dies takes no finished run with it (the one a visitor fails over
    to reads it). Files are .npz read with allow_pickle=False, named by a hash of the key."""

    def __init__(self, max_bytes: int = STORE_BYTES, directory: str | Path | None = None):
        self.max_bytes = max_bytes
        self.items: OrderedDict = OrderedDict()
        self.sizes: dict = {}
        self.lock = threading.Lock()
        self.key_locks: dict = {}
        self.directory = Path(directory) if directory else None

    def get(self, key):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        if self.directory is None:
            return None
        try:
            value = train_process.unpack(self._path(key).read_bytes())
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):  # not there, or cut short: train it
            return None
        self._remember(key, value)
        return value

    def put(self, key, value: dict) -> None:
        self._remember(key, value)
        if self.directory is None:
            return
        try:
            data = train_process.pack(value)
        except TypeError:  # a value that is not plain arrays and numbers: kept in memory only
            return
        path = self._path(key)
        partial = path.with_suffix(f".{threading.get_ident()}.tmp")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(data)
            os.replace(partial, path)  # other replicas see the whole file or none
            self._prune()
        except OSError:
            partial.unlink(missing_ok=True)

    def _remember(self, key, value: dict) -> None:
        size = sum(v.nbytes for v in value.values() if isinstance(v, np.ndarray))
        with self.lock:
            self.items[key] = value
            self.sizes[key] = size
            self.items.move_to_end(key)
            while sum(self.sizes.values()) > self.max_bytes and len(self.items) > 1:
                old, _ = self.items.popitem(last=False)
                self.sizes.pop(old)
                self.key_locks.pop(old, None)

    def _path(self, key) -> Path:
        # repr of the key (kind, the frozen RunConfig, η): the same text in every replica.
        return self.directory / f"{hashlib.sha256(repr(key).encode()).hexdigest()[:32]}.npz"

    def _prune(self) -> None:
        """The directory under the same byte budget: the oldest files go first."""
        files = sorted(self.directory.glob("*.npz"), key=lambda f: f.stat().st_mtime_ns, reverse=True)
        total = 0
        for f in files:
            total += f.stat().st_size
            if total > self.max_bytes:
                f.unlink(missing_ok=True)

    def key_lock(self, key) -> threading.Lock:
        with self.lock:
            return self.key_locks.setdefault(key, threading.Lock())

    @contextlib.contextmanager
    def claim(self, key, cancelled=None):
        """key_lock, and across the processes sharing the directory too: while another process holds a live
        claim on key (a file it touches every CLAIM_BEAT seconds) and its value is not stored yet, wait for
        that value instead of computing it again (two replicas that a class reaches at once train its link
        once). Then the caller checks get(key) and computes if it is still missing, as under key_lock. A claim
        left by a process that died goes stale after CLAIM_STALE seconds; cancelled() stops the wait
        (train_process.Cancelled)."""
        with turns.locked(self.key_lock(key)):
            if self.directory is None:
                yield
                return
            path = self._path(key).with_suffix(".claim")
            held = None
            while held is None and self.get(key) is None:
                try:
                    self.directory.mkdir(parents=True, exist_ok=True)
                    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
                    held = threading.Event()  # set: the claim is released
                except FileExistsError:
                    with contextlib.suppress(FileNotFoundError):
                        if time.time() - path.stat().st_mtime > CLAIM_STALE:
                            path.unlink(missing_ok=True)
                            continue
                    if cancelled is not None and cancelled():
                        raise train_process.Cancelled(str(key)) from None
                    with turns.waiting():
                        time.sleep(CLAIM_POLL)
                except OSError:  # no usable directory: compute here
                    break
            if held is not None:
                threading.Thread(target=_beat, args=(path, held), name="eos-claim", daemon=True).start()
            try:
                yield
            finally:
                if held is not None:
                    held.set()
                    path.unlink(missing_ok=True)

    def nbytes(self) -> int:
        with self.lock:
            return sum(self.sizes.values())


RUN_DIR_ENV = "EOS_RUN_DIR"
CLAIM_BEAT = 1.0  # seconds between the touches of a held claim
CLAIM_STALE = 3.0  # a claim untouched this long was left by a process that died (one clock: one machine)
CLAIM_POLL = 0.2  # seconds between looks while another process computes


def _beat(path: Path, released: threading.Event) -> None:
    """Keep a claim live (its modification time) until it is released."""
    while not released.wait(CLAIM_BEAT):
        with contextlib.suppress(OSError):
            os.utime(path)


@st.cache_resource
def store() -> RunStore:
    return RunStore(directory=os.environ.get(RUN_DIR_ENV) or None)


def _key(config: RunConfig, lr: float, kind: str = "run"):
    return (kind, config, float(lr))


def cached_run(config: RunConfig, lr: float) -> dict | None:
    return store().get(_key(config, lr))


PAGE_TABLES_KEPT = 16  # entries: a configuration's page tables, or its gradient-flow tables
_kept_values: OrderedDict = OrderedDict()
_kept_lock = threading.Lock()


def _kept(key, build):
    """build(), once per key and process (the PAGE_TABLES_KEPT most recent keys): trained runs never change."""
    with _kept_lock:
        if key in _kept_values:
            _kept_values.move_to_end(key)
            return _kept_values[key]
    value = build()
    with _kept_lock:
        _kept_values[key] = value
        while len(_kept_values) > PAGE_TABLES_KEPT:
            _kept_values.popitem(last=False)
    return value


def page_tables(config: RunConfig, runs: dict[float, dict]) -> dict:
    """eos_views.shown_tables of a configuration's trained runs, built once per configuration and process:
    every rerun re-sends them (building and converting them was a third of the page's run)."""
    return _kept((config, tuple(runs)), lambda: eos_views.shown_tables(config, runs))


def flow_tables(config: RunConfig, lr: float, distance: dict, run: dict) -> dict:
    """The gradient-flow comparison's datasets ("distance", "crossing": eos_views.flow_distance_frames) as Arrow
    tables, built once per configuration like page_tables (they were 3.5 of an EoS rerun's ≈ 30 ms)."""

    def build() -> dict:
        frame, marks = eos_views.flow_distance_frames(distance, run, lr)
        return {"distance": eos_views.arrow(frame), "crossing": eos_views.arrow(marks)}

    return _kept((config, lr, "flow"), build)


def train_one(config: RunConfig, lr: float, report=None, cancelled=None) -> dict:
    """Train one run in a child process (ui.train_process), report(partial, t) as it goes; stops at
    MAX_SECONDS (the run then says where: stopped_at), or raises train_process.Cancelled."""
    stopped_at = [0]

    def progress(partial: dict, t: int) -> None:
        stopped_at[0] = t
        if report is not None:
            report(partial, t)

    kwargs = dict(
        config.optimizer_kwargs(lr), sharpness_every=config.every, top_k=config.top_k, **config.train_kwargs()
    )
    run, finished = train_process.train(kwargs, progress, MAX_SECONDS, cancelled)
    if finished:
        run["stopped_at"] = -1
    else:
        run = _pad(dict(run, stopped_at=stopped_at[0]), config.steps)
    if config.schedule:
        run["label"] = f"η: {config.schedule}"  # the run's name wherever it is drawn
    if run.get("param_history") is not None and run["param_history"].nbytes > MAX_HISTORY_BYTES:
        run["param_history"] = None  # too big to keep: no flow comparison for this model
    return run


def _pad(partial: dict, steps: int) -> dict:
    """A run stopped by the time budget: its per-step arrays (length t + 1) padded with NaN to
    steps + 1 rows, like a diverged run's; no parameter history (no flow comparison)."""
    run = dict(partial, param_history=None)
    run["step"] = np.arange(steps + 1)
    for key, value in partial.items():
        if key != "step" and isinstance(value, np.ndarray) and value.ndim >= 1 and len(value) < steps + 1:
            run[key] = np.concatenate([value, np.full((steps + 1 - len(value), *value.shape[1:]), np.nan)])
    return run


FLOW_SECONDS = 8.0
FLOW_RETRY_SECONDS = 300.0  # a flow that ran out of time is tried again after this, not at every visit


def flow_distance(config: RunConfig, lr: float, run_store: RunStore | None = None, cancelled=None) -> dict | None:
    """‖θ_GD − θ_flow‖ over the run's sampled steps, or None if the run kept no history or the flow
    did not finish in its time budget. Computed once per configuration: visitors arriving together
    wait for the first one (the same per-key claim as training, across replicas too) instead of integrating
    again. run_store: the store (a background job passes it; a page's run takes store() and shows a spinner)."""
    key = _key(config, lr, "flow")
    runs_store = store() if run_store is None else run_store
    with runs_store.claim(key, cancelled):
        found = runs_store.get(key)
        if found is not None and (
            found.get("step") is not None or time.time() - found["failed_at"] < FLOW_RETRY_SECONDS
        ):
            return found if found.get("step") is not None else None
        run = runs_store.get(_key(config, lr))
        if run is None or run.get("param_history") is None:
            return None
        # The departure happens where S reaches 2/η; past 1.5× that step the flow only gets stiffer
        # (its sharpness keeps rising) and the picture says nothing new.
        cross = eos_views.crossing_step(run)
        horizon = config.steps
        if cross is not None:
            horizon = min(config.steps, config.every * (int(1.5 * cross) // config.every + 1))
        kwargs = dict(config.train_kwargs(), steps=horizon)
        t_end = tr.flow_time(lr, config.method, config.beta) * horizon
        text = f"Integrating gradient flow to t = {t_end:g} (RK45, BDF once stiff)…"
        with st.spinner(text) if run_store is None else contextlib.nullcontext():
            try:
                flow = train_process.gradient_flow(
                    dict(
                        kwargs,
                        lr=lr,
                        sharpness_every=config.every,
                        with_sharpness=False,
                        method=config.method,
                        beta=config.beta,
                        max_seconds=FLOW_SECONDS,
                    ),
                    FLOW_SECONDS + 5.0,  # its own budget stops it first; this one only if the child hangs
                    cancelled,
                )
            except train_process.TrainingFailed:  # the child died or hung: as a flow that did not finish
                flow = None
        ok = flow is not None and flow["success"]
        result = tr.distance_to_flow(run, flow) if ok else {"step": None, "failed_at": time.time()}
        runs_store.put(key, result)
        return result if result.get("step") is not None else None
