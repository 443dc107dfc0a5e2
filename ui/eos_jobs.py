"""Edge of Stability trainings as background jobs: the page that starts one is drawn at once, and follows it.

A training (0.3–20 s in a child process) used to run inside the page's script run. The run then lasted as
long as the training: any click meanwhile (a sidebar control, another page) stopped the script, which
killed the training and lost it; and under a class's load the visitors of that server waited behind the
trainings. Here a training is a job on a thread of its own that outlives the run which started it: the
run returns at once with a progress box, a fragment redraws that box a few times a second (the browser
asks for it), and when the job is done the fragment reruns the page, which finds the runs in the store.

Jobs are shared: a visitor whose settings are already training follows that job (a class opening one
link trains once; replicas sharing a run directory wait for each other's claim, RunStore.claim). A
visitor who starts other settings leaves the job it followed, which is cancelled if nobody else follows
it: one visitor keeps at most one training busy. At most MAX_RUNNING jobs train at once per server
process; later ones wait their turn (the box says so).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

import streamlit as st
from streamlit.logger import get_logger
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui import charts, controls, eos_runs, eos_views, train_process, turns

POLL_SECONDS = 0.5  # how often a follower's progress box is redrawn (each redraw is a rerun of the box)
MAX_RUNNING = max(1, os.cpu_count() or 1)
# How long a run waits for the job it started before drawing the progress box: 0 in a server (the page
# answers at once); the AppTest suite and deploy/warm.py, which have no browser to poll, wait it out.
WAIT_SECONDS = 0.0
STATE_KEY = "eos_job"  # the session's job, in st.session_state
SHOWN_KEY = "eos_last"  # the settings whose runs the page shows

_LOG = get_logger(__name__)  # one line per training and flow started: what a server's log can count
_SLOTS = threading.BoundedSemaphore(MAX_RUNNING)
_LOCK = threading.Lock()
_RUNNING: dict = {}  # (config, with flow) → its Job, while it trains


@dataclass(eq=False)
class Job:
    config: eos_runs.RunConfig
    flow: bool  # also compare the first run at the edge with gradient flow
    store: eos_runs.RunStore
    followers: set = field(default_factory=set)  # session ids
    partial: dict = field(default_factory=dict)  # η → (step, the run so far)
    trained: set = field(default_factory=set)  # the η whose run is in the store
    stage: str = "waiting for a free trainer"
    warnings: list = field(default_factory=list)
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)
    cancel: threading.Event = field(default_factory=threading.Event)

    def work(self) -> None:
        try:
            while not _SLOTS.acquire(timeout=0.1):
                if self.cancel.is_set():
                    return
            try:
                if self._train() and self.flow:
                    self._flow()
            finally:
                _SLOTS.release()
        except train_process.Cancelled:
            pass
        except Exception as exc:  # noqa: BLE001  (a bug must end the job, said, not leave followers polling)
            self.error = f"The training stopped on an error ({type(exc).__name__}). Press **Run** to try again."
            raise
        finally:
            with _LOCK:
                if _RUNNING.get((self.config, self.flow)) is self:
                    del _RUNNING[(self.config, self.flow)]
            self.done.set()

    def _train(self) -> bool:
        for lr in self.config.lrs:
            key = eos_runs._key(self.config, lr)
            # Another job training this η, here or on another replica: wait for it, then take its run.
            self.stage = f"{eos_views.run_label(lr)}: waiting for its training elsewhere"
            with self.store.claim(key, self.cancel.is_set):
                if self.store.get(key) is not None:
                    self.trained.add(lr)
                    continue
                self.stage = f"{eos_views.run_label(lr)}: starting"
                _LOG.info("EoS training started: %s, %d steps", eos_views.run_label(lr), self.config.steps)
                try:
                    run = eos_runs.train_one(self.config, lr, self._reporter(lr), self.cancel.is_set)
                except train_process.TrainingFailed as exc:
                    self.error = (
                        f"**{eos_views.run_label(lr)} did not finish**: its training process failed "
                        f"({controls.escape_markdown(exc)}). Press **Run** to try again."
                    )
                    return False
                self.store.put(key, run)
                self.trained.add(lr)
                if run.get("stopped_at", -1) >= 0:
                    self.warnings.append(
                        f"{eos_views.run_label(lr)} stopped after {eos_runs.MAX_SECONDS:.0f} s at step "
                        f"{run['stopped_at']:,}."
                    )
        return True

    def _reporter(self, lr: float):
        steps = max(self.config.steps, 1)

        def report(partial: dict, t: int) -> None:
            self.partial[lr] = (t, partial)
            self.stage = f"{eos_views.run_label(lr)}: step {t:,} of {steps:,}"

        return report

    def _flow(self) -> None:
        runs = {lr: self.store.get(eos_runs._key(self.config, lr)) for lr in self.config.lrs}
        runs = {lr: run for lr, run in runs.items() if run is not None}  # (one evicted already: rare)
        if not runs:
            return
        lr = eos_views.first_at_edge(runs)
        self.stage = f"{eos_views.run_label(lr)}: integrating gradient flow (RK45, BDF once stiff)"
        _LOG.info("EoS gradient flow for %s", eos_views.run_label(lr))
        eos_runs.flow_distance(self.config, lr, self.store, self.cancel.is_set)


def start(config: eos_runs.RunConfig, flow: bool) -> Job:
    """Train config (and its gradient-flow comparison if flow) for this session: the job already doing it,
    or a new one. The session's earlier job, for other settings, is cancelled unless someone else follows it.
    Waits WAIT_SECONDS for the job."""
    session = _session_id()
    previous = st.session_state.get(STATE_KEY)
    with _LOCK:
        job = _RUNNING.get((config, flow))
        new = job is None or job.cancel.is_set()  # (a cancelled job still ending: not one to follow)
        if new:
            job = _RUNNING[(config, flow)] = Job(config, flow, eos_runs.store())
        job.followers.add(session)
        if previous is not None and previous is not job:
            previous.followers.discard(session)
            if not previous.followers:
                previous.cancel.set()
    if new:
        threading.Thread(target=job.work, name="eos-job", daemon=True).start()
    st.session_state[STATE_KEY] = job
    job.done.wait(WAIT_SECONDS)
    return job


def current() -> Job | None:
    """The session's job while it trains. A job that has finished is forgotten here: its runs become the ones
    the page shows (even if the settings moved on meanwhile), and what it has to say (a failed training, a
    run stopped by the time budget) is said on the page, once."""
    job = st.session_state.get(STATE_KEY)
    if job is None or not job.done.is_set():
        return job
    del st.session_state[STATE_KEY]
    if len(job.trained) == len(job.config.lrs):
        st.session_state[SHOWN_KEY] = job.config
    if job.error:
        st.error(job.error, icon=":material/error:")
    for text in job.warnings:
        st.warning(text, icon=":material/timer:")
    return None


def training(config: eos_runs.RunConfig | None) -> bool:
    """The session's job is training these settings."""
    job = st.session_state.get(STATE_KEY)
    return job is not None and config is not None and job.config == config and not job.done.is_set()


@st.fragment(run_every=POLL_SECONDS)
@turns.in_turn
def follow() -> None:
    """The session's job's progress, redrawn every POLL_SECONDS; the whole page again once it is done."""
    job = st.session_state.get(STATE_KEY)
    if job is None:
        return
    if job.done.is_set():
        st.rerun()  # the page: it shows the runs (or what went wrong) and no longer this box
    config, partial, trained = job.config, dict(job.partial), set(job.trained)  # (the job's thread writes them)
    with st.container(border=True):
        st.markdown(f":material/hourglass_top: **Training {len(config.lrs)} run(s)…**")
        for lr in config.lrs:
            t, _ = partial.get(lr, (0, None))
            if lr in trained:
                st.progress(1.0, text=f"{eos_views.run_label(lr)}: done")
            else:
                st.progress(min(t / max(config.steps, 1), 1.0), text=job.stage if t else eos_views.run_label(lr))
        if not (partial or trained) or len(trained) == len(config.lrs):
            st.caption(job.stage)  # waiting its turn, or integrating the flow
        if partial:
            quantity = eos_views.hovering_label(config)
            spec = charts.spec(eos_views.sharpness_chart, big=False, quantity=quantity)
            runs = {lr: run for lr, (_, run) in partial.items()}
            st.vega_lite_chart({**spec, "datasets": eos_views.hover_frames(runs)}, width="stretch")


def _session_id() -> str:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else ""
