"""EoS trainings as background jobs (ui/eos_jobs.py), as a server runs them: the run that starts one answers
at once with a progress box, and the page after the job shows the runs. (The rest of the suite waits for
the job inside the run: tests/conftest.py.)"""

import threading

import pytest

from tests.apptest_helpers import chart_frames, open_page
from ui import eos_jobs, eos_runs


@pytest.fixture
def answer_at_once(monkeypatch):
    monkeypatch.setattr(eos_jobs, "WAIT_SECONDS", 0.0)


def job_of(at) -> eos_jobs.Job:
    return at.session_state[eos_jobs.STATE_KEY]


def finish(at, timeout: float = 60):
    """What the browser does: poll the box until the job is done, then the page runs again."""
    assert job_of(at).done.wait(timeout), "the training did not finish"
    return at.run()


def test_the_first_run_answers_with_a_progress_box_and_the_next_shows_the_runs(answer_at_once):
    at = open_page("eos", {"esteps": "600", "eseed": "5101", "flow": "false"})  # a first visit trains
    assert not at.exception
    assert all("loss" not in frames for frames in chart_frames(at))  # no run is shown as trained
    assert any("Training 1 run(s)" in m.value for m in at.markdown) and at.get("progress"), "no progress box"
    assert not any("Press **Run**" in i.value for i in at.info)  # it is training, not waiting for a click
    finish(at)
    assert not at.exception and not at.get("progress") and not any("Training" in m.value for m in at.markdown)
    assert chart_frames(at)[1]["loss"]["step"].max() == 600


def test_a_click_while_training_does_not_lose_the_training(answer_at_once):
    at = open_page("eos", {"esteps": "800", "eseed": "5102", "flow": "false"})
    job = job_of(at)
    at.toggle(key="present").set_value(True).run()  # the person touches another control meanwhile
    assert not at.exception and job_of(at) is job and not job.cancel.is_set()
    finish(at)
    assert chart_frames(at)[1]["loss"]["step"].max() == 800


def test_visitors_of_one_link_follow_one_job(answer_at_once):
    query = {"esteps": "4000", "eseed": "5103", "flow": "false"}  # ≈ 1.3 s: the second arrives meanwhile
    first, second = open_page("eos", query), open_page("eos", query)
    assert job_of(first) is job_of(second)
    finish(first)
    finish(second)
    assert chart_frames(second)[1]["loss"]["step"].max() == 4000


def test_settings_started_after_others_cancel_the_training_nobody_else_follows(answer_at_once):
    at = open_page("eos", {"esteps": "5000", "eseed": "5104", "flow": "false"})  # above the first-visit budget
    assert not at.get("progress") and any("Press **Run** to train" in i.value for i in at.info)
    at.button(key="run").click().run()
    long_job = job_of(at)
    assert not long_job.done.is_set()
    at.number_input(key="esteps").set_value(300).run()
    at.button(key="run").click().run()
    assert job_of(at) is not long_job
    assert long_job.done.wait(10) and long_job.cancel.is_set()  # its child process killed, not left running
    assert all(long_job.store.get(eos_runs._key(long_job.config, lr)) is None for lr in long_job.config.lrs)
    finish(at)
    assert chart_frames(at)[1]["loss"]["step"].max() == 300


def test_a_training_the_settings_moved_away_from_is_still_shown_when_done(answer_at_once):
    at = open_page("eos", {"esteps": "600", "eseed": "5105", "flow": "false"})
    at.number_input(key="eseed").set_value(5106).run()  # changed before the first run finished
    finish(at)
    assert any("press **Run** to train them" in i.value for i in at.info)
    assert chart_frames(at)[1]["loss"]["step"].max() == 600  # the run it started, not nothing


def test_jobs_beyond_the_trainer_slots_wait_their_turn(answer_at_once, monkeypatch):
    monkeypatch.setattr(eos_jobs, "_SLOTS", threading.BoundedSemaphore(1))
    first = open_page("eos", {"esteps": "4000", "eseed": "5107", "flow": "false"})
    second = open_page("eos", {"esteps": "300", "eseed": "5108", "flow": "false"})
    waiting = job_of(second)
    assert waiting.stage == "waiting for a free trainer" and not waiting.partial
    assert any("waiting for a free trainer" in c.value for c in second.caption)
    finish(first)
    finish(second)
    assert chart_frames(second)[1]["loss"]["step"].max() == 300


def test_a_rerun_while_the_job_integrates_the_flow_does_not_wait_for_it(answer_at_once, monkeypatch):
    release, real = threading.Event(), eos_runs.flow_distance

    def slow_flow(config, lr, run_store=None, cancelled=None):
        if run_store is not None:  # the job's call (a page's would pass no store)
            release.wait(30)
        return real(config, lr, run_store, cancelled)

    monkeypatch.setattr(eos_runs, "flow_distance", slow_flow)
    at = open_page("eos", {"esteps": "300", "eseed": "5109"})  # the flow comparison is on by default
    job = job_of(at)
    for _ in range(300):  # until its runs are in and it is on the flow
        if len(job.trained) == len(job.config.lrs):
            break
        job.done.wait(0.1)
    at.run()  # a click now: the page shows the runs and says the flow is coming, without waiting for it
    assert any("Integrating gradient flow for these runs" in i.value for i in at.info)
    assert next(f for f in chart_frames(at) if "loss" in f)["loss"]["step"].max() == 300
    release.set()
    finish(at)
    assert any("distance" in f for f in chart_frames(at))
