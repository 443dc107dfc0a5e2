"""Load test: N concurrent visitors against one `streamlit run app.py` on loopback, beside Streamlit's floor.

    python loadtest/run.py            # N = 1, 10, 30, then the two extra measurements (≈ 5.5 min, 2 cores)
    python loadtest/run.py --quick    # N = 1, 5 and fewer interactions: a smoke test (≈ 1.5 min)
    python loadtest/run.py --proxy    # 2 replicas behind nginx (deploy/serve.py), N = 30, 60, then failover (≈ 8 min)
    python loadtest/run.py --browser-failover   # the real frontend in Chromium, its replica killed (≈ 1 min)

Each virtual visitor is one websocket speaking Streamlit's own protocol (loadtest/client.py: BackMsg
rerun requests out, ForwardMsg deltas in), like one browser tab without the browser. A rerun's
latency is the time from sending the request to the run's script_finished. While a visitor thinks, its
tab asks for the reruns the frontend sends by itself (a training's progress box, a run_every fragment):
those polls, and each training's time from the click to the trained page, are reported apart. Visitors wait 1–3 s
between interactions (a person's think time) and walk through the pages: a class link to the
quadratic explorer with a preset, the live η (a release: what the browser sends when the slider under
the chart or the sidebar's is let go) and n, the momentum map (heavy ball, a β release), the
2-D trajectory (φ slider), the 2-D toy (η slider); every tenth visitor opens the Edge of Stability
page instead of the toy (it carries the momentum page's heavy ball and β, so that first visit trains),
and another every tenth changes the EoS seed and presses Run (it trains).

The same harness drives loadtest/minimal_app.py (one slider, one Altair chart, no pages) with the
same N, the same number of interactions and the same think time, in the same run: the floor.

Then two measurements on the app's server:
- long work: session A presses Run on the EoS page with a config that trains for seconds, while
  session B releases the quadratic page's live η every second; B's latencies while A's run lasts;
- a shared link: many sessions open the same, not yet trained EoS link at the same instant; how
  many trainings (st.progress seen) and gradient-flow integrations (its spinner seen) happened.

Prints one table (scenario, N, requests, errors, p50/p95/max ms, the serving CPU per request, server RSS
before → after), the ratio app p95 / floor p95 at the largest N, and one line per extra measurement. Traffic goes to
127.0.0.1 only; every loop is bounded by a count and a wall-time cap, and the command stops by itself.

--proxy: the same visitors, each with a browser's cookie jar, go through `deploy/serve.py
--replicas 2` (nginx, sticky by its cookie) at N = 30 and 60, the floor app (one process) the
same way in the same run, and the app as one process at N = 30 for comparison. Then failover:
N = 30 visitors through the proxy, and 14 s in one replica is killed (SIGKILL, as a crash). A
visitor whose websocket drops reconnects through the proxy and re-sends its view (URL, page, every
control), as the frontend does; counted: views back the same (page, URL and every control's value)
or lost, the time from the kill to the restored view, errors of the visitors on the other replica.
Two more sessions sit on the killed replica with an EoS training in flight at the kill (a long one
started with Run, a short one a first visit trains by itself): what the new replica shows them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

from deploy import serve  # noqa: E402
from loadtest.client import Cluster, Result, Server, Session, start_cluster, start_server  # noqa: E402
from ui.live import BETA_LABEL, ETA_LABEL  # noqa: E402

APP = ROOT / "app.py"
FLOOR = ROOT / "loadtest" / "minimal_app.py"

THINK = (1.0, 3.0)  # seconds between a visitor's interactions
START_SPREAD = 2.0  # visitors arrive over the first seconds
SCENARIO_CAP = 180.0  # wall-time cap of one scenario (all visitors), seconds
PHASE_CAP = 120.0  # wall-time cap of each extra measurement
TOTAL_CAP = 12 * 60.0  # the whole command: phases not started by then are skipped
RERUN_TIMEOUT = 60.0  # one rerun without script_finished by then is an error
PROXY_CAP = 20 * 60.0  # --proxy: the whole command
KILL_AT = 14.0  # --proxy failover: seconds into the scenario (every visitor is mid-plan)
RECONNECT_TRIES = 8  # a dropped visitor retries the proxy with a growing pause (≈ 10 s in all)

# Class links: a teacher hands out a few presets, so many visitors share a configuration.
CLASS_LINKS = [
    "preset=log-spaced&n=50",
    "preset=neural-net-like&n=200",
    "preset=two+clusters&n=100",
    "preset=evenly+spaced&n=20",
]
N_CHOICES = [20, 50, 100, 200, 500]


# ---- what a visitor does ------------------------------------------------------------------


def _slide(key: str):
    """Move the slider with this key to a random value on its own range and step."""

    async def act(s: Session, rng: random.Random) -> Result:
        proto = s.widget(key).proto
        lo, hi, step = proto.min, proto.max, proto.step or (proto.max - proto.min) / 100
        value = lo + step * rng.randint(0, max(int(round((hi - lo) / step)), 1))
        return await s.set(key, min(max(value, lo), hi), label=f"slide {key}")

    return act


LIVE_LABELS = {"eta": ETA_LABEL, "beta": BETA_LABEL}


def _release(chart: str, name: str):
    """Release a live slider at a random value on its range: what the browser sends when the slider
    under the chart, or the sidebar's that drives it in the browser (ui.live_slider), is let go."""

    async def act(s: Session, rng: random.Random) -> Result:
        spec = json.loads(s.widget(chart).proto.spec)
        binds = [p["bind"] for p in spec["params"] if "bind" in p]
        bind = next((b for b in binds if b.get("name", "").startswith(LIVE_LABELS[name])), None)
        if bind is None:  # no such live slider on the page: as a missing widget
            raise KeyError(f"live {name}")
        value = bind["max"] * rng.randint(0, 500) / 500
        return await s.select(chart, name, {name: value, "at": rng.random()}, label=f"release {name}")

    return act


def _set(key: str, choices):
    async def act(s: Session, rng: random.Random) -> Result:
        return await s.set(key, rng.choice(choices), label=f"set {key}")

    return act


def _open(page: str, query: str | None = None):  # no query: the menu
    async def act(s: Session, rng: random.Random) -> Result:
        return await s.open(page, query, label=f"open {page}")

    return act


def _press(key: str):
    async def act(s: Session, rng: random.Random) -> Result:
        return await s.press(key, label=f"press {key}")

    return act


def app_plan(person: int, rng: random.Random, tag: int) -> list:
    """Ten interactions through the pages; tag makes EoS seeds of this scenario unique."""
    plan = [
        _open("quadratic", rng.choice(CLASS_LINKS)),
        _release("live", "eta"),
        _set("n", N_CHOICES),
        _release("live", "eta"),
        _open("momentum", "method=heavy+ball"),
        _release("mom", "beta"),
    ]
    if person % 10 == 9:  # changes the EoS seed and presses Run: a training of its own
        plan += [_open("eos"), _set("eseed", [1000 * tag + person]), _press("run"), _open("toy")]
    else:
        plan += [_open("trajectory"), _slide("phi")]
        if person % 10 == 4:  # opens the EoS page, which carries the momentum page's heavy ball and β: it trains
            plan += [_open("eos"), _slide("_beta_slider")]
        else:
            plan += [_open("toy"), _slide("_teta_slider")]
    return plan


def floor_plan(person: int, rng: random.Random, tag: int) -> list:
    return [_open("")] + [_slide("freq")] * 9


# ---- a scenario ---------------------------------------------------------------------------


@dataclass
class Row:
    scenario: str
    n: int
    latencies: list[float] = field(default_factory=list)
    by_action: dict[str, list[float]] = field(default_factory=dict)
    bytes_by_action: dict[str, list[int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    requests: int = 0
    rss_before: float = 0.0
    rss_after: float = 0.0
    # The serving processes' own CPU per request, ms (replicas or the floor; not EoS training children): how fast
    # the machine ran this scenario (the same work cost 18–31 ms from one run to the next here). nan: a process
    # was replaced meanwhile (failover).
    cpu_ms: float = float("nan")
    seconds: float = 0.0
    errors_of: dict[int, list[str]] = field(default_factory=dict)  # by visitor
    # What the frontend asks by itself, not counted above: the reruns of a training's progress box, and for
    # each training a visitor saw to its end, the seconds from the click that started it to the trained page.
    polls: list[float] = field(default_factory=list)
    trainings: list[float] = field(default_factory=list)

    def error(self, person: int, text: str) -> None:
        self.errors.append(f"visitor {person}: {text}")
        self.errors_of.setdefault(person, []).append(text)


@dataclass
class Recovery:
    """One visitor whose websocket dropped with the killed replica."""

    person: int
    during: str  # the interaction the kill cut, or "idle" (between interactions)
    detected: float  # perf_counter when the visitor saw the drop
    reconnected: float | None = None  # when its new websocket was open
    restored: float | None = None  # when its view was back
    same_view: bool = False  # the view on screen before the cut, or that view with the change in flight
    applied: bool = False  # the change in flight (if any) is in the restored view
    url_differs: bool = False  # the URL left after the restore does not match the controls shown
    replica: str | None = None  # where the proxy put it
    trained: bool = False  # the restore re-ran a training (an EoS first visit)
    page: str = ""  # the page restored
    note: str = ""


@dataclass
class Failover:
    victim: str  # the replica to kill
    kill_at: float  # seconds into the scenario
    started: float = 0.0  # perf_counter at the scenario's start
    killed_at: float | None = None  # perf_counter of the kill
    pid: int = 0
    sessions: dict[int, Session] = field(default_factory=dict)
    on_victim: set[int] = field(default_factory=set)  # visitors whose cookie named the victim at the kill
    on_other: set[int] = field(default_factory=set)
    recoveries: list[Recovery] = field(default_factory=list)
    probes: list[str] = field(default_factory=list)  # the EoS trainings cut by the kill


async def _think(session: Session, seconds: float, row: Row, started: list) -> bool:
    """Wait like a person while the frontend polls a training's progress box; True if the websocket dropped
    meanwhile (the browser notices at once). started: [when the click that started a training was sent]."""
    polls: list = []
    closed = await session.idle(seconds, polls)
    row.polls += [p.seconds for p in polls if not p.closed]
    if started and polls and polls[-1].status == ForwardMsg.FINISHED_SUCCESSFULLY and not session.auto_reruns:
        row.trainings.append(time.perf_counter() - started.pop())
    return closed


async def _recover(session: Session, person: int, failover: Failover, row: Row | None, during: str) -> Recovery:
    """What the frontend does when its websocket drops: reconnect (the proxy picks a live replica),
    then re-send the view it holds. The view must come back the same."""
    rec = Recovery(person, during, time.perf_counter())
    failover.recoveries.append(rec)
    intended, confirmed, opening = session.view(), session.confirmed_view, session.pending_open
    for attempt in range(RECONNECT_TRIES):
        try:
            await session.reconnect()
            break
        except Exception as exc:  # the proxy has no live replica yet: retry like the frontend
            rec.note = f"reconnect: {exc!r}"[:200]
            await asyncio.sleep(min(0.25 * 2**attempt, 2.0))
    else:
        if row is not None:
            row.error(person, f"no reconnect after the kill ({rec.note})")
        return rec
    rec.reconnected = time.perf_counter()
    result = await session.restore(f"restore after {during}")
    rec.restored = time.perf_counter()
    rec.replica = session.replica
    rec.trained = result.progress > 0
    rec.page = next((path for path, h in session.pages.items() if h == session.page_hash), "?")
    now = session.view()
    if opening is not None:  # the cut run was opening a page: it must be that page now
        rec.applied = result.ok and session.pages.get(opening[0]) == session.page_hash
        rec.same_view = rec.applied
    else:
        # Page and controls (the URL is compared apart: a change cut mid-run can leave it ahead of the controls).
        rec.applied = result.ok and _controls(now) == _controls(intended)
        rec.same_view = rec.applied or (result.ok and _controls(now) == _controls(confirmed))
        rec.url_differs = now[1] != (intended if rec.applied else confirmed)[1]
    if not rec.same_view:
        rec.note = (
            f"status {result.status}, errors {result.errors[:1]}; against the view with the change in flight: "
            f"{_view_diff(intended, now)}; against the view before it: {_view_diff(confirmed, now)}"
        )
        if row is not None:
            row.error(person, f"view not restored after the kill ({rec.note})")
    return rec


def _controls(view: tuple | None) -> tuple | None:
    return None if view is None else (view[0], view[2])


def _view_diff(a: tuple | None, b: tuple) -> str:
    if a is None:
        return "everything (nothing was on screen)"
    out = ["page"] if a[0] != b[0] else []
    qa, qb = dict(a[1]), dict(b[1])
    out += [f"?{k}: {qa.get(k)} → {qb.get(k)}" for k in sorted(set(qa) | set(qb)) if qa.get(k) != qb.get(k)]
    wa, wb = dict(a[2]), dict(b[2])
    out += [f"{k}: {wa.get(k)} → {wb.get(k)}" for k in sorted(set(wa) | set(wb)) if wa.get(k) != wb.get(k)]
    return "; ".join(out[:4]) or "nothing"


async def _visitor(
    url: str,
    person: int,
    plan: list,
    rng: random.Random,
    row: Row,
    cookies: bool = False,
    failover: Failover | None = None,
) -> None:
    await asyncio.sleep(rng.uniform(0, START_SPREAD))
    session = Session(url, rerun_timeout=RERUN_TIMEOUT, cookies=cookies)
    try:
        await session.connect()
    except Exception as exc:  # a refused or failed handshake is an error of the run
        row.error(person, f"connect failed: {exc!r}")
        return
    if failover is not None:
        failover.sessions[person] = session
    training: list = []  # [when the click that started the training on screen was sent]
    try:
        for i, act in enumerate(plan):
            if i:
                dropped = await _think(session, rng.uniform(*THINK), row, training)
                if dropped and failover is not None and failover.killed_at is not None:
                    await _recover(session, person, failover, row, "idle")
            row.requests += 1
            try:
                result = await act(session, rng)
            except KeyError as exc:
                row.error(person, f"widget {exc} missing on the page")
                continue
            if result.closed and failover is not None and failover.killed_at is not None:
                await _recover(session, person, failover, row, result.label)  # not a latency of its own
                continue
            row.latencies.append(result.seconds)
            training[:] = [result.started] if session.auto_reruns else []  # a box to follow, or none now
            row.by_action.setdefault(result.label, []).append(result.seconds)
            row.bytes_by_action.setdefault(result.label, []).append(result.nbytes)
            if not result.ok:
                row.error(person, f"{result.label}: status {result.status}, {result.errors[:2]}")
    finally:
        await session.close()


async def _kill_later(cluster: Cluster, failover: Failover) -> None:
    await asyncio.sleep(failover.kill_at)
    failover.on_victim = {p for p, s in failover.sessions.items() if s.replica == failover.victim}
    failover.on_other = set(failover.sessions) - failover.on_victim
    failover.killed_at = time.perf_counter()
    failover.pid = cluster.kill_replica(failover.victim)


async def _eos_probe(url: str, failover: Failover, kind: str, tag: int) -> None:
    """A session on the victim with an EoS training in flight when the kill comes, and what it gets back.
    long: 10,000 steps (above the first-visit budget) started with Run; short: 4,000 steps that a
    first visit trains by itself, opened just before the kill."""
    s = Session(url, rerun_timeout=PHASE_CAP, cookies=True)
    s.cookies["st_route"] = failover.victim  # as a browser the proxy sent there earlier
    await s.connect()
    try:
        steps = 10_000 if kind == "long" else 4_000
        query = f"esteps={steps}&eseed={90_000 + tag * 10 + len(kind)}&flow=false"
        if kind == "long":
            opened = await s.open("eos", query)
            if not opened.ok or not s.has("run"):
                failover.probes.append(f"{kind}: could not open the EoS page ({opened.errors[:1]})")
                return
            await asyncio.sleep(max(failover.started + failover.kill_at - 2.0 - time.perf_counter(), 0))
            started = await s.press("run")
        else:
            await asyncio.sleep(max(failover.started + failover.kill_at - 1.0 - time.perf_counter(), 0))
            started = await s.open("eos", query)
        polls: list = []  # the progress box, followed until the kill cuts it
        cut = started.closed or await s.idle(PHASE_CAP, polls)
        if not cut or any(p.status == ForwardMsg.FINISHED_SUCCESSFULLY for p in polls):
            failover.probes.append(f"{kind} ({steps:,} steps): finished before the kill")
            return
        progress = started.progress + sum(p.progress for p in polls)
        rec = await _recover(s, -1, failover, None, f"EoS {kind} training")
        failover.recoveries.remove(rec)  # reported apart from the visitors
        got = s.results[-1]
        if rec.trained:  # a first visit on the new replica: its box, followed to the trained page
            got = await s.settle(PHASE_CAP) or got
        offered = any("Press **Run** to train" in a for a in got.alerts)
        shown = (
            "re-trained from the URL to the end (a first visit on the new replica)"
            if rec.trained and got.ok and got.status == ForwardMsg.FINISHED_SUCCESSFULLY and not s.auto_reruns
            else "offered again: 'Press Run to train', nothing trained or shown as done"
            if offered and not rec.trained
            else f"unexpected: status {got.status}, alerts {got.alerts[:2]}, errors {got.errors[:1]}"
        )
        failover.probes.append(
            f"{kind} ({steps:,} steps, {progress} progress updates before the cut): on {rec.replica}, {shown}; "
            f"same page and controls: {rec.same_view}; {_ms((rec.restored or rec.detected) - failover.killed_at)} ms "
            "after the kill"
        )
    finally:
        await s.close()


async def scenario(
    name: str,
    server,
    n: int,
    plan_of,
    actions: int,
    tag: int,
    cookies: bool = False,
    failover: Failover | None = None,
) -> Row:
    server.check()
    row = Row(name, n, rss_before=server.rss_mb())
    cpu_before = server.cpu()
    start = time.perf_counter()
    rngs = [random.Random(f"{name}-{n}-{person}") for person in range(n)]
    plans = [plan_of(person, rngs[person], tag)[:actions] for person in range(n)]
    tasks = [
        asyncio.ensure_future(_visitor(server.url, p, plans[p], rngs[p], row, cookies, failover)) for p in range(n)
    ]
    if failover is not None:
        failover.started = start
        tasks += [asyncio.ensure_future(_kill_later(server, failover))]
        tasks += [asyncio.ensure_future(_eos_probe(server.url, failover, kind, tag)) for kind in ("long", "short")]
    done, pending = await asyncio.wait(tasks, timeout=SCENARIO_CAP)
    for task in pending:
        task.cancel()
        row.errors.append(f"a visitor was still running at the {SCENARIO_CAP:.0f} s cap")
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        if task.exception() is not None:
            row.errors.append(f"visitor crashed: {task.exception()!r}")
    row.seconds = time.perf_counter() - start
    await asyncio.sleep(1.0)  # let the server drop the closed sessions' runs
    server.check()
    row.rss_after = server.rss_mb()
    cpu_after = server.cpu()
    if cpu_after.keys() == cpu_before.keys() and row.requests:
        row.cpu_ms = 1000 * sum(cpu_after[p] - cpu_before[p] for p in cpu_after) / row.requests
    return row


async def warm_up(app: Server, floor: Server) -> str:
    """One visit to every page first, so that N = 1 does not time the server's first imports. The
    EoS page is warmed with a one-step run without the flow comparison: its default run stays cold
    for the visitors (its first visit trains)."""
    times = []
    for server, visits in (
        (app, [("", ""), ("quadratic", ""), ("momentum", ""), ("trajectory", ""), ("toy", "")]),  # "": home
        (app, [("eos", "esteps=1&flow=false&eseed=99")]),
        (floor, [("", "")]),
    ):
        s = Session(server.url, rerun_timeout=RERUN_TIMEOUT)
        await s.connect()
        for page, query in visits:
            r = await s.open(page, query)
            name = page or ("floor" if server is floor else "home")
            times.append(f"{name} {_ms(r.seconds)}{'' if r.ok else ' (error)'}")
        await s.close()
    # Then the app's own warm-up (ui/runtime.py: chart structures, 5 s after its first visit, seconds of GIL), as
    # deploy/serve.py waits for it in each replica: a scenario started before it ended timed it, not the visitors.
    if isinstance(app, Server) and not await asyncio.to_thread(app.wait_for_log, serve.WARM_DONE):
        times.append("the app's own warm-up had not ended after 60 s")
    return "warm-up (first visits, ms, not in the table): " + ", ".join(times)


# ---- the extra measurements ---------------------------------------------------------------


async def long_work(server: Server, steps: int) -> str:
    """A presses Run on the EoS page (its tab then follows the progress box to the trained page) while B
    releases the quadratic page's live η every second."""
    server.check()
    rng = random.Random("long-work")
    a, b = Session(server.url, rerun_timeout=PHASE_CAP), Session(server.url, rerun_timeout=RERUN_TIMEOUT)
    await a.connect()
    await b.connect()
    try:
        await b.open("quadratic", "preset=log-spaced&n=50")
        opened = await a.open("eos", f"esteps={steps}&eseed=4242")
        if not opened.ok or not a.has("run"):
            return f"long work: could not open the EoS page ({opened.status}, {opened.errors[:1]})"
        pressed = await a.press("run")
        train = asyncio.ensure_future(a.settle(PHASE_CAP))
        slider = _release("live", "eta")
        during: list[Result] = []
        errors = 0
        while not train.done():
            await asyncio.sleep(1.0)
            if train.done():
                break
            r = await slider(b, rng)
            errors += not r.ok
            during.append(r)
        run = await train
    finally:
        await a.close()
        await b.close()
    lat = [r.seconds for r in during]
    shown = run is not None and run.status == ForwardMsg.FINISHED_SUCCESSFULLY
    return (
        f"long work: A's Run (EoS, esteps={steps:,}) answered in {_ms(pressed.seconds)} ms with the progress box; "
        f"the trained page {'came' if shown else 'did NOT come'} "
        f"{(run.started + run.seconds - pressed.started) if run else float('nan'):.1f} s after the click "
        f"(training and the gradient-flow comparison); B's slider reruns meanwhile: {len(lat)}, errors {errors}, "
        f"p50 {_ms(_pct(lat, 50))}, p95 {_ms(_pct(lat, 95))}, max {_ms(max(lat, default=float('nan')))} ms"
    )


async def shared_link(server: Server, n: int, query: str) -> list[str]:
    """n sessions open the same untrained EoS link at the same instant and follow it to the trained page,
    then n more open it again. Trainings and flows are counted in the server's log (ui/eos_jobs.py)."""
    lines = []
    for wave in (1, 2):
        server.check()
        log_at = Path(server.log).stat().st_size
        sessions = [Session(server.url, rerun_timeout=PHASE_CAP) for _ in range(n)]
        await asyncio.gather(*(s.connect() for s in sessions))

        async def visit(s: Session) -> tuple[Result, Result | None]:
            opened = await s.open("eos", query)
            return opened, await s.settle(PHASE_CAP)

        try:
            results = await asyncio.wait_for(asyncio.gather(*(visit(s) for s in sessions)), PHASE_CAP + 10)
        finally:
            await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
        with open(server.log, encoding="utf-8", errors="replace") as f:
            f.seek(log_at)
            log = f.read()
        lat = [opened.seconds for opened, _ in results]
        page = [done.started + done.seconds - opened.started for opened, done in results if done is not None]
        errors = sum(not opened.ok or (done is not None and not done.ok) for opened, done in results)
        lines.append(
            f"shared link, wave {wave} ({'cold' if wave == 1 else 'same link again'}): {n} sessions open "
            f"/eos?{query} at once: trainings {log.count('EoS training started')}, gradient-flow integrations "
            f"{log.count('EoS gradient flow')}, errors {errors}; the page answered p50 {_ms(_pct(lat, 50))}, max "
            f"{_ms(max(lat))} ms; {len(page)} followed a progress box to the trained page, p50 "
            f"{_ms(_pct(page, 50))}, max {_ms(max(page, default=float('nan')))} ms after the open"
        )
    return lines


# ---- printing -----------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0–100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))]


def _ms(seconds: float) -> str:
    return "—" if seconds != seconds else f"{seconds * 1000:,.0f}"


def print_table(rows: list[Row]) -> None:
    head = (
        f"{'scenario':<10} {'N':>3} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
        f"{'CPU ms/req':>10}  RSS MB"
    )
    print(head)
    print("-" * (len(head) + 16))
    for r in rows:
        cpu = "—" if math.isnan(r.cpu_ms) else f"{r.cpu_ms:.1f}"
        print(
            f"{r.scenario:<10} {r.n:>3} {r.requests:>8} {len(r.errors):>6} {_ms(_pct(r.latencies, 50)):>8} "
            f"{_ms(_pct(r.latencies, 95)):>8} {_ms(max(r.latencies, default=float('nan'))):>8} {cpu:>10}  "
            f"{r.rss_before:,.0f} → {r.rss_after:,.0f}   ({r.seconds:.0f} s)"
        )


def _by_action(r: Row) -> str:
    actions = sorted(r.by_action.items(), key=lambda kv: -_pct(kv[1], 50))
    line = f"{r.scenario} at N = {r.n} by interaction (count, p50/p95 ms, kB received): " + "; ".join(
        f"{k} ({len(v)}, {_ms(_pct(v, 50))}/{_ms(_pct(v, 95))}, {_pct(r.bytes_by_action[k], 50) / 1000:.0f})"
        for k, v in actions
    )
    if r.polls or r.trainings:
        line += (
            f"\n  not in the table: {len(r.polls)} polls of a training's progress box (p50/p95 "
            f"{_ms(_pct(r.polls, 50))}/{_ms(_pct(r.polls, 95))} ms); {len(r.trainings)} trainings seen to the trained "
            f"page, click to page p50/max {_ms(_pct(r.trainings, 50))}/{_ms(max(r.trainings, default=float('nan')))} ms"
        )
    return line


def _failover_report(f: Failover, row: Row) -> list[str]:
    if f.killed_at is None:
        return ["failover: the kill did not happen (the scenario ended first)"]
    back = [r for r in f.recoveries if r.restored is not None and r.same_view]
    lost = [r for r in f.recoveries if not (r.restored is not None and r.same_view)]
    waits = [r.restored - f.killed_at for r in back]
    seen = [r.detected - f.killed_at for r in f.recoveries]
    joined = [r.reconnected - r.detected for r in f.recoveries if r.reconnected]
    rerun = [r.restored - r.reconnected for r in back if r.reconnected]
    plain = [r.restored - f.killed_at for r in back if not r.trained]
    busy = sum(r.during != "idle" for r in f.recoveries)
    dropped = sum(r.same_view and not r.applied for r in f.recoveries)
    url_off = sum(r.same_view and r.url_differs for r in f.recoveries)
    moved = {r.replica for r in back}
    other_errors = sum(len(row.errors_of.get(p, [])) for p in f.on_other)
    unaffected = [p for p in f.on_victim if p not in {r.person for r in f.recoveries}]
    lines = [
        f"failover: replica {f.victim} (pid {f.pid}) killed with SIGKILL {f.kill_at:.0f} s into the run; "
        f"{len(f.on_victim)} of {len(f.sessions)} visitors were on it, {len(f.on_other)} on the other replica",
        f"  views restored (same page and every control's value) {len(back)}, lost {len(lost)} "
        f"({busy} were cut mid-rerun, {len(f.recoveries) - busy} idle); now on {sorted(x for x in moved if x)}; "
        f"back as before the cut, the change in flight dropped: {dropped} (their URL still shows that change: "
        f"{url_off})",
        f"  time from the kill to the view back: p50 {_ms(_pct(waits, 50))}, p95 {_ms(_pct(waits, 95))}, "
        f"max {_ms(max(waits, default=float('nan')))} ms (target p95 ≤ 5,000); without the ones that re-trained "
        f"an EoS run: p95 {_ms(_pct(plain, 95))} ms",
        f"  of which: drop noticed p95 {_ms(_pct(seen, 95))} ms after the kill; new websocket through the proxy "
        f"p95 {_ms(_pct(joined, 95))} ms; the page's rerun on the new replica p50 {_ms(_pct(rerun, 50))}, "
        f"p95 {_ms(_pct(rerun, 95))} ms",
        f"  errors of the visitors on the other replica over the whole run: {other_errors}",
    ]
    if unaffected:
        lines.append(f"  visitors on {f.victim} that finished before the kill: {len(unaffected)}")
    slowest = sorted(back, key=lambda r: r.restored, reverse=True)[:3]
    lines.append(
        "  slowest views back: "
        + "; ".join(
            f"{r.page or 'home'} ({r.during}, {'re-trained, ' if r.trained else ''}{_ms(r.restored - f.killed_at)} ms)"
            for r in slowest
        )
    )
    lines += [f"  lost: visitor {r.person} during {r.during}: {r.note}" for r in lost[:5]]
    lines += [f"  EoS training cut by the kill, {p}" for p in f.probes]
    return lines


async def _warm_up_urls(app_urls: list[str], floor_url: str) -> str:
    """warm_up for several app servers (each replica directly, so none times its first imports)."""

    class _At:
        def __init__(self, url):
            self.url = url

    parts = [await warm_up(_At(url), _At(floor_url)) for url in app_urls]
    return " | ".join(parts)


def proxy_main(args) -> None:
    """Two replicas behind nginx against the one-process floor, then a replica killed mid-run."""
    levels = [int(x) for x in args.levels.split(",") if x.strip()]
    began = time.perf_counter()
    load_start = os.getloadavg()[0]
    log_dir = tempfile.mkdtemp(prefix="loadtest-serve-")
    cluster, floor = start_cluster(args.replicas, log_dir=log_dir), start_server(FLOOR)
    rows: dict[str, list[Row]] = {"proxy": [], "floor": [], "app": []}
    extra: list[str] = []
    failover = Failover(victim="r0", kill_at=KILL_AT)
    failover_row: list[Row] = []
    try:

        async def everything() -> None:
            ports = [r["port"] for r in cluster.replicas().values()]
            extra.append(await _warm_up_urls([f"http://127.0.0.1:{p}" for p in ports], floor.url))
            for tag, n in enumerate(levels, start=1):
                for name, server, plan in (("proxy", cluster, app_plan), ("floor", floor, floor_plan)):
                    if time.perf_counter() - began > PROXY_CAP:
                        extra.append(f"skipped {name} N={n}: past the {PROXY_CAP:.0f} s cap")
                        continue
                    row = await scenario(name, server, n, plan, 10, tag, cookies=True)
                    rows[name].append(row)
                    print(f"  … {name} N={n}: {row.requests} requests in {row.seconds:.0f} s", flush=True)
            if args.single and levels and time.perf_counter() - began < PROXY_CAP:
                single = await asyncio.to_thread(start_server, APP)
                try:
                    await warm_up(single, floor)
                    row = await scenario("app", single, levels[0], app_plan, 10, 7, cookies=True)
                    rows["app"].append(row)
                    print(f"  … app (one process) N={levels[0]}: {row.requests} requests in {row.seconds:.0f} s")
                finally:
                    single.stop()
            if time.perf_counter() - began < PROXY_CAP:
                row = await scenario("failover", cluster, args.failover_n, app_plan, 10, 8, True, failover)
                failover_row.append(row)
                print(f"  … failover N={args.failover_n}: {row.requests} requests in {row.seconds:.0f} s", flush=True)

        try:
            asyncio.run(everything())
        except (RuntimeError, OSError) as exc:
            extra.append(f"ABORTED: {exc!r}")
    finally:
        cluster.stop()
        floor.stop()

    print()
    print(f"through the proxy ({args.replicas} replicas of app.py behind nginx; RSS: all replicas together):")
    print_table(rows["proxy"] + failover_row)
    print("floor (loadtest/minimal_app.py, one process):")
    print_table(rows["floor"])
    if rows["app"]:
        print("app.py as one process (no proxy):")
        print_table(rows["app"])
    for p in rows["proxy"]:
        f = next((r for r in rows["floor"] if r.n == p.n), None)
        if f and p.latencies and f.latencies:
            print(
                f"proxy p95 / floor p95 at N = {p.n}: {_pct(p.latencies, 95) / _pct(f.latencies, 95):.2f}"
                + (" (target ≤ 1.0)" if p.n == levels[0] else "")
            )
    for a in rows["app"]:
        f = next((r for r in rows["floor"] if r.n == a.n), None)
        if f and a.latencies and f.latencies:
            print(
                f"app (one process) p95 / floor p95 at N = {a.n}: {_pct(a.latencies, 95) / _pct(f.latencies, 95):.2f}"
            )
    for r in rows["proxy"]:
        print(_by_action(r))
    if failover_row:
        for line in _failover_report(failover, failover_row[0]):
            print(line)
    for line in extra:
        print(line)
    errors = [e for rs in list(rows.values()) + [failover_row] for r in rs for e in r.errors]
    for e in errors[:10]:
        print("error:", e)
    print(
        f"\ntotal {time.perf_counter() - began:.0f} s on {os.cpu_count()} cores (this client used "
        f"{time.process_time():.0f} s of CPU); 1-min load average {load_start:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end; proxy and replica logs: {log_dir}; floor log: {floor.log}"
    )


def browser_failover() -> None:
    """The real Streamlit frontend in Debian's Chromium through deploy/serve.py: kill the replica under
    an open class link, then under an EoS training; what the page shows and when. Screenshots go to
    screenshots/failover-*.png."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM_ARGS, chromium_path, screenshot, wait_idle

    def route(ctx) -> str | None:
        return {c["name"]: c["value"] for c in ctx.cookies()}.get("st_route")

    cluster = start_cluster(2, log_dir=tempfile.mkdtemp(prefix="loadtest-serve-"))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            ctx = browser.new_context(viewport={"width": 1280, "height": 900})
            page = ctx.new_page()
            link = f"{cluster.url}/quadratic?preset=two+clusters&n=12&lo=0.3&hi=4&lr=0.4"
            page.goto(link)
            page.wait_for_selector("[data-testid=stApp]", timeout=120_000)
            wait_idle(page, 120_000)
            before, status = route(ctx), page.get_by_text("Converges.").count()
            killed = time.perf_counter()
            cluster.kill_replica(before)
            while route(ctx) == before and time.perf_counter() - killed < 30:
                page.wait_for_timeout(50)
            moved = time.perf_counter() - killed
            page.locator("body").press("r")  # the next rerun (here: the rerun key) runs on the new replica
            wait_idle(page, 60_000)
            rerun = time.perf_counter() - killed
            same = page.url == link and page.get_by_text("Converges.").count() == status
            errors = page.locator("[data-testid=stException]").count()
            screenshot(page, "failover-quadratic")
            print(
                f"browser: /quadratic on {before}, replica killed: cookie moved to {route(ctx)} after "
                f"{moved * 1000:,.0f} ms; rerun done {rerun * 1000:,.0f} ms after the kill; same URL and verdict: "
                f"{same}; exceptions shown: {errors}"
            )

            page.goto(f"{cluster.url}/eos?esteps=10000&eseed=4242&flow=false")
            page.wait_for_selector("[data-testid=stApp]", timeout=120_000)
            wait_idle(page, 120_000)
            page.get_by_role("button", name="Run", exact=True).click()
            page.get_by_text("Training").first.wait_for(timeout=60_000)
            page.wait_for_timeout(1500)
            screenshot(page, "failover-eos-training")
            before = route(ctx)
            killed = time.perf_counter()
            cluster.kill_replica(before)
            page.get_by_text("to train").first.wait_for(timeout=120_000)
            wait_idle(page, 120_000)
            offered = time.perf_counter() - killed
            done = page.get_by_text("Done", exact=True).count() + page.get_by_text("Training").count()
            screenshot(page, "failover-eos-offered")
            print(
                f"browser: /eos training on {before}, replica killed: 'Press Run to train' on {route(ctx)} "
                f"{offered * 1000:,.0f} ms later; a 'Training…' or 'Done' box left on the page: {done}"
            )
            browser.close()
    finally:
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="N = 1, 5 and five interactions each: a smoke test")
    parser.add_argument("--proxy", action="store_true", help="replicas behind nginx (deploy/serve.py), then failover")
    parser.add_argument("--replicas", type=int, default=2, help="--proxy: replicas")
    parser.add_argument("--levels", default="30,60", help="--proxy: visitor counts")
    parser.add_argument("--failover-n", type=int, default=30, help="--proxy: visitors in the failover run")
    parser.add_argument("--no-single", dest="single", action="store_false", help="--proxy: skip app.py alone")
    parser.add_argument("--browser-failover", action="store_true", help="Chromium through the proxy, a replica killed")
    args = parser.parse_args()
    if args.browser_failover:
        browser_failover()
        return
    if args.proxy:
        proxy_main(args)
        return
    levels = [1, 5] if args.quick else [1, 10, 30]
    actions = 5 if args.quick else 10
    # Above RunConfig.AUTO_RUN_COST (≈ 4,500 steps of the default model), so only Run trains it.
    train_steps = 5000 if args.quick else 10_000
    began = time.perf_counter()
    load_start = os.getloadavg()[0]

    app, floor = start_server(APP), start_server(FLOOR)
    rows: dict[str, list[Row]] = {"app": [], "floor": []}
    extra: list[str] = []
    try:

        async def everything() -> None:
            extra.append(await warm_up(app, floor))
            for tag, n in enumerate(levels, start=1):
                for name, server, plan in (("app", app, app_plan), ("floor", floor, floor_plan)):
                    if time.perf_counter() - began > TOTAL_CAP:
                        extra.append(f"skipped {name} N={n}: past the {TOTAL_CAP:.0f} s cap")
                        continue
                    row = await scenario(name, server, n, plan, actions, tag)
                    rows[name].append(row)
                    print(f"  … {name} N={n}: {row.requests} requests in {row.seconds:.0f} s", flush=True)
            if time.perf_counter() - began < TOTAL_CAP:
                extra.append(await asyncio.wait_for(long_work(app, train_steps), PHASE_CAP + 30))
                print("  … long work done", flush=True)
            if time.perf_counter() - began < TOTAL_CAP:
                extra.extend(await shared_link(app, levels[-1], "eseed=777"))
                print("  … shared link done", flush=True)

        try:
            asyncio.run(everything())
        except (RuntimeError, OSError) as exc:  # a server died (killed from outside) or refused us
            extra.append(f"ABORTED: {exc!r}")
    finally:
        app.stop()
        floor.stop()

    print()
    print_table(rows["app"])
    print("floor (loadtest/minimal_app.py: one slider, one Altair chart):")
    print_table(rows["floor"])
    top = levels[-1]
    a = next((r for r in rows["app"] if r.n == top), None)
    f = next((r for r in rows["floor"] if r.n == top), None)
    if a and f and a.latencies and f.latencies:
        ratio = _pct(a.latencies, 95) / _pct(f.latencies, 95)
        print(f"\napp p95 / floor p95 at N = {top}: {ratio:.2f} (target ≤ 1.5)")
    shown = [r for r in (rows["app"][:1] + [a] + rows["floor"][:1] + [f]) if r is not None]
    for i, r in enumerate(shown):  # N = 1 and the largest N, app then floor
        if not any(r is earlier for earlier in shown[:i]):
            print(_by_action(r))
    for line in extra:
        print(line)
    errors = [e for rs in rows.values() for r in rs for e in r.errors]
    for e in errors[:10]:
        print("error:", e)
    print(
        f"\ntotal {time.perf_counter() - began:.0f} s on {os.cpu_count()} cores (this client used "
        f"{time.process_time():.0f} s of CPU); 1-min load average "
        f"{load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end (other processes skew the figures); "
        f"server logs: {app.log}, {floor.log}"
    )


if __name__ == "__main__":
    main()
