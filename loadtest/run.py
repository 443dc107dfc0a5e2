"""Load test: N concurrent visitors against one `streamlit run app.py` on loopback, beside Streamlit's floor.

    python loadtest/run.py            # N = 1, 10, 30, then the two extra measurements (≈ 5.5 min, 2 cores)
    python loadtest/run.py --quick    # N = 1, 5 and fewer interactions: a smoke test (≈ 1.5 min)

Each virtual visitor is one websocket speaking Streamlit's own protocol (loadtest/client.py: BackMsg
rerun requests out, ForwardMsg deltas in), like one browser tab without the browser. A rerun's
latency is the time from sending the request to the run's script_finished. Visitors wait 1–3 s
between interactions (a person's think time) and walk through the pages: a class link to the
quadratic explorer with a preset, the η slider and n, the momentum map (heavy ball, β slider), the
2-D trajectory (φ slider), the 2-D toy (η slider); every tenth visitor opens the Edge of Stability
page instead of the toy, and another every tenth changes the EoS seed and presses Run (it trains).

The same harness drives loadtest/minimal_app.py (one slider, one Altair chart, no pages) with the
same N, the same number of interactions and the same think time, in the same run: the floor.

Then two measurements on the app's server:
- long work: session A presses Run on the EoS page with a config that trains for seconds, while
  session B moves the quadratic page's η slider every second; B's latencies while A's run lasts;
- a shared link: many sessions open the same, not yet trained EoS link at the same instant; how
  many trainings (st.progress seen) and gradient-flow integrations (its spinner seen) happened.

Prints one table (scenario, N, requests, errors, p50/p95/max ms, server RSS before → after), the
ratio app p95 / floor p95 at the largest N, and one line per extra measurement. Traffic goes to
127.0.0.1 only; every loop is bounded by a count and a wall-time cap, and the command stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loadtest.client import Result, Server, Session, start_server  # noqa: E402

APP = ROOT / "app.py"
FLOOR = ROOT / "loadtest" / "minimal_app.py"

THINK = (1.0, 3.0)  # seconds between a visitor's interactions
START_SPREAD = 2.0  # visitors arrive over the first seconds
SCENARIO_CAP = 180.0  # wall-time cap of one scenario (all visitors), seconds
PHASE_CAP = 120.0  # wall-time cap of each extra measurement
TOTAL_CAP = 12 * 60.0  # the whole command: phases not started by then are skipped
RERUN_TIMEOUT = 60.0  # one rerun without script_finished by then is an error

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


def _set(key: str, choices):
    async def act(s: Session, rng: random.Random) -> Result:
        return await s.set(key, rng.choice(choices), label=f"set {key}")

    return act


def _open(page: str, query: str = ""):
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
        _slide("_lr_slider"),
        _set("n", N_CHOICES),
        _slide("_lr_slider"),
        _open("momentum", "method=heavy+ball"),
        _slide("_beta_slider"),
    ]
    if person % 10 == 9:  # changes the EoS seed and presses Run: a training of its own
        plan += [_open("eos"), _set("eseed", [1000 * tag + person]), _press("run"), _open("toy")]
    else:
        plan += [_open("trajectory"), _slide("phi")]
        if person % 10 == 4:  # opens the EoS page (the default run: trained once, then cached)
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
    seconds: float = 0.0


async def _visitor(url: str, person: int, plan: list, rng: random.Random, row: Row) -> None:
    await asyncio.sleep(rng.uniform(0, START_SPREAD))
    session = Session(url, rerun_timeout=RERUN_TIMEOUT)
    try:
        await session.connect()
    except Exception as exc:  # a refused or failed handshake is an error of the run
        row.errors.append(f"visitor {person}: connect failed: {exc!r}")
        return
    try:
        for i, act in enumerate(plan):
            if i:
                await asyncio.sleep(rng.uniform(*THINK))
            row.requests += 1
            try:
                result = await act(session, rng)
            except KeyError as exc:
                row.errors.append(f"visitor {person}: widget {exc} missing on the page")
                continue
            row.latencies.append(result.seconds)
            row.by_action.setdefault(result.label, []).append(result.seconds)
            row.bytes_by_action.setdefault(result.label, []).append(result.nbytes)
            if not result.ok:
                row.errors.append(f"visitor {person}, {result.label}: status {result.status}, {result.errors[:2]}")
    finally:
        await session.close()


async def scenario(name: str, server: Server, n: int, plan_of, actions: int, tag: int) -> Row:
    server.check()
    row = Row(name, n, rss_before=server.rss_mb())
    start = time.perf_counter()
    rngs = [random.Random(f"{name}-{n}-{person}") for person in range(n)]
    plans = [plan_of(person, rngs[person], tag)[:actions] for person in range(n)]
    tasks = [asyncio.ensure_future(_visitor(server.url, p, plans[p], rngs[p], row)) for p in range(n)]
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
    return row


async def warm_up(app: Server, floor: Server) -> str:
    """One visit to every page first, so that N = 1 does not time the server's first imports. The
    EoS page is warmed with a one-step run without the flow comparison: its default run stays cold
    for the visitors (its first visit trains)."""
    times = []
    for server, visits in (
        (app, [("home", ""), ("quadratic", ""), ("momentum", ""), ("trajectory", ""), ("toy", "")]),
        (app, [("eos", "esteps=1&flow=false&eseed=99")]),
        (floor, [("", "")]),
    ):
        s = Session(server.url, rerun_timeout=RERUN_TIMEOUT)
        await s.connect()
        for page, query in visits:
            r = await s.open(page, query)
            times.append(f"{page or 'floor'} {_ms(r.seconds)}{'' if r.ok else ' (error)'}")
        await s.close()
    return "warm-up (first visits, ms, not in the table): " + ", ".join(times)


# ---- the extra measurements ---------------------------------------------------------------


async def long_work(server: Server, steps: int) -> str:
    """A trains on the EoS page (Run) while B moves the quadratic η slider every second."""
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
        train = asyncio.ensure_future(a.press("run"))
        slider = _slide("_lr_slider")
        during: list[Result] = []
        errors = 0
        deadline = time.perf_counter() + PHASE_CAP
        while not train.done() and time.perf_counter() < deadline:
            await asyncio.sleep(1.0)
            if train.done():
                break
            r = await slider(b, rng)
            errors += not r.ok
            during.append(r)
        run = await asyncio.wait_for(train, max(deadline - time.perf_counter(), 1.0))
    finally:
        await a.close()
        await b.close()
    lat = [r.seconds for r in during]
    trained = [r.seconds for r in during if run.last_progress and r.started < run.last_progress]
    after = [r.seconds for r in during if not (run.last_progress and r.started < run.last_progress)]
    flow = any("gradient flow" in t for t in run.spinners)
    return (
        f"long work: A's Run (EoS, esteps={steps:,}) took {run.seconds:.1f} s "
        f"(training until {max(run.last_progress - run.started, 0):.1f} s"
        f"{', then the gradient-flow comparison' if flow else ''}; status {run.status}); "
        f"B's slider reruns meanwhile: {len(lat)}, errors {errors}, "
        f"p50 {_ms(_pct(lat, 50))}, p95 {_ms(_pct(lat, 95))}, max {_ms(max(lat, default=float('nan')))} ms"
        f" [during training: n={len(trained)}, max {_ms(max(trained, default=float('nan')))} ms; "
        f"after it: n={len(after)}, max {_ms(max(after, default=float('nan')))} ms]"
    )


async def shared_link(server: Server, n: int, query: str) -> list[str]:
    """n sessions open the same untrained EoS link at the same instant, then n more open it again."""
    lines = []
    for wave in (1, 2):
        server.check()
        sessions = [Session(server.url, rerun_timeout=PHASE_CAP) for _ in range(n)]
        await asyncio.gather(*(s.connect() for s in sessions))
        try:
            results = await asyncio.wait_for(asyncio.gather(*(s.open("eos", query) for s in sessions)), PHASE_CAP + 10)
        finally:
            await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
        lat = [r.seconds for r in results]
        trainings = sum(r.progress > 0 for r in results)
        flows = sum(any("gradient flow" in t for t in r.spinners) for r in results)
        no_flow = sum(any("did not finish" in t for t in r.alerts) for r in results)
        errors = sum(not r.ok for r in results)
        lines.append(
            f"shared link, wave {wave} ({'cold' if wave == 1 else 'same link again'}): {n} sessions open "
            f"/eos?{query} at once: trainings {trainings}, gradient-flow integrations seen {flows}, "
            f"'flow did not finish' shown {no_flow}, errors {errors}; "
            f"p50 {_ms(_pct(lat, 50))}, max {_ms(max(lat))} ms"
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
    head = f"{'scenario':<10} {'N':>3} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  RSS MB"
    print(head)
    print("-" * (len(head) + 16))
    for r in rows:
        print(
            f"{r.scenario:<10} {r.n:>3} {r.requests:>8} {len(r.errors):>6} {_ms(_pct(r.latencies, 50)):>8} "
            f"{_ms(_pct(r.latencies, 95)):>8} {_ms(max(r.latencies, default=float('nan'))):>8}  "
            f"{r.rss_before:,.0f} → {r.rss_after:,.0f}   ({r.seconds:.0f} s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="N = 1, 5 and five interactions each: a smoke test")
    args = parser.parse_args()
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
        if any(r is earlier for earlier in shown[:i]):
            continue
        actions = sorted(r.by_action.items(), key=lambda kv: -_pct(kv[1], 50))
        print(
            f"{r.scenario} at N = {r.n} by interaction (count, p50/p95 ms, kB received): "
            + "; ".join(
                f"{k} ({len(v)}, {_ms(_pct(v, 50))}/{_ms(_pct(v, 95))}, {_pct(r.bytes_by_action[k], 50) / 1000:.0f})"
                for k, v in actions
            )
        )
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
